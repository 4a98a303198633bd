// The gradient checker itself: it catches a wrong backward, and the CLI command prints a table and sets the exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { GRADCHECK_CONFIGS, gradcheckKernels, gradcheckModel } from '../../src/engine/gradcheck.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { register } from '../../src/cli/gradcheck.ts';

test('a subtly wrong backward fails the check (kernel and whole model)', () => {
  const good = createRefBackend();
  const bad = {
    ...good,
    gelu_backward: (dinp: Float32Array, inp: Float32Array, dout: Float32Array, N: number) => {
      const tmp = new Float32Array(N);
      good.gelu_backward(tmp, inp, dout, N);
      for (let i = 0; i < N; i++) dinp[i]! += tmp[i]! * 1.1;
    },
  };
  const k = gradcheckKernels('f32', bad);
  assert.equal(k.find((r) => r.name.startsWith('gelu'))!.pass, false);
  assert.ok(k.filter((r) => !r.name.startsWith('gelu')).every((r) => r.pass));
  const m = gradcheckModel(GRADCHECK_CONFIGS['gpt-neo'], 'f32', { backend: bad });
  assert.ok(!m.find((r) => r.name === 'transformer.h.0.mlp.c_fc.weight')!.pass);
  assert.ok(m.find((r) => r.name === 'transformer.ln_f.weight')!.pass, 'tensors after the bug are unaffected');
});

test('`gradcheck --model gpt-neo` prints a table per tensor and leaves exit code 0 when all pass', async () => {
  const program = new Command().exitOverride();
  register(program);
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => lines.push(s);
  try {
    await program.parseAsync(['node', 'x', 'gradcheck', '--model', 'gpt-neo', '--precision', 'f32']);
  } finally {
    console.log = log;
  }
  const out = lines.join('\n');
  assert.match(out, /transformer\.h\.1\.attn\.attention\.qkv_proj\.weight\s+\S+e-\d+\s+5e-2\s+\d+\s+ok/);
  assert.match(out, /attention \(local window 2\): dqkv/);
  assert.match(out, /gradcheck: all \d+ checks passed/);
  assert.doesNotMatch(out, /llama/);
  assert.ok(!process.exitCode);
});
