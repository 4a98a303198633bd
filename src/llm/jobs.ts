// The journaled LLM job runner, shared infrastructure of `generate`, `translate` (src/synth) and `gsm generate`
// (src/gsm): a resumable, exactly-once run loop. Slots (one output record each) run in index order under a bounded
// window; every paid call goes through the journal (journal.ts); accepted records are appended to the output after
// their commit, and the output is rebuilt from the journal at start and end. Also the two steps every slot repeats:
// `callOrRecord` (call, classify the failure, record it) and `duplicateReason`.
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { OpenAIBatchClient, type BatchClient, type BatchItem } from './batch.ts';
import type { PriceTable } from './pricing.ts';
import { Scheduler, type SchedulerOptions } from './scheduler.ts';
import type { ChatProvider, ChatRequest, Usage } from './types.ts';
import { LlmError } from './types.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { Progress } from '../util/progress.ts';
import { Journal, lockDir, type JournaledCall } from './journal.ts';

/** The outcome of one slot: an accepted record, or why it was rejected (the caller's reason codes). */
export type SlotResult = { record: Record<string, unknown>; text: string } | { reason: string };

/** The near-duplicate index a run shares between its slots (e.g. src/synth/dedup.ts's NearDuplicateIndex). */
export interface DedupIndex {
  check(text: string): { kind: 'exact' | 'near' } | undefined;
  add(id: string, text: string): void;
}

/** What a slot may do: paid calls (journaled), attempt notes, and the shared dedup index. */
export interface SlotContext {
  /** Returns the journaled response for `requestId`, paying for it only if the journal has none. */
  call(requestId: string, req: ChatRequest): Promise<JournaledCall>;
  noteAttempt(callId: string, slotId: string, outcome: string, stripped: boolean): void;
  readonly dedup: DedupIndex;
}

/** One output record to produce. `ord` orders the output. */
export interface SlotTask {
  id: string;
  ord: number;
  run(ctx: SlotContext): Promise<SlotResult>;
}

export interface BatchSettings {
  client: BatchClient;
  /** Poll interval in ms (default 30 s). */
  pollMs?: number;
  /** Requests per batch (default 50,000, the OpenAI limit). */
  maxPerBatch?: number;
}

export interface EngineOptions {
  out: string;
  /** Written to the journal on the first run; a rerun with a different fingerprint is refused. */
  fingerprint: Record<string, unknown>;
  /** Accepted records wanted. */
  target: number;
  /** The task for slot index i, or undefined when the input is exhausted. */
  taskAt(i: number): SlotTask | undefined;
  /** Slot indices never go past this (bounds the spend when many stories are filtered out). */
  maxSlots: number;
  provider: ChatProvider;
  scheduler?: SchedulerOptions;
  prices: PriceTable;
  batch?: BatchSettings;
  /** The run's near-duplicate index (filled with the accepted records on resume). */
  dedup: DedupIndex;
  /** Stops the run after this many transient request failures (default 20); a rerun resumes. */
  maxFailures?: number;
  /** Text of an accepted record to index for dedup on resume (default record.story). */
  dedupText?: (record: Record<string, unknown>) => string;
  label?: string;
  quiet?: boolean;
  /** Called after the final rebuild, with the journal still open (exports, reports). */
  finish?: (journal: Journal) => Promise<void>;
}

/** The options every synthesis command (generate, translate, gsm generate) passes to its requests and the engine. */
export interface SynthRunOptions {
  provider: ChatProvider;
  /** The provider's name, for the fingerprint. */
  providerName: string;
  model: string;
  temperature?: number;
  maxTokens: number;
  scheduler?: SchedulerOptions;
  prices: PriceTable;
  batch?: BatchSettings;
  /** Requests per slot before it is given up (default 2). */
  attemptsPerSlot?: number;
  /** Stops the run after this many transient request failures (default 20); a rerun resumes. */
  maxFailures?: number;
  quiet?: boolean;
}

export interface EngineResult {
  accepted: number;
  target: number;
  slotsUsed: number;
  /** Why the run stopped short of the target, if it did. */
  shortfall?: string;
}

/** True for errors that say nothing about the request itself (rate limits, outages): the slot is retried later. */
export function isTransient(e: unknown): boolean {
  return e instanceof LlmError && (e.kind === 'rate_limit' || e.kind === 'server' || e.kind === 'timeout' || e.kind === 'connection');
}

/**
 * Call, classify the failure, record it: returns the journaled call, or undefined when the provider refused the
 * request itself (a non-transient LlmError), after noting a 'request_failed' attempt under `record.attempt` (the
 * request id by default; pass `null` to note nothing). Transient failures and other errors propagate: the run
 * retries the slot later or stops.
 */
export async function callOrRecord(
  ctx: SlotContext,
  requestId: string,
  slotId: string,
  req: ChatRequest,
  record: { attempt?: string; stripped?: boolean } | null = {},
): Promise<JournaledCall | undefined> {
  try {
    return await ctx.call(requestId, req);
  } catch (e) {
    if (isTransient(e) || !(e instanceof LlmError)) throw e;
    if (record) ctx.noteAttempt(record.attempt ?? requestId, slotId, 'request_failed', record.stripped ?? false);
    return undefined;
  }
}

/** The rejection reason when `text` duplicates an accepted record of this run: exact or near; undefined when new. */
export function duplicateReason(dedup: DedupIndex, text: string): 'exact_duplicate' | 'near_duplicate' | undefined {
  const dup = dedup.check(text);
  return dup ? (dup.kind === 'exact' ? 'exact_duplicate' : 'near_duplicate') : undefined;
}

/** A short content hash of a JSON-serialisable value, for fingerprints (16 hex digits of SHA-256). */
export function fingerprintHash(x: unknown): string {
  return createHash('sha256').update(JSON.stringify(x)).digest('hex').slice(0, 16);
}

/** The summed usage of several calls of one slot, and their cost (null when any call's cost is unknown). */
export function sumCalls(calls: ReadonlyArray<Pick<JournaledCall, 'response' | 'cost'>>): { usage: Usage; cost: number | null } {
  const usage = { inputTokens: 0, outputTokens: 0 };
  let cost: number | null = 0;
  for (const c of calls) {
    usage.inputTokens += c.response.usage.inputTokens;
    usage.outputTokens += c.response.usage.outputTokens;
    cost = cost === null || c.cost === null ? null : cost + c.cost;
  }
  return { usage, cost };
}

/** The `usage` (snake_case, as in the output records) and `cost` fields of an accepted story record, from its calls. */
export function recordUsage(calls: ReadonlyArray<Pick<JournaledCall, 'response' | 'cost'>>): { usage: { input_tokens: number; output_tokens: number }; cost: number | null } {
  const { usage, cost } = sumCalls(calls);
  return { usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens }, cost };
}

/** Compares a stored fingerprint with the current one; names the first differing field. */
function checkFingerprint(journal: Journal, fp: Record<string, unknown>, out: string): void {
  const stored = journal.getMeta('fingerprint');
  if (!stored) {
    journal.setMeta('fingerprint', JSON.stringify(fp));
    journal.setMeta('created_at', new Date().toISOString());
    return;
  }
  const old = JSON.parse(stored) as Record<string, unknown>;
  for (const k of new Set([...Object.keys(old), ...Object.keys(fp)])) {
    if (JSON.stringify(old[k]) !== JSON.stringify(fp[k])) {
      throw new UserError(`${out}: holds a run with ${k}=${JSON.stringify(old[k])}, this command has ${k}=${JSON.stringify(fp[k])}; use the same settings to resume or a new --out`);
    }
  }
}

/** Rewrites the output JSONL from the journal (atomic): no torn or duplicated line survives a crash. */
export async function rebuildOutput(journal: Journal, path: string): Promise<number> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  let buf = '';
  for (const rec of journal.acceptedRecords()) {
    buf += JSON.stringify(rec) + '\n';
    n++;
    if (buf.length > 1 << 20) {
      chunks.push(Buffer.from(buf));
      buf = '';
    }
  }
  if (buf) chunks.push(Buffer.from(buf));
  await writeFileAtomic(path, chunks);
  return n;
}

/** Runs slots until `target` records are accepted, the input or slot budget is exhausted, or too many failures. */
export async function runEngine(opts: EngineOptions): Promise<EngineResult> {
  const unlock = lockDir(opts.out);
  const journal = new Journal(join(opts.out, 'journal.sqlite'));
  const outPath = join(opts.out, 'stories.jsonl');
  let outFd: number | undefined;
  try {
    checkFingerprint(journal, opts.fingerprint, opts.out);
    journal.setMeta('last_target', String(opts.target));
    const dedup = opts.dedup;
    const dedupText = opts.dedupText ?? ((r) => String(r.story ?? ''));
    for (const rec of journal.acceptedRecords()) dedup.add(String(rec.id), dedupText(rec));
    await rebuildOutput(journal, outPath);
    outFd = openSync(outPath, 'a');
    const fd = outFd;
    journal.onFlushed((accepted) => {
      let s = '';
      for (const o of accepted) s += JSON.stringify(o.record) + '\n';
      writeSync(fd, s);
    });

    const scheduler = new Scheduler(opts.provider, opts.scheduler);
    let active = 0;
    let loopError: ((e: unknown) => void) | undefined;
    const batch = opts.batch ? new BatchCaller(journal, opts.out, opts.batch, opts.prices, () => active, (e) => loopError?.(e), opts.quiet) : undefined;
    if (batch) await batch.resume();
    let costSoFar = 0;
    const ctx: SlotContext = {
      dedup,
      noteAttempt: (callId, slotId, outcome, stripped) => journal.noteAttempt(callId, slotId, outcome, stripped),
      async call(requestId, req) {
        const cached = journal.getCall(requestId);
        if (cached) return cached;
        if (batch) return batch.call(requestId, req);
        journal.markSent(requestId);
        const response = await scheduler.run(req, { requestId });
        const cost = opts.prices.cost(req.model, response.usage);
        costSoFar += cost ?? 0;
        await journal.commitCall(requestId, response, cost);
        return { response, cost, batch: false };
      },
    };

    let accepted = journal.countAccepted();
    const progress = new Progress({ label: opts.label ?? 'generate', total: opts.target, unit: 'rec', quiet: opts.quiet });
    const concurrency = opts.scheduler?.concurrency ?? 16;
    let index = 0;
    let exhausted: string | undefined;
    let failures = 0;
    let lastError: unknown;
    let rejected = 0;
    const maxFailures = opts.maxFailures ?? 20;

    await new Promise<void>((resolve, reject) => {
      let settled = false;
      loopError = (e) => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      const finishLoop = () => {
        if (!settled && active === 0) {
          settled = true;
          resolve();
        }
      };
      const launch = () => {
        // Batch mode: up to four full batches go out together (the providers run batches in parallel).
        const windowSize = batch ? (opts.batch!.maxPerBatch ?? 50_000) * 4 : concurrency * 2 + 8;
        while (!exhausted && failures < maxFailures && accepted + active < opts.target && active < windowSize) {
          if (index >= opts.maxSlots) {
            exhausted = `slot budget of ${opts.maxSlots} used (raise --max-slots)`;
            break;
          }
          const task = opts.taskAt(index++);
          if (!task) {
            exhausted = 'input exhausted';
            break;
          }
          if (journal.getSlot(task.id)) continue;
          active++;
          task.run(ctx).then(
            (res) => {
              active--;
              if (settled) return; // the run already failed; leave the journal alone
              if ('record' in res) {
                accepted++;
                dedup.add(task.id, res.text);
                void journal.commitSlot({ id: task.id, ord: task.ord, state: 'accepted', attempts: Number(res.record.attempt ?? 0) + 1, record: res.record });
              } else {
                rejected++;
                void journal.commitSlot({ id: task.id, ord: task.ord, state: 'rejected', attempts: 0, reason: res.reason });
              }
              progress.update(accepted, `rejected ${rejected}  retries ${scheduler.stats.retries}  $${costSoFar.toFixed(4)}`);
              launch();
            },
            (err) => {
              active--;
              if (settled) return;
              if (!isTransient(err)) {
                settled = true;
                reject(err);
                return;
              }
              failures++;
              lastError = err;
              launch();
            },
          );
        }
        batch?.kick();
        finishLoop();
      };
      launch();
    });
    journal.flushSync();
    progress.done(`accepted ${accepted}/${opts.target}  rejected ${rejected}  retries ${scheduler.stats.retries}  $${costSoFar.toFixed(4)} this run`);
    closeSync(outFd);
    outFd = undefined;
    await rebuildOutput(journal, outPath);
    if (opts.finish) await opts.finish(journal);
    let shortfall: string | undefined;
    if (accepted < opts.target) {
      shortfall = failures >= maxFailures
        ? `${failures} requests failed after retries (last: ${(lastError as Error)?.message}); rerun the same command to resume`
        : (exhausted ?? 'stopped early');
    }
    return { accepted, target: opts.target, slotsUsed: index, shortfall };
  } finally {
    if (outFd !== undefined) closeSync(outFd);
    journal.close();
    unlock();
  }
}

/** Collects calls while slots run, and when every active slot waits on one, sends them as provider batches. */
class BatchCaller {
  private pending = new Map<string, { req: ChatRequest; resolve: (c: JournaledCall) => void; reject: (e: unknown) => void }>();
  private flushing = false;
  private seq = 0;
  constructor(
    private readonly journal: Journal,
    private readonly out: string,
    private readonly settings: BatchSettings,
    private readonly prices: PriceTable,
    private readonly active: () => number,
    private readonly onError: (e: unknown) => void,
    private readonly quiet?: boolean,
  ) {
    this.seq = journal.batches(['intent', 'submitted', 'ingested', 'failed']).length;
  }

  call(requestId: string, req: ChatRequest): Promise<JournaledCall> {
    const p = new Promise<JournaledCall>((resolve, reject) => this.pending.set(requestId, { req, resolve, reject }));
    this.kick();
    return p;
  }

  /** Checks (on the next turn, after cached calls have resolved) whether every active slot now waits on a call. */
  kick(): void {
    if (this.kicked) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      this.maybeFlush().catch(this.onError);
    });
  }
  private kicked = false;

  /** Finishes batches a crashed run left behind: finds/polls/ingests them before anything new is sent. */
  async resume(): Promise<void> {
    for (const b of this.journal.batches(['intent', 'submitted'])) {
      const waiters = () => new Map(b.ids.map((id) => [id, undefined] as const));
      if (b.remoteId) {
        await this.waitAndIngest(b.key, b.remoteId, waiters());
        continue;
      }
      const candidates = await this.settings.client.findByKey(b.key, { createdAfter: b.createdAt ?? 0, count: b.ids.length });
      let found = false;
      for (const remote of candidates) {
        this.journal.setBatchState(b.key, 'submitted', remote);
        if (await this.waitAndIngest(b.key, remote, waiters(), !this.settings.client.exactFind)) {
          found = true;
          break;
        }
      }
      // Not found: its requests were never journaled, so the slots simply send them again.
      if (!found) this.journal.setBatchState(b.key, 'failed');
    }
  }

  /** Sends the pending calls once all `active` slots are blocked on them. */
  private async maybeFlush(): Promise<void> {
    if (this.flushing || this.pending.size === 0 || this.pending.size < this.active()) return;
    this.flushing = true;
    try {
      const max = this.settings.maxPerBatch ?? 50_000;
      const all = [...this.pending.entries()];
      this.pending.clear();
      const runs: Promise<void>[] = [];
      for (let i = 0; i < all.length; i += max) {
        const chunk = all.slice(i, i + max);
        runs.push(this.submit(chunk));
      }
      await Promise.all(runs);
    } finally {
      this.flushing = false;
      this.kick();
    }
  }

  private async submit(chunk: Array<[string, { req: ChatRequest; resolve: (c: JournaledCall) => void; reject: (e: unknown) => void }]>): Promise<void> {
    const key = `b${this.seq++}-${chunk[0]![0]}`;
    const items: BatchItem[] = chunk.map(([customId, p]) => ({ customId, request: p.req }));
    // The request file is kept (OpenAI Batch JSONL form) as the record of what was sent.
    await writeFileAtomic(join(this.out, 'batches', `${key}.jsonl`), OpenAIBatchClient.requestFile(items));
    // Intent first: a crash between create and the next write is found again by key (OpenAI metadata).
    this.journal.putBatch({ key, remoteId: null, state: 'intent', ids: items.map((i) => i.customId) });
    const remote = await this.settings.client.submit(items, key);
    this.journal.setBatchState(key, 'submitted', remote);
    const waiters = new Map(chunk.map(([id, p]) => [id, p] as const));
    await this.waitAndIngest(key, remote, waiters);
  }

  private async waitAndIngest(
    key: string,
    remote: string,
    waiters: Map<string, { req?: ChatRequest; resolve: (c: JournaledCall) => void; reject: (e: unknown) => void } | undefined>,
    verify = false,
  ): Promise<boolean> {
    const progress = new Progress({ label: `batch ${remote}`, quiet: this.quiet, unit: 'req' });
    for (;;) {
      const s = await this.settings.client.status(remote);
      progress.update(s.done ?? 0, s.raw);
      if (s.state === 'failed') {
        this.journal.setBatchState(key, 'failed');
        for (const w of waiters.values()) w?.reject(new LlmError(`batch ${remote} failed`, 'server'));
        return false;
      }
      if (s.state === 'ended') break;
      await new Promise((r) => setTimeout(r, this.settings.pollMs ?? 30_000));
    }
    progress.done();
    const results = await this.settings.client.results(remote);
    // A batch found by a heuristic (Anthropic) is ours only if every result id is one we sent.
    if (verify && !results.every((r) => waiters.has(r.customId))) return false;
    const commits: Promise<void>[] = [];
    const got = new Map<string, JournaledCall | string>();
    for (const r of results) {
      if (r.response) {
        const model = (waiters.get(r.customId)?.req?.model) ?? r.response.model;
        const call: JournaledCall = { response: r.response, cost: this.prices.cost(model, r.response.usage, true), batch: true };
        commits.push(this.journal.commitCall(r.customId, call.response, call.cost, true));
        got.set(r.customId, call);
      } else got.set(r.customId, r.error ?? 'error');
    }
    await Promise.all(commits);
    this.journal.setBatchState(key, 'ingested');
    for (const [id, w] of waiters) {
      if (!w) continue;
      const g = got.get(id);
      if (g && typeof g !== 'string') w.resolve(g);
      else w.reject(new LlmError(`batch request ${id}: ${g ?? 'missing from results'}`, g ? 'client' : 'server'));
    }
    return true;
  }
}
