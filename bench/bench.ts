/**
 * `npm run bench`: generates benchmark captures (bench/generate.ts, cached
 * in bench/out/) and times `nfsight report --format json` on each in fresh
 * processes, side by side with nfstrace (`-m stat` with its breakdown
 * analyzer) and tshark (`-q -z rpc,srt,100003,3 -z rpc,srt,100003,4`) when
 * they are installed; then nfsight's peak memory (as the command runs, and
 * as plain `node` without V8 flags, as a library user's process does), a
 * per-stage breakdown of its CPU time, and its startup time.
 *
 * Wall times are medians of BENCH_RUNS runs (default 3) in the same run of
 * the benchmark; CPU is user + system time (from /usr/bin/time, when it is
 * there). Settings (environment):
 *   BENCH_WORKLOADS=read,read-tso,write-tso,meta,replay   which workloads
 *                           (replay: the bundled real captures replayed by
 *                           many clients at once, test/gen/replay.ts)
 *   BENCH_SIZES=256M,1G     sizes of `read` (the first is the medium size
 *                           of the memory check, the last the large one)
 *   BENCH_SIZE=1G           size of the other generated workloads
 *   BENCH_REPLAY_SIZE=256M  size of `replay` (real traffic costs about ten
 *                           times more per byte than the generated shapes)
 *   BENCH_RUNS=3            runs per measurement
 *   BENCH_TOOLS=nfstrace,tshark   comparison tools (`none` for none)
 *   BENCH_DIR=bench/out     where the captures are kept
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED, generateCapture, WORKLOADS, type Workload } from './generate.js';
import { readShebang } from './shebang.js';
import { stageBreakdown, STAGES, type StageShares } from './stages.js';

/** Bumped when the generator's output changes, so cached captures are made again. */
const GENERATOR_VERSION = 2;

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs as dist/bench/bench.js). */
const root = resolve(here, '..', '..');
/** The CLI unbundled: its profile names each source file, for the per-stage breakdown. */
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
/** The `nfsight` command as installed, what is timed: the CLI bundled into one file (scripts/bundle.mjs). */
const command = join(root, 'dist', 'nfsight.cjs');
const smallCapture = join(root, 'captures', 'linux-v42-basic-head.pcap');

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(s.trim());
  if (!m) throw new Error(`bad size ${s}: use e.g. 256M or 1G`);
  const unit = { '': 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * unit);
}

const env = process.env;
const workloads = (env['BENCH_WORKLOADS'] ?? WORKLOADS.join(',')).split(',').map((w) => {
  if (!WORKLOADS.includes(w as Workload)) throw new Error(`unknown workload ${w}: one of ${WORKLOADS.join(', ')}`);
  return w as Workload;
});
const readSizes = (env['BENCH_SIZES'] ?? '256M,1G').split(',').map(parseSize);
const otherSize = parseSize(env['BENCH_SIZE'] ?? '1G');
const replaySize = parseSize(env['BENCH_REPLAY_SIZE'] ?? '256M');
const runs = Math.max(1, Number(env['BENCH_RUNS'] ?? 3));
const toolNames = (env['BENCH_TOOLS'] ?? 'nfstrace,tshark').split(',').filter((t) => t !== 'none' && t !== '');
const dir = resolve(env['BENCH_DIR'] ?? join(root, 'bench', 'out'));
mkdirSync(dir, { recursive: true });

// ---------------------------------------------------------------- measuring

interface Measured {
  wall: number;
  /** User + system CPU seconds, when /usr/bin/time could tell. */
  cpu: number | undefined;
  rssMB: number | undefined;
}

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/**
 * Where the measured commands run: nfstrace's breakdown analyzer writes a
 * file per connection into its working directory. Removed at the end.
 */
const scratch = mkdtempSync(join(tmpdir(), 'nfsight-bench-cwd-'));

/** Runs a command with its output discarded (in `scratch`); its wall time, CPU time and peak RSS. */
function measure(cmd: string, args: string[], env: Record<string, string> = {}): Measured {
  const started = process.hrtime.bigint();
  let out: ReturnType<typeof spawnSync>;
  let statsFile: string | undefined;
  if (GNU_TIME !== undefined) {
    const t = mkdtempSync(join(tmpdir(), 'nfsight-bench-'));
    statsFile = join(t, 'time');
    out = spawnSync(GNU_TIME, ['-f', '%U %S %M', '-o', statsFile, cmd, ...args], { cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20, env: { ...process.env, ...env } });
  } else {
    out = spawnSync(cmd, args, { cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20, env: { ...process.env, ...env } });
  }
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (out.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${out.status}): ${String(out.stderr).slice(0, 500)}`);
  if (statsFile === undefined) return { wall, cpu: undefined, rssMB: undefined };
  const [user, sys, rssKB] = readFileSync(statsFile, 'utf8').trim().split(/\s+/).map(Number);
  rmSync(dirname(statsFile), { recursive: true, force: true });
  return { wall, cpu: user! + sys!, rssMB: rssKB! / 1024 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function medianOf(ms: Measured[]): Measured {
  const cpus = ms.map((m) => m.cpu).filter((c): c is number => c !== undefined);
  const rss = ms.map((m) => m.rssMB).filter((c): c is number => c !== undefined);
  return { wall: median(ms.map((m) => m.wall)), cpu: cpus.length ? median(cpus) : undefined, rssMB: rss.length ? Math.max(...rss) : undefined };
}

/** Reads a file once so that the runs that follow read it from the page cache. */
async function warm(file: string): Promise<void> {
  for await (const _ of createReadStream(file, { highWaterMark: 1 << 20 })) {
    // just reading
  }
}

// ---------------------------------------------------------------- the commands

/** `report --format json` on a file, by the command (bundled) or, for the profile, by the unbundled CLI. */
const nfsightArgs = (file: string, flags: string[], script = command): string[] => [...flags, '--no-deprecation', script, 'report', '--format', 'json', file];

interface Tool {
  name: string;
  args: (file: string) => [string, string[]];
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** nfstrace's breakdown analyzer, wherever the package put it. */
function breakdownAnalyzer(): string | undefined {
  const candidates = ['/usr/lib/nfstrace/libbreakdown.so', '/usr/lib/x86_64-linux-gnu/nfstrace/libbreakdown.so', '/usr/local/lib/nfstrace/libbreakdown.so'];
  const listed = spawnSync('dpkg', ['-L', 'nfstrace'], { encoding: 'utf8' });
  if (listed.status === 0) candidates.unshift(...listed.stdout.split('\n').filter((l) => l.endsWith('/libbreakdown.so')));
  return candidates.find((c) => existsSync(c));
}

function tools(): Tool[] {
  const found: Tool[] = [];
  for (const name of toolNames) {
    if (name === 'nfstrace') {
      const exe = which('nfstrace');
      const so = breakdownAnalyzer();
      if (exe === undefined || so === undefined) continue;
      const log = join(tmpdir(), 'nfsight-bench-nfstrace.log');
      found.push({ name, args: (file) => [exe, ['-m', 'stat', '-I', file, '-a', so, `--log=${log}`]] });
    } else if (name === 'tshark') {
      const exe = which('tshark');
      if (exe === undefined) continue;
      found.push({ name, args: (file) => [exe, ['-r', file, '-q', '-z', 'rpc,srt,100003,3', '-z', 'rpc,srt,100003,4']] });
    } else {
      throw new Error(`unknown tool ${name}: nfstrace or tshark`);
    }
  }
  return found;
}

// ---------------------------------------------------------------- captures

async function capture(workload: Workload, size: number): Promise<string> {
  const file = join(dir, `${workload}-v${GENERATOR_VERSION}-${size}.pcap`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${file} ...\n`);
    const tmp = `${file}.partial`;
    generateCapture(tmp, size, workload);
    renameSync(tmp, file);
  }
  await warm(file);
  return file;
}

/** What the library's analyze() reads of a capture (a fresh process, no V8 flags), checked to be clean. */
interface LibraryRun {
  bytes: number;
  frames: number;
  transactions: number;
  tcpGaps: number;
  peakRssMB: number;
  retainedHeapMB: number;
}

function libraryRun(file: string, workload: Workload): LibraryRun {
  const out = execFileSync(process.execPath, ['--expose-gc', join(here, 'run-one.js'), file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const r = JSON.parse(out) as LibraryRun;
  // A replay of real captures has their losses; a generated capture has none.
  if (GENERATED.includes(workload) && r.tcpGaps !== 0) throw new Error(`${file}: ${r.tcpGaps} bytes in gaps on a clean generated capture`);
  return r;
}

// ---------------------------------------------------------------- the run

interface Row {
  workload: Workload;
  file: string;
  bytes: number;
  frames: number;
  calls: number;
  nfsight: Measured;
  plain: Measured;
  library: LibraryRun;
  others: Map<string, Measured>;
  stages: StageShares | undefined;
}

const comparison = tools();
/** "tool file" → why it failed; a tool failing on a capture is not run on it again. */
const failedTools = new Map<string, string>();
// The command as its shebang runs it: V8 flags and environment.
const { flags, env: commandEnv } = readShebang(command);
const rows: Row[] = [];
const plan: [Workload, number][] = [];
for (const w of workloads) {
  if (w === 'read') for (const s of readSizes) plan.push([w, s]);
  else plan.push([w, w === 'replay' ? replaySize : otherSize]);
}
const largestRead = Math.max(...readSizes);
for (const [workload, size] of plan) {
  const file = await capture(workload, size);
  const library = libraryRun(file, workload);
  const nfsight: Measured[] = [];
  const plain: Measured[] = [];
  const others = new Map<string, Measured[]>();
  // Compare tools on the largest capture of each workload only: they are slow.
  const compare = workload !== 'read' || size === largestRead ? comparison : [];
  for (let i = 0; i < runs; i++) {
    nfsight.push(measure(process.execPath, nfsightArgs(file, flags), commandEnv));
    plain.push(measure(process.execPath, nfsightArgs(file, [])));
    for (const t of compare) {
      if (failedTools.has(`${t.name} ${file}`)) continue;
      const [cmd, args] = t.args(file);
      const list = others.get(t.name) ?? [];
      try {
        list.push(measure(cmd, args));
      } catch (err) {
        // nfstrace 0.4.3 aborts on some real traffic (std::out_of_range): said, not fatal.
        failedTools.set(`${t.name} ${file}`, String((err as Error).message).split('\n')[0]!.slice(0, 160));
        continue;
      }
      others.set(t.name, list);
    }
  }
  let stages: StageShares | undefined;
  if (env['BENCH_STAGES'] !== '0') {
    const profDir = mkdtempSync(join(tmpdir(), 'nfsight-prof-'));
    measure(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ...nfsightArgs(file, flags, cli)], commandEnv);
    const prof = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (prof) stages = stageBreakdown(JSON.parse(readFileSync(join(profDir, prof), 'utf8')));
    rmSync(profDir, { recursive: true, force: true });
  }
  rows.push({
    workload,
    file,
    bytes: statSync(file).size,
    frames: library.frames,
    calls: library.transactions,
    nfsight: medianOf(nfsight),
    plain: medianOf(plain),
    library,
    others: new Map([...others].map(([k, v]) => [k, medianOf(v)])),
    stages,
  });
}

// Startup: Node itself, a command that reads nothing, and a report on a 100 KB
// capture, by the command (bundled) and by the unbundled CLI.
const startupRuns = 10;
const startup = (f: () => Measured): Measured => medianOf(Array.from({ length: startupRuns }, f));
const nodeAlone = startup(() => measure(process.execPath, [...flags, '-e', '0'], commandEnv));
const version = startup(() => measure(process.execPath, [...flags, command, '--version'], commandEnv));
const versionUnbundled = startup(() => measure(process.execPath, [...flags, cli, '--version'], commandEnv));
const small = startup(() => measure(process.execPath, nfsightArgs(smallCapture, flags), commandEnv));
const smallUnbundled = startup(() => measure(process.execPath, nfsightArgs(smallCapture, flags, cli), commandEnv));

// ---------------------------------------------------------------- printing

const mb = (b: number): string => `${(b / 1e6).toFixed(0)} MB`;
const sec = (s: number | undefined): string => (s === undefined ? '-' : s.toFixed(2));
const pad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const line = (cells: string[], widths: number[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[0]!) : pad(c, widths[i]!))).join('');
const cpuCount = (await import('node:os')).cpus().length;

console.log(`nfsight benchmark: Node ${process.version}, ${process.platform} ${process.arch}, ${cpuCount} CPUs`);
console.log(`Medians of ${runs} runs of \`report --format json\`; wall seconds, CPU = user + system.`);
console.log(`Captures in ${dir}.`);
console.log('');
const others = comparison.map((t) => t.name);
const w1 = [11, 9, 8, 7, 6, ...others.map(() => 9), ...others.map(() => 8)];
console.log(line(['workload', 'capture', 'nfsight', 'CPU', 'GB/s', ...others, ...others.map((o) => `×${o.slice(0, 6)}`)], w1));
for (const r of rows) {
  const cells = [
    r.workload,
    mb(r.bytes),
    sec(r.nfsight.wall),
    sec(r.nfsight.cpu),
    (r.bytes / 1e9 / r.nfsight.wall).toFixed(2),
    ...others.map((o) => sec(r.others.get(o)?.wall)),
    ...others.map((o) => {
      const m = r.others.get(o);
      return m ? (r.nfsight.wall / m.wall).toFixed(2) : '-';
    }),
  ];
  console.log(line(cells, w1));
}
if (others.length > 0) {
  console.log('');
  console.log(line(['CPU seconds', 'nfsight', ...others], [16, 9, ...others.map(() => 9)]));
  for (const r of rows) {
    if (r.others.size === 0) continue;
    console.log(line([`${r.workload} ${mb(r.bytes)}`, sec(r.nfsight.cpu), ...others.map((o) => sec(r.others.get(o)?.cpu))], [16, 9, ...others.map(() => 9)]));
  }
} else {
  console.log('(nfstrace and tshark not found or not asked for: no comparison)');
}
for (const [which, why] of failedTools) console.log(`failed (shown as -): ${which}: ${why}`);

console.log('');
const w2 = [20, 12, 9, 11, 10, 11];
console.log(line(['peak RSS', 'frames', 'calls', 'command', 'node', 'analyze()'], w2));
for (const r of rows) {
  const rss = (m: number | undefined): string => (m === undefined ? '-' : `${m.toFixed(0)} MB`);
  console.log(line([`${r.workload} ${mb(r.bytes)}`, String(r.frames), String(r.calls), rss(r.nfsight.rssMB), rss(r.plain.rssMB), rss(r.library.peakRssMB)], w2));
}
const reads = rows.filter((r) => r.workload === 'read');
if (reads.length > 1) {
  const medium = reads[0]!;
  const large = reads[reads.length - 1]!;
  const ratio = (a: number | undefined, b: number | undefined): string => (a && b ? (a / b).toFixed(2) : '-');
  console.log(
    line(['large/medium', '', '', ratio(large.nfsight.rssMB, medium.nfsight.rssMB), ratio(large.plain.rssMB, medium.plain.rssMB), ratio(large.library.peakRssMB, medium.library.peakRssMB)], w2) +
      `\n(read ${mb(large.bytes)} / ${mb(medium.bytes)}; command: with its shebang's V8 flags; node: plain node, no flags)`,
  );
}

if (rows.some((r) => r.stages !== undefined)) {
  console.log('');
  console.log('Where the CPU time goes (share of a --cpu-prof profile of one run):');
  const w3 = [16, ...STAGES.map((s) => Math.max(6, s.length + 1))];
  console.log(line(['', ...STAGES], w3));
  for (const r of rows) {
    if (r.stages === undefined) continue;
    console.log(line([`${r.workload} ${mb(r.bytes)}`, ...STAGES.map((s) => `${Math.round(r.stages![s] * 100)}%`)], w3));
  }
}

console.log('');
const ms = (m: Measured): string => `${(m.wall * 1000).toFixed(0)} ms (CPU ${m.cpu === undefined ? '-' : (m.cpu * 1000).toFixed(0)} ms)`;
console.log(`Startup, median of ${startupRuns} runs:`);
const smallName = `report on a ${(statSync(smallCapture).size / 1000).toFixed(0)} KB capture`;
console.log(`  ${'node -e 0 (Node itself)'.padEnd(44)}${ms(nodeAlone)}`);
console.log(`  ${'nfsight --version'.padEnd(44)}${ms(version)}`);
console.log(`  ${smallName.padEnd(44)}${ms(small)}`);
console.log(`  ${'nfsight --version, unbundled'.padEnd(44)}${ms(versionUnbundled)}`);
console.log(`  ${`${smallName}, unbundled`.padEnd(44)}${ms(smallUnbundled)}`);
rmSync(scratch, { recursive: true, force: true });
