// The dashboard API's response shapes, shared by the server (src/server/http.ts and the stores) and the pages
// (web/pages): plain types that import only other Node-free type modules (the eval, corpus-statistics and generation
// report shapes), so the browser bundle's typecheck (`tsc -p web`) uses the server's own definitions instead of
// redeclaring them.
import type { CorpusStats } from '../data/report-types.ts';
import type { GptEvalReport, MetricsReport } from '../eval/report-types.ts';
import type { RunReport } from '../synth/report-types.ts';

/** metrics.jsonl held as columns. `val*` columns hold the validation records only. */
export interface MetricColumns {
  step: number[];
  loss: number[];
  lr: number[];
  tokens: number[];
  wall_s: number[];
  tokens_per_s: number[];
  val_step: number[];
  val_loss: number[];
  /** Bits per byte of the validation text (NaN for runs logged before val_bpb existed). */
  val_bpb: number[];
  val_tokens: number[];
  val_wall_s: number[];
}

/** metrics columns as served: the last `max` rows (\`/api/metrics\`, each entry of \`/api/metrics-all\`). */
export type MetricsSlice = Partial<MetricColumns> & { rows?: number; generation?: number; id?: string; error?: string };

/** One row of the Runs table. */
export interface RunSummary {
  id: string;
  arch: string | null;
  params: number | null;
  dim: number | null;
  layers: number | null;
  step: number | null;
  totalSteps: number | null;
  tokens: number | null;
  bestValLoss: number | null;
  /** Bits per byte at the best validation loss in metrics.jsonl (null when not logged). */
  bestValBpb: number | null;
  lastLoss: number | null;
  tokensPerSecond: number | null;
  checkpoints: string[];
  hasBest: boolean;
  inspect: { attention: boolean; neurons: boolean };
  /** ms since epoch of the last metrics write. */
  updatedAt: number | null;
  /** Metrics written in the last 60 s and the run neither finished nor failed: probably training now. */
  live: boolean;
  /** Set when the run directory is unreadable or malformed (the row still shows). */
  error?: string;
}

/** \`/api/runs\` */
export interface RunsResponse {
  root: string;
  runs: RunSummary[];
}

/** \`/api/metrics-all\`: every run's metrics slice (or an error), by run id. */
export interface MetricsAllResponse {
  runs: Record<string, MetricsSlice>;
}

/** \`/api/run\`: one run's details. */
export interface RunDetailResponse {
  summary: RunSummary;
  config: Record<string, unknown> | null;
  trainConfig: Record<string, unknown> | null;
  trainerState: Record<string, unknown> | null;
  checkpoints: string[];
}

/** The stories written during training at one step. */
export interface SampleGroup {
  step: number;
  samples: Array<{ prompt: string; text: string }>;
}

/** \`/api/samples\` */
export interface SamplesResponse {
  id: string;
  checkpoints: SampleGroup[];
}

/** A run's token-shard manifest figures (what it was trained on). */
export interface DatasetSummary {
  run: string;
  source: string | null;
  vocabSize: number | null;
  complete: boolean;
  splits: Record<string, { shards: number; docs: number; tokens: number; bytes: number }>;
}

/** What a report.json under the runs directory is (server/reports.ts tells them apart). */
export type ReportKind = 'gpt-eval' | 'metrics' | 'generation';

/** One entry of \`/api/evals\`: an eval report.json as written, or why it could not be read. */
export type EvalEntry =
  | { id: string; kind: 'gpt-eval'; report: GptEvalReport; error?: undefined }
  | { id: string; kind: 'metrics'; report: MetricsReport; error?: undefined }
  | { id: string; kind: ReportKind; error: string; report?: undefined };

/** \`/api/evals\`: every eval report under the runs directory. */
export interface EvalsResponse {
  reports: EvalEntry[];
}

/**
 * A generation run's report.json as served: `tinystories generate`'s RunReport, read as possibly partial because
 * report.json files written by older versions lack some fields.
 */
export type GenerationReport = Partial<RunReport>;

/** One generation run of \`/api/data\`: its report, or why it could not be read. */
export type GenerationEntry = { id: string; report: GenerationReport; error?: undefined } | { id: string; error: string; report?: undefined };

/** `/api/data`: generation reports (their report.json as written by `tinystories generate`) and the runs' datasets. */
export interface DataResponse {
  generations: GenerationEntry[];
  datasets: DatasetSummary[];
}

/** \`/api/data/stats\`: corpus statistics of a generation run's stories file. */
export interface DataStatsResponse {
  id: string;
  stats: CorpusStats;
}
