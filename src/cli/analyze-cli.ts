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

export interface AnalyzeCliOptions {
  quiet?: boolean;
  nfsPort?: number[];
  timeWindow?: TimeWindow;
  maxMemory?: number;
}

/**
 * The report, with `status` 0, or EXIT_USAGE when some input could not be
 * read at all; `report` is undefined when none could (the error was printed).
 */
export async function analyzeForCli(
  files: string[],
  opts: AnalyzeCliOptions,
  io: Pick<CliIo, 'err'>,
  more: Omit<AnalyzeOptions, 'onDiagnostic' | 'onProgress' | 'nfsPorts' | 'timeWindow' | 'maxMemory'> = {},
): Promise<{ report: Report | undefined; status: number }> {
  const progress = opts.quiet ? undefined : progressLine(process.stderr);
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
  return { report, status: unreadable > 0 ? EXIT_USAGE : 0 };
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
