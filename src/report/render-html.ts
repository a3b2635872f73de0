/**
 * The report as one self-contained HTML page (`report --format html`,
 * `findings --format html`): the verdict and findings with their evidence
 * frames and episodes on the time axis, ops/s, throughput and latency
 * percentiles over time with errors and TCP events marked, latency
 * histograms per operation, sortable tables and the capture facts.
 *
 * Self-contained: no request leaves the page (a Content-Security-Policy
 * forbids any), the chart library (uPlot, MIT) and the page's script are
 * inlined. The renderer never recomputes a figure: it receives the report
 * and hands the page a view of it, re-laid as columns for the charts (the
 * per-interval histograms, which only merging needs, are left out, so the
 * page stays small whatever the capture's size). The page's script is
 * `pageMain` (render-html-page.ts), serialised into the page.
 */
import { notListedTotals } from '../detectors/findings-cap.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bucketValue } from '../analysis/histogram.js';
import { isOther, operationLabel, otherLabel } from '../analysis/operation-cap.js';
import type { Report, TimelineSection } from './model.js';
import { pageMain, type PageData, type PageTimeline } from './render-html-page.js';
import { notReportedText } from './render-findings.js';

export interface HtmlOptions {
  /** Only the verdict, findings and their episodes (`nfsight findings --format html`). */
  findingsOnly?: boolean;
}

/** Operations whose latency histogram is drawn (the most called). */
const HISTOGRAMS = 12;
/**
 * Bounds that keep the page small and quick to open whatever the capture
 * (a capture with thousands of findings or table rows): the findings shown
 * whole (explanation, evidence, metrics; their episodes drawn), then the
 * rest one line each up to FINDINGS_LISTED, and the verdict's first
 * problems. What is left out is counted on the page, which points to
 * `nfsight findings` for all of it.
 */
export const FINDINGS_DETAILED = 40;
export const FINDINGS_LISTED = 2000;
export const VERDICT_PROBLEMS = 20;
/** Queue-pair connections listed (the report keeps up to 10,000). */
export const RDMA_CONNECTIONS = 2000;

let uplot: { js: string; css: string } | undefined;
/** uPlot's minified build and stylesheet, read once from its package. */
function uplotSources(): { js: string; css: string } {
  if (uplot === undefined) {
    const require = createRequire(import.meta.url);
    uplot = {
      js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  }
  return uplot;
}

/** The time series as columns over every interval from the first to the last (absent intervals as zeros / null). */
function timelineColumns(t: TimelineSection): PageTimeline {
  const n = t.count;
  const zeros = (): number[] => new Array<number>(n).fill(0);
  const nulls = (): (number | null)[] => new Array<number | null>(n).fill(null);
  const sec = t.intervalSeconds;
  const start = t.start ?? 0;
  const times = Array.from({ length: n }, (_, k) => Number((start + k * sec).toFixed(6)));
  const cols = {
    calls: zeros(),
    answered: zeros(),
    errors: zeros(),
    unanswered: zeros(),
    readBytes: zeros(),
    writeBytes: zeros(),
    frames: zeros(),
    p50: nulls(),
    p99: nulls(),
  };
  const tcpKinds = ['retransmission', 'zero-window', 'gap', 'rst'];
  const tcp: Record<string, number[]> = Object.fromEntries(tcpKinds.map((k) => [k, zeros()]));
  const ops = new Map(t.operations.map((s) => [s.key, { byInterval: { calls: zeros(), errors: zeros() }, p50: nulls(), p99: nulls() }]));
  for (const iv of t.intervals) {
    const k = iv.index;
    cols.calls[k] = iv.calls;
    cols.answered[k] = iv.answered;
    cols.errors[k] = iv.errors;
    cols.unanswered[k] = iv.unanswered;
    cols.readBytes[k] = iv.readBytes;
    cols.writeBytes[k] = iv.writeBytes;
    cols.frames[k] = iv.frames;
    cols.p50[k] = iv.latency.p50;
    cols.p99[k] = iv.latency.p99;
    for (const kind of tcpKinds) tcp[kind]![k] = iv.tcp[kind] ?? 0;
    for (const o of iv.ops) {
      const c = ops.get(o.op);
      if (c === undefined) continue;
      c.byInterval.calls[k] = o.calls;
      c.byInterval.errors[k] = o.errors;
      c.p50[k] = o.latency.p50;
      c.p99[k] = o.latency.p99;
    }
  }
  return {
    intervalSeconds: sec,
    auto: t.auto,
    start: t.start,
    count: n,
    times,
    ...cols,
    tcp,
    operations: t.operations.map((s) => ({ ...s, ...(isOther(s) ? { name: otherLabel('series') } : {}), ...ops.get(s.key)! })),
    // The episodes of the findings shown whole.
    episodes: t.episodes.filter((e) => e.finding < FINDINGS_DETAILED),
  };
}

/** The view of the report the page draws: every figure as the report has it. */
export function pageData(report: Report, options: HtmlOptions = {}): PageData {
  const withoutHistogram = <T extends { latency: { histogram: unknown } }>(r: T): T => {
    const { histogram: _omit, ...latency } = r.latency;
    return { ...r, latency: latency as T['latency'] };
  };
  // Procedures, and COMPOUNDs by their main op (a COMPOUND procedure row would repeat them together).
  const compounds = new Set(report.operations.filter((o) => o.kind === 'compound' && !isOther(o)).map((o) => `${o.program}/${o.version}/${o.procedure}`));
  const byCalls = report.operations
    .filter((o) => o.kind === 'compound' || (o.kind === 'procedure' && (isOther(o) || !compounds.has(`${o.program}/${o.version}/${o.procedure}`))))
    .sort((a, b) => b.calls - a.calls);
  const histograms = byCalls
    .filter((o) => o.latency.histogram.count > 0)
    .slice(0, HISTOGRAMS)
    .map((o) => ({
      name: operationLabel(o),
      count: o.latency.histogram.count,
      zeros: o.latency.histogram.zeros,
      // Each bucket at the latency it stands for, in ms.
      points: o.latency.histogram.buckets.map(([i, c]) => [Number((bucketValue(i) * 1000).toPrecision(6)), c] as [number, number]),
    }));
  const findingsOnly = options.findingsOnly ?? false;
  const listed = report.findings.slice(FINDINGS_DETAILED, FINDINGS_DETAILED + FINDINGS_LISTED);
  return {
    findingsOnly,
    tool: report.tool,
    verdict: { ...report.verdict, problems: report.verdict.problems.slice(0, VERDICT_PROBLEMS) },
    verdictProblems: report.verdict.problems.length,
    findings: report.findings.slice(0, FINDINGS_DETAILED),
    moreFindings: listed.map((f, k) => ({
      number: FINDINGS_DETAILED + k + 1,
      severity: f.severity,
      kind: f.kind,
      title: f.title,
      start: f.start,
      frame: f.evidence[0]?.frame ?? null,
    })),
    findingsTotal: report.findings.length,
    ...(report.findingsNotListed !== undefined ? { findingsNotListed: notListedTotals(report.findingsNotListed).findings } : {}),
    ...(report.notReported !== undefined ? { notReportedText: notReportedText(report.notReported) } : {}),
    capture: report.capture,
    skipped: report.skipped,
    diagnostics: report.diagnostics,
    // The unanswered calls and orphan replies are the findings' and `nfsight calls`' business.
    rpc: { calls: report.rpc.calls, replies: report.rpc.replies, unanswered: report.rpc.unanswered, truncatedMessages: report.rpc.truncatedMessages },
    tcp: { connections: report.tcp.connections, events: report.tcp.events },
    // The findings page draws the charts, not the tables.
    // The OTHER rows (operations beyond the cap) first, under their labels: the page shows a table's first 100 rows.
    operations: findingsOnly ? [] : [...report.operations.filter(isOther), ...report.operations.filter((o) => !isOther(o))].map((o) => withoutHistogram(isOther(o) ? { ...o, name: otherLabel(o.kind), programLabel: '-' } : o)),
    errors: findingsOnly ? [] : [...report.errors.filter(isOther).map((e) => ({ ...e, status: 'other errors', op: otherLabel('series'), programLabel: '-' })), ...report.errors.filter((e) => !isOther(e))],
    clients: findingsOnly ? [] : report.clients.rows.map(withoutHistogram),
    servers: findingsOnly ? [] : report.servers.rows.map(withoutHistogram),
    files: findingsOnly ? [] : report.files.rows.map(withoutHistogram),
    histograms: findingsOnly ? [] : histograms,
    rdma: findingsOnly || report.rdma.packets === 0 ? null : { ...report.rdma, connections: report.rdma.connections.slice(0, RDMA_CONNECTIONS) },
    timeline: timelineColumns(report.timeline),
  };
}

/** JSON safe inside a <script> element. */
function scriptJson(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const PAGE_CSS = `
:root { --fg:#1d232b; --muted:#5b6673; --line:#d8dee6; --bg:#fff; --soft:#f4f6f9; --err:#c62828; --warn:#d98200; --info:#1565c0; --ok:#2e7d32; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { padding: 16px 24px; background: #1d2733; color: #fff; }
header h1 { margin: 0; font-size: 20px; }
header .sub { color: #b7c3d0; font-size: 13px; }
main { padding: 8px 24px 40px; max-width: 1280px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.verdict { padding: 12px 16px; border-radius: 6px; background: var(--soft); border-left: 6px solid var(--ok); }
.verdict.problems { border-left-color: var(--err); }
.verdict.not-judged { border-left-color: var(--warn); }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff; font-size: 12px; font-weight: 600; text-transform: uppercase; }
.badge.error { background: var(--err); } .badge.warning { background: var(--warn); } .badge.info { background: var(--info); }
.finding { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
.finding h3 { margin: 0 0 4px; }
.finding p { margin: 4px 0; white-space: pre-wrap; }
.meta { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: var(--soft); }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " ▲"; }
table.sortable th[aria-sort="descending"]::after { content: " ▼"; }
.chart { margin: 8px 0 16px; }
.charts-grid { display: flex; flex-wrap: wrap; gap: 12px; }
.legend-note { color: var(--muted); font-size: 12px; }
svg.episodes text { font-size: 11px; fill: var(--fg); }
.scroll { max-height: 480px; overflow: auto; display: inline-block; }
button.more { margin: 0 0 12px; font: inherit; font-size: 13px; padding: 2px 10px; cursor: pointer; }
`;

/** The whole page. */
export function renderReportHtml(report: Report, options: HtmlOptions = {}): string {
  const { js, css } = uplotSources();
  const data = pageData(report, options);
  const files = report.capture.files.map((f) => f.name).join(', ');
  const title = `nfsight ${options.findingsOnly ? 'findings' : 'report'}: ${files}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nfsight ${escapeHtml(report.tool.version)}">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><div class="sub" id="subtitle"></div></header>
<main id="main"></main>
<script id="nfsight-data" type="application/json">${scriptJson(data)}</script>
<script>${js}</script>
<script>(${pageMain.toString()})(JSON.parse(document.getElementById('nfsight-data').textContent), uPlot);</script>
</body>
</html>
`;
}
