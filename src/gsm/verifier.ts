// The TinyGSM verifier: the same transformer with a scalar head on every token, trained on sampled solutions labeled
// correct/incorrect by execution. Every token is supervised with its sequence's label (binary cross-entropy); at
// test time the last token's score ranks the samples (verify@k).
//
// The head reads the LM logits: score_t = u · logits_t + b (u has vocab size), i.e. a linear head on the final
// hidden state through the LM head (hidden → head^T u). Its gradient enters the transformer as a gradient on the
// logits (dlogits_t = dloss/dscore_t · u) through Model.backwardFromLogits.
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { copyFileSync, existsSync } from 'node:fs';
import { loadModelFiles } from '../checkpoint/run-dir.ts';
import { readSafetensors, writeSafetensorsSync } from '../checkpoint/safetensors.ts';
import type { Backend } from '../engine/backend.ts';
import { exportHfTensors, importHfTensors } from '../engine/hf.ts';
import { Model } from '../engine/model.ts';
import { loadTokenizer } from '../tokenizer/hf-json.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';

/** The scalar head: score = u · logits + b. */
export interface VerifierHead {
  u: Float32Array;
  b: number;
}

/** A labeled training sequence. */
export interface VerifierExample {
  ids: number[];
  label: 0 | 1;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Loads a generator run (or a saved verifier) into a Model, plus its tokenizer. */
export function loadForVerifier(path: string, backend: Backend): { model: Model; tokenizer: Tokenizer; dir: string } {
  const files = loadModelFiles(path);
  const tokenizer = loadTokenizer(files.tokenizerPath);
  const model = new Model(files.config, backend, { seed: 0 });
  importHfTensors(model, files.tensors);
  return { model, tokenizer, dir: files.dir };
}

/** A verifier: model + head + tokenizer. */
export class Verifier {
  constructor(
    readonly model: Model,
    readonly tokenizer: Tokenizer,
    readonly head: VerifierHead,
  ) {
    if (head.u.length !== model.cfg.vocabSize) throw new UserError(`verifier head has ${head.u.length} weights, the model's vocabulary is ${model.cfg.vocabSize}`);
  }

  /** A fresh head (u = 0, b = 0: every score starts at 0.5) on a generator run's weights. */
  static fromGenerator(path: string, backend: Backend): Verifier {
    const { model, tokenizer } = loadForVerifier(path, backend);
    return new Verifier(model, tokenizer, { u: new Float32Array(model.cfg.vocabSize), b: 0 });
  }

  /** Loads a verifier saved by save(). */
  static load(dir: string, backend: Backend): Verifier {
    const headPath = join(dir, 'verifier_head.safetensors');
    if (!existsSync(headPath)) throw new UserError(`${dir}: no verifier_head.safetensors (is this a directory written by \`gsm verifier train\`?)`);
    const { model, tokenizer } = loadForVerifier(dir, backend);
    const t = readSafetensors(headPath).tensors;
    const u = t.get('verifier.u');
    const b = t.get('verifier.b');
    if (!u || !b) throw new UserError(`${headPath}: expected tensors verifier.u and verifier.b`);
    return new Verifier(model, tokenizer, { u: Float32Array.from(u.data), b: b.data[0]! });
  }

  /** Token ids the verifier reads for a text: <|endoftext|> first (as in training), the last maxSeqLen kept. */
  encode(text: string): number[] {
    const eot = this.tokenizer.eotId;
    const ids = [...(eot >= 0 ? [eot] : []), ...this.tokenizer.encode(text)];
    return ids.slice(-this.model.cfg.maxSeqLen);
  }

  /** Per-token raw scores of a sequence (before the sigmoid). */
  tokenScores(ids: number[]): Float32Array {
    const T = ids.length;
    const V = this.model.cfg.vocabSize;
    this.model.forward(Int32Array.from(ids), null, 1, T);
    const logits = this.model.actViews().logits;
    const out = new Float32Array(T);
    const u = this.head.u;
    for (let t = 0; t < T; t++) {
      let s = this.head.b;
      const o = t * V;
      for (let v = 0; v < V; v++) s += u[v]! * logits[o + v]!;
      out[t] = s;
    }
    return out;
  }

  /** The probability that `text` (a whole solution) is correct: sigmoid of the last token's score. */
  score(text: string): number {
    const s = this.tokenScores(this.encode(text));
    return sigmoid(s[s.length - 1]!);
  }

  /** Writes the model (config, tokenizer, weights) and the head into `dir`; `from` is the generator run. */
  save(dir: string, from: string, meta: Record<string, unknown>): void {
    mkdirSync(dir, { recursive: true });
    const files = loadModelFiles(from);
    copyFileSync(files.tokenizerPath, join(dir, basename(files.tokenizerPath)));
    const cfgPath = existsSync(join(files.dir, 'config.json')) ? join(files.dir, 'config.json') : join(files.dir, '..', 'config.json');
    copyFileSync(cfgPath, join(dir, 'config.json'));
    const tensors = [...exportHfTensors(this.model)].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    writeSafetensorsSync(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
    writeSafetensorsSync(join(dir, 'verifier_head.safetensors'), [
      { name: 'verifier.u', shape: [this.head.u.length], data: this.head.u },
      { name: 'verifier.b', shape: [1], data: Float32Array.of(this.head.b) },
    ], { format: 'pt' });
    writeFileAtomicSync(join(dir, 'verifier.json'), JSON.stringify({ kind: 'tinystories-gsm-verifier', generator: from, ...meta }, null, 2) + '\n');
  }
}

/** Adam state for the head. */
export interface HeadOptimizer {
  mu: Float32Array;
  vu: Float32Array;
  mb: number;
  vb: number;
  t: number;
}

export function newHeadOptimizer(V: number): HeadOptimizer {
  return { mu: new Float32Array(V), vu: new Float32Array(V), mb: 0, vb: 0, t: 0 };
}

/**
 * The mean per-token BCE loss of a batch, and (with `grad`) its gradients: the head's in `grad`, the model's added
 * to model.grads (call model.zeroGrad() first). Sequences are padded to the longest; padding is not supervised.
 */
export function verifierLossAndGrad(v: Verifier, batch: VerifierExample[], grad?: { u: Float32Array; b: number }): number {
  const model = v.model;
  const V = model.cfg.vocabSize;
  const B = batch.length;
  const T = Math.max(...batch.map((e) => e.ids.length));
  const inputs = new Int32Array(B * T);
  let valid = 0;
  batch.forEach((e, i) => {
    inputs.set(e.ids, i * T);
    valid += e.ids.length;
  });
  model.forward(inputs, null, B, T);
  const logits = model.actViews().logits;
  // rows of padding positions stay zero (they carry no loss)
  const dlogits = grad ? dlogitsScratch(v, B * T * V) : null;
  const u = v.head.u;
  let loss = 0;
  // dloss/dscore_t = (sigmoid(s) - y) / valid for each supervised token
  for (let i = 0; i < B; i++) {
    const y = batch[i]!.label;
    for (let t = 0; t < batch[i]!.ids.length; t++) {
      const n = i * T + t;
      const o = n * V;
      let s = v.head.b;
      for (let k = 0; k < V; k++) s += u[k]! * logits[o + k]!;
      const p = sigmoid(s);
      loss += -(y * Math.log(Math.max(p, 1e-12)) + (1 - y) * Math.log(Math.max(1 - p, 1e-12)));
      if (!grad) continue;
      const ds = (p - y) / valid;
      grad.b += ds;
      for (let k = 0; k < V; k++) grad.u[k] += ds * logits[o + k]!;
      for (let k = 0; k < V; k++) dlogits![o + k] = ds * u[k]!;
    }
  }
  if (grad) model.backwardFromLogits(dlogits!);
  return loss / valid;
}

/** One dlogits buffer per verifier, grown as needed and returned zeroed (no (B*T, V) allocation per step). */
const dlogitsBuffers = new WeakMap<Verifier, Float32Array>();
function dlogitsScratch(v: Verifier, n: number): Float32Array {
  let buf = dlogitsBuffers.get(v);
  if (!buf || buf.length < n) {
    buf = new Float32Array(n);
    dlogitsBuffers.set(v, buf);
  } else buf.fill(0, 0, n);
  return buf.subarray(0, n);
}

export interface VerifierTrainOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  headLr?: number;
  weightDecay?: number;
  gradClip?: number;
  seed?: number;
  /** Called after each step with the loss. */
  onStep?: (step: number, loss: number) => void;
}

/** Trains the verifier in place on labeled sequences; returns the loss of each step. */
export function trainVerifier(v: Verifier, examples: VerifierExample[], o: VerifierTrainOptions = {}): number[] {
  if (examples.length === 0) throw new UserError('verifier training: no labeled samples');
  const epochs = o.epochs ?? 2;
  const B = o.batchSize ?? 8;
  const lr = o.lr ?? 1e-4;
  const headLr = o.headLr ?? 1e-3;
  const rng = new Rng(o.seed ?? 1);
  const opt = newHeadOptimizer(v.model.cfg.vocabSize);
  const losses: number[] = [];
  let step = 0;
  for (let e = 0; e < epochs; e++) {
    const order = examples.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let s = 0; s < order.length; s += B) {
      const batch = order.slice(s, s + B).map((i) => examples[i]!);
      const grad = { u: new Float32Array(v.head.u.length), b: 0 };
      v.model.zeroGrad();
      const loss = verifierLossAndGrad(v, batch, grad);
      if (o.gradClip ?? 1) v.model.clipGradNorm(o.gradClip ?? 1);
      step++;
      v.model.adamwStep({ lr, t: step, weightDecay: o.weightDecay ?? 0 });
      adamHead(v.head, grad, opt, headLr);
      losses.push(loss);
      o.onStep?.(step, loss);
    }
  }
  return losses;
}

function adamHead(head: VerifierHead, g: { u: Float32Array; b: number }, o: HeadOptimizer, lr: number): void {
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  o.t++;
  const c1 = 1 - b1 ** o.t;
  const c2 = 1 - b2 ** o.t;
  for (let k = 0; k < head.u.length; k++) {
    o.mu[k] = b1 * o.mu[k]! + (1 - b1) * g.u[k]!;
    o.vu[k] = b2 * o.vu[k]! + (1 - b2) * g.u[k]! * g.u[k]!;
    head.u[k] -= (lr * (o.mu[k]! / c1)) / (Math.sqrt(o.vu[k]! / c2) + eps);
  }
  o.mb = b1 * o.mb + (1 - b1) * g.b;
  o.vb = b2 * o.vb + (1 - b2) * g.b * g.b;
  head.b -= (lr * (o.mb / c1)) / (Math.sqrt(o.vb / c2) + eps);
}
