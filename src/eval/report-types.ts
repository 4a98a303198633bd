// The report.json shapes of `eval gpt` and `eval metrics` (and their configs), with no Node imports: the writers
// (gpt-eval.ts, metrics.ts and the modules they use) and the dashboard pages (web/pages/evals.ts) share these.
import type { BackendKind } from '../engine/backend.ts';
import type { ProviderName, Usage } from '../llm/types.ts';
import type { EmergencePoint, ModelScores } from './aggregate.ts';
import type { Dimension, Grades } from './grades.ts';
import type { Summary } from './stats.ts';

/** How completions are sampled. The paper: 10 per beginning at temperature 1. */
export interface SamplingConfig {
  completions: number;
  temperature: number;
  topK: number;
  topP: number;
  maxTokens: number;
  seed: number;
}

/** The judge: which API, which model, how to call it. */
export interface JudgeConfig {
  provider: ProviderName;
  baseURL?: string;
  model: string;
  temperature: number;
  /** Structured-output mode: ask turn 2 for JSON. */
  json: boolean;
  concurrency: number;
  rpm?: number;
  tpm?: number;
  /** Transport retries per call (scheduler). */
  maxRetries: number;
  /** Extra turn-2 tries after unreadable grades. */
  parseRetries: number;
  timeoutMs: number;
  /** Judge-call cache file; default defaultJudgeCachePath(out). */
  cache?: string;
  /** Price table overrides file (USD per 1M tokens). */
  pricesFile?: string;
}

export interface GptEvalConfig {
  runs: string[];
  /** Also evaluate every checkpoint of each run (score vs training step). */
  checkpoints: boolean;
  /** A beginnings file (YAML/JSON), an hf: spec, or builtin:paper-beginnings (the default: the paper's 44, shipped). */
  beginnings: string;
  /** Use only the first n beginnings (quick runs); null = all. */
  limit: number | null;
  sampling: SamplingConfig;
  judge: JudgeConfig;
  backend: BackendKind;
  threads: number;
  out: string;
}

/** Per-model section of report.json. */
export interface GptModelReport {
  id: string;
  path: string;
  run: string;
  step: number | null;
  params: number;
  arch: string;
  weightsSha256: string;
  completions: number;
  completionsReused: boolean;
  generationTokensPerSecond: number;
  meanCompletionTokens: number;
  cutAtMaxTokens: number;
  results: ModelScores;
  judgeUsage: Usage;
  judgeCalls: number;
  judgeCachedCalls: number;
  judgeCostUsd: number | null;
  /** A few graded completions (the first of the first beginnings) to read beside the numbers. */
  examples: Array<{ beginning: number; completion: string; grades: Grades; answer: string }>;
}

export interface GptEvalReport {
  kind: 'tinystories-gpt-eval';
  version: 1;
  created: string;
  config: Omit<GptEvalConfig, 'out'> & { out: string };
  beginnings: { source: string; count: number; sha256: string; texts: string[] };
  judge: { provider: string; baseURL: string | null; model: string; reportedModels: string[]; temperature: number; json: boolean; turn1: string; turn2: string };
  seeds: { sampling: number; bootstrap: number; note: string };
  ci: string;
  cache: { path: string; hits: number; misses: number };
  /** The compute backend that generated the completions. */
  backend: string;
  models: GptModelReport[];
  emergence: {
    byParams: Record<Dimension | 'overall', EmergencePoint[]>;
    bySteps: Array<{ run: string; series: Record<Dimension | 'overall', EmergencePoint[]> }>;
  };
  /** Where each completion's judgment is listed. */
  files: { judgments: string; completions: string };
}

/** Loss and guess-rank figures over a token stream. */
export interface LmMetrics {
  /** Predicted positions. */
  tokens: number;
  /** Mean cross-entropy in nats per token. */
  loss: number;
  perplexity: number;
  bitsPerToken: number;
  /** UTF-8 bytes of the predicted tokens' text (null when no byte table was given). */
  bytes: number | null;
  /** Bits per byte of that text (see src/train/bpb.ts): the loss that compares across tokenizers. */
  bitsPerByte: number | null;
  rank: {
    /** Mean number of guesses (rank 1 = the model's top choice was right). */
    mean: number;
    median: number;
    p90: number;
    /** Share of positions with rank 1, ≤ 5, ≤ 10. */
    top1: number;
    top5: number;
    top10: number;
    /** Mean of log2(rank): less dominated by the long tail than the mean. */
    meanLog2: number;
    /** Counts per bucket of rankBucketLabels(V). */
    histogram: { labels: string[]; counts: number[] };
  };
  /** Positions scored per second (forward pass included). */
  tokensPerSecond: number;
  window: number;
}

/** Vocabulary adherence of a set of texts. */
export interface VocabAdherence {
  /** Words counted (names — words only ever written capitalised in a text — are left out). */
  words: number;
  /** Out-of-vocabulary words / counted words, pooled. */
  oovShare: number;
  /** Per-text OOV share. */
  perText: Summary;
  /** Most frequent OOV words. */
  topOov: Array<{ word: string; count: number }>;
}

export interface NgramIndexOptions {
  /** n-gram length used for retrieval (default 4). */
  n?: number;
  /** Keep n-grams whose hash ≡ 0 mod sample (default 4; 1 = all). */
  sample?: number;
  /** Drop the posting list of n-grams found in more stories than this (default 20000). */
  maxPostings?: number;
}

export interface MetricsConfig {
  runs: string[];
  checkpoints: boolean;
  /** Held-out stories (any readDocuments source). */
  data: string;
  /** Training stories for the memorization check; null = skip it. */
  train: string | null;
  /** Use at most this many held-out stories (null = all). */
  maxDocs: number | null;
  /** Score at most this many tokens per model (null = all). */
  maxTokens: number | null;
  /** Context window for loss/rank (null = the context each model was trained at, else its maximum positions). */
  window: number | null;
  batch: number;
  /** Generate completions for distinct-n, vocabulary and memorization. */
  generate: boolean;
  /** Prompts: a beginnings file, or null = the first sentence of each of the first `samples` held-out stories. */
  beginnings: string | null;
  samples: number;
  sampling: { temperature: number; topK: number; topP: number; maxTokens: number; seed: number };
  /** Extra child-vocabulary words, one per line (added to the built-in lists). */
  vocabFile: string | null;
  index: Required<NgramIndexOptions>;
  /** Candidate stories per completion for exact Rouge. */
  candidates: number;
  backend: BackendKind;
  threads: number;
  out: string;
}

/** Memorization figures of a set of texts. */
export interface MemorizationSummary {
  completions: number;
  rouge: Record<2 | 3 | 4, { mean: number; median: number; p95: number; max: number }>;
  /** Share of completions with Rouge-4 precision above 0.5. */
  over05: number;
  histogram: { labels: string[]; counts: Record<2 | 3 | 4, number[]> };
  /** The completions closest to a training story (highest Rouge-4). */
  worst: Array<{ index: number; completion: string; story: string; storyId: number; rouge2: number; rouge3: number; rouge4: number }>;
}

export interface GenerationMetrics {
  completions: number;
  distinct: Record<1 | 2 | 3, number>;
  vocab: VocabAdherence;
}

/** Which window a model was scored with, and why. */
export interface ScoringWindow {
  /** Tokens of context per scored window. */
  used: number;
  /** 'flag' = --window; 'trained' = the run's training context; 'max-positions' = the model maximum (no train config). */
  source: 'flag' | 'trained' | 'max-positions';
  /** The context it was trained at, when known. */
  trainedContext: number | null;
  /** Set when the window is longer than the trained context (positions past it were never trained). */
  warning: string | null;
}

export interface MetricsModelReport {
  id: string;
  path: string;
  weightsSha256: string;
  step: number | null;
  params: number;
  /** The scoring window and why it was chosen. */
  window: ScoringWindow;
  lm: LmMetrics;
  generation: GenerationMetrics | null;
  memorization: MemorizationSummary | null;
}

export interface MetricsReport {
  kind: 'tinystories-metrics';
  version: 1;
  created: string;
  config: MetricsConfig;
  data: { source: string; documents: number };
  models: MetricsModelReport[];
  /** The same text metrics on held-out stories (what real stories score). */
  reference: { texts: number; distinct: Record<1 | 2 | 3, number>; vocab: VocabAdherence; memorization: MemorizationSummary | null } | null;
  memorizationIndex: { docs: number; n: number; sample: number; maxPostings: number; bytes: number; buildSeconds: number; cached: boolean; path: string } | null;
  /** The compute backend that ran the models. */
  backend: string;
}
