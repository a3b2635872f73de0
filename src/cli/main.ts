#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=2 --min-semi-space-size=2 --heap-growing-percent=50
/**
 * The nfsight command line: argument parsing and wiring only; the work is
 * the library's `analyze()` and the report renderers.
 *
 * The shebang fixes V8's young generation at 4 MB per semi-space: nfsight
 * allocates a steady stream of short-lived per-packet objects, and with the
 * default (growing to 16 MB) the heap, and so the peak RSS, kept growing
 * with the capture's length although what the analysis holds does not
 * (measured by `npm run bench`: 2 GB capture, 130 → 84 MB peak RSS, and
 * faster). 4 MB from the start rather than 1 MB (a fresh process's size,
 * which the analysis of a large capture keeps: src/memory/heap-growth.ts):
 * the metadata benchmark 8-12% faster for 6 MB more RSS (docs/performance.md).
 *
 * `--heap-growing-percent=50` is what the analysis of a large capture asks
 * V8 for (src/memory/heap-growth.ts): given here, the command need not load
 * node:v8 to ask it (8-20 ms) unless the memory budget drops state.
 *
 * MALLOC_ARENA_MAX=1 gives glibc's malloc one arena for all threads: V8's
 * compiler and collector threads and libuv's readers each got an arena of
 * their own, and kept what they had freed there (the 105 MB `meta`
 * capture: 98-100 → 91-95 MB of peak RSS; the 900 MB wide capture 162 →
 * 156 MB; no slower: docs/memory.md). Other C libraries ignore it.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Report } from '../report/model.js';
import { jsonChunks } from '../report/json-writer.js';
import { renderOperationsCsv } from '../report/render-csv.js';
import { renderFindingsText } from '../report/render-findings.js';
import { renderReportHtml } from '../report/render-html.js';
import { BREAKDOWNS, DEFAULT_TOP, renderReportText, REPORT_SECTIONS, type BreakdownBy, type ReportSection } from '../report/render-text.js';
import { analyzeForCli, repeatedInput, type AnalyzeCliOptions } from './analyze-cli.js';
import { readSavedReports } from './saved-reports.js';
import { addCallsCommand } from './calls-command.js';
import { addCheckCommand } from './check-command.js';
import { addDiffCommand } from './diff-command.js';
import { AnalysisBug } from '../internal-error.js';
import { collectPorts, EXIT_INTERNAL, EXIT_USAGE, MAX_MEMORY_HELP, maxMemoryOption, NFS_PORT_HELP, outputWidth, TIME_WINDOW_HELP, timeWindowOption, useColor } from './common.js';
import { addTimelineCommand } from './timeline-command.js';
import { OUTPUT_HELP, writeOutput } from './output.js';
import { outputPending, writeStderr, writeStdout } from './stdio.js';
import { VERSION } from '../version.js';
import { largeInput, tightenHeapGrowth } from '../memory/heap-growth.js';

/** How a report is printed (report and merge). */
interface ReportShape {
  format: string;
  by: BreakdownBy;
  top?: number;
  details?: boolean;
  sections?: ReportSection[];
  /** `-o FILE`: write there instead of standard output. */
  output?: string;
}

interface ReportOptions extends AnalyzeCliOptions, ReportShape {}

/** `--top N`: a whole number of rows, at least 1. */
function topOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of rows, at least 1');
  return n;
}

/** `--sections a,b`: names among REPORT_SECTIONS. */
function sectionsOption(value: string): ReportSection[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!(REPORT_SECTIONS as readonly string[]).includes(n)) throw new InvalidArgumentError(`unknown section "${n}" (sections: ${REPORT_SECTIONS.join(', ')})`);
  }
  if (names.length === 0) throw new InvalidArgumentError(`expected section names (${REPORT_SECTIONS.join(', ')})`);
  return names as ReportSection[];
}

/**
 * JSON text of what large inputs gave, in chunks, never as one string (a
 * report is tens of MB on a wide capture); of small inputs, one
 * JSON.stringify, the same bytes (test/json-writer.test.ts): the chunked
 * writer, still cold in a short run, took 15 ms of a report on a 93 KB
 * capture, Node's own serialiser 2 ms.
 */
function jsonText(value: unknown, largeInputs: boolean): Iterable<string> {
  return largeInputs ? jsonChunks(value) : [`${JSON.stringify(value, null, 2)}\n`];
}

/** Prints the report as asked; returns the exit status (EXIT_USAGE when -o cannot be written). */
async function printReport(report: Report, opts: ReportShape, largeInputs: boolean): Promise<number> {
  let text: string | Iterable<string>;
  if (opts.format === 'json') text = jsonText(report, largeInputs);
  else if (opts.format === 'csv') text = renderOperationsCsv(report);
  else if (opts.format === 'html') text = renderReportHtml(report);
  else {
    text = renderReportText(report, {
      color: useColor() && opts.output === undefined,
      width: outputWidth(),
      by: opts.by,
      ...(opts.top ? { top: opts.top } : {}),
      ...(opts.details ? { details: true } : {}),
      ...(opts.sections ? { sections: opts.sections } : {}),
    });
  }
  return writeOutput(text, opts.output);
}

/** Diagnostics of report and findings go to stderr. */
const stderrIo = { err: writeStderr };

/**
 * Runs `work` with V8's heap held tight when the inputs are large, from
 * before the first read to the last byte written (src/memory/heap-growth.ts).
 */
async function heldTight<T>(files: readonly string[], work: () => Promise<T>): Promise<T> {
  const hold = largeInput(files) ? tightenHeapGrowth() : undefined;
  try {
    return await work();
  } finally {
    hold?.release();
  }
}

async function runReport(files: string[], opts: ReportOptions): Promise<number> {
  return heldTight(files, async () => {
    const { report, status } = await analyzeForCli(files, opts, stderrIo);
    if (report === undefined) return status;
    const written = await printReport(report, opts, largeInput(files));
    return status !== 0 ? status : written;
  });
}

async function runFindings(files: string[], opts: AnalyzeCliOptions & { format: string; output?: string }): Promise<number> {
  return heldTight(files, () => printFindings(files, opts));
}

async function printFindings(files: string[], opts: AnalyzeCliOptions & { format: string; output?: string }): Promise<number> {
  const { report, status } = await analyzeForCli(files, opts, stderrIo);
  if (report === undefined) return status;
  const { verdict, findings, findingsNotListed, notReported } = report;
  let text: string | Iterable<string>;
  if (opts.format === 'json') text = jsonText({ verdict, findings, ...(findingsNotListed !== undefined ? { findingsNotListed } : {}), ...(notReported !== undefined ? { notReported } : {}) }, largeInput(files));
  else if (opts.format === 'html') text = renderReportHtml(report, { findingsOnly: true });
  else text = renderFindingsText(findings, { color: useColor() && opts.output === undefined, width: outputWidth(), multiFile: files.length > 1, verdict, notListed: findingsNotListed, notReported });
  const written = await writeOutput(text, opts.output);
  return status !== 0 ? status : written;
}

async function runMerge(files: string[], opts: ReportShape): Promise<number> {
  const twice = repeatedInput(files);
  let merged: Report;
  try {
    if (twice !== undefined) throw new Error(twice);
    merged = await readSavedReports(files);
  } catch (err) {
    writeStderr(`nfsight: error: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  return await printReport(merged, opts, largeInput(files));
}

/** The options every analysing command takes. */
function addAnalyzeOptions(cmd: Command): Command {
  return cmd
    .option('-q, --quiet', 'print only errors on stderr, not warnings')
    .option('--nfs-port <ports>', NFS_PORT_HELP, collectPorts)
    .option('--time-window <START..END>', TIME_WINDOW_HELP, timeWindowOption)
    .option('--max-memory <size>', MAX_MEMORY_HELP, maxMemoryOption);
}

/** The options that shape a report's text. */
function addReportShapeOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--by <breakdown>', 'which breakdown comes first').choices([...BREAKDOWNS]).default('op'))
    .option('--top <N>', `rows per table (default ${DEFAULT_TOP}; every row with --details)`, topOption)
    .option('--details', 'every section, every operation (NFSv4 ops too), every row')
    .option('--sections <names>', `only these sections, comma-separated: ${REPORT_SECTIONS.join(', ')}`, sectionsOption);
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('nfsight')
    .description('Offline analyzer for NFS / ONC-RPC network captures (pcap, pcapng, gzip; - for stdin)')
    .version(VERSION)
    // Command names alone in the list, so that the descriptions keep room to wrap.
    .configureHelp({ subcommandTerm: (cmd) => cmd.name() })
    .exitOverride();
  // Usage errors are printed by main() as one line with a --help hint, never the whole help.
  program.configureOutput({ writeOut: writeStdout, writeErr: writeStderr, outputError: () => undefined });

  const report = program
    .command('report')
    .description('summary, per-operation timing and errors, breakdowns and findings of one capture, or of a rotated set read as one continuous capture')
    .argument('<capture...>', 'pcap or pcapng files (optionally gzip-compressed), - for standard input')
    .addOption(new Option('--format <format>', 'output format (csv: the operations table; html: one self-contained page with charts)').choices(['table', 'json', 'csv', 'html']).default('table'))
    .option('-o, --output <file>', OUTPUT_HELP);
  addReportShapeOptions(addAnalyzeOptions(report)).action(async (files: string[], opts: ReportOptions) => {
    process.exitCode = await runReport(files, opts);
  });

  const findings = program
    .command('findings')
    .description('only the findings of the detectors: the incidents, with the frames to look at')
    .argument('<capture...>', 'pcap or pcapng files (optionally gzip-compressed), - for standard input')
    .addOption(new Option('--format <format>', 'output format (html: one self-contained page, the findings on the time axis)').choices(['table', 'json', 'html']).default('table'))
    .option('-o, --output <file>', OUTPUT_HELP);
  addAnalyzeOptions(findings).action(async (files: string[], opts: AnalyzeCliOptions & { format: string; output?: string }) => {
    process.exitCode = await runFindings(files, opts);
  });

  const merge = program
    .command('merge')
    .description('combines JSON reports of several captures (nfsight report --format json) into one report')
    .argument('<report.json...>', 'reports written by nfsight report --format json')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv', 'html']).default('json'))
    .option('-o, --output <file>', OUTPUT_HELP);
  addReportShapeOptions(merge).action(async (files: string[], opts: ReportShape) => {
    process.exitCode = await runMerge(files, opts);
  });

  addCallsCommand(program);
  addCheckCommand(program);
  addDiffCommand(program);
  addTimelineCommand(program);
  return program;
}

/**
 * A usage error as one line: commander's message (its "error: " prefix
 * dropped, a "Did you mean" hint kept) and where the help is.
 */
export function usageErrorLine(message: string, program: Command, argv: readonly string[]): string {
  const text = message
    .replace(/^error: /, '')
    // "option '--top <N>' argument 'x' is invalid. expected …" → "--top x: expected …"
    .replace(/^option '(\S+)[^']*' argument '([^']*)' is invalid\. (\w)/, (_m, opt: string, arg: string, c: string) => `${opt} ${arg}: ${c.toLowerCase()}`)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
  const sub = program.commands.find((c) => argv.slice(2).includes(c.name()));
  const help = sub ? `nfsight ${sub.name()} --help` : 'nfsight --help';
  return `nfsight: error: ${text} (see ${help})\n`;
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
      if (e.exitCode === 0) return 0;
      if (e.code !== 'commander.help' && e.code !== 'commander.helpDisplayed') writeStderr(usageErrorLine(e.message ?? '', program, argv));
      return EXIT_USAGE;
    }
    // An nfsight bug: one line, and never 0 nor 1 (1 is "a rule failed" / "a row regressed").
    if (err instanceof AnalysisBug) writeStderr(`nfsight: error: ${err.message}\n`);
    else writeStderr(`nfsight: error: nfsight bug: ${e.message ?? String(err)}; please report it\n`);
    return EXIT_INTERNAL;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
  // Ended here rather than when the event loop is empty: before that exit
  // Node waits for V8's background compiler to finish every function it has
  // queued, 10-30 ms of a short run (docs/performance.md). Not while a
  // stream still holds output for a full pipe: process.exit would lose it.
  if (!outputPending()) process.exit(code);
});
