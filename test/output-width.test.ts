/**
 * Output fits the terminal: every text renderer, on every bundled capture,
 * at 80 and 100 columns, prints no line wider than the width; the CLI takes
 * the width from COLUMNS.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { evaluateRules } from '../src/check/evaluate.js';
import { DEFAULT_RULES, parseRulesText } from '../src/check/rules.js';
import { diffReports } from '../src/check/diff.js';
import { runCalls } from '../src/cli/calls-command.js';
import { renderCheckText } from '../src/cli/check-command.js';
import { renderDiffTable } from '../src/cli/diff-command.js';
import type { Report } from '../src/report/model.js';
import { renderFindingsText } from '../src/report/render-findings.js';
import { renderReportText } from '../src/report/render-text.js';
import { displayWidth } from '../src/report/terminal.js';
import { readFileSync } from 'node:fs';
import { bundledCaptures, CAPTURES } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const WIDTHS = [80, 100];

/** The lines wider than `width`, with their widths (empty when everything fits). */
function overflow(text: string, width: number): string[] {
  return text
    .split('\n')
    .filter((l) => displayWidth(l) > width)
    .map((l) => `${displayWidth(l)}: ${l}`);
}

const reports = new Map<string, Report>();
beforeAll(async () => {
  for (const name of bundledCaptures()) reports.set(name, await analyze(join(CAPTURES, name)));
});

const sampleRules = parseRulesText(readFileSync(join(ROOT, 'rules.sample.json'), 'utf8'));

describe.each(WIDTHS)('at %i columns', (width) => {
  it.each(bundledCaptures())('%s: report, report --details, findings, check and diff fit', (name) => {
    const r = reports.get(name)!;
    const texts = {
      report: renderReportText(r, { width }),
      details: renderReportText(r, { width, details: true }),
      findings: renderFindingsText(r.findings, { width }),
      check: renderCheckText(evaluateRules([...DEFAULT_RULES.rules, ...sampleRules.rules], r), false, width),
      diff: renderDiffTable(diffReports(r, reports.get('nfsv41-pynfs-mid.pcap')!), diffReports(r, reports.get('nfsv41-pynfs-mid.pcap')!).rows, false, width),
    };
    for (const [what, text] of Object.entries(texts)) expect({ what, over: overflow(text, width) }).toEqual({ what, over: [] });
    // The details hold what the default leaves out.
    expect(texts.details.length).toBeGreaterThan(texts.report.length);
  });
});

describe.each(WIDTHS)('the calls table at %i columns', (width) => {
  it.each(bundledCaptures())('%s', async (name) => {
    let out = '';
    const code = await runCalls([join(CAPTURES, name)], { format: 'table' }, { out: (s) => (out += s), err: () => undefined, color: false, width, setExitCode: () => undefined });
    expect(code).toBe(0);
    expect(overflow(out, width)).toEqual([]);
    expect(out.split('\n')[0]).toMatch(/^ +frame time \(UTC\) +op +status +ms/);
  });
});

describe('the CLI takes the width from COLUMNS', () => {
  it.each(WIDTHS)('report --details at COLUMNS=%i', (width) => {
    const r = spawnSync(process.execPath, [CLI, 'report', '--details', 'captures/nfsv41-pynfs-errors.pcap'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', COLUMNS: String(width) },
    });
    expect(r.status).toBe(0);
    expect(overflow(r.stdout, width)).toEqual([]);
    // Something is as wide as allowed: the width was used, not a fixed one.
    expect(Math.max(...r.stdout.split('\n').map(displayWidth))).toBe(width);
  });
});
