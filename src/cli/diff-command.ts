/**
 * `nfsight diff <baseline> <candidate>`: per operation, the change in calls,
 * errors and latency percentiles between two captures (or saved JSON
 * reports), with a verdict per row. Exit status 0, or 1 with
 * `--fail-on-regression` when a row regressed; 2 on bad usage or input.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { operationLabel } from '../analysis/operation-cap.js';
import { DEFAULT_TOLERANCE, diffReports, DIFF_STATS, parseMs, parsePercent, VERDICTS, type DiffResult, type DiffRow, type DiffSide } from '../check/diff.js';
import type { Report } from '../report/model.js';
import { DEFAULT_WIDTH, fitTable, wrapText } from '../report/terminal.js';
import { EXIT_FAIL, inputFailed, loadReport, type InputOptions } from './check-command.js';
import { collectPorts, MAX_MEMORY_HELP, maxMemoryOption, NFS_PORT_HELP, processIo, TIME_WINDOW_HELP, timeWindowOption, type CliIo } from './common.js';

export interface DiffOptions extends InputOptions {
  format: 'table' | 'json';
  tolerance: number;
  toleranceMs: number;
  failOnRegression?: boolean;
  changedOnly?: boolean;
}

/** `before → after` (counts as they are, latency in ms with 3 decimals); one figure when unchanged. */
function cell(b: DiffSide | null, c: DiffSide | null, f: (s: DiffSide) => number | null, ms = false): string {
  const num = (n: number | null): string => (n === null ? '-' : ms ? n.toFixed(3) : String(n));
  if (b === null) return `- → ${num(f(c!))}`;
  if (c === null) return `${num(f(b))} → -`;
  const x = f(b);
  const y = f(c);
  return x === y ? num(x) : `${num(x)} → ${num(y)}`;
}

/** The rows as a table, then one line per verdict count. */
export function renderDiffTable(result: DiffResult, rows: readonly DiffRow[], color: boolean, width = DEFAULT_WIDTH): string {
  const paint = (s: string, code: number): string => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const t = fitTable(
    [
      { head: 'operation', min: 36 },
      { head: 'calls', align: 'right', drop: 2 },
      { head: 'errors', align: 'right' },
      ...DIFF_STATS.map((s, i) => ({ head: `${s} ms`, align: 'right' as const, ...(s === 'p99' ? {} : { drop: 1 + i / 10 }) })),
      { head: 'verdict' },
    ],
    rows.map((r) => {
      const verdict = r.verdict === 'regressed' ? paint(r.verdict, 31) : r.verdict === 'improved' ? paint(r.verdict, 32) : r.verdict;
      return [
        operationLabel(r),
        cell(r.baseline, r.candidate, (s) => s.calls),
        cell(r.baseline, r.candidate, (s) => s.errors),
        ...DIFF_STATS.map((s) => cell(r.baseline, r.candidate, (x) => x[s], true)),
        verdict,
      ];
    }),
    { width, color },
  );
  const tol = `tolerance ${result.tolerance.percent}% and ${result.tolerance.ms} ms`;
  const counts = VERDICTS.filter((v) => result.summary[v] > 0).map((v) => `${result.summary[v]} ${v}`);
  const summary = wrapText(`${result.rows.length} operations (${tol}): ${counts.join(', ') || 'none'}`, width).join('\n');
  return `${rows.length > 0 ? t.text + '\n' : 'No operations to compare.\n'}${summary}\n`;
}

/** Runs the comparison; returns the exit status. */
export async function runDiff(baseline: string, candidate: string, opts: DiffOptions, io: CliIo): Promise<number> {
  let a: Report;
  let b: Report;
  try {
    a = await loadReport([baseline], opts, io, 'diff compares');
    b = await loadReport([candidate], opts, io, 'diff compares');
  } catch (err) {
    return inputFailed(err, io);
  }
  const result = diffReports(a, b, { percent: opts.tolerance, ms: opts.toleranceMs });
  const rows = opts.changedOnly ? result.rows.filter((r) => r.verdict !== 'unchanged') : result.rows;
  if (opts.format === 'json') io.out(JSON.stringify({ baseline, candidate, ...result, rows }, null, 2) + '\n');
  else io.out(renderDiffTable(result, rows, io.color, io.width));
  return opts.failOnRegression && result.regressed ? EXIT_FAIL : 0;
}

function arg<T>(parse: (s: string) => T): (s: string) => T {
  return (s) => {
    try {
      return parse(s);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

const HELP_AFTER = `
Inputs ending in .json are saved reports (nfsight report --format json);
anything else is a capture. A latency percentile counts as changed when it
moved by more than both --tolerance (of the baseline's figure) and
--tolerance-ms; the error rate when it moved by more than --tolerance of the
baseline's rate. Verdicts: regressed, improved, within tolerance, unchanged,
new, gone. Call counts are shown but do not decide the verdict.

Examples:
  nfsight diff before.pcap after.pcap
  nfsight diff baseline.json after.pcap --tolerance 20% --tolerance-ms 5 \\
    --fail-on-regression`;

/** Adds `diff` to the program. `io` defaults to the process's streams (tests pass their own). */
export function addDiffCommand(program: Command, io: CliIo = processIo()): Command {
  return program
    .command('diff')
    .description('per operation, the change in calls, errors and latency percentiles between two captures or JSON reports, with a verdict')
    .argument('<baseline>', 'capture or saved JSON report (.json) to compare against')
    .argument('<candidate>', 'capture or saved JSON report (.json) to compare')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--tolerance <percent>', "relative tolerance, percent of the baseline's figure", arg(parsePercent), DEFAULT_TOLERANCE.percent)
    .option('--tolerance-ms <ms>', 'absolute latency floor, ms (1, 0.5ms, 2s)', arg(parseMs), DEFAULT_TOLERANCE.ms)
    .option('--fail-on-regression', 'exit status 1 when an operation regressed')
    .option('--changed-only', 'leave out the unchanged rows')
    .option('-q, --quiet', 'print only errors on stderr, not warnings')
    .option('--nfs-port <ports>', NFS_PORT_HELP, collectPorts)
    .option('--time-window <START..END>', TIME_WINDOW_HELP, timeWindowOption)
    .option('--max-memory <size>', MAX_MEMORY_HELP, maxMemoryOption)
    .addHelpText('after', HELP_AFTER)
    .action(async (baseline: string, candidate: string, opts: DiffOptions) => {
      io.setExitCode(await runDiff(baseline, candidate, opts, io));
    });
}
