// The crash-safe journal of a journaled LLM job run (SQLite, WAL, synchronous=FULL): every paid response is committed
// under its deterministic request id before it is used, so a rerun after kill -9 replays it instead of paying again.
// Slot outcomes (accepted record or rejection reason) are committed the same way; the output JSONL is rebuilt from here.
import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChatResponse } from './types.ts';
import { UserError } from '../util/errors.ts';

/** A committed response and what it cost. */
export interface JournaledCall {
  response: ChatResponse;
  cost: number | null;
  batch: boolean;
}

/** A finished slot: the accepted record, or why it was rejected. */
export interface SlotOutcome {
  id: string;
  ord: number;
  state: 'accepted' | 'rejected';
  attempts: number;
  reason?: string;
  record?: Record<string, unknown>;
}

/** A batch as the journal knows it. `intent` = about to be created (remote id not yet known). */
export interface JournaledBatch {
  key: string;
  remoteId: string | null;
  state: 'intent' | 'submitted' | 'ingested' | 'failed';
  ids: string[];
  /** ms since epoch, when the intent was written. */
  createdAt?: number;
}

type Op = () => void;

/** Journal of one output directory. Writes are queued and committed together (group commit) on the next turn. */
export class Journal {
  readonly db: Database.Database;
  private ops: Op[] = [];
  private waiters: Array<() => void> = [];
  private failers: Array<(e: unknown) => void> = [];
  private scheduled = false;
  private closed = false;
  private readonly flushedListeners: Array<(accepted: SlotOutcome[]) => void> = [];
  private acceptedInFlush: SlotOutcome[] = [];
  private readonly st: Record<string, Database.Statement>;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a committed response survives power loss too, not just kill -9 (NORMAL would survive only the latter).
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS calls (id TEXT PRIMARY KEY, state TEXT NOT NULL, response TEXT, cost REAL,
        batch INTEGER NOT NULL DEFAULT 0, input_tokens INTEGER, output_tokens INTEGER, sent_at INTEGER, done_at INTEGER);
      CREATE TABLE IF NOT EXISTS attempts (call_id TEXT PRIMARY KEY, slot_id TEXT NOT NULL, outcome TEXT NOT NULL, stripped INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS slots (id TEXT PRIMARY KEY, ord INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
        reason TEXT, record TEXT, done_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS slots_ord ON slots(ord);
      CREATE TABLE IF NOT EXISTS batches (key TEXT PRIMARY KEY, remote_id TEXT, state TEXT NOT NULL, ids TEXT NOT NULL, created_at INTEGER NOT NULL);
    `);
    this.st = {
      getCall: this.db.prepare('SELECT response, cost, batch FROM calls WHERE id = ? AND state = \'done\''),
      sent: this.db.prepare('INSERT OR IGNORE INTO calls (id, state, sent_at) VALUES (?, \'sent\', ?)'),
      done: this.db.prepare(`INSERT INTO calls (id, state, response, cost, batch, input_tokens, output_tokens, sent_at, done_at)
        VALUES (@id, 'done', @response, @cost, @batch, @input, @output, @now, @now)
        ON CONFLICT(id) DO UPDATE SET state='done', response=@response, cost=@cost, batch=@batch, input_tokens=@input, output_tokens=@output, done_at=@now
        WHERE calls.state <> 'done'`),
      attempt: this.db.prepare('INSERT OR REPLACE INTO attempts (call_id, slot_id, outcome, stripped) VALUES (?, ?, ?, ?)'),
      slot: this.db.prepare('INSERT OR IGNORE INTO slots (id, ord, state, attempts, reason, record, done_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      getSlot: this.db.prepare('SELECT id, ord, state, attempts, reason, record FROM slots WHERE id = ?'),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      batchPut: this.db.prepare('INSERT OR REPLACE INTO batches (key, remote_id, state, ids, created_at) VALUES (?, ?, ?, ?, ?)'),
      batchState: this.db.prepare('UPDATE batches SET state = ?, remote_id = COALESCE(?, remote_id) WHERE key = ?'),
    };
  }

  getMeta(key: string): string | undefined {
    return (this.st.getMeta!.get(key) as { value: string } | undefined)?.value;
  }

  /** Writes a meta value immediately (its own transaction). */
  setMeta(key: string, value: string): void {
    this.st.setMeta!.run(key, value);
  }

  /** The committed response for a request id, if it was paid for and journaled. */
  getCall(id: string): JournaledCall | undefined {
    const row = this.st.getCall!.get(id) as { response: string; cost: number | null; batch: number } | undefined;
    return row ? { response: JSON.parse(row.response) as ChatResponse, cost: row.cost, batch: row.batch === 1 } : undefined;
  }

  /** Notes that a request is about to be sent (queued; used to report requests in flight at a crash). */
  markSent(id: string): void {
    this.enqueue(() => this.st.sent!.run(id, Date.now()));
  }

  /** Commits a paid response; resolves once it is durable. */
  commitCall(id: string, response: ChatResponse, cost: number | null, batch = false): Promise<void> {
    return this.enqueueAwait(() =>
      this.st.done!.run({ id, response: JSON.stringify(response), cost, batch: batch ? 1 : 0, input: response.usage.inputTokens, output: response.usage.outputTokens, now: Date.now() }),
    );
  }

  /** Records what became of one attempt (accepted or a reject reason) for the report. */
  noteAttempt(callId: string, slotId: string, outcome: string, stripped: boolean): void {
    this.enqueue(() => this.st.attempt!.run(callId, slotId, outcome, stripped ? 1 : 0));
  }

  /** Commits a slot's final outcome; accepted records reach the output only after this resolves. */
  commitSlot(o: SlotOutcome): Promise<void> {
    return this.enqueueAwait(() => {
      const r = this.st.slot!.run(o.id, o.ord, o.state, o.attempts, o.reason ?? null, o.record ? JSON.stringify(o.record) : null, Date.now());
      if (r.changes === 1 && o.state === 'accepted') this.acceptedInFlush.push(o);
    });
  }

  getSlot(id: string): SlotOutcome | undefined {
    const row = this.st.getSlot!.get(id) as { id: string; ord: number; state: 'accepted' | 'rejected'; attempts: number; reason: string | null; record: string | null } | undefined;
    if (!row) return undefined;
    return { id: row.id, ord: row.ord, state: row.state, attempts: row.attempts, reason: row.reason ?? undefined, record: row.record ? JSON.parse(row.record) : undefined };
  }

  /** Called after each group commit with the accepted slots it made durable. */
  onFlushed(fn: (accepted: SlotOutcome[]) => void): void {
    this.flushedListeners.push(fn);
  }

  countAccepted(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM slots WHERE state = 'accepted'").get() as { n: number }).n;
  }

  /** Accepted records in slot order. */
  *acceptedRecords(): Generator<Record<string, unknown>> {
    for (const row of this.db.prepare("SELECT record FROM slots WHERE state = 'accepted' ORDER BY ord").iterate() as Iterable<{ record: string }>) {
      yield JSON.parse(row.record) as Record<string, unknown>;
    }
  }

  putBatch(b: JournaledBatch): void {
    this.flushSync();
    this.st.batchPut!.run(b.key, b.remoteId, b.state, JSON.stringify(b.ids), Date.now());
  }

  setBatchState(key: string, state: JournaledBatch['state'], remoteId?: string): void {
    this.flushSync();
    this.st.batchState!.run(state, remoteId ?? null, key);
  }

  batches(states: JournaledBatch['state'][]): JournaledBatch[] {
    const rows = this.db.prepare(`SELECT key, remote_id, state, ids, created_at FROM batches WHERE state IN (${states.map(() => '?').join(',')}) ORDER BY created_at`).all(...states) as Array<{ key: string; remote_id: string | null; state: JournaledBatch['state']; ids: string; created_at: number }>;
    return rows.map((r) => ({ key: r.key, remoteId: r.remote_id, state: r.state, ids: JSON.parse(r.ids) as string[], createdAt: r.created_at }));
  }

  private enqueue(op: Op): void {
    if (this.closed) throw new Error('journal is closed');
    this.ops.push(op);
    this.schedule();
  }

  private enqueueAwait(op: Op): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.enqueue(op);
      this.waiters.push(resolve);
      this.failers.push(reject);
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flushSync());
  }

  /** Commits everything queued in one transaction now. */
  flushSync(): void {
    this.scheduled = false;
    if (this.ops.length === 0) return;
    const ops = this.ops;
    const waiters = this.waiters;
    const failers = this.failers;
    this.ops = [];
    this.waiters = [];
    this.failers = [];
    try {
      this.db.transaction(() => {
        for (const op of ops) op();
      })();
    } catch (e) {
      this.acceptedInFlush = [];
      for (const f of failers) f(e);
      return;
    }
    const accepted = this.acceptedInFlush;
    this.acceptedInFlush = [];
    if (accepted.length) for (const fn of this.flushedListeners) fn(accepted);
    for (const w of waiters) w();
  }

  close(): void {
    if (this.closed) return;
    this.flushSync();
    this.closed = true;
    this.db.close();
  }
}

/** An exclusive lock on an output directory (a pid file); a lock left by a dead process is taken over. */
export function lockDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, '.lock');
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(existsSync(path) ? readFileSync(path, 'utf8').trim() : NaN);
      let alive = false;
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch (err) {
          alive = (err as NodeJS.ErrnoException).code === 'EPERM';
        }
      }
      if (alive) throw new UserError(`${dir}: another run (pid ${pid}) is using this directory; wait for it or stop it`);
      rmSync(path, { force: true });
    }
  }
  throw new UserError(`${dir}: cannot take the run lock (${path})`);
}
