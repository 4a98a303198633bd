// Cost accounting: a price table in USD per million tokens, matched by model-id prefix, user-overridable.
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.ts';
import type { Usage } from './types.ts';

/** USD per 1M tokens. `batch` defaults to half of online (both OpenAI Batch and Anthropic Message Batches). */
export interface ModelPrice {
  input: number;
  output: number;
  batchInput?: number;
  batchOutput?: number;
}

/** List prices as published (late 2025); override with a JSON file for anything newer or negotiated. */
export const DEFAULT_PRICES: Record<string, ModelPrice> = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-4': { input: 30, output: 60 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-opus-4': { input: 15, output: 75 },
};

/** Prices for a run: defaults plus overrides. Lookup is by the longest matching model-id prefix. */
export class PriceTable {
  private readonly prices: Record<string, ModelPrice>;
  constructor(overrides: Record<string, ModelPrice> = {}) {
    this.prices = { ...DEFAULT_PRICES, ...overrides };
  }

  /** Reads overrides from a JSON file `{"model-id": {"input": 0.15, "output": 0.6}}`. */
  static fromFile(path: string): PriceTable {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new UserError(`${path}: cannot read price table (${(e as Error).message}); expected {"model": {"input": usd_per_M, "output": usd_per_M}}`);
    }
    if (!raw || typeof raw !== 'object') throw new UserError(`${path}: expected a JSON object of model prices`);
    const out: Record<string, ModelPrice> = {};
    for (const [model, p] of Object.entries(raw as Record<string, unknown>)) {
      const price = p as Partial<ModelPrice>;
      if (typeof price?.input !== 'number' || typeof price?.output !== 'number') {
        throw new UserError(`${path}: model "${model}" needs numeric "input" and "output" (USD per 1M tokens)`);
      }
      out[model] = price as ModelPrice;
    }
    return new PriceTable(out);
  }

  /** The price entry for a model id (longest prefix match), or undefined when unknown. */
  lookup(model: string): ModelPrice | undefined {
    if (this.prices[model]) return this.prices[model];
    let best: string | undefined;
    for (const key of Object.keys(this.prices)) {
      if (model.startsWith(key) && (!best || key.length > best.length)) best = key;
    }
    return best ? this.prices[best] : undefined;
  }

  /** USD for `usage` on `model`; null when the model has no price (reported as "unpriced"). */
  cost(model: string, usage: Usage, batch = false): number | null {
    const p = this.lookup(model);
    if (!p) return null;
    const inP = batch ? (p.batchInput ?? p.input / 2) : p.input;
    const outP = batch ? (p.batchOutput ?? p.output / 2) : p.output;
    return (usage.inputTokens * inP + usage.outputTokens * outP) / 1e6;
  }
}
