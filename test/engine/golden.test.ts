// Golden test: a tiny seeded model's logits, loss, every gradient tensor and its first 10 training losses must
// match the stored fixtures (made by `npx tsx test/engine/make-golden.ts` from the reference backend).
// No PyTorch here, so the fixture is not from transformers: the HF semantics behind it (GPT-Neo: no score scaling,
// masked_bias, local mask i - window < j <= i, gelu_new, tied head; llama: RMSNorm, rotate-half RoPE, GQA, SwiGLU)
// are checked in model.test.ts against a naive re-implementation of the HF modeling code (hf-naive.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { GOLDEN_MAGIC, GOLDEN_VERSION, type Golden, maxRelToScale, runGolden } from './golden-setup.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

// Tolerances for the reference backend (same code, so near-exact; the slack covers Math.exp/tanh differences
// across V8 versions). A change in summation order or precision of a kernel shows up here first.
const TOL = { logits: 1e-5, loss: 1e-6, grad: 1e-4, train: 1e-5 };

for (const arch of ['gpt-neo', 'llama'] as const) {
  test(`golden ${arch}: logits, loss, all gradients and 10 training losses reproduce the fixture`, () => {
    const want = JSON.parse(readFileSync(join(dir, `golden-${arch}.json`), 'utf8')) as Golden;
    assert.equal(want.magic, GOLDEN_MAGIC, 'not a golden fixture');
    assert.equal(want.version, GOLDEN_VERSION, 'fixture version differs: regenerate with npx tsx test/engine/make-golden.ts');
    const got = runGolden(arch, createRefBackend());
    assert.deepEqual(got.config, want.config);
    assert.deepEqual(got.inputs, want.inputs);
    assert.deepEqual(got.targets, want.targets);
    const dl = maxRelToScale(got.logits, want.logits);
    assert.ok(dl <= TOL.logits, `logits differ by ${dl} (relative to max |logit|); first got ${got.logits.slice(0, 4)} want ${want.logits.slice(0, 4)}`);
    assert.ok(Math.abs(got.loss - want.loss) <= TOL.loss * Math.abs(want.loss), `loss ${got.loss} vs ${want.loss}`);
    assert.deepEqual(Object.keys(got.grads), Object.keys(want.grads));
    for (const name of Object.keys(want.grads)) {
      const d = maxRelToScale(got.grads[name]!, want.grads[name]!);
      assert.ok(d <= TOL.grad, `${name}: gradient differs by ${d} (relative to the tensor's max |g|)`);
    }
    const dt = maxRelToScale(got.trainLosses, want.trainLosses);
    assert.ok(dt <= TOL.train, `training losses ${got.trainLosses} vs ${want.trainLosses}`);
    assert.ok(want.trainLosses[9]! < want.trainLosses[0]!, 'the stored run learns');
  });
}
