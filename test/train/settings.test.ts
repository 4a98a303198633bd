// Strict settings: defaults, then config file, then --key=value; unknown keys and wrong types name the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseFlags, resolveSettings } from '../../src/train/configurator.ts';
import { UserError } from '../../src/util/errors.ts';

const Schema = z.strictObject({
  lr: z.number().positive().default(1e-3),
  warmupSteps: z.number().int().min(0).default(10),
  lrSchedule: z.enum(['cosine', 'constant']).default('cosine'),
  steps: z.number().int().positive().nullable().default(null),
  compile: z.boolean().default(false),
  data: z.string().default('builtin:mini'),
});

test('defaults, then file, then flags, in that order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'settings-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ lr: 0.5, 'warmup-steps': 3, data: 'x.txt' }));
  const s = resolveSettings(Schema, { file, flags: ['--lr=0.25', '--lr-schedule', 'constant', '--compile'] });
  assert.deepEqual(s, { lr: 0.25, warmupSteps: 3, lrSchedule: 'constant', steps: null, compile: true, data: 'x.txt' });
  assert.deepEqual(resolveSettings(Schema, {}), Schema.parse({}));
});

test('unknown keys and wrong types are UserErrors naming the key and its source', () => {
  const dir = mkdtempSync(join(tmpdir(), 'settings-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ lr: 'fast' }));
  assert.throws(() => resolveSettings(Schema, { file }), (e: Error) => e instanceof UserError && e.message.includes(file) && e.message.includes('"lr"'));
  writeFileSync(file, JSON.stringify({ learningRate: 1 }));
  assert.throws(() => resolveSettings(Schema, { file }), /unknown setting "learningRate"/);
  assert.throws(() => resolveSettings(Schema, { flags: ['--lr=abc'] }), /--lr: expected a number, got 'abc'/);
  assert.throws(() => resolveSettings(Schema, { flags: ['--bogus=1'] }), /unknown option --bogus/);
  assert.throws(() => resolveSettings(Schema, { flags: ['--warmup-steps=2.5'] }), /--warmup-steps/);
  assert.throws(() => resolveSettings(Schema, { flags: ['--lr-schedule=linear'] }), /one of cosine, constant/);
  assert.throws(() => resolveSettings(Schema, { flags: ['--lr=-1'] }), /--lr/);
});

test('flag forms: --k=v, --k v, boolean --flag / --no-flag, null for nullable', () => {
  const { values, rest } = parseFlags(Schema, ['--steps', '40', '--no-compile', 'pos', '--steps=null']);
  assert.deepEqual(values, { steps: null, compile: false });
  assert.deepEqual(rest, ['pos']);
  assert.equal(resolveSettings(Schema, { flags: ['--steps', '40'] }).steps, 40);
});
