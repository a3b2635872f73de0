/**
 * `npm run bench:calls`: the time of a 20k-call listing, `nfsight calls` as
 * a table against `--format jsonl` (the table must stay within 1.2× of
 * jsonl) and `--format json`, on a generated capture of about 20,000 calls
 * (the bench's metadata-heavy NFSv3/NFSv4.1 mix, cached in the system's
 * temporary folder), or on BENCH_CALLS_FILE. Each format runs BENCH_RUNS
 * times (default 3), interleaved, in a fresh process whose output goes to
 * /dev/null, beside `report --format json` of the same file (what the
 * listing costs beyond the analysis: a listener once made analyze() twice
 * as slow, docs/performance.md, session 39); printed: the median wall time,
 * user+sys CPU and peak RSS of each, and the ratios.
 *
 *   BENCH_RUNS=5 npm run bench:calls
 *   BENCH_CALLS_FILE=bench/out/replay-v2-268435456.pcap npm run bench:calls
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCapture } from './generate.js';
import { readShebang } from './shebang.js';

const CALLS = 20_000;
const runs = Number(process.env['BENCH_RUNS'] ?? 3);
const dir = join(tmpdir(), 'nfsight-bench');
mkdirSync(dir, { recursive: true });
const file = process.env['BENCH_CALLS_FILE'] ?? join(dir, `calls-listing-v2-${CALLS}.pcap`);
if (!existsSync(file)) {
  process.stderr.write(`generating ${file} ...\n`);
  // A call of the metadata mix takes about 1.3 KB of capture with its reply and ACKs.
  generateCapture(`${file}.partial`, CALLS * 1310, 'meta');
  renameSync(`${file}.partial`, file);
}
execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'] });
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
// Run as the command runs: its shebang's V8 flags and environment.
const shebang = readShebang(cli);

interface Run {
  wall: number;
  cpu: number;
  rssMB: number;
}

/** One run under /usr/bin/time (its figures on stderr, the output to /dev/null): wall seconds, user+sys seconds, peak RSS. `report`: the report as JSON. */
function timed(format: string): Run {
  const [subcommand, as] = format === 'report' ? ['report', 'json'] : ['calls', format];
  const text = execFileSync(
    'sh',
    ['-c', `/usr/bin/time -f '%e %U %S %M' "$0" ${shebang.flags.join(' ')} "$1" "$4" --format "$2" "$3" 2>&1 >/dev/null | tail -1`, process.execPath, cli, as, file, subcommand],
    { encoding: 'utf8', env: { ...process.env, ...shebang.env, COLUMNS: '100', NO_COLOR: '1' } },
  );
  const [wall, user, sys, rssKB] = text.trim().split(/\s+/).map(Number);
  return { wall: wall!, cpu: user! + sys!, rssMB: rssKB! / 1024 };
}

const formats = ['report', 'jsonl', 'table', 'json'];
const results = new Map<string, Run[]>(formats.map((f) => [f, []]));
for (let i = 0; i < runs; i++) for (const f of formats) results.get(f)!.push(timed(f));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pad = (s: string, n: number): string => s.padStart(n);
console.log(`${file}: ${process.env['BENCH_CALLS_FILE'] === undefined ? `${CALLS.toLocaleString('en-US')} calls (approx.), ` : ''}${runs} runs each, medians`);
console.log(['format', 'wall s', 'cpu s', 'peak RSS', 'cpu vs jsonl', 'vs report'].map((h, i) => (i === 0 ? h.padEnd(8) : pad(h, 13))).join(''));
const base = median(results.get('jsonl')!.map((r) => r.cpu));
const analysis = median(results.get('report')!.map((r) => r.cpu));
for (const f of formats) {
  const rs = results.get(f)!;
  const cpu = median(rs.map((r) => r.cpu));
  console.log(
    [f.padEnd(8), pad(median(rs.map((r) => r.wall)).toFixed(2), 13), pad(cpu.toFixed(2), 13), pad(`${median(rs.map((r) => r.rssMB)).toFixed(0)} MB`, 13), pad(`${(cpu / base).toFixed(2)}x`, 13), pad(`${(cpu / analysis).toFixed(2)}x`, 13)].join(''),
  );
}
