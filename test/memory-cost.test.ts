/**
 * What one live connection with one outstanding call costs (issue 16,
 * docs/memory.md "100,000 live connections"): the bytes the memory budget
 * accounts for it must be what the JavaScript heap really holds, measured
 * as the difference of the heap used (after full collections, at the last
 * call) between live captures of two sizes (scripts/heap-per-connection.mjs,
 * in a process of its own). A holder that grows without telling the budget,
 * or a constant left behind after a change, fails here. Both sizes are
 * above 16,384 connections: the detectors stop following more than 10,000
 * connections (their state is bounded by count, outside the budget), and
 * the hash tables of their maps stop growing past 16,384 insertions.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const root = join(fileURLToPath(import.meta.url), '..', '..');

describe('the cost of a live connection', () => {
  it('the bytes accounted per connection with its call are the heap it takes (within 12%), nothing dropped', () => {
    // Both sizes above 16,384: the detectors' maps of at most 10,000 connections have reached their final size.
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'heap-per-connection.mjs'), '20000', '40000'], {
      encoding: 'utf8',
      env: { ...process.env, HEAP_DIR: tempDir() },
    });
    expect(r.status, r.stderr).toBe(0);
    const { heap, accounted, runs } = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      heap: number;
      accounted: number;
      runs: { dropped: Record<string, number> }[];
    };
    for (const run of runs) expect(Object.values(run.dropped).every((n) => n === 0)).toBe(true);
    expect(heap).toBeGreaterThan(500);
    expect(Math.abs(accounted - heap) / heap).toBeLessThan(0.12);
    // docs/memory.md: 2,720 accounted before the matcher's compact records (2026-12-02 evening), 1,990 after;
    // 1,140 after the TCP cut, 750 once connections waiting for nothing are frozen, 645 with their
    // TcpConnection frozen too (2026-12-02 night): 100,000 fit in the default 64M.
    expect(accounted).toBeLessThan(671);
  });
});
