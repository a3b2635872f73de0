/**
 * What the analysing subcommands share: analyze() as they run it
 * (diagnostics on stderr, warnings left out with --quiet, the progress line
 * on a terminal, the exit status input that could not be read calls for),
 * and option values read by the report's parsers.
 */
import { InvalidArgumentError } from 'commander';
import { analyze, type AnalyzeOptions } from '../analyze.js';
import type { TimeWindow } from '../capture/time-window.js';
import type { Report } from '../report/model.js';
import { diagnosticPrinter, EXIT_USAGE, type CliIo } from './common.js';
import { progressLine } from './progress.js';
import { isTerminal, stderrStream } from './stdio.js';

export interface AnalyzeCliOptions {
  quiet?: boolean;
  nfsPort?: number[];
  timeWindow?: TimeWindow;
  maxMemory?: number;
}

/**
 * The report, with `status` 0, or EXIT_USAGE when some input could not be
 * read whole (missing, not a capture, corrupt part way, cut short); `report` is
 * undefined when none could be read at all, or the inputs repeat one (the
 * error was printed).
 */
export async function analyzeForCli(
  files: string[],
  opts: AnalyzeCliOptions,
  io: Pick<CliIo, 'err'>,
  more: Omit<AnalyzeOptions, 'onDiagnostic' | 'onProgress' | 'nfsPorts' | 'timeWindow' | 'maxMemory'> = {},
): Promise<{ report: Report | undefined; status: number }> {
  const twice = repeatedInput(files);
  if (twice !== undefined) {
    io.err(`nfsight: error: ${twice}\n`);
    return { report: undefined, status: EXIT_USAGE };
  }
  // Asked of fstat first: process.stderr, built for a pipe or file, would load Node's streams for nothing.
  const progress = opts.quiet || !isTerminal(2) ? undefined : progressLine(stderrStream());
  const printDiagnostic = diagnosticPrinter(io.err, opts.quiet);
  const report = await analyze(files, {
    ...more,
    onDiagnostic: (d) => {
      progress?.clear();
      printDiagnostic(d);
    },
    ...(progress ? { onProgress: progress.onProgress } : {}),
    ...(opts.nfsPort ? { nfsPorts: opts.nfsPort } : {}),
    ...(opts.timeWindow ? { timeWindow: opts.timeWindow } : {}),
    ...(opts.maxMemory ? { maxMemory: opts.maxMemory } : {}),
  });
  progress?.clear();
  const unreadable = report.capture.files.filter((f) => f.failed && f.frames === 0).length;
  if (unreadable === report.capture.files.length) return { report: undefined, status: EXIT_USAGE };
  // A file that failed part way (a corrupt block) or ends inside a record (cut short) is analysed up
  // to that point, and the exit status says it was not read whole (as tshark's does), so that a
  // script or CI job never takes a damaged capture's report for a complete one.
  return { report, status: report.capture.files.some((f) => f.failed || f.truncated) ? EXIT_USAGE : 0 };
}

/**
 * Why these inputs cannot be read as one capture, or undefined: standard
 * input given twice (the second would read nothing), or a file given twice
 * (its every call would count twice).
 */
export function repeatedInput(files: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f)) return f === '-' ? 'standard input (-) can be read only once' : `${f} is given twice (its calls would count twice)`;
    seen.add(f);
  }
  return undefined;
}

/**
 * A commander argument parser from a parser that throws one of `syntaxErrors`
 * for a value it cannot read (shown as the option's usage error).
 */
export function parsedArg<T>(parse: (s: string) => T, ...syntaxErrors: (abstract new (...args: never[]) => Error)[]): (s: string) => T {
  return (s) => {
    try {
      return parse(s);
    } catch (e) {
      if (syntaxErrors.some((c) => e instanceof c)) throw new InvalidArgumentError((e as Error).message);
      throw e;
    }
  };
}
