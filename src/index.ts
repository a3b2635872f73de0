/**
 * nfsight as a library: `analyze(files)` yields the report object that the
 * CLI prints.
 */
export { analyze, type AnalyzeOptions } from './analyze.js';
export type { Report } from './report/model.js';
export { REPORT_SCHEMA_VERSION } from './report/model.js';
export { DEFAULT_MAX_MEMORY, type DroppedCounts, type MemoryReport } from './memory/budget.js';
export type { Diagnostic } from './capture/frame.js';
export { formatDiagnostic } from './capture/frame.js';
export { renderReportText } from './report/render-text.js';
export { jsonChunks, writeJson } from './report/json-writer.js';
export { VERSION } from './version.js';
