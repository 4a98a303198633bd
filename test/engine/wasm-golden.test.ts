// The golden fixtures (made from the reference backend, see golden.test.ts) reproduced on the WASM backend: logits,
// loss, every gradient tensor and 10 training losses, on 2 threads with every kernel split across them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWasmBackend } from '../../src/engine/wasm/node.ts';
import { type Golden, maxRelToScale, runGolden } from './golden-setup.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

// float32 sums in blocked/SIMD order and a polynomial exp differ from the reference's float64 accumulation by a few
// ulps per term: measured 2e-7 (logits), 6e-7 (gradients), 3e-8 (training losses); these bounds leave ~10x room.
const TOL = { logits: 2e-6, loss: 1e-6, grad: 1e-5, train: 1e-6 };

for (const arch of ['gpt-neo', 'llama'] as const) {
  test(`wasm golden ${arch}: logits, loss, all gradients and 10 training losses match the fixture`, async () => {
    const want = JSON.parse(readFileSync(join(dir, `golden-${arch}.json`), 'utf8')) as Golden;
    const be = await createWasmBackend({ threads: 2, soloBelow: 0 });
    try {
      const got = runGolden(arch, be);
      const dl = maxRelToScale(got.logits, want.logits);
      assert.ok(dl <= TOL.logits, `logits differ by ${dl} (relative to max |logit|)`);
      assert.ok(Math.abs(got.loss - want.loss) <= TOL.loss * Math.abs(want.loss), `loss ${got.loss} vs ${want.loss}`);
      for (const name of Object.keys(want.grads)) {
        const d = maxRelToScale(got.grads[name]!, want.grads[name]!);
        assert.ok(d <= TOL.grad, `${name}: gradient differs by ${d} (relative to the tensor's max |g|)`);
      }
      const dt = maxRelToScale(got.trainLosses, want.trainLosses);
      assert.ok(dt <= TOL.train, `training losses ${got.trainLosses} vs ${want.trainLosses} (${dt})`);
    } finally {
      be.dispose();
    }
  });
}
