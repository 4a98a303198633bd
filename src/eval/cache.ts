// The judge-call cache: one SQLite file mapping the content hash of a chat request to its answer, so a rerun of an
// evaluation (or of a cut-short one) sends only the calls it has not made yet.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { ChatRequest, ChatResponse } from '../llm/types.ts';

/** `$TINYSTORIES_CACHE/judge-cache.sqlite` when that variable is set, else `<outDir>/judge-cache.sqlite`. */
export function defaultJudgeCachePath(outDir: string): string {
  const env = process.env.TINYSTORIES_CACHE;
  return env ? join(env, 'judge-cache.sqlite') : join(outDir, 'judge-cache.sqlite');
}

/** The hash a request is cached under: provider, model, messages, temperature, max tokens and response format. */
export function requestKey(provider: string, req: ChatRequest): string {
  const canon = JSON.stringify({
    p: provider,
    m: req.model,
    msg: req.messages.map((x) => [x.role, x.content]),
    t: req.temperature ?? null,
    mt: req.maxTokens,
    f: req.responseFormat ?? 'text',
  });
  return createHash('sha256').update(canon).digest('hex');
}

/** A persistent request → response cache (better-sqlite3, WAL mode; safe to share between runs one at a time). */
export class JudgeCache {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement;
  private readonly putStmt: Database.Statement;
  hits = 0;
  misses = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS judge_calls (key TEXT PRIMARY KEY, model TEXT NOT NULL, text TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, finish TEXT NOT NULL, created TEXT NOT NULL)',
    );
    this.getStmt = this.db.prepare('SELECT model, text, input_tokens, output_tokens, finish FROM judge_calls WHERE key = ?');
    this.putStmt = this.db.prepare('INSERT OR REPLACE INTO judge_calls (key, model, text, input_tokens, output_tokens, finish, created) VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  get(key: string): ChatResponse | undefined {
    const row = this.getStmt.get(key) as { model: string; text: string; input_tokens: number; output_tokens: number; finish: string } | undefined;
    if (!row) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return { text: row.text, model: row.model, usage: { inputTokens: row.input_tokens, outputTokens: row.output_tokens }, finishReason: row.finish };
  }

  put(key: string, res: ChatResponse): void {
    this.putStmt.run(key, res.model, res.text, res.usage.inputTokens, res.usage.outputTokens, String(res.finishReason), new Date().toISOString());
  }

  /** Number of cached calls. */
  size(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM judge_calls').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
