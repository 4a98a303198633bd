// `gsm generate`: TinyGSM-style problems from GSM8K train seeds through the journaled LLM job runner (src/llm/jobs.ts):
// "similar" slots ask for 10 problems + programs in one call; GSM-IC slots make one problem with irrelevant context
// in two calls (question, then program). Each slot is one journal record holding its problems; problems.jsonl is
// the flattened output, cut to --count, rebuilt from the journal on every run.
import { join } from 'node:path';
import type { PriceTable } from '../llm/pricing.ts';
import { callOrRecord, fingerprintHash, runEngine, sumCalls, type EngineResult, type SlotContext, type SlotResult, type SlotTask, type SynthRunOptions } from '../llm/jobs.ts';
import type { Journal } from '../llm/journal.ts';
import { estimateTokens, type ChatRequest, type Usage } from '../llm/types.ts';
import { NearDuplicateIndex } from '../synth/dedup.ts';
import type { RejectReason } from '../synth/filters.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { assignsResult, parseProblemBlocks, parseSingleProgram, parseSingleQuestion, type BlockReject } from './parse.ts';
import { PROBLEMS_PER_CALL, irrelevantContextPrompt, programPrompt, similarProblemsPrompt } from './prompts.ts';
import { toTinyGsmFunction, type TinyGsmRecord } from './tinygsm.ts';

/** A GSM8K train question used as a seed; `id` is `<file>:<line>`. */
export interface Seed {
  id: string;
  question: string;
}

export interface GsmGenerateOptions extends SynthRunOptions {
  out: string;
  /** Problems wanted in problems.jsonl (before filtering). */
  count: number;
  seeds: Seed[];
  /** Share of problems made GSM-IC style (default 0.33). */
  icShare?: number;
  maxSlots?: number;
}

/** What slot `index` does: which seed, which kind, and (for seeds reused past the end) which pass. */
export interface SlotPlan {
  index: number;
  seed: number;
  pass: number;
  kind: 'similar' | 'ic';
  /** GSM-IC variant number for this seed and pass. */
  variant: number;
}

/**
 * The slot sequence: per seed, one "similar" slot (10 problems) then m GSM-IC slots (1 problem each), with m chosen
 * so IC problems make up `icShare` of the expected output; seeds repeat in later passes when the count needs it.
 */
export class SlotPlanner {
  private readonly icPerSeed: number;
  private readonly similarPerSeed: number;
  constructor(
    readonly seedCount: number,
    readonly icShare: number,
  ) {
    this.similarPerSeed = icShare >= 1 ? 0 : 1;
    this.icPerSeed = icShare >= 1 ? 1 : (PROBLEMS_PER_CALL * icShare) / (1 - icShare);
  }

  /** Expected problems per slot when every call succeeds. */
  get expectedPerSlot(): number {
    return (PROBLEMS_PER_CALL * this.similarPerSeed + this.icPerSeed) / (this.similarPerSeed + this.icPerSeed);
  }

  /** GSM-IC slots before seed block n (blocks count seeds across passes). */
  private icBefore(n: number): number {
    return Math.floor(n * this.icPerSeed + 1e-9);
  }

  /** Slots before seed block n. */
  private slotsBefore(n: number): number {
    return n * this.similarPerSeed + this.icBefore(n);
  }

  /** The plan of slot `index` in O(1) (no table, so millions of slots cost nothing). */
  at(index: number): SlotPlan {
    let n = Math.floor(index / (this.similarPerSeed + this.icPerSeed));
    while (n > 0 && this.slotsBefore(n) > index) n--;
    while (this.slotsBefore(n + 1) <= index) n++;
    const offset = index - this.slotsBefore(n);
    const seed = n % this.seedCount;
    const pass = Math.floor(n / this.seedCount);
    if (this.similarPerSeed && offset === 0) return { index, seed, pass, kind: 'similar', variant: 0 };
    return { index, seed, pass, kind: 'ic', variant: offset - this.similarPerSeed };
  }
}

/** Slot record id (and prefix of its request ids). */
export function slotId(index: number): string {
  return `gsm-${String(index).padStart(8, '0')}`;
}

function share(u: Usage, n: number): { inputTokens: number; outputTokens: number } {
  return { inputTokens: Math.round(u.inputTokens / n), outputTokens: Math.round(u.outputTokens / n) };
}

/** The problems of every accepted slot in slot order, cut to `count`. */
export function* flattenProblems(journal: Journal, count: number): Generator<TinyGsmRecord> {
  let n = 0;
  for (const rec of journal.acceptedRecords()) {
    for (const p of (rec.problems as TinyGsmRecord[] | undefined) ?? []) {
      if (n++ >= count) return;
      yield p;
    }
  }
}

/** Runs (or resumes) a generation into `out`; problems.jsonl holds up to `count` problems when done. */
export async function generateGsm(o: GsmGenerateOptions): Promise<EngineResult & { problems: number }> {
  const icShare = o.icShare ?? 0.33;
  const planner = new SlotPlanner(o.seeds.length, icShare);
  const attempts = o.attemptsPerSlot ?? 2;
  const fingerprint = {
    kind: 'gsm-generate', provider: o.providerName, model: o.model, icShare, temperature: o.temperature ?? null, maxTokens: o.maxTokens,
    seeds: fingerprintHash(o.seeds.map((s) => s.question)), seedCount: o.seeds.length, batch: Boolean(o.batch),
  };
  const callOnce = async (ctx: SlotContext, rid: string, slot: string, content: string, maxTokens: number) => {
    const req: ChatRequest = { model: o.model, messages: [{ role: 'user', content }], maxTokens, temperature: o.temperature };
    return callOrRecord(ctx, rid, slot, req);
  };

  const taskAt = (index: number): SlotTask => {
    const plan = planner.at(index);
    const id = slotId(index);
    const seed = o.seeds[plan.seed]!;
    return {
      id,
      ord: index,
      async run(ctx: SlotContext): Promise<SlotResult> {
        let last: string = 'request_failed';
        for (let attempt = 0; attempt < attempts; attempt++) {
          const rid = `${id}-a${attempt}`;
          if (plan.kind === 'similar') {
            const call = await callOnce(ctx, rid, id, similarProblemsPrompt(seed.question), o.maxTokens);
            if (!call) continue;
            const r = call.response;
            const parsed = parseProblemBlocks(r.text, r.finishReason === 'length');
            if (parsed.problems.length === 0) {
              last = r.finishReason === 'refusal' || r.finishReason === 'content_filter' ? 'refusal' : `malformed:${parsed.rejected[0]?.reason ?? 'empty'}`;
              ctx.noteAttempt(rid, id, last, false);
              continue;
            }
            ctx.noteAttempt(rid, id, 'accepted', false);
            const n = parsed.problems.length;
            const problems: TinyGsmRecord[] = parsed.problems.map((p, k) => {
              const code = toTinyGsmFunction(p.question, p.program);
              return {
                id: `${id}-${k}`, question: p.question, code, text: code, seed_id: seed.id, kind: 'similar', model: r.model || o.model,
                usage: share(r.usage, n), cost: call.cost === null ? null : call.cost / n,
              };
            });
            const rejectedBlocks: Partial<Record<BlockReject, number>> = {};
            for (const b of parsed.rejected) rejectedBlocks[b.reason] = (rejectedBlocks[b.reason] ?? 0) + 1;
            const record = { id, seed_id: seed.id, kind: 'similar', attempt, problems, rejected_blocks: rejectedBlocks, usage: r.usage, cost: call.cost };
            return { record, text: problems.map((p) => p.question).join('\n') };
          }
          const qCall = await callOnce(ctx, `${rid}-q`, id, irrelevantContextPrompt(seed.question, plan.variant + plan.pass * 1000), 400);
          if (!qCall) continue;
          const question = parseSingleQuestion(qCall.response.text);
          if (!question || qCall.response.finishReason === 'length') {
            last = 'malformed:empty_question';
            ctx.noteAttempt(`${rid}-q`, id, last, false);
            continue;
          }
          const pCall = await callOnce(ctx, `${rid}-p`, id, programPrompt(question), Math.min(o.maxTokens, 1200));
          if (!pCall) continue;
          const program = parseSingleProgram(pCall.response.text);
          if (!program.trim() || !assignsResult(program)) {
            last = `malformed:${program.trim() ? 'no_result_assignment' : 'empty_program'}`;
            ctx.noteAttempt(`${rid}-p`, id, last, false);
            continue;
          }
          ctx.noteAttempt(`${rid}-p`, id, 'accepted', false);
          const { usage, cost } = sumCalls([qCall, pCall]);
          const code = toTinyGsmFunction(question, program);
          const problem: TinyGsmRecord = { id: `${id}-0`, question, code, text: code, seed_id: seed.id, kind: 'ic', model: pCall.response.model || o.model, usage, cost };
          return { record: { id, seed_id: seed.id, kind: 'ic', attempt, problems: [problem], usage, cost }, text: question };
        }
        return { reason: last as RejectReason };
      },
    };
  };

  let target = Math.max(1, Math.ceil(o.count / planner.expectedPerSlot));
  const maxSlots = o.maxSlots ?? Math.ceil((o.count / planner.expectedPerSlot) * 1.5) + 20;
  let problems = 0;
  let res: EngineResult;
  for (let round = 0; ; round++) {
    res = await runEngine({
      out: o.out, fingerprint, target, taskAt, maxSlots, provider: o.provider, scheduler: o.scheduler, prices: o.prices, batch: o.batch,
      maxFailures: o.maxFailures, label: 'gsm generate', quiet: o.quiet, dedup: new NearDuplicateIndex(),
      dedupText: (r) => ((r.problems as TinyGsmRecord[] | undefined) ?? []).map((p) => p.question).join('\n'),
      finish: async (journal) => {
        problems = 0;
        let total = 0;
        for (const rec of journal.acceptedRecords()) total += ((rec.problems as unknown[]) ?? []).length;
        const lines: string[] = [];
        for (const p of flattenProblems(journal, o.count)) {
          lines.push(JSON.stringify(p));
          problems++;
        }
        await writeFileAtomic(join(o.out, 'problems.jsonl'), lines.length ? lines.join('\n') + '\n' : '');
        journal.setMeta('problems_total', String(total));
      },
    });
    if (problems >= o.count || res.shortfall || round > 50) break;
    // more slots for the problems still missing, at the rate seen so far
    const perSlot = res.accepted > 0 ? Math.max(1, problems / res.accepted) : planner.expectedPerSlot;
    target = res.accepted + Math.max(1, Math.ceil((o.count - problems) / perSlot));
  }
  return { ...res, problems };
}

/** A --dry-run estimate: slots and calls needed for `count` problems, tokens and cost (null when unpriced). */
export function estimateGsmCost(o: { count: number; seeds: Seed[]; icShare: number; model: string; prices: PriceTable; batch: boolean; maxTokens: number }) {
  const planner = new SlotPlanner(o.seeds.length, o.icShare);
  const slots = Math.ceil(o.count / planner.expectedPerSlot);
  let similar = 0;
  let ic = 0;
  let inTok = 0;
  let outTok = 0;
  let outMax = 0;
  for (let i = 0; i < slots; i++) {
    const p = planner.at(i);
    const q = o.seeds[p.seed]!.question;
    if (p.kind === 'similar') {
      similar++;
      inTok += estimateTokens(similarProblemsPrompt(q)) + 8;
      outTok += PROBLEMS_PER_CALL * 190; // ~60 tokens of question + ~130 of program per problem
      outMax += o.maxTokens;
    } else {
      ic++;
      inTok += estimateTokens(irrelevantContextPrompt(q, 0)) + estimateTokens(programPrompt(q)) + 16 + 70;
      outTok += 70 + 150;
      outMax += 400 + Math.min(o.maxTokens, 1200);
    }
  }
  const usage = { inputTokens: inTok, outputTokens: outTok };
  return {
    slots, similarCalls: similar, icCalls: 2 * ic, usage,
    cost: o.prices.cost(o.model, usage, o.batch),
    costUpperBound: o.prices.cost(o.model, { inputTokens: inTok, outputTokens: outMax }, o.batch),
  };
}
