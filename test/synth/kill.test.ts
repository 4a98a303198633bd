// The exactly-once test: the real CLI is SIGKILLed at random moments while generating against the mock, then
// rerun; the output must be exactly the expected ids, with no duplicate, and no finished request paid again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MockLlmServer } from '../helpers/mock-llm-server.ts';
import { Rng } from '../../src/util/rng.ts';
import { recordId } from '../../src/synth/generate.ts';

const root = join(import.meta.dirname, '..', '..');
const words = join(import.meta.dirname, 'fixtures', 'words-en.json');

function indexOf(requestId: string): number {
  return Number(/^ts-s\d+-(\d+)/.exec(requestId)?.[1] ?? -1);
}

function doneIds(dir: string): Set<string> {
  let db: Database.Database | undefined;
  try {
    db = new Database(join(dir, 'journal.sqlite'), { readonly: true, fileMustExist: true });
    return new Set((db.prepare("SELECT id FROM calls WHERE state = 'done'").all() as Array<{ id: string }>).map((r) => r.id));
  } catch {
    return new Set();
  } finally {
    db?.close();
  }
}

test('kill -9 at random moments, rerun: exactly the expected ids, no duplicates, nothing paid twice', { timeout: 60_000 }, async (t) => {
  const COUNT = 70;
  // Slot i (i % 9 == 4): the first attempt is too short, the second passes. Slot i (i % 23 == 7): refused twice, given up.
  const mock = await new MockLlmServer({
    latencyMs: (c) => 15 + (c.n * 37) % 60,
    fault: (c) => {
      const id = c.requestId ?? '';
      const i = indexOf(id);
      if (c.n % 13 === 5) return { type: 'status', status: 429, retryAfterMs: 30 };
      if (c.n % 17 === 9) return { type: 'status', status: 500 };
      if (id.endsWith('-a0') && i % 9 === 4) return { type: 'text', text: 'Too short.' };
      if (!id.endsWith('-sum') && i % 23 === 7) return { type: 'refusal' };
      return undefined;
    },
  }).start();
  const dir = mkdtempSync(join(tmpdir(), 'ts-kill-'));
  const args = [
    'bin/tinystories.mjs', 'generate', '--count', String(COUNT), '--out', dir, '--base-url', `${mock.url}/v1`, '--model', 'gpt-4o-mini',
    '--words', words, '--concurrency', '6', '--instruct', '--quiet', '--max-retries', '12', '--seed', '7',
  ];
  const env = { ...process.env, OPENAI_API_KEY: 'test-key-not-real' };
  const rng = new Rng(2024);
  const doneBefore: Array<Set<string>> = [];
  try {
    for (let epoch = 0; epoch < 5; epoch++) {
      mock.epoch = epoch;
      doneBefore[epoch] = doneIds(dir);
      const startRequests = mock.counts.requests;
      const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      // Kill once it has started sending, after a random extra delay (epoch 0: possibly before any request).
      const t0 = Date.now();
      while (epoch > 0 && mock.counts.requests === startRequests && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, epoch === 0 ? 200 + rng.int(800) : rng.int(350)));
      child.kill('SIGKILL');
      const code = await exited;
      assert.notEqual(code, 0, `run ${epoch} finished before it was killed; stderr: ${stderr}`);
    }
    mock.epoch = 5;
    doneBefore[5] = doneIds(dir);
    const final = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    final.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => final.on('exit', (c) => r(c)));
    assert.equal(code, 0, stderr);

    // Expected: the first COUNT slot indices that are not given up (i % 23 == 7 is refused on both attempts).
    const expected: string[] = [];
    for (let i = 0; expected.length < COUNT; i++) if (i % 23 !== 7) expected.push(recordId(7, i));
    const lines = readFileSync(join(dir, 'stories.jsonl'), 'utf8').split('\n').filter(Boolean);
    const ids = lines.map((l) => (JSON.parse(l) as { id: string }).id);
    assert.equal(new Set(ids).size, ids.length, 'duplicate ids in the output');
    assert.deepEqual(ids, expected);
    for (const l of lines) {
      const r = JSON.parse(l) as { index: number; attempt: number; summary: string };
      assert.equal(r.attempt, r.index % 9 === 4 ? 1 : 0);
      assert.ok(r.summary.length > 0);
    }
    const txt = readFileSync(join(dir, 'stories.txt'), 'utf8');
    assert.equal(txt.split('<|endoftext|>\n').length - 1, COUNT);

    // No request id that the journal held as paid before a run was requested again in that run.
    for (let epoch = 1; epoch <= 5; epoch++) {
      const repeated = [...mock.delivered(epoch).keys(), ...mock.log.filter((e) => e.epoch === epoch).map((e) => e.requestId!)]
        .filter((id) => doneBefore[epoch]!.has(id));
      assert.deepEqual([...new Set(repeated)], [], `run ${epoch} re-requested finished ids`);
    }
    // Every paid response in the journal was delivered by the mock, and progress was made across kills.
    const finalDone = doneIds(dir);
    t.diagnostic(`paid responses journaled before each run: ${doneBefore.map((s) => s.size).join(', ')} -> ${finalDone.size}`);
    const delivered = mock.delivered();
    for (const id of finalDone) assert.ok(delivered.has(id), `journal holds ${id} that the mock never answered`);
    assert.ok(doneBefore.some((s, i) => i > 0 && s.size > 0), 'no kill happened after some progress');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { accepted: number; attempts: Record<string, number>; slotRejections: Record<string, number> };
    assert.equal(report.accepted, COUNT);
    assert.ok(report.attempts.too_short! >= 7 && report.attempts.refusal! >= 2, JSON.stringify(report.attempts));
    assert.equal(report.slotRejections.refusal, 3);
  } finally {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
