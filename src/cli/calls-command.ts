/**
 * `nfsight calls <capture...>`: every RPC call with its reply, status,
 * latency and file, filtered, as a table, JSON, CSV or JSON lines.
 */
import { Command, Option } from 'commander';
import { analyzeForCli, parsedArg } from './analyze-cli.js';
import type { Transaction, TransactionContext } from '../rpc/transaction.js';
import {
  callFilter,
  callRow,
  callsRenderer,
  CALLS_FORMATS,
  type CallRow,
  type HeldRow,
  FilterSyntaxError,
  parseEndpointFilter,
  parseFrameRange,
  parseSeconds,
  parseXid,
  type CallFilterOptions,
  type CallsFormat,
} from '../report/calls.js';
import { collectPorts, operationOption, statusOption, MAX_MEMORY_HELP, maxMemoryOption, NFS_PORT_HELP, processIo, TIME_WINDOW_HELP, timeWindowOption, type CliIo } from './common.js';
import type { TimeWindow } from '../capture/time-window.js';
import { CallOrder, type CallPosition } from '../report/call-order.js';
import { DEFAULT_WIDTH } from '../report/terminal.js';

export interface CallsOptions extends CallFilterOptions {
  format: CallsFormat;
  quiet?: boolean;
  nfsPort?: number[];
  timeWindow?: TimeWindow;
  maxMemory?: number;
}

/** Where a call sits, for CallOrder. */
const positionOf = (t: Transaction): CallPosition => ({ file: t.call.frame.fileIndex, frame: t.call.frame.number, firstFrame: t.call.firstFrame.number });

/** Runs the listing of `files` to `io`; returns the exit status (0, or 2 for unreadable input). */
export async function runCalls(files: string[], opts: CallsOptions, io: CliIo): Promise<number> {
  const keep = callFilter(opts);
  const renderer = callsRenderer(opts.format, io.out, { color: io.color, width: io.width ?? DEFAULT_WIDTH });
  // A row that may wait for older calls waits as its text (HeldRow); one released late is written from the row.
  const hold = renderer.hold;
  const order = renderer.ordered ? new CallOrder<CallRow | HeldRow>((r, late) => (late || hold === undefined ? renderer.row(r as CallRow, late) : renderer.held!(r as HeldRow))) : undefined;
  const onTransaction = (t: Transaction, ctx: TransactionContext): void => {
    const row = callRow(t, (i) => ctx.fileName?.(i) ?? files[i] ?? '?', ctx);
    const kept = keep(row);
    if (order !== undefined) order.finished(t, positionOf(t), !kept ? undefined : hold === undefined || order.givenUp(t) ? row : hold(row));
    else if (kept) renderer.row(row);
  };
  const { report, status } = await analyzeForCli(files, opts, io, {
    onTransaction,
    // A row holds the replies' summary fields only: their attributes and directory entries need not be built.
    decodeResults: false,
    // A row is made when its transaction arrives: nothing reads a transaction after.
    keepsTransactions: false,
    ...(order !== undefined
      ? { onCall: (t: Transaction) => order.called(t, positionOf(t)), onCallForgotten: (t: Transaction) => order.finished(t, positionOf(t), undefined) }
      : {}),
  });
  // Nothing read at all: only the error above, no listing.
  if (report === undefined) return status;
  order?.end();
  renderer.end();
  return status;
}

/** A commander argument parser from one of the filter parsers. */
const arg = <T>(parse: (s: string) => T): ((s: string) => T) => parsedArg(parse, FilterSyntaxError);

const HELP_AFTER = `
Order: table and json list calls by input file and call frame, written as they
are known; jsonl and csv are written as calls complete (in the order their
replies arrive; unanswered calls at the end). None keeps the listing in memory.

The table fits the terminal (COLUMNS, else 100): frame, time, op, status and
latency in ms, then the reply frame (from 110 columns; in parentheses a reply
that began and never completed), client (130), server (160) and xid (180); the
rest of the line is the path and arguments: names in quotes (LOOKUP, CREATE,
REMOVE, RENAME "from" → "to"…), @offset +count for READ/WRITE/COMMIT. jsonl,
csv and json have every field.

Times are the call frame's, in UTC; latency is Wireshark's rpc.time (call frame
to reply frame). fh is Wireshark's nfs.fh.hash (filter: nfs.fh.hash == 0x…).

Examples:
  nfsight calls capture.pcap --op READ --min-latency 5ms
  nfsight calls capture.pcap --status NFS4ERR_GRACE --format jsonl
  nfsight calls capture.pcap --unanswered --format csv > unanswered.csv`;

/** Adds `calls` to the program. `io` defaults to the process's streams (tests pass their own). */
export function addCallsCommand(program: Command, io: CliIo = processIo()): Command {
  return program
    .command('calls')
    .description('every RPC call with its reply, status, latency and file (filtered)')
    .argument('<capture...>', 'pcap or pcapng files (optionally gzip-compressed), - for standard input')
    .addOption(new Option('--format <format>', 'output format (table and json in call-frame order, jsonl and csv in completion order)').choices(CALLS_FORMATS).default('table'))
    .option('--client <addr[:port]>', 'calls from this client (IPv6: [addr]:port)', arg(parseEndpointFilter))
    .option('--server <addr[:port]>', 'calls to this server (IPv6: [addr]:port)', arg(parseEndpointFilter))
    .option('--op <name>', 'procedure name, or any op of an NFSv4 COMPOUND (case-insensitive)', operationOption)
    .option('--status <name>', 'status, any NFSv4 op status, or RPC status (NFS3ERR_NOENT, NFS4ERR_GRACE, PROC_UNAVAIL…)', statusOption)
    .option('--min-latency <time>', 'latency at least this (seconds, or 5ms, 2s, 100us); excludes unanswered calls', arg(parseSeconds))
    .option('--xid <xid>', 'the call with this xid (hex, 0x…)', arg(parseXid))
    .option('--frames <A-B>', 'calls whose call frame is within A-B (A-, -B)', arg(parseFrameRange))
    .option('--unanswered', 'only calls without a reply')
    .option('-q, --quiet', 'print only errors on stderr, not warnings')
    .option('--nfs-port <ports>', NFS_PORT_HELP, collectPorts)
    .option('--time-window <START..END>', TIME_WINDOW_HELP, timeWindowOption)
    .option('--max-memory <size>', MAX_MEMORY_HELP, maxMemoryOption)
    .addHelpText('after', HELP_AFTER)
    .action(async (files: string[], opts: CallsOptions) => {
      io.setExitCode(await runCalls(files, opts, io));
    });
}
