#!/usr/bin/env node
// Survivors of a StrykerJS run (reports/mutation/<module>.json), for judging them
// and for running them again after new tests (docs/mutation.md):
//   node scripts/mutation-survivors.mjs list REPORT          one line per survivor: file:line:col mutator: original -> replacement
//   node scripts/mutation-survivors.mjs ranges REPORT        their exact places, comma-separated, for stryker --mutate
//   node scripts/mutation-survivors.mjs merge BASE RERUN > OUT   BASE with the statuses of RERUN's mutants (same place, mutator, replacement)
import { readFileSync } from 'node:fs';

const [cmd, ...files] = process.argv.slice(2);
const read = (f) => JSON.parse(readFileSync(f, 'utf8'));
const surviving = (m) => m.status === 'Survived' || m.status === 'NoCoverage';
const key = (m) => `${m.location.start.line}:${m.location.start.column}:${m.location.end.line}:${m.location.end.column}:${m.mutatorName}:${m.replacement}`;

/** Mutants per status, and the score as docs/mutation.md counts it (timeouts killed, no coverage survived). */
function tally(report) {
  const count = {};
  for (const f of Object.values(report.files)) for (const m of f.mutants) count[m.status] = (count[m.status] ?? 0) + 1;
  const killed = (count.Killed ?? 0) + (count.Timeout ?? 0);
  const survived = (count.Survived ?? 0) + (count.NoCoverage ?? 0);
  return { ...count, killed, survived, score: `${((100 * killed) / (killed + survived)).toFixed(1)}%` };
}

if (cmd === 'list') {
  const report = read(files[0]);
  for (const [path, f] of Object.entries(report.files)) {
    const lines = f.source.split('\n');
    const ms = f.mutants.filter(surviving).sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column);
    for (const m of ms) {
      const { start, end } = m.location;
      const original = lines[start.line - 1].slice(start.column - 1, end.line === start.line ? end.column - 1 : undefined);
      const tag = m.status === 'NoCoverage' ? 'no coverage ' : '';
      console.log(`${path}:${start.line}:${start.column} ${tag}${m.mutatorName}: ${JSON.stringify(original).slice(0, 80)} -> ${JSON.stringify(m.replacement ?? '').slice(0, 80)}`);
    }
  }
  console.error(JSON.stringify(tally(report)));
} else if (cmd === 'ranges') {
  // Stryker's mutate ranges count lines from 1 and columns from 0; the report's columns count from 1.
  const report = read(files[0]);
  const out = new Set();
  for (const [path, f] of Object.entries(report.files)) {
    const rel = path.replace(/^.*?\/(src|decoders)\//, '$1/');
    for (const m of f.mutants.filter(surviving)) {
      const { start, end } = m.location;
      out.add(`${rel}:${start.line}:${start.column - 1}-${end.line}:${end.column - 1}`);
    }
  }
  process.stdout.write([...out].join(','));
} else if (cmd === 'merge') {
  const [base, rerun] = files.map(read);
  const again = new Map();
  for (const f of Object.values(rerun.files)) for (const m of f.mutants) again.set(key(m), m.status);
  for (const f of Object.values(base.files)) for (const m of f.mutants) if (again.has(key(m))) m.status = again.get(key(m));
  console.error(JSON.stringify(tally(base)));
  process.stdout.write(JSON.stringify(base));
} else {
  console.error('usage: mutation-survivors.mjs list REPORT | ranges REPORT | merge BASE RERUN');
  process.exit(2);
}
