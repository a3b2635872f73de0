/**
 * `nfsight timeline <capture...>`: the time series of a capture as a table
 * (one line per interval), CSV or JSON, optionally of one operation, client
 * or server.
 */
import { Command, Option } from 'commander';
import { analyzeForCli, parsedArg, type AnalyzeCliOptions } from './analyze-cli.js';
import { IntervalSyntaxError, parseInterval } from '../analysis/timeline-interval.js';
import type { TimelineFilter } from '../analysis/timeline.js';
import { FilterSyntaxError, parseEndpointFilter, type EndpointFilter } from '../report/calls.js';
import { renderTimelineCsv, renderTimelineText } from '../report/render-timeline.js';
import { DEFAULT_WIDTH, wrapText } from '../report/terminal.js';
import { collectPorts, operationOption, MAX_MEMORY_HELP, maxMemoryOption, NFS_PORT_HELP, processIo, TIME_WINDOW_HELP, timeWindowOption, type CliIo } from './common.js';

export const TIMELINE_FORMATS = ['table', 'csv', 'json'] as const;

export interface TimelineCommandOptions extends AnalyzeCliOptions {
  format: (typeof TIMELINE_FORMATS)[number];
  interval?: number;
  op?: string;
  client?: EndpointFilter;
  server?: EndpointFilter;
}

/** Runs the command on `files`, writing to `io`; returns the exit status. */
export async function runTimeline(files: string[], opts: TimelineCommandOptions, io: CliIo): Promise<number> {
  const filter: TimelineFilter = {
    ...(opts.op !== undefined ? { op: opts.op } : {}),
    ...(opts.client !== undefined ? { client: opts.client } : {}),
    ...(opts.server !== undefined ? { server: opts.server } : {}),
  };
  const { report, status } = await analyzeForCli(files, opts, io, {
    timeline: {
      ...(opts.interval !== undefined ? { intervalNs: opts.interval } : {}),
      ...(Object.keys(filter).length > 0 ? { filter } : {}),
    },
  });
  if (report === undefined) return status;
  const t = report.timeline;
  if (Object.keys(filter).length > 0 && report.rpc.calls > 0 && t.operations.length === 0 && opts.quiet !== true) {
    // A mistyped name or address gives empty series: say so rather than chart nothing.
    const names = [...new Set(report.operations.filter((o) => o.kind !== 'compound').map((o) => o.name))];
    const seen = opts.op !== undefined ? ` (its operations: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''})` : '';
    const endpoint = (e: EndpointFilter): string => (e.port !== undefined ? `${e.addr.includes(':') ? `[${e.addr}]` : e.addr}:${e.port}` : e.addr);
    const what = [
      opts.op !== undefined ? `--op ${opts.op}` : '',
      opts.client !== undefined ? `--client ${endpoint(opts.client)}` : '',
      opts.server !== undefined ? `--server ${endpoint(opts.server)}` : '',
    ].filter(Boolean).join(' ');
    io.err(wrapText(`nfsight: warning: none of the capture's ${report.rpc.calls} calls matches ${what}${seen}`, io.width ?? DEFAULT_WIDTH).join('\n') + '\n');
  }
  if (opts.format === 'json') io.out(JSON.stringify(t, null, 2) + '\n');
  else if (opts.format === 'csv') io.out(renderTimelineCsv(t));
  else io.out(renderTimelineText(t, { ...(io.width !== undefined ? { width: io.width } : {}), files }));
  return status;
}

const arg = <T>(parse: (s: string) => T): ((s: string) => T) => parsedArg(parse, FilterSyntaxError, IntervalSyntaxError);

const HELP_AFTER = `
Calls count in the interval of their call frame; replies (answers, errors,
latency, bytes read) in the interval of their reply frame, as tshark's
-z io,stat places rpc.time. Intervals are aligned on the epoch; without
--interval, the length gives about 200-500 intervals over the capture.

Examples:
  nfsight timeline capture.pcap
  nfsight timeline capture.pcap --interval 1s --op READ
  nfsight timeline capture.pcap --format csv > timeline.csv`;

/** Adds `timeline` to the program. */
export function addTimelineCommand(program: Command, io: CliIo = processIo()): Command {
  return program
    .command('timeline')
    .description('what happened when: per interval, ops/s, MB/s, errors, TCP retransmissions and latency percentiles per operation')
    .argument('<capture...>', 'pcap or pcapng files (optionally gzip-compressed), - for standard input')
    .addOption(new Option('--format <format>', 'output format (csv: one row per interval and per operation in it; json: the report\'s timeline)').choices(TIMELINE_FORMATS).default('table'))
    .option('--interval <length>', 'interval length: 100ms, 1s, 1m… (a divisor of a second or whole seconds; default: automatic)', arg(parseInterval))
    .option('--op <name>', 'only calls of this procedure, or COMPOUNDs with this op (case-insensitive)', operationOption)
    .option('--client <addr[:port]>', 'only calls from this client (IPv6: [addr]:port)', arg(parseEndpointFilter))
    .option('--server <addr[:port]>', 'only calls to this server (IPv6: [addr]:port)', arg(parseEndpointFilter))
    .option('-q, --quiet', 'print only errors on stderr, not warnings')
    .option('--nfs-port <ports>', NFS_PORT_HELP, collectPorts)
    .option('--time-window <START..END>', TIME_WINDOW_HELP, timeWindowOption)
    .option('--max-memory <size>', MAX_MEMORY_HELP, maxMemoryOption)
    .addHelpText('after', HELP_AFTER)
    .action(async (files: string[], opts: TimelineCommandOptions) => {
      io.setExitCode(await runTimeline(files, opts, io));
    });
}
