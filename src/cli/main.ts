#!/usr/bin/env node
/**
 * The nfsight command line: argument parsing and wiring only; the work is
 * the library's `analyze()` and the report renderers.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { analyze } from '../analyze.js';
import { formatDiagnostic, type Diagnostic } from '../capture/frame.js';
import { parseTimeWindow, type TimeWindow } from '../capture/time-window.js';
import { renderReportText } from '../report/render-text.js';
import { progressLine } from './progress.js';
import { VERSION } from '../version.js';

/** Exit status for bad usage or input that could not be read at all. */
const EXIT_USAGE = 2;

// pcap-parser calls the deprecated `new Buffer()`; Node's DEP0005 notice is
// meant for its authors, not for nfsight's users. Other warnings still show.
process.removeAllListeners('warning');
process.on('warning', (w: Error & { code?: string }) => {
  if (w.code === 'DEP0005') return;
  process.stderr.write(`${w.name}: ${w.message}\n`);
});

function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && process.env['NO_COLOR'] === undefined;
}

interface ReportOptions {
  format: string;
  quiet?: boolean;
  nfsPort?: number[];
  timeWindow?: TimeWindow;
}

function timeWindowOption(value: string): TimeWindow {
  try {
    return parseTimeWindow(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** `--nfs-port 3049,4049` or repeated: whole port numbers 1-65535. */
function collectPorts(value: string, previous: number[] = []): number[] {
  const ports = value.split(',').map((p) => Number(p.trim()));
  for (const p of ports) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new InvalidArgumentError(`not a port number: ${value}`);
  }
  return [...previous, ...ports];
}

async function runReport(files: string[], opts: ReportOptions): Promise<number> {
  const progress = opts.quiet ? undefined : progressLine(process.stderr);
  const printDiagnostic = (d: Diagnostic): void => {
    if (opts.quiet && d.severity !== 'error') return;
    progress?.clear();
    process.stderr.write(`nfsight: ${formatDiagnostic(d)}\n`);
  };
  const report = await analyze(files, {
    onDiagnostic: printDiagnostic,
    ...(opts.nfsPort ? { nfsPorts: opts.nfsPort } : {}),
    ...(progress ? { onProgress: progress.onProgress } : {}),
    ...(opts.timeWindow ? { timeWindow: opts.timeWindow } : {}),
  });
  progress?.clear();
  // Input that could not be read at all is a usage problem for scripts to see;
  // with nothing read, there is no report to print, only the error above.
  const unreadable = report.capture.files.filter((f) => f.failed && f.frames === 0).length;
  if (unreadable === report.capture.files.length) return EXIT_USAGE;
  if (opts.format === 'json') process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(renderReportText(report, { color: useColor() }));
  return unreadable > 0 ? EXIT_USAGE : 0;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('nfsight')
    .description('Offline analyzer for NFS / ONC-RPC network captures (pcap, pcapng, gzip; - for stdin)')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('report')
    .description('summary of one capture, or of a rotated set read as one continuous capture')
    .argument('<capture...>', 'pcap or pcapng files (optionally gzip-compressed), - for standard input')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('-q, --quiet', 'print only errors on stderr, not warnings')
    .option('--nfs-port <ports>', 'more ports that carry NFS/RPC, besides 2049, 111 and 20048 (comma-separated or repeated)', collectPorts)
    .option('--time-window <START..END>', 'only frames in this window: ISO 8601 times or seconds from the first frame (10..25, ..2.5s)', timeWindowOption)
    .action(async (files: string[], opts: ReportOptions) => {
      process.exitCode = await runReport(files, opts);
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      // Help and version exit 0; every other commander error is bad usage.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    process.stderr.write(`nfsight: internal error: ${e.message ?? String(err)}\n`);
    return 1;
  }
}

// Silence EPIPE when the output is piped into `head` and the pipe closes.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});

main(process.argv).then((code) => {
  process.exitCode = code;
});
