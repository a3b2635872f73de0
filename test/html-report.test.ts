/**
 * The HTML report: what holds without a browser (one self-contained page,
 * the report's figures handed over unchanged), then in real headless
 * Chromium on real captures (the GRACE restart, the unanswered READ, a
 * clean capture): no console error, no request leaving the page, charts
 * drawn, the findings and their frames listed, the tables' figures equal
 * the JSON report's; a screenshot of each is saved in .ci/out/.
 *
 * Where no Chromium can be found, one test says so loudly (and checks
 * that there is indeed none), so `npm test` never passes silently
 * without the browser tests; under CI (NFSIGHT_REQUIRE_BROWSER=1, set by
 * .ci/run after installing Chromium) that test fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { analyze } from '../src/analyze.js';
import type { Report } from '../src/report/model.js';
import { FINDINGS_DETAILED, FINDINGS_LISTED, pageData, renderReportHtml, VERDICT_PROBLEMS } from '../src/report/render-html.js';
import { findChromium, launch } from './browser.js';
import { CAPTURES, tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const SHOTS = join(ROOT, '.ci', 'out');

function nfsight(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The page's embedded data. */
function embedded(html: string): ReturnType<typeof pageData> {
  const m = /<script id="nfsight-data" type="application\/json">(.*?)<\/script>/s.exec(html);
  return JSON.parse(m![1]!);
}

/**
 * The report of a big, troubled capture, as a real one can be: 3,000
 * findings (each finding of the GRACE restart capture's, renamed), 2,000
 * clients, servers and files, the client with most calls far down the list.
 */
async function hugeReport(): Promise<Report> {
  const r = await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'));
  const f0 = r.findings[0]!;
  const findings = Array.from({ length: 3000 }, (_, i) => ({ ...f0, title: `${f0.title} #${i + 1}` }));
  const p0 = r.verdict.problems[0]!;
  const e0 = r.timeline.episodes[0]!;
  const rows = <T extends object>(row: T, n: number, name: (i: number) => Partial<T>): T[] => Array.from({ length: n }, (_, i) => ({ ...row, ...name(i) }));
  return {
    ...r,
    findings,
    verdict: { ...r.verdict, problems: findings.map((f) => ({ ...p0, text: f.title })) },
    clients: { ...r.clients, rows: rows(r.clients.rows[0]!, 2000, (i) => ({ address: `10.9.${i >> 8}.${i & 255}`, calls: i === 1500 ? 999_999 : 1000 + i })) },
    servers: { ...r.servers, rows: rows(r.servers.rows[0]!, 2000, (i) => ({ address: `10.8.${i >> 8}.${i & 255}` })) },
    files: { ...r.files, rows: rows(r.files.rows[0]!, 2000, (i) => ({ path: `/export/dir/file-${i}` })) },
    timeline: { ...r.timeline, episodes: findings.map((f, i) => ({ ...e0, finding: i, title: f.title })) },
  };
}

describe('the HTML report, without a browser', () => {
  it('stays a small page on a report with 3,000 findings and 2,000 rows a table: the first findings whole, the next one line each, the rest counted', async () => {
    const report = await hugeReport();
    const html = renderReportHtml(report);
    expect(Buffer.byteLength(html)).toBeLessThan(5_000_000);
    const d = embedded(html);
    expect(d.findingsTotal).toBe(3000);
    expect(d.findings).toEqual(report.findings.slice(0, FINDINGS_DETAILED));
    expect(d.moreFindings.map((f) => f.number)).toEqual(Array.from({ length: FINDINGS_LISTED }, (_, k) => FINDINGS_DETAILED + k + 1));
    const next = report.findings[FINDINGS_DETAILED]!;
    expect(d.moreFindings[0]).toEqual({ number: FINDINGS_DETAILED + 1, severity: next.severity, kind: next.kind, title: next.title, start: next.start, frame: next.evidence[0]!.frame });
    expect(d.verdict.problems).toEqual(report.verdict.problems.slice(0, VERDICT_PROBLEMS));
    expect(d.verdictProblems).toBe(3000);
    // Only the findings shown whole are drawn on the time axis.
    expect(d.timeline.episodes.map((e) => e.finding)).toEqual(Array.from({ length: FINDINGS_DETAILED }, (_, i) => i));
    // Every row of the tables is in the page (the page shows the first ones and a button for the rest).
    expect(d.clients).toHaveLength(2000);
    expect(d.files).toHaveLength(2000);
  });

  it('the findings page carries no table rows, only what it draws', async () => {
    const report = await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'));
    const d = embedded(renderReportHtml(report, { findingsOnly: true }));
    expect([d.operations, d.errors, d.clients, d.servers, d.files, d.histograms]).toEqual([[], [], [], [], [], []]);
    expect(d.findings).toEqual(report.findings);
    expect(d.timeline.calls.reduce((a: number, b: number) => a + b, 0)).toBe(report.rpc.calls);
  });

  it('is one self-contained page: no URL to fetch, a policy forbidding requests, uPlot inlined', async () => {
    const report = await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'));
    const html = renderReportHtml(report);
    expect(html).toContain(`content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain(readFileSync(join(ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js'), 'utf8'));
    // Exactly three script elements: the data, uPlot, the page.
    expect(html.match(/<script\b/g)).toHaveLength(3);
  });

  it('hands the page the report’s figures unchanged', async () => {
    const report = await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'));
    const d = embedded(renderReportHtml(report));
    expect(d.verdict).toEqual(report.verdict);
    expect(d.verdictProblems).toBe(report.verdict.problems.length);
    expect(d.findings).toEqual(report.findings);
    expect(d.findingsTotal).toBe(report.findings.length);
    expect(d.moreFindings).toEqual([]);
    expect(d.errors).toEqual(report.errors);
    expect(d.capture).toEqual(report.capture);
    expect(d.operations.map((o: any) => [o.name, o.calls, o.errors, o.latency.p50, o.latency.p99])).toEqual(
      report.operations.map((o) => [o.name, o.calls, o.errors, o.latency.p50, o.latency.p99]),
    );
    // The time series as columns over every interval: the same figures where the report has an interval, zero elsewhere.
    const t = report.timeline;
    expect(d.timeline.calls).toHaveLength(t.count);
    for (const iv of t.intervals) {
      expect(d.timeline.calls[iv.index]).toBe(iv.calls);
      expect(d.timeline.errors[iv.index]).toBe(iv.errors);
      expect(d.timeline.p99[iv.index]).toBe(iv.latency.p99);
    }
    expect(d.timeline.calls.reduce((a: number, b: number) => a + b, 0)).toBe(report.rpc.calls);
    expect(d.timeline.episodes).toEqual(t.episodes);
    // Histograms: the report's buckets, each at the latency it stands for (within its 1%).
    const open = report.operations.find((o) => o.name === 'COMPOUND(OPEN)')!;
    const h = d.histograms.find((x: any) => x.name === 'NFS v4 COMPOUND(OPEN)')!;
    expect(h.points.map((p: number[]) => p[1])).toEqual(open.latency.histogram.buckets.map((b) => b[1]));
    expect(Math.abs(h.points[0]![0] - open.latency.min!) / open.latency.min!).toBeLessThanOrEqual(0.0101);
  });

  it('report and findings write it with -o; a path that cannot be written is exit 2', () => {
    const dir = tempDir();
    const r = nfsight(['report', 'captures/unanswered-read-tail.pcap', '--format', 'html', '-o', join(dir, 'r.html')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(embedded(readFileSync(join(dir, 'r.html'), 'utf8')).findingsOnly).toBe(false);
    const f = nfsight(['findings', 'captures/unanswered-read-tail.pcap', '--format', 'html', '-o', join(dir, 'f.html')]);
    expect(f.status).toBe(0);
    expect(embedded(readFileSync(join(dir, 'f.html'), 'utf8')).findingsOnly).toBe(true);
    const bad = nfsight(['report', 'captures/unanswered-read-tail.pcap', '--format', 'html', '-o', join(dir, 'no', 'such', 'r.html')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe(`nfsight: error: ${join(dir, 'no', 'such', 'r.html')}: cannot write: no such folder`);
  });
});

const CHROMIUM = findChromium();
const PAGES = ['nfsv4-grace-restart.pcap', 'unanswered-read-tail.pcap', 'linux-v3-basic-head.pcap'];

if (CHROMIUM === undefined) {
  describe('the HTML report in Chromium', () => {
    it('!!! BROWSER TESTS DID NOT RUN: no Chromium found (apt-get install chromium, or set NFSIGHT_CHROMIUM) !!!', () => {
      process.stderr.write('\n' + '!'.repeat(78) + '\n!!! The HTML report browser tests did NOT run: no Chromium was found.\n!!! Install it (apt-get install chromium) or set NFSIGHT_CHROMIUM.\n' + '!'.repeat(78) + '\n\n');
      expect(findChromium()).toBeUndefined();
      // CI installs Chromium (.ci/run) and asks for the browser tests: there, their absence is a failure.
      expect(process.env['NFSIGHT_REQUIRE_BROWSER'] ?? '', 'NFSIGHT_REQUIRE_BROWSER is set: Chromium should have been installed').not.toBe('1');
    });
  });
} else {
  describe(`the HTML report in Chromium (${CHROMIUM})`, () => {
    let browser: BrowserContext;
    beforeAll(async () => {
      browser = await launch(CHROMIUM);
      mkdirSync(SHOTS, { recursive: true });
    });
    afterAll(async () => {
      await browser?.close();
    });

    /** Opens a page, failing on any console error, page error or request. */
    async function open(htmlFile: string) {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        if (!r.url().startsWith('file://')) problems.push(`request: ${r.url()}`);
      });
      await page.goto(`file://${htmlFile}`);
      await page.waitForSelector('body[data-rendered="true"]', { timeout: 20_000 });
      return { page, problems };
    }

    for (const name of PAGES) {
      it(`${name}: renders without errors or requests, draws its charts, lists the findings and frames, shows the report's figures`, async () => {
        const dir = tempDir();
        const htmlFile = join(dir, `${name}.html`);
        expect(nfsight(['report', join('captures', name), '--format', 'html', '-o', htmlFile]).status).toBe(0);
        const json = nfsight(['report', join('captures', name), '--format', 'json']);
        const report = JSON.parse(json.stdout) as Report;

        const { page, problems } = await open(htmlFile);
        expect(problems).toEqual([]);

        // Charts drawn: every chart's canvas has coloured pixels in its plotting area (lines, bars, marks).
        const charts = await page.evaluate(() =>
          [...document.querySelectorAll('.chart')].flatMap((box) => {
            const canvas = box.querySelector('canvas');
            if (!canvas) return [];
            const ctx = canvas.getContext('2d')!;
            const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
            let coloured = 0;
            let callsLine = 0;
            for (let i = 0; i < data.length; i += 4) {
              const [r, g, b, a] = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
              // Coloured, not grey: grid lines and axis labels are grey or black.
              if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 20) coloured++;
              // The calls/s line's own blue (#1565c0), not the findings' shading.
              if (a > 200 && Math.abs(r - 0x15) + Math.abs(g - 0x65) + Math.abs(b - 0xc0) < 60) callsLine++;
            }
            return [{ id: box.id, width: canvas.width, coloured, callsLine }];
          }),
        );
        const ids = charts.map((c) => c.id);
        expect(ids).toEqual(expect.arrayContaining(['chart-ops', 'chart-throughput', 'chart-latency', 'chart-tcp']));
        expect(charts.find((c) => c.id === 'chart-ops')!.callsLine).toBeGreaterThan(20);
        for (const c of charts.filter((x) => x.id.startsWith('histogram-'))) expect(c.coloured, c.id).toBeGreaterThan(20);
        expect(charts.filter((c) => c.id.startsWith('histogram-')).length).toBe(Math.min(12, report.operations.filter((o) => o.kind !== 'op' && o.answered > 0 && !(o.kind === 'procedure' && report.operations.some((x) => x.kind === 'compound' && x.program === o.program && x.version === o.version && x.procedure === o.procedure))).length));

        // The verdict and every finding, with its evidence frames; each episode on the time axis.
        expect(await page.locator('#verdict-box strong').textContent()).toBe(report.verdict.summary);
        for (const [i, f] of report.findings.entries()) {
          expect(await page.locator(`#finding-${i} h3`).textContent()).toContain(f.title);
          expect(await page.locator(`#finding-${i} .explanation`).textContent()).toBe(f.explanation);
          const frames = await page.locator(`#evidence-${i} td[data-col="frame"]`).allTextContents();
          expect(frames).toEqual(f.evidence.map((e) => String(e.frame)));
        }
        const dots = await page.locator('#episodes circle').count();
        expect(dots).toBe(report.findings.reduce((a, f) => a + f.evidence.length, 0));

        // Tables: the figures of the JSON report.
        const cells = (table: string, col: string) => page.locator(`#${table} tbody td[data-col="${col}"]`).allTextContents();
        const s = (x: number | null) => (x === null ? '' : String(x));
        expect(await cells('table-operations', 'name')).toEqual(report.operations.map((o) => o.name));
        expect(await cells('table-operations', 'calls')).toEqual(report.operations.map((o) => String(o.calls)));
        expect(await cells('table-operations', 'errors')).toEqual(report.operations.map((o) => String(o.errors)));
        expect(await cells('table-operations', 'p50')).toEqual(report.operations.map((o) => s(o.latency.p50)));
        expect(await cells('table-operations', 'p99')).toEqual(report.operations.map((o) => s(o.latency.p99)));
        if (report.errors.length > 0) expect(await cells('table-errors', 'count')).toEqual(report.errors.map((e) => String(e.count)));
        expect(await cells('table-clients', 'calls')).toEqual(report.clients.rows.map((r) => String(r.calls)));
        expect(await cells('table-servers', 'address')).toEqual(report.servers.rows.map((r) => r.address));
        expect(await cells('table-files', 'ops')).toEqual(report.files.rows.map((r) => String(r.ops)));
        expect(await page.locator('#capture-facts td[data-key="frames"]').textContent()).toBe(String(report.capture.frames));
        expect(await page.locator('#skipped td[data-key="stream bytes missing from the capture (lost or cut)"]').textContent()).toBe(String(report.skipped.bytes));

        // Sorting a table by a numeric column orders its rows by that figure.
        await page.locator('#table-operations th[data-col="calls"]').click();
        const sorted = (await cells('table-operations', 'calls')).map(Number);
        expect(sorted).toEqual([...sorted].sort((a, b) => b - a));

        await page.screenshot({ path: join(SHOTS, `html-report-${name}.png`), fullPage: true });
        await page.close();
      });
    }

    it('NFS over RDMA: the RoCE facts, the queue pair and the rejected connections, as the captures’ notes count them', async () => {
      const dir = tempDir();
      const v3 = join(dir, 'rdma.html');
      expect(nfsight(['report', 'captures/nfs-rdma-v3.pcap', '--format', 'html', '-o', v3]).status).toBe(0);
      const a = await open(v3);
      expect(a.problems).toEqual([]);
      const fact = (page: typeof a.page, key: string) => page.locator(`#rdma-facts td[data-key="${key}"]`).textContent();
      // nfs-rdma-v3.pcap.notes: 2634 BTH packets; 94 RPC-over-RDMA headers: RDMA_MSG 92, RDMA_NOMSG 2; one CM exchange.
      expect(await fact(a.page, 'RoCE packets')).toMatch(/^2634 \(/);
      expect(await fact(a.page, 'RPC-over-RDMA messages')).toBe('RDMA_MSG 92, RDMA_NOMSG 2');
      expect(await fact(a.page, 'CM')).toBe('1 requests, 1 accepted, 0 rejected, 1 disconnects');
      const cells = (page: typeof a.page, table: string, col: string) => page.locator(`#${table} tbody td[data-col="${col}"]`).allTextContents();
      expect(await cells(a.page, 'table-rdma-connections', 'client')).toEqual([expect.stringMatching(/^10\.97\.0\.2:\d+$/)]);
      await a.page.close();

      const refused = join(dir, 'refused.html');
      expect(nfsight(['report', 'captures/nfs-rdma-refused.pcap', '--format', 'html', '-o', refused]).status).toBe(0);
      const b = await open(refused);
      expect(b.problems).toEqual([]);
      // The notes: two ConnectRejects (frames 4 and 18), Reason 8 = Invalid Service ID (no listener on 20049).
      expect(await cells(b.page, 'table-rdma-rejected', 'frame')).toEqual(['4', '18']);
      expect(await cells(b.page, 'table-rdma-rejected', 'port')).toEqual(['20049', '20049']);
      expect(await cells(b.page, 'table-rdma-rejected', 'reason')).toEqual(['8 Invalid Service ID', '8 Invalid Service ID']);
      await b.page.close();
      // A capture without RoCE has no such section.
      const plain = join(dir, 'plain.html');
      expect(nfsight(['report', 'captures/nfsv4-grace-restart.pcap', '--format', 'html', '-o', plain]).status).toBe(0);
      expect(embedded(readFileSync(plain, 'utf8')).rdma).toBeNull();
    });

    it('the findings page draws the report page’s four charts over time', async () => {
      const dir = tempDir();
      const htmlFile = join(dir, 'findings.html');
      expect(nfsight(['findings', 'captures/nfsv4-grace-restart.pcap', '--format', 'html', '-o', htmlFile]).status).toBe(0);
      const { page, problems } = await open(htmlFile);
      expect(problems).toEqual([]);
      const charts = await page.evaluate(() => [...document.querySelectorAll('.chart')].filter((b) => b.querySelector('canvas')).map((b) => b.id));
      expect(charts).toEqual(['chart-ops', 'chart-throughput', 'chart-latency', 'chart-tcp']);
      expect(await page.locator('#table-operations').count()).toBe(0);
      await page.close();
    });

    it("what the detectors' bounds left out: one paragraph in the findings section", async () => {
      const report = await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'));
      report.notReported = { 'unanswered-call': { callsNotReported: 1204 }, connections: { closesForgotten: 3 } };
      const htmlFile = join(tempDir(), 'left-out.html');
      writeFileSync(htmlFile, renderReportHtml(report));
      const { page, problems } = await open(htmlFile);
      expect(problems).toEqual([]);
      expect(await page.locator('#findings #findings-not-reported').textContent()).toBe(
        "Left out by the detectors' bounds (the state each keeps is bounded; docs/findings.md says how to raise them): unanswered-call: 1,204 calls not reported; connections: 3 closes forgotten.",
      );
      await page.close();
    });

    it('a report with 3,000 findings and 2,000 rows a table: 40 findings whole, the next in a table, rows added on demand, sorting over every row', async () => {
      const report = await hugeReport();
      const dir = tempDir();
      const htmlFile = join(dir, 'huge.html');
      writeFileSync(htmlFile, renderReportHtml(report));
      const { page, problems } = await open(htmlFile);
      expect(problems).toEqual([]);
      expect(await page.locator('.finding').count()).toBe(FINDINGS_DETAILED);
      expect(await page.locator(`#finding-${FINDINGS_DETAILED - 1} h3`).textContent()).toContain(`${FINDINGS_DETAILED}. ${report.findings[FINDINGS_DETAILED - 1]!.title}`);
      expect(await page.locator('#verdict-box li').count()).toBe(VERDICT_PROBLEMS);
      expect(await page.locator('#verdict-more').textContent()).toContain(`and ${3000 - VERDICT_PROBLEMS} more problems`);
      // The episodes of the findings shown whole, one dot per evidence frame.
      expect(await page.locator('#episodes circle').count()).toBe(FINDINGS_DETAILED * report.findings[0]!.evidence.length);
      const cells = (table: string, col: string) => page.locator(`#${table} tbody td[data-col="${col}"]`).allTextContents();
      expect((await cells('table-more-findings', 'number')).slice(0, 3)).toEqual(['41', '42', '43']);
      expect(await cells('table-more-findings', 'number')).toHaveLength(100);
      expect(await page.locator('#table-more-findings-more').textContent()).toBe(`Show all ${FINDINGS_LISTED} rows (${FINDINGS_LISTED - 100} more)`);
      await page.locator('#table-more-findings-more').click();
      expect(await cells('table-more-findings', 'number')).toHaveLength(FINDINGS_LISTED);
      expect(await page.locator('#table-more-findings-more').isHidden()).toBe(true);
      // Clients: 100 rows shown; sorting by calls puts the busiest client (row 1,501) first.
      expect(await cells('table-clients', 'address')).toEqual(report.clients.rows.slice(0, 100).map((r) => r.address));
      await page.locator('#table-clients th[data-col="calls"]').click();
      const calls = await cells('table-clients', 'calls');
      expect(calls[0]).toBe('999999');
      expect(calls[1]).toBe(String(1000 + 1999));
      expect(calls).toHaveLength(100);
      await page.close();
    });
  });
}
