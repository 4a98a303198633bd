// The verifier: its gradient (injected through Model.backwardFromLogits) matches finite differences, and training
// separates correct from incorrect solutions on a toy set; save/load round-trips the scores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHfConfig } from '../../src/checkpoint/hf-config.ts';
import { writeSafetensorsSync } from '../../src/checkpoint/safetensors.ts';
import { exportHfTensors } from '../../src/engine/hf.ts';
import { Model } from '../../src/engine/model.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { trainBpe } from '../../src/tokenizer/train.ts';
import { Verifier, trainVerifier, verifierLossAndGrad, type VerifierExample } from '../../src/gsm/verifier.ts';
import { toTinyGsmFunction } from '../../src/gsm/tinygsm.ts';

const texts = Array.from({ length: 12 }, (_, i) => toTinyGsmFunction(`Ann has ${i + 2} apples and gets ${i + 1} more. How many?`, `a = ${i + 2}\nb = ${i + 1}\nresult = a ${i % 2 ? '+' : '-'} b`));

async function tinyRun(dir: string): Promise<void> {
  const tok = await trainBpe(texts, { vocabSize: 300 });
  tok.save(join(dir, 'tokenizer.json'));
  const cfg = { arch: 'gpt-neo' as const, vocabSize: tok.vocabSize, maxSeqLen: 128, dim: 16, nLayers: 1, nHeads: 2, windowSize: 32 };
  const model = new Model(cfg, createRefBackend(), { seed: 3 });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(toHfConfig(cfg, { eotId: tok.eotId })));
  writeSafetensorsSync(join(dir, 'model.safetensors'), [...exportHfTensors(model)].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), { format: 'pt' });
}

test('verifier gradients match finite differences (head and transformer)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ver-'));
  try {
    await tinyRun(dir);
    const v = Verifier.fromGenerator(dir, createRefBackend());
    for (let k = 0; k < v.head.u.length; k++) v.head.u[k] = Math.sin(k) * 0.3;
    v.head.b = 0.1;
    const batch: VerifierExample[] = [
      { ids: v.encode(texts[0]!).slice(0, 20), label: 1 },
      { ids: v.encode(texts[1]!).slice(0, 14), label: 0 },
    ];
    const grad = { u: new Float32Array(v.head.u.length), b: 0 };
    v.model.zeroGrad();
    verifierLossAndGrad(v, batch, grad);
    const g = Float64Array.from(v.model.grads);
    const loss = () => verifierLossAndGrad(v, batch);
    const fd = (get: () => number, set: (x: number) => void, h = 1e-2) => {
      const x0 = get();
      set(x0 + h);
      const lp = loss();
      set(x0 - h);
      const lm = loss();
      set(x0);
      return (lp - lm) / (2 * h);
    };
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 2e-3 + 0.05 * Math.abs(b), `${what}: analytic ${a} vs numeric ${b}`);
    close(grad.b, fd(() => v.head.b, (x) => (v.head.b = x)), 'b');
    const used = batch[0]!.ids[3]!;
    close(grad.u[used]!, fd(() => v.head.u[used]!, (x) => (v.head.u[used] = x)), `u[${used}]`);
    // transformer parameters: the largest-gradient entries (well above float32 noise)
    const order = [...g.keys()].sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!)).slice(0, 4);
    for (const i of order) close(g[i]!, fd(() => v.model.params[i]!, (x) => (v.model.params[i] = x)), `param ${i}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('training separates correct from incorrect solutions; save/load keeps the scores', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ver-'));
  try {
    await tinyRun(dir);
    const v = Verifier.fromGenerator(dir, createRefBackend());
    // label: "+" programs correct, "-" programs incorrect (a pattern the model can see at the last tokens)
    const examples = texts.map((t, i) => ({ ids: v.encode(t), label: (i % 2 ? 1 : 0) as 0 | 1 }));
    const before = texts.map((t) => v.score(t));
    assert.ok(before.every((s) => Math.abs(s - 0.5) < 1e-6), 'a fresh head scores 0.5');
    const losses = trainVerifier(v, examples, { epochs: 30, batchSize: 4, lr: 3e-3, headLr: 1e-2 });
    assert.ok(losses[losses.length - 1]! < losses[0]! * 0.7, `loss ${losses[0]} → ${losses[losses.length - 1]}`);
    const after = texts.map((t) => v.score(t));
    const pos = after.filter((_, i) => i % 2).reduce((a, b) => a + b, 0) / 6;
    const neg = after.filter((_, i) => !(i % 2)).reduce((a, b) => a + b, 0) / 6;
    assert.ok(pos > neg + 0.2, `mean score correct ${pos} vs incorrect ${neg}`);
    const out = join(dir, 'verifier');
    v.save(out, dir, { test: true });
    const w = Verifier.load(out, createRefBackend());
    texts.forEach((t, i) => assert.ok(Math.abs(w.score(t) - after[i]!) < 1e-5));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
