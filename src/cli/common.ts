/**
 * What the nfsight subcommands share: exit statuses, option parsers,
 * the colour rule and how diagnostics reach stderr. The streams are
 * injectable (`CliIo`) so that commands can be run in-process by tests.
 */
import { InvalidArgumentError } from 'commander';
import { formatDiagnostic, type Diagnostic } from '../capture/frame.js';
import { parseTimeWindow, type TimeWindow } from '../capture/time-window.js';
import { terminalWidth } from '../report/terminal.js';
import { isTerminal, stdoutStream, writeStderr, writeStdout } from './stdio.js';
import { GENERIC_OPERATION, GENERIC_STATUS, operationNames, statusNames, unknownName } from '../check/names.js';

/** Exit status for bad usage or input that could not be read at all. */
export const EXIT_USAGE = 2;
/** An nfsight bug (an exception out of the analysis): the same status as an unusable input, never 0 or 1. */
export const EXIT_INTERNAL = 2;

/** Where a command writes and how it ends. */
export interface CliIo {
  /** Results (stdout). */
  out: (s: string) => void;
  /** Diagnostics and errors (stderr). */
  err: (s: string) => void;
  /** Whether the results may carry colour escapes. */
  color: boolean;
  /** Columns the text output fits (default DEFAULT_WIDTH, 100). */
  width?: number;
  /** Records the command's exit status. */
  setExitCode: (code: number) => void;
}

/** Colour only on a terminal, and never with NO_COLOR set. */
export function useColor(): boolean {
  return isTerminal(1) && process.env['NO_COLOR'] === undefined;
}

/** Columns the text output fits: the terminal's, else COLUMNS, else 100. */
export function outputWidth(): number {
  return terminalWidth(isTerminal(1) ? stdoutStream() : { isTTY: false }, process.env);
}

/** The process's own streams; the exit status goes to process.exitCode. */
export function processIo(): CliIo {
  return {
    out: writeStdout,
    err: writeStderr,
    color: useColor(),
    width: outputWidth(),
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
}

/** `--nfs-port 3049,4049` or repeated: whole port numbers 1-65535. */
export function collectPorts(value: string, previous: number[] = []): number[] {
  const ports = value.split(',').map((p) => Number(p.trim()));
  for (const p of ports) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new InvalidArgumentError(`not a port number: ${value}`);
  }
  return [...previous, ...ports];
}

/** Prints diagnostics as `nfsight: <severity>: …` lines; with `quiet`, errors only. */
export function diagnosticPrinter(err: (s: string) => void, quiet: boolean | undefined): (d: Diagnostic) => void {
  return (d) => {
    if (quiet && d.severity !== 'error') return;
    err(`nfsight: ${formatDiagnostic(d)}\n`);
  };
}

/** `--time-window START..END`, parsed; a bad window is a usage error. */
export function timeWindowOption(value: string): TimeWindow {
  try {
    return parseTimeWindow(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** `--max-memory 512M`: bytes, or a number with K, M or G (powers of 1024, an optional B); at least 1M. */
export function maxMemoryOption(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)B?$/i.exec(value.trim());
  const unit = m ? { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'] : 0;
  const bytes = m ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!(bytes >= 1024 * 1024)) throw new InvalidArgumentError(`expected a size of at least 1M (e.g. 512M, 2G): ${value}`);
  return bytes;
}

/** The help line of `--max-memory`, the same for every command. */
export const MAX_MEMORY_HELP =
  'most memory for buffered state (connections, out-of-order data, outstanding calls, ...), e.g. 1G; default 64M; beyond it the oldest is dropped and counted; below 64M fewer hosts and connections are followed';

/** The help line of `--time-window`, the same for every command. */
export const TIME_WINDOW_HELP = 'only frames in this window: ISO 8601 times, UTC unless a zone is given, or seconds from the first frame (10..25, ..2.5s)';
/** The help line of `--nfs-port`, the same for every command. */
export const NFS_PORT_HELP = 'more ports that carry NFS/RPC, besides 2049, 111 and 20048 (comma-separated or repeated)';

/** `--op NAME`: an operation name nfsight gives; a misspelt one is a usage error naming the nearest. */
export function operationOption(value: string): string {
  const why = unknownName(value, 'operation', operationNames(), GENERIC_OPERATION);
  if (why !== undefined) throw new InvalidArgumentError(why);
  return value;
}

/** `--status NAME`: a status name nfsight gives; a misspelt one is a usage error naming the nearest. */
export function statusOption(value: string): string {
  const why = unknownName(value, 'status', statusNames(), GENERIC_STATUS);
  if (why !== undefined) throw new InvalidArgumentError(why);
  return value;
}
