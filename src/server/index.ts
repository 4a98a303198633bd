// The dashboard server's public surface.
export { startServer, DEFAULT_WEB_DIR, type ServerOptions, type RunningServer } from './http.ts';
export { runPath, isInside, HttpError } from './paths.ts';
export { RunStore, MetricsTail, discoverRuns, sliceColumns, type RunSummary, type MetricColumns } from './runs.ts';
export { discoverReports, reportKind, type ReportKind } from './reports.ts';
