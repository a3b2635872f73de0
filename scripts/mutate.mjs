#!/usr/bin/env node
// npm run mutate [-- module …]: mutation testing with StrykerJS, module by
// module (stryker.config.mjs lists them: record-marking, matcher,
// tcp-reassembly, nfs3, nfs4, check), then the score of each from
// reports/mutation/<module>.json. Outside CI: a module takes minutes to an
// hour on two cores.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MODULES } from '../stryker.config.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const reportOnly = process.argv.includes('--report');
for (const m of asked) if (!(m in MODULES)) throw new Error(`unknown module ${m} (${Object.keys(MODULES).join(', ')})`);
const modules = asked.length > 0 ? asked : Object.keys(MODULES);

if (!reportOnly) {
  // The CLI tests among the guarding tests spawn dist/ (built from the unmutated sources).
  if (spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' }).status !== 0) process.exit(1);
  for (const m of modules) {
    console.log(`\n== ${m}: ${MODULES[m].mutate.join(' ')}`);
    const r = spawnSync(process.execPath, ['node_modules/@stryker-mutator/core/bin/stryker.js', 'run', 'stryker.config.mjs'], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, NFSIGHT_MUTATE_MODULE: m },
    });
    if (r.status !== 0) process.exitCode = 1;
  }
}

/** Mutants per status in a mutation-testing-report-schema JSON report. */
function score(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const count = {};
  for (const f of Object.values(report.files)) for (const mu of f.mutants) count[mu.status] = (count[mu.status] ?? 0) + 1;
  const killed = (count.Killed ?? 0) + (count.Timeout ?? 0);
  const survived = (count.Survived ?? 0) + (count.NoCoverage ?? 0);
  return { killed, survived, ignored: count.Ignored ?? 0, errors: (count.CompileError ?? 0) + (count.RuntimeError ?? 0), percent: (100 * killed) / (killed + survived) };
}

console.log('\n| module | killed | survived (incl. no coverage) | score |');
console.log('|---|---|---|---|');
for (const m of modules) {
  const file = `${root}reports/mutation/${m}.json`;
  if (!existsSync(file)) {
    console.log(`| ${m} | – | – | not run |`);
    continue;
  }
  const s = score(file);
  console.log(`| ${m} | ${s.killed} | ${s.survived} | ${s.percent.toFixed(1)}% |`);
}
