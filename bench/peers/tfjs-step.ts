// Peer: one config-R training step (GPT-Neo style: forward, backward via tf.variableGrads, Adam) on tfjs-core 4.22
// with the tfjs wasm backend, the library a TypeScript project would otherwise reach for. Measured in the same run as
// bench/step.ts. Run alone: `npx tsx bench/peers/tfjs-step.ts [--steps K] [--batch B] [--seq T]`.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export interface PeerConfig {
  B: number;
  T: number;
  C: number;
  L: number;
  NH: number;
  V: number;
}

export const CONFIG_R: PeerConfig = { B: 8, T: 256, C: 256, L: 4, NH: 8, V: 4096 };

export interface PeerResult {
  peer: string;
  B: number;
  T: number;
  steps: number;
  ms_per_step: number;
  tokens_per_s: number;
  losses: number[];
}

let ready = false;
async function init(): Promise<void> {
  if (ready) return;
  const require = createRequire(import.meta.url);
  // The gradient functions variableGrads needs: tfjs-core's bundles leave them out and its ESM dist uses directory
  // imports that Node's ESM loader rejects, so load it through require (tsx transpiles it); registries are global.
  require('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
  setWasmPaths(dist + '/');
  await tf.setBackend('wasm');
  await tf.ready();
  ready = true;
}

/** Times `steps` training steps of config R on the tfjs wasm backend (no warm-up step). */
export async function tfjsStep(cfg: PeerConfig = CONFIG_R, steps = 1): Promise<PeerResult> {
  await init();
  const { B, T, C, L, NH, V } = cfg;
  const HS = C / NH;
  const init_ = (shape: number[], std = 0.02) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', 1));
  const ones = (n: number) => tf.variable(tf.ones([n]));
  const zeros = (n: number) => tf.variable(tf.zeros([n]));
  const wte = init_([V, C]);
  const wpe = init_([T, C]);
  const layers = Array.from({ length: L }, () => ({
    ln1w: ones(C), ln1b: zeros(C),
    wq: init_([C, C]), wk: init_([C, C]), wv: init_([C, C]), wo: init_([C, C]), bo: zeros(C),
    ln2w: ones(C), ln2b: zeros(C),
    wfc: init_([C, 4 * C]), bfc: zeros(4 * C), wproj: init_([4 * C, C]), bproj: zeros(C),
  }));
  const lnfw = ones(C), lnfb = zeros(C);
  const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // lower triangle: causal
  const negMask = tf.mul(tf.sub(1, mask), -1e9);
  const inputs = tf.randomUniform([B, T], 0, V, 'int32', 2);
  const targets = tf.oneHot(tf.randomUniform([B * T], 0, V, 'int32', 3), V);
  const inputsOneHot = tf.oneHot(tf.reshape(inputs, [B * T]), V);
  const layerNorm = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), w), b);
  };
  const geluNew = (x: tf.Tensor) => tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
  const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [B, T, NH, HS]), [0, 2, 1, 3]);
  const loss = () => {
    // token embedding as oneHot @ wte: gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks
    let x: tf.Tensor = tf.add(tf.reshape(tf.matMul(inputsOneHot, wte), [B, T, C]), wpe); // (B,T,C)
    for (const p of layers) {
      const h = tf.reshape(layerNorm(x, p.ln1w, p.ln1b), [B * T, C]);
      const q = heads(tf.matMul(h, p.wq)), k = heads(tf.matMul(h, p.wk)), v = heads(tf.matMul(h, p.wv));
      const att = tf.softmax(tf.add(tf.matMul(q, k, false, true), negMask)); // GPT-Neo: no 1/sqrt(d) scaling
      const y = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, C]);
      x = tf.add(x, tf.reshape(tf.add(tf.matMul(y, p.wo), p.bo), [B, T, C]));
      const h2 = tf.reshape(layerNorm(x, p.ln2w, p.ln2b), [B * T, C]);
      const m = tf.add(tf.matMul(geluNew(tf.add(tf.matMul(h2, p.wfc), p.bfc)), p.wproj), p.bproj);
      x = tf.add(x, tf.reshape(m, [B, T, C]));
    }
    const xf = tf.reshape(layerNorm(x, lnfw, lnfb), [B * T, C]);
    const logits = tf.matMul(xf, wte, false, true); // tied head
    return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
  };
  const opt = tf.train.adam(1e-3);
  const losses: number[] = [];
  const step = () => {
    const { value, grads } = tf.variableGrads(loss);
    opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    losses.push(value.dataSync()[0]!);
    tf.dispose([value, ...Object.values(grads)]);
  };
  // no warm-up step: one config-R step takes ~40 s, next to which tfjs's first-call setup is noise
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) step();
  const ms = (performance.now() - t0) / steps;
  tf.dispose([wte, wpe, lnfw, lnfb, mask, negMask, inputs, inputsOneHot, targets, ...layers.flatMap((p) => Object.values(p))]);
  opt.dispose();
  return { peer: 'tfjs-core 4.22 + tfjs-backend-wasm (SIMD, 1 thread)', B, T, steps, ms_per_step: ms, tokens_per_s: (B * T) / (ms / 1000), losses };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string, d: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  const r = await tfjsStep({ ...CONFIG_R, B: arg('batch', CONFIG_R.B), T: arg('seq', CONFIG_R.T) }, arg('steps', 1));
  console.log(`${r.peer}: B=${r.B} T=${r.T} ${r.ms_per_step.toFixed(0)} ms/step, ${r.tokens_per_s.toFixed(1)} tokens/s, losses ${r.losses.map((l) => l.toFixed(3)).join(' ')}`);
}
