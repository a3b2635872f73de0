/**
 * What the nfsight command's shebang line gives Node: the environment it
 * sets and the V8 flags it passes (`#!/usr/bin/env -S NAME=value node
 * --flag ...`), so that the benchmarks run the command as a user's shell
 * does, by `node` with those flags and that environment.
 */
import { readFileSync } from 'node:fs';

export interface CommandLine {
  /** NAME=value assignments before `node` (glibc's malloc settings). */
  env: Record<string, string>;
  /** Node's and V8's flags after `node`. */
  flags: string[];
}

/** Parses a script's first line; a script without a shebang gives nothing. */
export function readShebang(script: string): CommandLine {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\S*env\s+(?:-S\s+)?(.*?)\bnode\b(.*)$/.exec(first);
  if (m === null) return { env: {}, flags: [] };
  const env: Record<string, string> = {};
  for (const a of m[1]!.trim().split(/\s+/).filter(Boolean)) {
    const eq = a.indexOf('=');
    if (eq > 0) env[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return { env, flags: m[2]!.trim().split(/\s+/).filter(Boolean) };
}
