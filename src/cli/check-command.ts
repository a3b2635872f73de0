/**
 * `nfsight check <capture...> [--rules rules.json]`: evaluates rules on a
 * capture (or saved JSON reports) for CI. Exit status 0 when every rule
 * passes, 1 when one fails, 2 on bad usage, a bad rules file or unreadable
 * input. Also home of `loadReport()`, the input reading `diff` shares.
 */
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { evaluateRules, type CheckResult } from '../check/evaluate.js';
import { renderJunit } from '../check/junit.js';
import { DEFAULT_RULES, parseRulesText, RulesError, rulesToRun, type RuleSet } from '../check/rules.js';
import type { Report } from '../report/model.js';
import { DEFAULT_WIDTH, wrapText } from '../report/terminal.js';
import { analyzeForCli, repeatedInput, type AnalyzeCliOptions } from './analyze-cli.js';
import { readSavedReports } from './saved-reports.js';
import { collectPorts, EXIT_USAGE, MAX_MEMORY_HELP, maxMemoryOption, NFS_PORT_HELP, processIo, TIME_WINDOW_HELP, timeWindowOption, type CliIo } from './common.js';

/** Exit status when a rule fails (check) or a row regressed (diff --fail-on-regression). */
export const EXIT_FAIL = 1;

/** The options of the analysis (as every analysing command takes them). */
export type InputOptions = AnalyzeCliOptions;

/** Thrown by loadReport when the input cannot be used; the message is printed after `nfsight: error: `. */
export class InputError extends Error {}

const isJson = (f: string): boolean => f.toLowerCase().endsWith('.json');

/**
 * Reads one input: `.json` files are saved reports (`nfsight report --format
 * json`), validated as `merge` does (several are merged); anything else is
 * captures analysed together. Mixing both is refused. Diagnostics of the
 * analysis go to io.err. Throws InputError when nothing usable was read, or
 * when a capture was not read whole (`purpose` ends that message: "diff
 * compares").
 */
export async function loadReport(files: readonly string[], opts: InputOptions, io: CliIo, purpose: string): Promise<Report> {
  const json = files.filter(isJson);
  if (json.length > 0 && json.length < files.length) {
    throw new InputError('give either captures or saved JSON reports (.json), not both');
  }
  if (json.length > 0) {
    const twice = repeatedInput(files);
    try {
      if (twice !== undefined) throw new Error(twice);
      return await readSavedReports(files);
    } catch (err) {
      throw new InputError((err as Error).message);
    }
  }
  const { report, status } = await analyzeForCli([...files], opts, io);
  // Nothing read: the error is printed already.
  if (report === undefined) throw new InputError('', { cause: 'printed' });
  // A check or comparison on part of a capture would be misleading: the warning above said what was read; this says nothing is checked.
  if (status !== 0) {
    const partial = report.capture.files.filter((f) => f.failed || f.truncated).map((f) => f.name);
    throw new InputError(`${partial.join(', ')}: not read whole (see the warning above); ${purpose} whole captures only`);
  }
  return report;
}

/** Prints an InputError (unless analyze() already printed it); returns EXIT_USAGE. Rethrows other errors. */
export function inputFailed(err: unknown, io: CliIo): number {
  if (!(err instanceof InputError)) throw err;
  if (err.cause !== 'printed') io.err(`nfsight: error: ${err.message}\n`);
  return EXIT_USAGE;
}

export const CHECK_FORMATS = ['text', 'json', 'junit'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

export interface CheckOptions extends InputOptions {
  rules?: string;
  format: CheckFormat;
}

/** The results as text lines: PASS/FAIL, the rule, actual and limit, then the detail, wrapped to `width`. */
export function renderCheckText(result: CheckResult, color: boolean, width = DEFAULT_WIDTH): string {
  const paint = (s: string, code: number): string => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const out: string[] = [];
  for (const r of result.results) {
    const mark = r.passed ? paint('PASS', 32) : paint('FAIL', 31);
    out.push(...wrapText(`${r.rule}: actual ${r.actual === null ? 'none' : `${r.actual}${r.unit ? ` ${r.unit}` : ''}`}, limit ${r.limit}`, width, { firstIndent: `${mark}  `, indent: '      ' }));
    out.push(...wrapText(r.detail, width, { indent: '      ' }));
  }
  out.push(
    result.passed
      ? `${paint('passed', 32)}: ${result.total} of ${result.total} rules`
      : `${paint('failed', 31)}: ${result.failed} of ${result.total} rules failed`,
  );
  return out.join('\n') + '\n';
}

async function readRules(path: string | undefined): Promise<RuleSet> {
  if (path === undefined) return DEFAULT_RULES;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new RulesError(e.code === 'ENOENT' ? 'no such file' : e.message);
  }
  return parseRulesText(text);
}

/** Runs the check; returns the exit status (0 pass, 1 fail, 2 error). */
export async function runCheck(files: string[], opts: CheckOptions, io: CliIo): Promise<number> {
  let rules: RuleSet;
  try {
    rules = await readRules(opts.rules);
  } catch (err) {
    if (!(err instanceof RulesError)) throw err;
    io.err(`nfsight: error: rules file ${opts.rules}: ${err.message}\n`);
    return EXIT_USAGE;
  }
  let report: Report;
  try {
    report = await loadReport(files, opts, io, 'rules are checked on');
  } catch (err) {
    return inputFailed(err, io);
  }
  const result = evaluateRules(rulesToRun(rules), report);
  if (opts.format === 'json') {
    const out = { inputs: files, rules: opts.rules ?? null, ...result };
    io.out(JSON.stringify(out, null, 2) + '\n');
  } else if (opts.format === 'junit') io.out(renderJunit(result, `nfsight check ${files.join(' ')}`));
  else io.out(renderCheckText(result, io.color, io.width));
  // A --time-window that selected no frame checked nothing (the warning said so): never a pass.
  const emptyWindow = report.capture.frames === 0 && report.capture.framesOutsideTimeWindow > 0;
  return result.passed && !emptyWindow ? 0 : EXIT_FAIL;
}

const HELP_AFTER = `
Exit status: 0 every rule passed, 1 a rule failed (or --time-window selected no
frame), 2 bad usage, a bad rules file or unreadable input. Inputs ending in
.json are saved reports (nfsight report --format json); anything else is a
capture. First, always, the built-in rule: the capture holds NFS/RPC traffic
("requireRpcTraffic": false turns it off). Without --rules the other rule is:
no finding of severity error. Names (operations, statuses, finding kinds) are
checked: a misspelt one is refused with the nearest. Rule types (see
rules.sample.json and docs/check.md):
  latency     {"op":"READ","stat":"p99","maxMs":50}
  errors      {"status":"NFS4ERR_GRACE","maxCount":0}
              or {"op":"WRITE","maxRatePercent":1}
  findings    {"kinds":["grace-period"]} or {"severities":["error"]}
  unanswered  {"max":0}
  calls       {"op":"READ","min":1,"max":100000}

Examples:
  nfsight check capture.pcap
  nfsight check capture.pcap --rules rules.sample.json --format junit \\
    > check.xml`;

/** Adds `check` to the program. `io` defaults to the process's streams (tests pass their own). */
export function addCheckCommand(program: Command, io: CliIo = processIo()): Command {
  return program
    .command('check')
    .description('evaluates rules (latency, errors, findings, unanswered calls, call counts) on a capture: exit 0 pass, 1 fail, 2 error')
    .argument('<capture...>', 'pcap or pcapng files (optionally gzip-compressed), - for standard input, or saved JSON reports')
    .option('--rules <rules.json>', 'the rules file (default: no finding of severity error)')
    .addOption(new Option('--format <format>', 'output format (junit: one testcase per rule)').choices(CHECK_FORMATS).default('text'))
    .option('-q, --quiet', 'print only errors on stderr, not warnings')
    .option('--nfs-port <ports>', NFS_PORT_HELP, collectPorts)
    .option('--time-window <START..END>', TIME_WINDOW_HELP, timeWindowOption)
    .option('--max-memory <size>', MAX_MEMORY_HELP, maxMemoryOption)
    .addHelpText('after', HELP_AFTER)
    .action(async (files: string[], opts: CheckOptions) => {
      io.setExitCode(await runCheck(files, opts, io));
    });
}
