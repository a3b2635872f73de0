/**
 * Renders the verdict and the detectors' findings for a terminal: the
 * verdict first (one line per problem, with its key frames), then one block
 * per finding with its explanation, caveat, metrics and the frames to look
 * at in Wireshark, wrapped and fitted to the width (src/report/terminal.ts).
 */
import type { Finding, NotReportedByDetector } from '../detectors/finding.js';
import type { Verdict } from '../detectors/verdict.js';
import { notListedTotals, type FindingsNotListed } from '../detectors/findings-cap.js';
import { DEFAULT_WIDTH, displayWidth, fitTable, frameLabel, shortenEnd, wrapText } from './terminal.js';
import { groupDigits } from '../number-text.js';

export interface FindingsTextOptions {
  /** Colour the severities and table borders. */
  color?: boolean;
  /** Columns to fit (default DEFAULT_WIDTH). */
  width?: number;
  /** Several input files were read: evidence frames name their file. */
  multiFile?: boolean;
  /** The verdict to open with. */
  verdict?: Verdict;
  /** The findings beyond the cap of their kind (the report's findingsNotListed). */
  notListed?: FindingsNotListed;
  /** What the detectors' bounds left out (the report's notReported). */
  notReported?: NotReportedByDetector;
}

/**
 * The sentence saying what the detectors' bounds left out of the findings
 * (`rpc-retransmission: 1,204 calls not reported; …`), undefined when nothing.
 */
export function notReportedText(n: NotReportedByDetector | undefined): string | undefined {
  if (n === undefined) return undefined;
  const parts: string[] = [];
  for (const [kind, counts] of Object.entries(n)) {
    const what = Object.entries(counts).map(([name, count]) => `${groupDigits(count)} ${name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)}`);
    if (what.length > 0) parts.push(`${kind}: ${what.join(', ')}`);
  }
  if (parts.length === 0) return undefined;
  return `Left out by the detectors' bounds (the state each keeps is bounded; docs/findings.md says how to raise them): ${parts.join('; ')}.`;
}

const INDENT = '   ';
/** Lines of metrics a finding shows in text. */
const METRIC_LINES = 3;
/** Findings of one kind and severity shown in text; the rest are counted. */
export const FINDINGS_PER_KIND_TEXT = 5;
/** Problems the verdict lists in text. */
export const VERDICT_TEXT_PROBLEMS = 10;

function metricText(v: Finding['metrics'][string]): string {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'number' ? Number(x.toFixed(6)) : x)).join(', ');
  return typeof v === 'number' ? String(Number(v.toFixed(6))) : v;
}

/** A metric worth printing: not an empty string or list. */
function hasValue(v: Finding['metrics'][string]): boolean {
  return !(v === '' || (Array.isArray(v) && v.length === 0));
}

function severityLabel(severity: Finding['severity'], color: boolean): string {
  const text = severity.toUpperCase();
  if (!color) return text;
  return severity === 'error' ? `\u001b[31m${text}\u001b[39m` : severity === 'warning' ? `\u001b[33m${text}\u001b[39m` : text;
}

/** "#66, #67, #383" (with several files read, each file named before its first frame: "a.pcap #35, #45, b.pcap #2"). */
function framesText(frames: readonly { file: string; frame: number }[], multiFile: boolean): string {
  return frames.map((f, i) => (i > 0 && frames[i - 1]!.file === f.file ? `#${f.frame}` : frameLabel(f.file, f.frame, multiFile))).join(', ');
}

/**
 * The verdict: its summary, what could not be judged, and one line per
 * problem (most impact first) ending with its key frames; a title too long
 * for the line is shortened at its end, the frames never.
 */
export function renderVerdictText(verdict: Verdict, options: Omit<FindingsTextOptions, 'verdict'> = {}): string {
  const width = options.width ?? DEFAULT_WIDTH;
  const color = options.color ?? false;
  const multiFile = options.multiFile ?? false;
  const out: string[] = [...wrapText(`Verdict: ${verdict.summary}`, width, { firstIndent: '', indent: INDENT })];
  // A verdict not judged says why in its summary; with problems found, what could not be judged follows.
  if (verdict.status === 'problems') for (const reason of verdict.notJudged) out.push(...wrapText(`Not judged: ${reason}.`, width, { indent: INDENT }));
  // The first VERDICT_TEXT_PROBLEMS problems (most impact first); JSON keeps them all.
  verdict.problems.slice(0, VERDICT_TEXT_PROBLEMS).forEach((p, i) => {
    const head = `${INDENT}${i + 1}. ${severityLabel(p.severity, color)} `;
    // The first three key frames: where to start looking.
    const doubt = p.confidence === 'high' ? '' : ` [confidence ${p.confidence}]`;
    // As many of them as leave the text 20 columns (at least one).
    let frames = '';
    for (let n = Math.min(3, p.frames.length); n >= 1; n--) {
      frames = `  (${framesText(p.frames.slice(0, n), multiFile)})`;
      if (width - displayWidth(head) - displayWidth(frames) - doubt.length >= 20) break;
    }
    const room = width - displayWidth(head) - displayWidth(frames) - doubt.length;
    out.push(`${head}${shortenEnd(p.text, Math.max(10, room))}${doubt}${frames}`);
  });
  const hidden = verdict.problems.length - VERDICT_TEXT_PROBLEMS;
  const unlisted = verdict.problemsNotListed ?? 0;
  if (hidden > 0 || unlisted > 0) {
    const inJson = hidden > 0 ? `${groupDigits(hidden)} more problem${hidden === 1 ? '' : 's'} (${unlisted > 0 ? '' : 'all '}in --format json)` : '';
    const cap = options.notListed !== undefined ? `each kind lists its ${groupDigits(options.notListed.maxPerKind)} worst` : 'each kind lists its worst';
    const counted = unlisted > 0 ? `${groupDigits(unlisted)} more counted but not listed (${cap})` : '';
    out.push(...wrapText(`… and ${[inJson, counted].filter(Boolean).join(' and ')}`, width, { indent: INDENT }));
  }
  if (verdict.notes > 0) out.push(`${INDENT}(${verdict.notes} more note${verdict.notes === 1 ? '' : 's'} below)`);
  return out.join('\n') + '\n';
}

export function renderFindingsText(findings: readonly Finding[], options: FindingsTextOptions | boolean = {}): string {
  const o: FindingsTextOptions = typeof options === 'boolean' ? { color: options } : options;
  const color = o.color ?? false;
  const width = o.width ?? DEFAULT_WIDTH;
  const verdict = o.verdict !== undefined ? `${renderVerdictText(o.verdict, o)}\n` : '';
  const leftOut = notReportedText(o.notReported);
  const leftOutLines = leftOut !== undefined ? `\n${wrapText(leftOut, width, { firstIndent: '', indent: INDENT }).join('\n')}\n` : '';
  if (findings.length === 0) return `${verdict}Findings: none.\n${leftOutLines}`;
  const unlisted = notListedTotals(o.notListed).findings;
  const out: string[] = [unlisted > 0 ? `Findings (${groupDigits(findings.length)} listed, ${groupDigits(unlisted)} more counted)` : `Findings (${findings.length})`];
  const para = (text: string): void => {
    out.push(...wrapText(text, width, { indent: INDENT }));
  };
  // Thousands of findings of one kind (a capture of 2,000 servers) would bury
  // the others: the text shows the first few of each kind and severity, in
  // their order; the JSON report has them all.
  const shownOfKind = new Map<string, number>();
  const hiddenOfKind = new Map<string, number>();
  findings.forEach((f, i) => {
    const kindKey = `${f.kind} ${f.severity}`;
    const shown = shownOfKind.get(kindKey) ?? 0;
    if (shown >= FINDINGS_PER_KIND_TEXT) {
      hiddenOfKind.set(kindKey, (hiddenOfKind.get(kindKey) ?? 0) + 1);
      return;
    }
    shownOfKind.set(kindKey, shown + 1);
    out.push('');
    // The title on the first line; the kind opens the line naming who it concerns.
    out.push(...wrapText(`${i + 1}. ${severityLabel(f.severity, color)} ${f.title}`, width, { firstIndent: '', indent: INDENT }));
    const who = [f.client && `client ${f.client}`, f.server && `server ${f.server}`, f.clientid && `clientid ${f.clientid}`, f.sessionid && `session ${f.sessionid}`, f.file && `file ${f.file}`]
      .filter(Boolean)
      .join(', ');
    para(who ? `${f.kind}: ${who}` : f.kind);
    // The end without its date when it is the start's.
    const end = f.end.slice(0, 11) === f.start.slice(0, 11) ? f.end.slice(11) : f.end;
    para(`${f.start} → ${end} (${f.durationSeconds.toFixed(3)} s), ${f.count} occurrence${f.count === 1 ? '' : 's'}`);
    para(f.explanation);
    if (f.confidence !== undefined && f.confidence !== 'high') para(`Confidence ${f.confidence}: ${f.caveat ?? 'part of the evidence may be missing.'}`);
    const metrics = Object.entries(f.metrics).filter(([, v]) => hasValue(v));
    if (metrics.length > 0) {
      // The numbers in at most METRIC_LINES lines: JSON has them all.
      const lines = wrapText(metrics.map(([k, v]) => `${k}: ${metricText(v)}`).join('; '), width, { indent: INDENT });
      if (lines.length <= METRIC_LINES) out.push(...lines);
      else {
        const more = ' … (all in --format json)';
        const cut = shortenEnd(lines[METRIC_LINES - 1]!, width - more.length);
        // End at the last whole metric on the line.
        const whole = cut.lastIndexOf(';') > INDENT.length ? cut.slice(0, cut.lastIndexOf(';') + 1) : cut.replace(/…$/, '');
        out.push(...lines.slice(0, METRIC_LINES - 1), `${whole}${more}`);
      }
    }
    if (f.evidence.length > 0) {
      const t = fitTable(
        [{ head: 'frame' }, { head: 'time', drop: 1 }, { head: 'what', fit: 'wrap', min: 16 }],
        f.evidence.map((e) => [frameLabel(e.file, e.frame, o.multiFile ?? false), e.time, e.what]),
        { width: width - INDENT.length, color },
      );
      out.push(...t.text.split('\n').map((l) => `${INDENT}${l}`));
    }
  });
  if (hiddenOfKind.size > 0) {
    const hidden = [...hiddenOfKind].map(([key, n]) => {
      const [kind, severity] = key.split(' ');
      return `${groupDigits(n)} more ${kind} ${severity}${n === 1 ? '' : 's'}`;
    });
    out.push('');
    para(`Not shown: ${hidden.join(', ')} (at most ${FINDINGS_PER_KIND_TEXT} of each kind and severity here; all in --format json).`);
  }
  if (o.notListed !== undefined && unlisted > 0) {
    const kinds = Object.entries(o.notListed.byKind).map(([kind, c]) => `${groupDigits(c.findings)} more ${kind}`);
    out.push('');
    para(
      `Not listed, only counted: ${kinds.join(', ')} (the ${groupDigits(o.notListed.maxPerKind)} most severe and costly of each kind are kept, in JSON too; the library option findingsMaxPerKind sets how many).`,
    );
  }
  if (leftOut !== undefined) {
    out.push('');
    para(leftOut);
  }
  return `${verdict}${out.join('\n')}\n`;
}
