// Matmul GFLOP/s of the WASM kernels at config R's shapes (forward, dinp, dweight; 1 and 2 threads) against the
// measured wasm FMA ceiling and the native fp32 peak, with the tfjs-wasm matmul as the peer in the same run.
// `npx tsx bench/matmul.ts [--quick]`; appends a JSON line to bench/results/matmul.jsonl.
import { appendFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { benchMatmul, formatMatmul, MATMUL_SHAPES } from '../src/engine/wasm/bench.ts';

const quick = process.argv.includes('--quick');
const report = await benchMatmul({ threads: [1, 2], minMs: quick ? 60 : 400 });
for (const line of formatMatmul(report)) console.log(line);

// peer: tfjs wasm (1 thread in Node) on the same shapes, forward and the two transposed products
const require = createRequire(import.meta.url);
setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + '/');
await tf.setBackend('wasm');
const peer: Array<{ N: number; C: number; OC: number; op: string; gflops: number }> = [];
for (const [N, C, OC] of MATMUL_SHAPES) {
  const inp = tf.randomUniform([N, C]), w = tf.randomUniform([OC, C]), dout = tf.randomUniform([N, OC]);
  const ops: Array<[string, () => tf.Tensor]> = [
    ['forward', () => tf.matMul(inp, w, false, true)],
    ['dinp', () => tf.matMul(dout, w)],
    ['dweight', () => tf.matMul(dout, inp, true, false)],
  ];
  for (const [op, f] of ops) {
    f().dataSync();
    let reps = 0;
    const t0 = performance.now();
    do {
      const r = f();
      r.dataSync();
      r.dispose();
      reps++;
    } while (performance.now() - t0 < (quick ? 60 : 400));
    const s = (performance.now() - t0) / 1000 / reps;
    peer.push({ N, C, OC, op, gflops: (2 * N * C * OC) / s / 1e9 });
  }
  tf.dispose([inp, w, dout]);
}
console.log('peer tfjs-backend-wasm 4.22 (1 thread):');
for (const p of peer) console.log(`  ${p.N}x${p.C}x${p.OC} ${p.op.padEnd(8)} ${p.gflops.toFixed(1)} GFLOP/s`);

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, 'results'), { recursive: true });
appendFileSync(join(here, 'results', 'matmul.jsonl'), JSON.stringify({ bench: 'matmul', date: new Date().toISOString(), quick, ...report, peer }) + '\n');
