// Cost accounting: prefix lookup, batch discount, overrides, unknown models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PriceTable } from '../../src/llm/pricing.ts';

test('longest prefix wins, batch is half price, unknown models are unpriced', () => {
  const t = new PriceTable();
  const u = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
  assert.equal(t.cost('gpt-4o-mini-2024-07-18', u), 0.75);
  assert.equal(t.cost('gpt-4o-2024-08-06', u), 12.5);
  assert.equal(t.cost('gpt-4o-mini', u, true), 0.375);
  assert.equal(t.cost('llama-3-8b', u), null);
});

test('a price file overrides and adds models; bad files name the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-price-'));
  const f = join(dir, 'p.json');
  writeFileSync(f, JSON.stringify({ 'llama-3': { input: 0.1, output: 0.2 }, 'gpt-4o-mini': { input: 1, output: 1, batchInput: 0.1, batchOutput: 0.1 } }));
  const t = PriceTable.fromFile(f);
  assert.equal(t.cost('llama-3-8b-instruct', { inputTokens: 1e6, outputTokens: 1e6 }), 0.3);
  assert.equal(t.cost('gpt-4o-mini', { inputTokens: 1e6, outputTokens: 0 }, true), 0.1);
  writeFileSync(f, JSON.stringify({ m: { input: 'x' } }));
  assert.throws(() => PriceTable.fromFile(f), /model "m" needs numeric "input" and "output"/);
});
