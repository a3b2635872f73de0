/**
 * `npm run bench:hostile`: the hostile capture shapes of issue 16 at full
 * size (test/gen/hostile.ts; kept in BENCH_DIR, default bench/out/), each
 * analysed by `nfsight report --format json` in a fresh process, as plain
 * `node` without V8 flags (what the acceptance asks) and as the command
 * runs (its shebang's V8 flags): CPU time (user + system), wall time, peak
 * RSS, exit status, whether the memory warning was printed and what the
 * report says was dropped. Then 100,000 live NFS connections with one
 * outstanding call each; the wide capture (test/gen/wide.ts) at 60 and
 * 300 MB, whose peak RSS must not grow with its length; 100,000 distinct
 * operations (test/gen/operation-flood.ts); and the shapes at
 * 1,000,000 connections or calls (BENCH_HOSTILE_LARGE=1) to check that
 * time stays linear.
 *
 *   BENCH_HOSTILE=both npm run bench:hostile     # some shapes only
 *   BENCH_HOSTILE=none npm run bench             # `npm run bench` without them
 *
 * `npm run bench` runs it after the workloads of bench/bench.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHostileFile, writeLiveFile, type HostileCounts } from '../test/gen/hostile.js';
import { writeWideFile } from '../test/gen/wide.js';
import { writeOperationFloodFile } from '../test/gen/operation-flood.js';
import { readShebang } from './shebang.js';

/** Bumped when the generator's output changes, so cached captures are made again. */
const GENERATOR_VERSION = 2;

interface Shape {
  name: string;
  what: string;
  write: (path: string) => HostileCounts;
  large?: boolean;
}

const SHAPES: Shape[] = [
  {
    name: 'connections',
    what: '400,000 TCP connections, each one 100-byte segment far ahead of its sequence',
    write: (p) => writeHostileFile(p, { connections: 400_000, calls: 0, hugeRecord: false }),
  },
  {
    name: 'calls',
    what: 'one connection, 250,000 NFSv3 GETATTR calls never answered',
    write: (p) => writeHostileFile(p, { connections: 0, calls: 250_000, hugeRecord: false }),
  },
  {
    name: 'both',
    what: 'both, interleaved, plus record marks claiming 2 GiB and 16 MiB',
    write: (p) => writeHostileFile(p, { connections: 400_000, calls: 250_000, hugeRecord: true }),
  },
  {
    name: 'live',
    what: '100,000 live NFS connections, each with one outstanding call',
    write: (p) => writeLiveFile(p, { connections: 100_000, answered: 0, outstanding: 1 }),
  },
  {
    name: 'crafted-xids',
    what: 'one connection, 100,000 calls never answered whose xids share one hash chain of an unseeded call index (took 15.9 s for 60,000 before the per-process seed)',
    write: (p) => writeLiveFile(p, { connections: 1, answered: 0, outstanding: 100_000, craftedXids: true }),
  },
  {
    name: 'wide-60',
    what: 'wide: 3,000 connections to 2,000 servers, files without end, 60 MB (RSS flat with capture size: compare wide-300)',
    write: (p) => writeWideFile(p, { targetBytes: 60e6 }),
  },
  {
    name: 'wide-300',
    what: 'wide: the same over 300 MB (about 318,000 calls, 72 minutes)',
    write: (p) => writeWideFile(p, { targetBytes: 300e6 }),
  },
  {
    name: 'operations',
    what: '100,000 distinct operations (random programs, versions and NFSv3 procedure numbers), one call each, every other one an error (docs/memory.md, session 34)',
    write: (p) => {
      const c = writeOperationFloodFile(p, { operations: 100_000, getattrs: 20 });
      return { frames: c.frames, bytes: c.bytes, tcpConnections: 1, calls: c.calls };
    },
  },
  {
    name: 'connections-1M',
    what: '1,000,000 connections of the first shape (time stays linear)',
    write: (p) => writeHostileFile(p, { connections: 1_000_000, calls: 0, hugeRecord: false }),
    large: true,
  },
  {
    name: 'calls-1M',
    what: '1,000,000 calls of the second shape (time stays linear)',
    write: (p) => writeHostileFile(p, { connections: 0, calls: 1_000_000, hugeRecord: false }),
    large: true,
  },
];

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs as dist/bench/hostile.js). */
const root = resolve(here, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const env = process.env;
const dir = resolve(env['BENCH_DIR'] ?? join(root, 'bench', 'out'));
mkdirSync(dir, { recursive: true });
const only = env['BENCH_HOSTILE']?.split(',');
if (only?.includes('none') === true) process.exit(0);
const large = env['BENCH_HOSTILE_LARGE'] === '1';


interface Run {
  cpu: number;
  wall: number;
  rssMB: number;
  status: number | null;
  warning: boolean;
  dropped: Record<string, number> | undefined;
}

/** `nfsight report --format json FILE` under /usr/bin/time: CPU, wall, peak RSS, the warning, the drop counters. */
function run(file: string, flags: string[], commandEnv: Record<string, string> = {}): Run {
  const t = mkdtempSync(join(tmpdir(), 'nfsight-hostile-'));
  const stats = join(t, 'time');
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', stats, process.execPath, ...flags, '--no-deprecation', cli, 'report', '--format', 'json', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, ...commandEnv },
  });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const [user, sys, rssKB] = readFileSync(stats, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number);
  rmSync(t, { recursive: true, force: true });
  let dropped: Record<string, number> | undefined;
  try {
    dropped = (JSON.parse(r.stdout) as { memory: { dropped: Record<string, number> } }).memory.dropped;
  } catch {
    process.stderr.write(`${file}: no JSON report (exit ${r.status}): ${r.stderr.slice(0, 300)}\n`);
  }
  return { cpu: user! + sys!, wall, rssMB: rssKB! / 1024, status: r.status, warning: /warning: .*memory limit/s.test(r.stderr), dropped };
}

const plainRows: string[] = [];
for (const shape of SHAPES) {
  if (only !== undefined ? !only.includes(shape.name) : shape.large === true && !large) continue;
  const file = join(dir, `hostile-v${GENERATOR_VERSION}-${shape.name}.pcap`);
  const countsFile = `${file}.json`;
  if (!existsSync(file) || !existsSync(countsFile)) {
    process.stderr.write(`generating ${file} ...\n`);
    const counts = shape.write(`${file}.partial`);
    renameSync(`${file}.partial`, file);
    writeFileSync(countsFile, JSON.stringify(counts));
  }
  const counts = JSON.parse(readFileSync(countsFile, 'utf8')) as HostileCounts;
  readFileSync(file); // into the page cache: not a disk benchmark
  const plain = run(file, []);
  const shebang = readShebang(cli);
  const command = run(file, shebang.flags, shebang.env);
  const dropped = Object.entries(plain.dropped ?? {})
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  console.log(`${shape.name}: ${shape.what}`);
  console.log(`  ${counts.frames} frames, ${(counts.bytes / 1e6).toFixed(0)} MB, ${counts.tcpConnections} connections, ${counts.calls} calls`);
  for (const [how, r] of [['node', plain], ['command', command]] as const) {
    console.log(`  ${how.padEnd(8)} CPU ${r.cpu.toFixed(1)} s, wall ${r.wall.toFixed(1)} s, peak RSS ${r.rssMB.toFixed(0)} MB, exit ${r.status}, warning ${r.warning ? 'yes' : 'no'}`);
  }
  console.log(`  dropped: ${dropped || 'nothing'}`);
  plainRows.push(`| ${shape.name} | ${plain.cpu.toFixed(1)} | ${plain.rssMB.toFixed(0)} | ${command.cpu.toFixed(1)} | ${command.rssMB.toFixed(0)} | ${dropped || 'nothing'} |`);
}
console.log('\n| shape | node CPU s | node RSS MB | command CPU s | command RSS MB | dropped |\n|---|---|---|---|---|---|');
for (const r of plainRows) console.log(r);
