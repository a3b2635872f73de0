/**
 * The JSON report's shape, as docs/report-json.md documents it: every
 * documented section exists with the documented keys, and nothing
 * undocumented appears at the top level.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { REPORT_SCHEMA_VERSION } from '../src/report/model.js';
import { CAPTURES } from './helpers.js';

const DOC = readFileSync(fileURLToPath(new URL('../docs/report-json.md', import.meta.url)), 'utf8');

/** The rows of the documented JSON report table: [keys of the first column, description]. */
function documentedRows(): [string[], string][] {
  const start = DOC.indexOf('## The JSON report');
  expect(start).toBeGreaterThanOrEqual(0);
  const table = DOC.slice(start).split('\n').filter((l) => l.startsWith('| `'));
  return table.map((l) => {
    const [, first, desc] = l.split('|');
    return [[...first!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\[\]$/, '')), desc!];
  });
}

describe('the JSON report schema', () => {
  it(`is version ${REPORT_SCHEMA_VERSION}, and docs/report-json.md documents exactly its top-level keys`, async () => {
    const report = await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'));
    expect(report.schemaVersion).toBe(3);
    expect(DOC).toContain(`## The JSON report (schemaVersion ${REPORT_SCHEMA_VERSION})`);
    const rows = documentedRows();
    const documented = new Set(rows.flatMap(([keys]) => keys.map((k) => k.split('.')[0]!)));
    // A row that says "only when" documents a key present only then (findingsNotListed, notReported).
    const optional = new Set(rows.filter(([, desc]) => desc.trim().startsWith('only when')).flatMap(([keys]) => keys));
    expect(optional).toEqual(new Set(['findingsNotListed', 'notReported']));
    expect([...documented].filter((k) => !optional.has(k)).sort()).toEqual(Object.keys(report).sort());
  });

  it('documents every key of every section (and of its rows)', async () => {
    const report = (await analyze(join(CAPTURES, 'nfsv4-grace-restart.pcap'))) as unknown as Record<string, unknown>;
    const undocumented: string[] = [];
    for (const [keys, desc] of documentedRows()) {
      const mentioned = new Set([...`${keys.join(' ')} ${desc}`.matchAll(/`([^`]+)`/g)].flatMap((m) => m[1]!.split(/[^A-Za-z0-9]+/)));
      for (const key of keys) {
        // `capture.files` names a nested list; others a top-level section.
        let section: unknown = report;
        for (const part of key.split('.')) section = (section as Record<string, unknown> | undefined)?.[part];
        if (key === 'capture') continue; // its row lists the summary keys; files[] has its own row
        const objects: unknown[] = Array.isArray(section) ? section.slice(0, 1) : [section];
        if (section && typeof section === 'object' && !Array.isArray(section) && Array.isArray((section as { rows?: unknown }).rows)) {
          objects.push(...(section as { rows: unknown[] }).rows.slice(0, 1));
        }
        for (const o of objects) {
          if (o === null || typeof o !== 'object') continue;
          for (const k of Object.keys(o)) if (!mentioned.has(k)) undocumented.push(`${key}.${k}`);
        }
      }
    }
    expect(undocumented.join(" ")).toBe("");
  });
});
