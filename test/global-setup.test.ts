/** The freshness check that makes the CLI tests build what they spawn (test/global-setup.ts). */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staleSource } from './global-setup.js';
import { tempDir } from './helpers.js';

function tree(): string {
  const root = tempDir();
  for (const d of ['src/cli', 'decoders', 'dist/src/cli', 'dist/decoders']) mkdirSync(join(root, d), { recursive: true });
  for (const f of ['src/cli/main.ts', 'decoders/nfs3.ts', 'dist/src/cli/main.js', 'dist/decoders/nfs3.js']) writeFileSync(join(root, f), '');
  return root;
}

const at = (root: string, file: string, seconds: number): void => utimesSync(join(root, file), seconds, seconds);

describe('test/global-setup.ts', () => {
  it('dist as new as every source: fresh', () => {
    const root = tree();
    for (const f of ['src/cli/main.ts', 'decoders/nfs3.ts']) at(root, f, 1000);
    for (const f of ['dist/src/cli/main.js', 'dist/decoders/nfs3.js']) at(root, f, 1000);
    expect(staleSource(root)).toBeUndefined();
  });

  it('a source newer than its built file, or never built: stale, named', () => {
    const root = tree();
    for (const f of ['src/cli/main.ts', 'dist/src/cli/main.js', 'dist/decoders/nfs3.js']) at(root, f, 1000);
    at(root, 'decoders/nfs3.ts', 1001);
    expect(staleSource(root)).toBe(join('decoders', 'nfs3.ts'));
    writeFileSync(join(root, 'src/cli/new-command.ts'), '');
    expect(staleSource(root)).toBe(join('src', 'cli', 'new-command.ts'));
  });
});
