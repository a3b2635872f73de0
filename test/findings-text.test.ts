/**
 * Findings read as prose for people, on every bundled capture: the rules
 * of test/findings-text.ts (three lines of explanation at 100 columns,
 * sentences, no empty metric, one finding per client and incident), the
 * verdict first in `report` and `findings`, nothing wider than the
 * terminal, and no finding above info on the clean real captures.
 */
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Report } from '../src/report/model.js';
import { renderFindingsText } from '../src/report/render-findings.js';
import { renderReportText } from '../src/report/render-text.js';
import { displayWidth } from '../src/report/terminal.js';
import { findingTextProblems } from './findings-text.js';
import { CAPTURES, bundledCaptures } from './helpers.js';

const reports = new Map<string, Report>();
async function reportOf(name: string): Promise<Report> {
  let r = reports.get(name);
  if (r === undefined) {
    r = await analyze(join(CAPTURES, name));
    reports.set(name, r);
  }
  return r;
}

const wider = (text: string, width: number): string[] => text.split('\n').filter((l) => displayWidth(l) > width);

describe('findings text on every bundled capture', () => {
  for (const name of bundledCaptures().map((p) => basename(p))) {
    it(`${name}: readable findings, the verdict first, within 80 and 100 columns`, async () => {
      const r = await reportOf(name);
      expect(findingTextProblems(r.findings)).toEqual([]);
      for (const width of [80, 100]) {
        const findings = renderFindingsText(r.findings, { width, verdict: r.verdict });
        expect(wider(findings, width)).toEqual([]);
        expect(findings.startsWith(`Verdict: ${r.verdict.summary.slice(0, 20)}`)).toBe(true);
        const report = renderReportText(r, { width });
        expect(wider(report, width)).toEqual([]);
        // The report opens with the capture's header, then the verdict, before any table.
        const lines = report.split('\n');
        const verdictAt = lines.findIndex((l) => l.startsWith('Verdict: '));
        expect(verdictAt).toBeGreaterThan(0);
        expect(verdictAt).toBeLessThan(6);
        expect(lines.slice(0, verdictAt).some((l) => /[┌│]/.test(l))).toBe(false);
      }
    });
  }
});

describe('the clean real captures', () => {
  // Made by real clients and servers with nothing wrong (their .notes): no finding above info, and the verdict judges.
  for (const name of ['linux-v3-basic-head.pcap', 'linux-v42-basic-head.pcap', 'nfsv3-basic-head.pcap', 'nfsv4-any-sll2-head.pcap', 'nfsv4-dumpcap.pcapng', 'nfsv3-nanosec.pcap']) {
    it(`${name}: no problem found`, async () => {
      const r = await reportOf(name);
      expect(r.findings.filter((f) => f.severity !== 'info').map((f) => f.title)).toEqual([]);
      expect(r.verdict.status).toBe('no-problems');
      expect(r.verdict.summary).toBe(`No problems found in ${r.rpc.calls} RPC calls.`);
    });
  }
});
