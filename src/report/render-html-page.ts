/**
 * The script of the HTML report, run in the browser: `pageMain` is
 * serialised into the page (Function.prototype.toString), so it must hold
 * everything it uses (no imports, no helpers outside it). It builds the
 * page from the data render-html.ts gives it, formatting figures but never
 * computing new ones: every number shown is a number of the report.
 */
import type { Finding } from '../detectors/finding.js';
import type { Verdict } from '../detectors/verdict.js';
import type { CaptureSection, ErrorRow, SkippedSection, TimelineEpisode, TimelineSeries } from './model.js';
import type { DiagnosticSummary } from '../capture/diagnostics.js';
import type { RdmaSection } from '../analysis/rdma-summary.js';

export interface PageTimeline {
  intervalSeconds: number;
  auto: boolean;
  start: number | null;
  count: number;
  /** Start of every interval, seconds since the epoch. */
  times: number[];
  calls: number[];
  answered: number[];
  errors: number[];
  unanswered: number[];
  readBytes: number[];
  writeBytes: number[];
  frames: number[];
  /** Every operation together, ms. */
  p50: (number | null)[];
  p99: (number | null)[];
  /** TCP events per interval by kind. */
  tcp: Record<string, number[]>;
  /** Each operation's totals (TimelineSeries), and per interval its p50 and p99 (ms) and its calls and errors. */
  operations: (TimelineSeries & { byInterval: { calls: number[]; errors: number[] }; p50: (number | null)[]; p99: (number | null)[] })[];
  episodes: TimelineEpisode[];
}

type Row = Record<string, unknown>;

/** A finding beyond those shown whole: one line. */
export interface FindingLine {
  /** Its number in the report's findings, from 1. */
  number: number;
  severity: string;
  kind: string;
  title: string;
  start: string;
  /** Its first evidence frame. */
  frame: number | null;
}

export interface PageData {
  findingsOnly: boolean;
  tool: { name: string; version: string };
  /** The verdict, its problems cut to the first VERDICT_PROBLEMS. */
  verdict: Verdict;
  /** How many problems the verdict has. */
  verdictProblems: number;
  /** The first FINDINGS_DETAILED findings, whole. */
  findings: Finding[];
  /** The next ones (up to FINDINGS_LISTED), one line each. */
  moreFindings: FindingLine[];
  /** How many findings the report has. */
  findingsTotal: number;
  /** Findings beyond the cap of their kind: counted, not in the report. */
  findingsNotListed?: number;
  /** What the detectors' bounds left out of the findings, as a sentence. */
  notReportedText?: string;
  capture: CaptureSection;
  skipped: SkippedSection;
  diagnostics: DiagnosticSummary;
  rpc: Row;
  tcp: Row;
  /** The report's rows without their histograms (none on the findings page). */
  operations: object[];
  errors: ErrorRow[];
  clients: object[];
  servers: object[];
  files: object[];
  /** Per operation: its latency histogram's buckets at the latency each stands for (ms) and their counts. */
  histograms: { name: string; count: number; zeros: number; points: [number, number][] }[];
  /** NFS over RDMA, when the capture has RoCE (its connections cut to the first RDMA_CONNECTIONS); null on the findings page. */
  rdma: RdmaSection | null;
  timeline: PageTimeline;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export function pageMain(data: PageData, uPlot: any): void {
  const main = document.getElementById('main')!;
  const el = (tag: string, attrs: Record<string, string> = {}, ...children: (Node | string | null)[]): HTMLElement => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    for (const c of children) if (c !== null) e.append(c);
    return e;
  };
  const section = (id: string, title: string): HTMLElement => {
    const s = el('section', { id });
    s.append(el('h2', {}, title));
    main.append(s);
    return s;
  };
  const iso = (seconds: number): string => new Date(Math.round(seconds * 1000)).toISOString();
  const fmt = (v: unknown): string => (v === null || v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v));
  const sevColor: Record<string, string> = { error: '#c62828', warning: '#d98200', info: '#1565c0' };
  const t = data.timeline;
  // Read once, before the page grows: each read of a layout figure lays the whole page out again.
  const pageWidth = Math.max(480, Math.min(1220, document.documentElement.clientWidth - 60));
  const chartWidth = (): number => pageWidth;

  // ---- sortable tables ------------------------------------------------------
  interface Col {
    key: string;
    head: string;
    num?: boolean;
    get?: (r: any) => unknown;
  }
  /** Rows put in the page at first; a button adds the rest (thousands of rows would slow the page's opening). */
  const TABLE_ROWS = 100;
  const table = (cols: Col[], rows: any[], id: string): HTMLElement => {
    const tbl = el('table', { class: 'sortable', id });
    const thead = el('thead');
    const tr = el('tr');
    cols.forEach((c, i) => {
      const th = el('th', c.num ? { class: 'n', 'data-col': c.key } : { 'data-col': c.key }, c.head);
      th.addEventListener('click', () => sortBy(i));
      tr.append(th);
    });
    thead.append(tr);
    const tbody = el('tbody');
    tbl.append(thead, tbody);
    const value = (r: any, c: Col): unknown => (c.get ? c.get(r) : r[c.key]);
    const rowEl = (r: any): HTMLElement => {
      const row = el('tr');
      for (const c of cols) {
        const v = value(r, c);
        const td = el('td', c.num ? { class: 'n', 'data-col': c.key } : { 'data-col': c.key }, fmt(v));
        if (typeof v === 'number') td.dataset['v'] = String(v);
        row.append(td);
      }
      return row;
    };
    let order = rows;
    let shown = Math.min(rows.length, TABLE_ROWS);
    const more = el('button', { type: 'button', class: 'more', id: `${id}-more` });
    more.addEventListener('click', () => {
      shown = order.length;
      draw();
    });
    function draw(): void {
      tbody.replaceChildren(...order.slice(0, shown).map(rowEl));
      more.hidden = shown >= order.length;
      more.textContent = `Show all ${order.length} rows (${order.length - shown} more)`;
    }
    draw();
    let sorted = -1;
    let asc = true;
    function sortBy(i: number): void {
      asc = sorted === i ? !asc : !cols[i]!.num;
      sorted = i;
      const c = cols[i]!;
      // Numbers by value, anything else by its text, as the cells show it.
      const key = (r: any): string | number => {
        const v = value(r, c);
        return typeof v === 'number' ? v : fmt(v);
      };
      order = [...order].sort((a, b) => {
        const x = key(a);
        const y = key(b);
        const d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return asc ? d : -d;
      });
      draw();
      tbl.querySelectorAll('th').forEach((th, k) => {
        if (k === i) th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        else th.removeAttribute('aria-sort');
      });
    }
    return el('div', {}, el('div', { class: 'scroll' }, tbl), more);
  };
  const keyValues = (rows: [string, unknown][], id: string): HTMLElement =>
    el('table', { id }, el('tbody', {}, ...rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', { 'data-key': k }, fmt(v))))));

  // ---- header and verdict -----------------------------------------------------
  const c = data.capture;
  document.getElementById('subtitle')!.textContent =
    `${c.first ? `${c.first.time} to ${c.last?.time ?? ''}` : 'no frames'} · ${c.frames} frames · ${c.durationSeconds} s · nfsight ${data.tool.version}`;
  const v = data.verdict;
  const verdict = section('verdict', 'Verdict');
  const vbox = el('div', { class: `verdict ${v.status}`, id: 'verdict-box' }, el('strong', {}, v.summary));
  if (v.problems.length > 0) {
    vbox.append(
      el(
        'ol',
        {},
        ...v.problems.map((p) =>
          el('li', {}, el('span', { class: `badge ${p.severity}` }, p.severity), ' ', p.text, el('span', { class: 'meta' }, ` — frames ${p.frames.map((f) => f.frame).join(', ')}`)),
        ),
      ),
    );
  }
  if (data.verdictProblems > v.problems.length) {
    vbox.append(el('p', { class: 'meta', id: 'verdict-more' }, `… and ${data.verdictProblems - v.problems.length} more problems: see the findings below (all of them: nfsight findings).`));
  }
  if ((v.problemsNotListed ?? 0) > 0) {
    vbox.append(el('p', { class: 'meta', id: 'verdict-not-listed' }, `… and ${v.problemsNotListed} more problems counted but not listed: each kind of finding lists its worst (the library option findingsMaxPerKind).`));
  }
  if (v.notJudged.length > 0) vbox.append(el('p', {}, 'Not judged: ', v.notJudged.join(' ')));
  verdict.append(vbox);

  // ---- the time axis: charts share it, episodes are drawn on it -------------
  const x0 = t.start ?? 0;
  const x1 = x0 + t.count * t.intervalSeconds;
  /** Ticks at the bottom of a chart where errors and TCP events happened; findings' spans shaded. */
  const marksPlugin = () => ({
    hooks: {
      drawClear: [
        (u: any) => {
          const ctx = u.ctx as CanvasRenderingContext2D;
          ctx.save();
          for (const e of t.episodes) {
            const a = u.valToPos(e.start, 'x', true);
            const b = Math.max(a + 2, u.valToPos(e.end, 'x', true));
            ctx.fillStyle = (sevColor[e.severity] ?? '#888') + '22';
            ctx.fillRect(a, u.bbox.top, b - a, u.bbox.height);
          }
          ctx.restore();
        },
      ],
      draw: [
        (u: any) => {
          const ctx = u.ctx as CanvasRenderingContext2D;
          const dpr = window.devicePixelRatio || 1;
          const bottom = u.bbox.top + u.bbox.height;
          ctx.save();
          const tick = (k: number, color: string, row: number): void => {
            const xa = u.valToPos(t.times[k]!, 'x', true);
            const xb = u.valToPos(t.times[k]! + t.intervalSeconds, 'x', true);
            ctx.fillStyle = color;
            ctx.fillRect(xa, bottom - (row + 1) * 5 * dpr, Math.max(2 * dpr, xb - xa), 4 * dpr);
          };
          for (let k = 0; k < t.count; k++) {
            if (t.errors[k]! > 0) tick(k, '#c62828', 0);
            const tcp = (t.tcp['retransmission']?.[k] ?? 0) + (t.tcp['zero-window']?.[k] ?? 0) + (t.tcp['gap']?.[k] ?? 0);
            if (tcp > 0) tick(k, '#ef6c00', 1);
          }
          ctx.restore();
        },
      ],
    },
  });
  /** An axis value in at most 3 significant digits. */
  const num = (x: number | null): string => (x === null ? '' : x === 0 ? '0' : Math.abs(x) >= 1000 ? x.toFixed(0) : String(Number(x.toPrecision(3))));
  const utc = (ts: number): Date => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');
  const palette = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f', '#ad1457', '#4e342e', '#558b2f', '#283593'];
  const timeChart = (
    into: HTMLElement,
    id: string,
    title: string,
    yLabel: string,
    series: { label: string; values: (number | null)[]; color: string; dash?: number[]; bars?: boolean }[],
    log = false,
  ): void => {
    const box = el('div', { class: 'chart', id });
    into.append(box);
    const opts = {
      title,
      width: chartWidth(),
      height: 230,
      tzDate: utc,
      scales: {
        x: { time: true, range: (): [number, number] => [x0, x1] },
        y: log ? { distr: 3 } : { range: (_u: unknown, _min: number, max: number): [number, number] => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [{}, { label: yLabel, size: 70, values: (_u: unknown, splits: (number | null)[]) => splits.map(num) }],
      series: [
        { label: 'time (UTC)' },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          ...(s.dash ? { dash: s.dash } : {}),
          ...(s.bars ? { fill: s.color + '55', paths: uPlot.paths.stepped({ align: 1 }) } : {}),
          spanGaps: false,
          // Latency exists only where replies were: points, so that a lone interval shows.
          points: { show: log || t.count <= 60, size: 5 },
        })),
      ],
      plugins: [marksPlugin()],
    };
    new uPlot(opts, [t.times, ...series.map((s) => s.values)], box);
  };

  // ---- findings ---------------------------------------------------------------
  const findings = section('findings', (data.findingsNotListed ?? 0) > 0 ? `Findings (${data.findingsTotal} listed, ${data.findingsNotListed} more counted)` : `Findings (${data.findingsTotal})`);
  if (data.findingsTotal === 0) findings.append(el('p', {}, 'No finding.'));
  if (data.notReportedText !== undefined) findings.append(el('p', { class: 'meta', id: 'findings-not-reported' }, data.notReportedText));
  if (data.findingsTotal > data.findings.length) {
    findings.append(
      el('p', { class: 'meta' }, `The first ${data.findings.length} in full and on the time axis; the next ${data.moreFindings.length} one line each, below them${data.findingsTotal > data.findings.length + data.moreFindings.length ? `; ${data.findingsTotal - data.findings.length - data.moreFindings.length} more not in this page` : ''}. All of them: nfsight findings.`),
    );
  }
  if (t.episodes.length > 0 && t.count > 0) findings.append(episodesSvg());
  data.findings.forEach((f, i) => {
    const box = el('div', { class: 'finding', id: `finding-${i}` });
    box.append(el('h3', {}, el('span', { class: `badge ${f.severity}` }, f.severity), ` ${i + 1}. `, f.title));
    const who = [f.client && `client ${f.client}`, f.server && `server ${f.server}`, f.file && `file ${f.file}`, f.sessionid && `session ${f.sessionid}`, f.clientid && `clientid ${f.clientid}`].filter(Boolean).join(' · ');
    box.append(el('div', { class: 'meta' }, `${f.kind} · ${f.start} to ${f.end} (${f.durationSeconds} s) · ${f.count} occurrence(s)${who ? ` · ${who}` : ''}${f.confidence && f.confidence !== 'high' ? ` · confidence ${f.confidence}` : ''}`));
    box.append(el('p', { class: 'explanation' }, f.explanation));
    if (f.caveat) box.append(el('p', { class: 'meta' }, `Caveat: ${f.caveat}`));
    box.append(
      table(
        [
          { key: 'file', head: 'file' },
          { key: 'frame', head: 'frame', num: true },
          { key: 'time', head: 'time (UTC)' },
          { key: 'what', head: 'what it shows' },
        ],
        f.evidence,
        `evidence-${i}`,
      ),
    );
    const metrics = Object.entries(f.metrics);
    if (metrics.length > 0) box.append(el('details', {}, el('summary', {}, 'metrics'), keyValues(metrics, `metrics-${i}`)));
    findings.append(box);
  });
  if (data.moreFindings.length > 0) {
    findings.append(el('h3', {}, `Findings ${data.findings.length + 1} to ${data.findings.length + data.moreFindings.length}`));
    findings.append(
      table(
        [
          { key: 'number', head: '#', num: true },
          { key: 'severity', head: 'severity' },
          { key: 'kind', head: 'kind' },
          { key: 'title', head: 'finding' },
          { key: 'start', head: 'from (UTC)' },
          { key: 'frame', head: 'first frame', num: true },
        ],
        data.moreFindings,
        'table-more-findings',
      ),
    );
  }

  /** Each finding a lane on the capture's time axis: its span as a bar, its evidence frames as dots. */
  function episodesSvg(): Element {
    const ns = 'http://www.w3.org/2000/svg';
    const W = chartWidth();
    const left = 40;
    const lane = t.episodes.length > 12 ? 16 : 24;
    const H = 30 + lane * t.episodes.length;
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'episodes');
    svg.setAttribute('id', 'episodes');
    svg.setAttribute('width', String(W));
    svg.setAttribute('height', String(H));
    const X = (s: number): number => left + ((s - x0) / Math.max(1e-9, x1 - x0)) * (W - left - 10);
    const add = (tag: string, attrs: Record<string, string | number>, text?: string): Element => {
      const e = document.createElementNS(ns, tag);
      for (const [k, val] of Object.entries(attrs)) e.setAttribute(k, String(val));
      if (text !== undefined) e.textContent = text;
      svg.append(e);
      return e;
    };
    add('line', { x1: left, x2: W - 10, y1: H - 22, y2: H - 22, stroke: '#999' });
    for (let k = 0; k <= 6; k++) {
      const s = x0 + ((x1 - x0) * k) / 6;
      add('line', { x1: X(s), x2: X(s), y1: 4, y2: H - 18, stroke: '#e3e7ec' });
      add('text', { x: X(s), y: H - 6, 'text-anchor': k === 0 ? 'start' : k === 6 ? 'end' : 'middle' }, iso(s).slice(11, 23));
    }
    t.episodes.forEach((e, i) => {
      const y = 14 + i * lane;
      const color = sevColor[e.severity] ?? '#666';
      add('text', { x: 4, y: y + 4 }, `${e.finding + 1}.`);
      const a = X(e.start);
      add('rect', { x: a, y: y - 4, width: Math.max(3, X(e.end) - a), height: 8, fill: color, opacity: 0.35 });
      for (const m of e.marks) {
        const dot = add('circle', { cx: X(m.seconds), cy: y, r: 4, fill: color, 'data-frame': m.frame });
        const tip = document.createElementNS(ns, 'title');
        tip.textContent = `${iso(m.seconds)} frame ${m.frame}: ${m.what}`;
        dot.append(tip);
      }
    });
    const box = el('div', { class: 'chart' }, el('h3', {}, 'Episodes on the time axis'));
    box.append(svg, el('div', { class: 'legend-note' }, 'Each finding: its span (bar) and its evidence frames (dots; hover for the frame and what it shows).'));
    return box;
  }

  // ---- over time ----------------------------------------------------------------
  if (t.count > 0) {
    const over = section('over-time', 'Over time');
    over.append(
      el(
        'p',
        { class: 'legend-note' },
        `${t.count} intervals of ${t.intervalSeconds} s${t.auto ? ' (chosen for the capture)' : ''}. Calls count at the call frame; answers, errors and latency at the reply frame. ` +
          'Marks at the bottom of each chart: red where replies were errors, orange where TCP retransmitted, closed a window or lost bytes; shaded: the findings’ spans.',
      ),
    );
    const perSecond = (xs: number[], scale = 1): number[] => xs.map((x) => x / t.intervalSeconds / scale);
    timeChart(over, 'chart-ops', 'Calls per second', 'ops/s', [
      { label: 'calls/s', values: perSecond(t.calls), color: '#1565c0' },
      { label: 'errors/s', values: perSecond(t.errors), color: '#c62828' },
      { label: 'unanswered/s', values: perSecond(t.unanswered), color: '#6a1b9a', dash: [4, 3] },
    ]);
    timeChart(over, 'chart-throughput', 'Throughput (NFS data)', 'MB/s', [
      { label: 'read MB/s', values: perSecond(t.readBytes, 1e6), color: '#2e7d32' },
      { label: 'write MB/s', values: perSecond(t.writeBytes, 1e6), color: '#ef6c00' },
    ]);
    const top = t.operations.filter((o) => o.calls > 0).slice(0, 6);
    timeChart(
      over,
      'chart-latency',
      'Latency per operation (p99 solid, p50 dashed; ms, log scale)',
      'ms',
      top.flatMap((o, i) => [
        { label: `${o.name} p99`, values: o.p99, color: palette[i % palette.length]! },
        { label: `${o.name} p50`, values: o.p50, color: palette[i % palette.length]!, dash: [5, 4] },
      ]),
      true,
    );
    timeChart(over, 'chart-tcp', 'TCP events per interval', 'events', [
      { label: 'retransmissions', values: t.tcp['retransmission'] ?? [], color: '#ef6c00', bars: true },
      { label: 'zero windows', values: t.tcp['zero-window'] ?? [], color: '#6a1b9a', bars: true },
      { label: 'gaps (bytes lost by the capture)', values: t.tcp['gap'] ?? [], color: '#4e342e', bars: true },
      { label: 'resets', values: t.tcp['rst'] ?? [], color: '#c62828', bars: true },
    ]);
  }

  if (!data.findingsOnly) {
    // ---- latency histograms -------------------------------------------------------
    if (data.histograms.length > 0) {
      const hs = section('histograms', 'Latency histograms (log scale; the report’s buckets, 1% wide)');
      const grid = el('div', { class: 'charts-grid' });
      hs.append(grid);
      data.histograms.forEach((h, i) => {
        const box = el('div', { class: 'chart', id: `histogram-${i}` });
        grid.append(box);
        const xs = h.points.map((p) => p[0]);
        const ys = h.points.map((p) => p[1]);
        new uPlot(
          {
            title: `${h.name} (${h.count} replies${h.zeros ? `, ${h.zeros} at 0` : ''})`,
            width: Math.max(360, Math.floor((chartWidth() - 12) / 2)),
            height: 200,
            scales: { x: { time: false, distr: 3 }, y: { range: (_u: unknown, _min: number, max: number): [number, number] => [0, max > 0 ? max * 1.1 : 1] } },
            axes: [{ label: 'latency (ms)' }, { label: 'replies', size: 60 }],
            series: [{ label: 'ms' }, { label: 'replies', stroke: palette[i % palette.length], fill: palette[i % palette.length] + '66', paths: uPlot.paths.bars({ size: [0.9, 6] }), points: { show: false } }],
          },
          [xs, ys],
          box,
        );
      });
    }

    // ---- tables ---------------------------------------------------------------------
    const tally: Col[] = [
      { key: 'calls', head: 'calls', num: true },
      { key: 'answered', head: 'answered', num: true },
      { key: 'unanswered', head: 'unanswered', num: true },
      { key: 'errors', head: 'errors', num: true },
      { key: 'p50', head: 'p50 ms', num: true, get: (r) => r.latency.p50 },
      { key: 'p90', head: 'p90 ms', num: true, get: (r) => r.latency.p90 },
      { key: 'p99', head: 'p99 ms', num: true, get: (r) => r.latency.p99 },
      { key: 'max', head: 'max ms', num: true, get: (r) => r.latency.max },
      { key: 'readBytes', head: 'read bytes', num: true },
      { key: 'writeBytes', head: 'written bytes', num: true },
      { key: 'throughput', head: 'bytes/s', num: true },
    ];
    section('operations', 'Operations').append(
      table(
        [
          { key: 'program', head: 'program', get: (r) => r.programLabel ?? `${r.programName} v${r.version}` },
          { key: 'kind', head: 'kind' },
          { key: 'name', head: 'operation' },
          ...tally,
        ],
        data.operations,
        'table-operations',
      ),
    );
    section('errors', 'Errors by status and operation').append(
      data.errors.length === 0
        ? el('p', {}, 'No error replies.')
        : table(
            [
              { key: 'program', head: 'program', get: (r) => r.programLabel ?? `${r.programName} v${r.version}` },
              { key: 'status', head: 'status' },
              { key: 'op', head: 'operation' },
              { key: 'count', head: 'count', num: true },
              { key: 'first', head: 'first replies (frame xid)', get: (r) => r.first.map((f: any) => `${f.frame} ${f.xid}`).join(', ') },
            ],
            data.errors,
            'table-errors',
          ),
    );
    section('clients', 'Clients').append(table([{ key: 'address', head: 'client' }, ...tally], data.clients, 'table-clients'));
    section('servers', 'Servers').append(table([{ key: 'address', head: 'server' }, ...tally], data.servers, 'table-servers'));
    section('files', 'Files').append(
      table([{ key: 'path', head: 'path', get: (r) => r.path ?? `fh ${r.fh}` }, { key: 'ops', head: 'ops', num: true }, ...tally], data.files, 'table-files'),
    );
  }

  // ---- NFS over RDMA -------------------------------------------------------------------
  const x = data.rdma;
  if (x !== null) {
    const rd = section('rdma', 'NFS over RDMA');
    const m = x.messages;
    const b = x.bytesMoved;
    const listed = (o: Record<string, number>): string => Object.entries(o).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
    rd.append(
      keyValues(
        [
          ['RoCE packets', `${x.packets} (${x.bytes} bytes)${x.roceV1Packets > 0 ? `, RoCEv1 ${x.roceV1Packets}` : ''}`],
          ['queue-pair connections', x.connections.length + x.connectionsNotListed],
          ['CM', `${x.cm.requests} requests, ${x.cm.replies} accepted, ${x.cm.rejects} rejected, ${x.cm.disconnectRequests} disconnects`],
          ['RPC-over-RDMA messages', listed({ RDMA_MSG: m.RDMA_MSG, RDMA_NOMSG: m.RDMA_NOMSG, RDMA_MSGP: m.RDMA_MSGP, RDMA_DONE: m.RDMA_DONE, RDMA_ERROR: m.RDMA_ERROR }) || 'none'],
          ['headers cut by the capture', m.truncatedHeaders],
          ['bytes moved by RDMA WRITE', `${b.rdmaWrite} (write chunks ${b.writeChunks}, reply chunks ${b.replyChunks})`],
          ['bytes moved by RDMA READ', `${b.rdmaRead} (read chunks ${b.readChunks})`],
          ['PSN gaps (capture loss)', `${x.psnGaps} (${x.gapPackets} packets)`],
          ['retransmitted packets', x.retransmittedPackets],
          ['NAKs', listed(x.naks) || '0'],
          ['RNR NAKs', x.rnrNaks],
        ],
        'rdma-facts',
      ),
    );
    if (x.connections.length > 0) {
      rd.append(el('h3', {}, 'Queue pairs'));
      rd.append(
        table(
          [
            { key: 'client', head: 'client' },
            { key: 'server', head: 'server' },
            { key: 'qps', head: 'QPs', get: (c) => `${c.clientQp ?? '?'}/${c.serverQp ?? '?'}` },
            { key: 'first', head: 'first frame', num: true, get: (c) => c.first.frame },
            { key: 'calls', head: 'calls', num: true },
            { key: 'replies', head: 'replies', num: true },
            { key: 'credits', head: 'credits asked/granted', get: (c) => (c.creditsGranted >= 0 ? `${c.creditsRequested}/${c.creditsGranted}` : '') },
            { key: 'maxOutstanding', head: 'max outstanding', num: true },
            { key: 'rdmaWriteBytes', head: 'RDMA WRITE bytes', num: true },
            { key: 'rdmaReadBytes', head: 'RDMA READ bytes', num: true },
            { key: 'psnGaps', head: 'PSN gaps', num: true },
            { key: 'naks', head: 'NAKs', num: true, get: (c) => c.naks + c.rnrNaks },
          ],
          x.connections,
          'table-rdma-connections',
        ),
      );
    }
    if (x.operations.length > 0) {
      rd.append(el('h3', {}, 'Chunk use per operation'));
      rd.append(
        table(
          [
            { key: 'name', head: 'operation' },
            { key: 'calls', head: 'calls', num: true },
            { key: 'callsInline', head: 'inline calls', num: true },
            { key: 'readChunk', head: 'read chunk calls', num: true, get: (p) => p.callsReadChunk + p.callsPositionZero },
            { key: 'repliesWriteChunk', head: 'write chunk replies', num: true },
            { key: 'repliesReplyChunk', head: 'reply chunk replies', num: true },
            { key: 'chunkBytes', head: 'chunk bytes', num: true, get: (p) => p.readChunkBytes + p.writeChunkBytes + p.replyChunkBytes },
          ],
          x.operations,
          'table-rdma-operations',
        ),
      );
    }
    if (x.rejected.length > 0) {
      rd.append(el('h3', {}, 'Rejected RDMA connections (CM ConnectReject)'));
      rd.append(
        table(
          [
            { key: 'frame', head: 'frame', num: true },
            { key: 'time', head: 'time (UTC)' },
            { key: 'client', head: 'client' },
            { key: 'server', head: 'server' },
            { key: 'port', head: 'port', num: true },
            { key: 'reason', head: 'reason', get: (r) => `${r.reason} ${r.reasonName}` },
          ],
          x.rejected,
          'table-rdma-rejected',
        ),
      );
    }
  }

  // ---- capture facts ------------------------------------------------------------------
  const facts = section('capture', 'Capture');
  facts.append(
    table(
      [
        { key: 'name', head: 'file' },
        { key: 'format', head: 'format' },
        { key: 'frames', head: 'frames', num: true },
        { key: 'bytes', head: 'bytes', num: true },
        { key: 'notes', head: 'notes', get: (r) => [r.gzip ? 'gzip' : '', r.timestampPrecision ?? '', r.truncated ? 'cut short' : '', r.failed ? 'stopped at an error' : ''].filter(Boolean).join(', ') },
      ],
      c.files,
      'table-files-read',
    ),
  );
  facts.append(
    keyValues(
      [
        ['frames', c.frames],
        ['first frame', c.first ? `${c.first.time} (${c.first.file} #${c.first.frame})` : ''],
        ['last frame', c.last ? `${c.last.time} (${c.last.file} #${c.last.frame})` : ''],
        ['duration (s)', c.durationSeconds],
        ['bytes on the wire', c.wireBytes],
        ['frames cut by the snaplen', c.framesCutBySnaplen],
        ['frames outside --time-window', c.framesOutsideTimeWindow],
        ['frames also in an earlier file (read once)', c.framesInEarlierFile ?? 0],
        ['link types', Object.entries(c.linkTypes).map(([k, n]) => `${k}: ${n}`).join(', ')],
        ['RPC calls / replies', `${data.rpc['calls']} / ${data.rpc['replies']}`],
        ['unanswered calls', data.rpc['unanswered']],
        ['TCP connections', data.tcp['connections']],
        ['TCP events', Object.entries((data.tcp['events'] ?? {}) as Record<string, number>).map(([k, n]) => `${k}: ${n}`).join(', ')],
      ],
      'capture-facts',
    ),
  );
  facts.append(el('h3', {}, 'What was skipped, and why'));
  facts.append(
    keyValues(
      [
        ['frames that could not be decoded', data.skipped.frames],
        ['stream bytes missing from the capture (lost or cut)', data.skipped.bytes],
        ['stream bytes passed over to find RPC messages', data.skipped.resyncBytes],
        ['RPC messages cut by the capture', data.rpc['truncatedMessages']],
        ['diagnostics', `${data.diagnostics.errors} errors, ${data.diagnostics.warnings} warnings`],
        ...Object.entries(data.diagnostics.byCode).map(([k, n]) => [`  ${k}`, n] as [string, unknown]),
      ],
      'skipped',
    ),
  );
  if (data.diagnostics.items.length > 0) {
    facts.append(
      table(
        [
          { key: 'severity', head: 'severity' },
          { key: 'code', head: 'code' },
          { key: 'file', head: 'file' },
          { key: 'frame', head: 'frame', num: true },
          { key: 'message', head: 'message' },
        ],
        data.diagnostics.items,
        'table-diagnostics',
      ),
    );
  }
  document.body.dataset['rendered'] = 'true';
}
