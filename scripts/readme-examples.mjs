#!/usr/bin/env node
/**
 * Regenerates the examples of README.md (and docs/*.md) from real runs:
 * in every ```text block, each line starting with `$ ` is a shell command
 * run from the repository's root (npx nfsight is the built CLI) at
 * COLUMNS=80 without colour; the lines after it, up to the next command or
 * the end of the block, are replaced by what it printed (stdout and stderr,
 * as a terminal shows them). Blocks running the benchmark are left alone
 * (its figures are measured on a quiet machine, not here).
 *
 *   npm run build && node scripts/readme-examples.mjs [--check] [files…]
 *
 * (default: README.md and every docs/*.md)
 *
 * --check changes nothing and exits 1 when an example is not what the
 * command prints today.
 */
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const files = args.filter((a) => a !== '--check');
if (files.length === 0) files.push('README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`));

function run(command) {
  const cmd = command.replace(/\bnpx nfsight\b/g, 'node dist/src/cli/main.js');
  try {
    return execSync(`{ ${cmd} ; } 2>&1`, {
      cwd: root,
      encoding: 'utf8',
      shell: '/bin/bash',
      env: { ...process.env, COLUMNS: '80', NO_COLOR: '1' },
      maxBuffer: 64 << 20,
    });
  } catch (e) {
    // A command that exits non-zero on purpose (`; echo "exit $?"` shows it).
    return e.stdout ?? '';
  }
}

let stale = 0;
for (const file of files) {
  const path = join(root, file);
  const lines = readFileSync(path, 'utf8').split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]);
    if (lines[i] !== '```text' || !lines[i + 1]?.startsWith('$ ')) continue;
    let end = i + 1;
    while (end < lines.length && lines[end] !== '```') end++;
    const block = lines.slice(i + 1, end);
    if (block.some((l) => l.startsWith('$ ') && l.includes('npm run bench'))) continue;
    const fresh = [];
    for (const l of block) {
      if (!l.startsWith('$ ')) continue;
      fresh.push(l, ...run(l.slice(2)).replace(/\n$/, '').split('\n').filter((x, k, a) => !(a.length === 1 && x === '')));
    }
    if (fresh.join('\n') !== block.join('\n')) {
      stale++;
      if (check) console.log(`${file}:${i + 2}: example differs from a real run: ${block[0]}`);
    }
    out.push(...fresh);
    i = end - 1;
  }
  if (!check) writeFileSync(path, out.join('\n'));
}
if (check && stale > 0) process.exit(1);
if (!check) console.log(`${stale} example block(s) regenerated`);
