// Sandbox throughput: cold start of a Pyodide worker pool, then executions/s of TinyGSM programs on a warm pool of
// 1 and 2 workers. Peer in the same run: the same programs exec'd by native CPython (python3) in one process.
import { spawnSync } from 'node:child_process';
import { SandboxPool } from '../src/sandbox/pool.ts';
import { toTinyGsmFunction } from '../src/gsm/tinygsm.ts';
import { QUICK, record } from './tokenizer-common.ts';

const N = QUICK ? 300 : 3000;
const programs = Array.from({ length: N }, (_, i) =>
  toTinyGsmFunction(`Ann has ${i} apples and buys ${i % 7} bags of 12. She gives away a third. How many are left?`,
    `apples = ${i}\nbags = ${i % 7}\nper_bag = 12\ntotal = apples + bags * per_bag\ngiven = total / 3\nresult = total - given`));

const figures: Record<string, unknown> = { programs: N };
for (const workers of [1, 2]) {
  const t0 = performance.now();
  const pool = await SandboxPool.create({ workers, timeoutMs: 5000 });
  const cold = performance.now() - t0;
  await pool.runAll(programs.slice(0, 20)); // warm
  const t1 = performance.now();
  const res = await pool.runAll(programs);
  const sec = (performance.now() - t1) / 1000;
  const okCount = res.filter((r) => r.ok).length;
  await pool.close();
  figures[`workers${workers}`] = { coldStartMs: Math.round(cold), perWorkerColdMs: pool.stats.coldStartMs, execPerSec: N / sec, ok: okCount };
  console.log(`sandbox, ${workers} worker(s): cold start ${Math.round(cold)} ms (workers: ${pool.stats.coldStartMs.join(', ')} ms); ${(N / sec).toFixed(0)} executions/s warm (${okCount}/${N} ok)`);
}

// Peer: native CPython executing the same program texts and calling the function, in one process.
const py = `
import json, sys, time
progs = json.load(sys.stdin)
t = time.perf_counter()
for p in progs:
    g = {}
    exec(compile(p, '<p>', 'exec'), g)
    g['simple_math_problem']()
print(len(progs) / (time.perf_counter() - t))
`;
const t2 = performance.now();
const r = spawnSync('python3', ['-c', py], { input: JSON.stringify(programs), encoding: 'utf8' });
const wall = performance.now() - t2;
if (r.status === 0) {
  const rate = Number(r.stdout.trim());
  const start = spawnSync('python3', ['-c', 'pass']);
  void start;
  figures.peerCPython = { execPerSec: rate, processWallMs: Math.round(wall) };
  console.log(`peer: native CPython exec of the same programs (one process, no isolation): ${rate.toFixed(0)} executions/s`);
} else {
  console.log('peer: python3 not available');
}
record('sandbox-exec', figures);
