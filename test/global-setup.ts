/**
 * Before any test file runs: the CLI tests spawn the built CLI
 * (dist/src/cli/main.js), which `npx vitest run` does not rebuild. If any
 * source file is newer than its built file (or that is missing), build
 * first; if the build fails, stop here with tsc's messages rather than test
 * stale code. `npm test` builds before vitest starts, so this is then only
 * the check.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What the CLI is built from (tsconfig.json also builds bench/ and test/gen/, which the CLI does not run). */
const SOURCES = ['src', 'decoders'];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const mtime = (p: string): number => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
};

/** The first source file whose built .js is missing or older than it; undefined when dist is fresh. */
export function staleSource(root = ROOT): string | undefined {
  for (const dir of SOURCES) {
    for (const src of tsFiles(join(root, dir))) {
      const rel = relative(root, src);
      const built = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
      if (mtime(built) < mtime(src)) return rel;
    }
  }
  return undefined;
}

export default function setup(): void {
  const stale = staleSource();
  if (stale === undefined) return;
  process.stderr.write(`global-setup: dist/ is older than ${stale}: building (tsc -p tsconfig.json)\n`);
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`the build failed, so the CLI tests would run stale code:\n${r.stdout}${r.stderr}`);
  }
  const still = staleSource();
  if (still !== undefined) throw new Error(`built, but dist/ is still older than ${still}`);
}
