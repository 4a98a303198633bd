// Story features (Dialogue, BadEnding, ...): their prompt phrasings and seeded sampling, uniform or by real frequencies.
import { readFileSync } from 'node:fs';
import type { Rng } from '../util/rng.ts';
import { UserError } from '../util/errors.ts';
import type { Lang } from './words.ts';

/** The six feature ids of the released data, in the canonical order used in records and Instruct lines. */
export const FEATURES = ['Dialogue', 'BadEnding', 'MoralValue', 'Twist', 'Foreshadowing', 'Conflict'] as const;
export type Feature = (typeof FEATURES)[number];

/** The phrase inserted into a prompt for each feature (English: the released data's, the paper's and third-party wording). */
export const FEATURE_PHRASES: Record<Lang, Record<Feature, string>> = {
  en: {
    Dialogue: 'the story should contain at least one dialogue',
    BadEnding: 'the story has a bad ending',
    MoralValue: 'the story has a moral value',
    Twist: 'something unexpected happens / there is a plot twist',
    Foreshadowing: 'the narrative uses foreshadowing or setup and payoff',
    Conflict: 'the story has some form of conflict in it',
  },
  vi: {
    Dialogue: 'câu chuyện phải có ít nhất một đoạn hội thoại',
    BadEnding: 'câu chuyện có kết thúc buồn',
    MoralValue: 'câu chuyện có một bài học đạo đức',
    Twist: 'có một điều bất ngờ xảy ra / câu chuyện có một bước ngoặt',
    Foreshadowing: 'câu chuyện dùng chi tiết báo trước (gài trước rồi mở ra)',
    Conflict: 'câu chuyện có một mâu thuẫn nào đó',
  },
};

/** A distribution over feature sets. */
export interface FeatureDistribution {
  name: string;
  sample(rng: Rng): Feature[];
}

/** Puts features in canonical order. */
export function canonicalFeatures(fs: Iterable<string>): Feature[] {
  const set = new Set(fs);
  return FEATURES.filter((f) => set.has(f));
}

/** Each feature independently with probability p (p = 0.5 makes all 64 subsets equally likely). */
export function uniformFeatures(p = 0.5): FeatureDistribution {
  return {
    name: p === 0.5 ? 'uniform' : `independent(${p})`,
    sample: (rng) => FEATURES.filter(() => rng.next() < p),
  };
}

/** Samples whole feature sets by the frequencies in a feature_combinations.json file ({combinations: [{features, probability}]}). */
export function featureDistributionFromFile(path: string): FeatureDistribution {
  let raw: { combinations?: Array<{ features: string[]; probability: number }> };
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: cannot read feature combinations (${(e as Error).message})`);
  }
  const combos = raw.combinations;
  if (!Array.isArray(combos) || combos.length === 0) throw new UserError(`${path}: expected {"combinations": [{"features": [...], "probability": p}, ...]}`);
  const sets: Feature[][] = [];
  const cum: number[] = [];
  let total = 0;
  for (const [i, c] of combos.entries()) {
    if (!Array.isArray(c.features) || typeof c.probability !== 'number' || c.probability < 0) {
      throw new UserError(`${path}: combinations[${i}] needs "features" (array) and "probability" (number >= 0)`);
    }
    for (const f of c.features) if (!(FEATURES as readonly string[]).includes(f)) throw new UserError(`${path}: combinations[${i}]: unknown feature "${f}" (expected one of ${FEATURES.join(', ')})`);
    total += c.probability;
    sets.push(canonicalFeatures(c.features));
    cum.push(total);
  }
  return {
    name: `file:${path}`,
    sample(rng) {
      const u = rng.next() * total;
      let lo = 0;
      let hi = cum.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      return sets[lo]!.slice();
    },
  };
}
