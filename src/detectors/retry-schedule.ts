/**
 * Retry schedules, shared by the detectors of errors a client is meant to
 * retry (grace-period: NFS4ERR_GRACE / NLM denied-grace; delay-backoff:
 * NFS4ERR_DELAY / NFS3ERR_JUKEBOX): which calls retry the same operation
 * on the same file, when each attempt went out, how the intervals between
 * attempts grow (doubling up to a cap, fixed, irregular) and how long the
 * client stayed blocked.
 *
 * A retried operation is identified by the client's address (not its port:
 * a client may reconnect between attempts), the server, the operation and
 * its file (path where known, else file handle, plus the name for OPEN /
 * LOOKUP / CREATE…). A sequence starts with an error reply, takes every
 * later error reply for the same key, and ends at the first reply with
 * another status (the successful retry, or another error) — or stays open
 * to the end of the capture.
 */
import type { FrameRef } from '../capture/frame.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatEndpoint } from '../transport/stream.js';
import { formatFrameTime } from '../report/time.js';
import { procedureName } from '../../decoders/programs.js';
import { evidence, MAX_EVIDENCE, type DetectorContext, type EvidenceFrame, type Finding } from './finding.js';
import { LruMap } from '../memory/lru.js';
import { cleanMetrics, listText, plural, secondsText, sentences, timesText } from './wording.js';
import { DEFAULT_ENTITY_BOUND } from '../memory/entity-bound.js';

/** Attempts kept per sequence (their times); beyond, only counted and the last kept. */
export const MAX_ATTEMPTS_KEPT = 500;
/**
 * Attempts kept by one tracker in all its sequences, open and done (about
 * 200 bytes each: 4 MB). Beyond, a sequence keeps its first attempt and its
 * last (the one slot after it overwritten), and says how many it kept. The
 * per-sequence limit alone let 11,000 sequences hold 500 each (1.1 GB); 1,000
 * clients retrying JUKEBOX 200 times held 39 MB.
 */
export const MAX_ATTEMPTS_HELD = 20_000;
/** Sequences kept per detector; beyond, counted only. */
export const MAX_SEQUENCES = 1000;

export type Backoff = 'doubling' | 'fixed' | 'irregular';

/** Seconds since the epoch of a frame. */
export const frameSeconds = (f: FrameRef): number => f.tsSec + f.tsNsec / 1e9;
/** Rounded to the microsecond, for metrics. */
export const micro = (x: number): number => Math.round(x * 1e6) / 1e6;

/** One op of a call with its file and the status the reply gave it. */
export interface OpOutcome {
  op: string;
  /** Path where known, else file handle (hex), with the name the op carries; '' when unknown. */
  file: string;
  /** The op's status (undefined: the reply has none for it). */
  status: string | undefined;
}

/** NFSv4 ops that only set up the current file: never a retried operation of their own. */
const SETUP_OPS = new Set(['PUTFH', 'PUTROOTFH', 'PUTPUBFH', 'GETFH', 'SAVEFH', 'RESTOREFH', 'SEQUENCE']);

function isCompound(t: Transaction): boolean {
  return t.program === 100003 && t.version === 4 && t.procedure === 1;
}

/** Each significant op of a transaction, with its file and status. */
export function opOutcomes(t: Transaction): OpOutcome[] {
  const call = t.decoded?.call;
  const reply = t.decoded?.reply;
  if (isCompound(t)) {
    if (!call) return [];
    const argOps = (call.args as { ops?: { op: string; args: Record<string, unknown> }[] } | undefined)?.ops ?? [];
    const out: OpOutcome[] = [];
    let fh: string | undefined;
    for (let i = 0; i < call.ops.length; i++) {
      const op = call.ops[i]!;
      const attr = t.nfs4?.ops[i];
      const name = argOps[i]?.args?.name;
      if (!SETUP_OPS.has(op)) {
        let file = attr?.path ?? '';
        if (file === '') file = typeof name === 'string' ? `${fh ?? ''}/${name}` : (attr?.fh ?? fh ?? '');
        out.push({ op, file, status: reply?.opStatus?.[i] });
      }
      if (attr?.fh !== undefined) fh = attr.fh;
    }
    // A COMPOUND failing before any op (NFS4ERR_MINOR_VERS_MISMATCH, a bad tag) carries its status only.
    if (out.length === 0 && reply && call.ops.length === 0) out.push({ op: call.mainOp, file: '', status: reply.status ?? undefined });
    return out;
  }
  const op = call?.mainOp ?? procedureName(t.program, t.version, t.procedure);
  const names = call?.names?.length ? `/${call.names.join('/')}` : '';
  return [{ op, file: `${call?.fh ?? ''}${names}`, status: reply?.status ?? undefined }];
}

export interface Attempt {
  call: FrameRef;
  reply: FrameRef;
  /** Seconds since the epoch of the call's frame. */
  time: number;
  status: string;
}

export interface RetrySequence {
  client: string;
  server: string;
  op: string;
  file: string;
  /** NFSv4: the client id of the first attempt. */
  clientid: string | undefined;
  /** The retried error of the first attempt. */
  error: string;
  /** Error replies in the sequence, kept (the first MAX_ATTEMPTS_KEPT, then the last). */
  attempts: Attempt[];
  /** Error replies in all. */
  errors: number;
  /** The reply that ended it (another status), if any. */
  end: Attempt | undefined;
  /** Seconds since the epoch of the last reply in the sequence. */
  lastTime: number;
}

/**
 * Follows retried operations through the transaction stream. `isRetryError`
 * names the statuses a retry is expected after; a sequence idle for more
 * than `maxGapSeconds` ends and a later error starts a new one.
 */
export class RetryTracker {
  private readonly open = new LruMap<string, RetrySequence>();
  /**
   * Open sequences per client address. A transaction of a client with none
   * open and no retryable status can neither join nor end one: skipped
   * before its outcomes and keys are made. (One sequence left open by some
   * client used to send every transaction of the capture through them.)
   */
  private readonly openByClient = new Map<string, number>();
  private readonly done: RetrySequence[] = [];
  /** Sequences not kept (beyond MAX_SEQUENCES). */
  dropped = 0;
  /** Attempts in the sequences open and done (at most maxAttemptsHeld, plus one first attempt per sequence). */
  private attemptsHeld = 0;

  constructor(
    private readonly isRetryError: (status: string) => boolean,
    private readonly maxGapSeconds = 300,
    private readonly maxAttemptsHeld = MAX_ATTEMPTS_HELD,
    /** Open sequences at most (the oldest is closed, unresolved, beyond). */
    private readonly maxOpen = DEFAULT_ENTITY_BOUND,
  ) {}

  /** Handles a transaction; returns the sequence an error reply joined, if any. */
  onTransaction(t: Transaction): RetrySequence | undefined {
    if (!t.reply) return undefined;
    const client = t.client.addr;
    // No sequence open for the client and no status to retry after: nothing to start or end (most calls).
    if ((this.open.size === 0 || !this.openByClient.has(client)) && !this.mayRetry(t)) return undefined;
    const outcomes = opOutcomes(t);
    if (outcomes.length === 0) return undefined;
    const server = formatEndpoint(t.server);
    const time = frameSeconds(t.call.frame);
    const replyTime = frameSeconds(t.reply.frame);
    for (const o of outcomes) {
      if (o.status === undefined) continue;
      const key = `${client}|${server}|${o.op}|${o.file}`;
      let seq = this.open.get(key);
      if (seq && time - seq.lastTime > this.maxGapSeconds) {
        this.close(key, seq);
        seq = undefined;
      }
      const attempt: Attempt = { call: t.call.frame, reply: t.reply.frame, time, status: o.status };
      if (this.isRetryError(o.status)) {
        if (!seq) {
          if (this.open.size >= this.maxOpen) {
            const [oldKey, old] = this.open.oldest()!;
            this.close(oldKey, old);
          }
          seq = { client, server, op: o.op, file: o.file, clientid: t.nfs4?.clientid, error: o.status, attempts: [], errors: 0, end: undefined, lastTime: replyTime };
          this.open.set(key, seq);
          this.openByClient.set(client, (this.openByClient.get(client) ?? 0) + 1);
        }
        seq.errors++;
        // The first attempt is always kept: every sequence starts with one.
        if (seq.attempts.length === 0 || (seq.attempts.length < MAX_ATTEMPTS_KEPT && this.attemptsHeld < this.maxAttemptsHeld)) {
          seq.attempts.push(attempt);
          this.attemptsHeld++;
        } else {
          seq.attempts[seq.attempts.length - 1] = attempt;
        }
        seq.lastTime = replyTime;
        return seq;
      }
      if (seq) {
        seq.end = attempt;
        seq.lastTime = replyTime;
        this.close(key, seq);
      }
    }
    return undefined;
  }

  /** Whether any status of the reply is one a retry is expected after (every status opOutcomes can give is one of these). */
  private mayRetry(t: Transaction): boolean {
    const reply = t.decoded?.reply;
    if (reply === undefined) return false;
    if (reply.status !== null && this.isRetryError(reply.status)) return true;
    const ops = reply.opStatus;
    if (ops !== undefined) for (let i = 0; i < ops.length; i++) if (this.isRetryError(ops[i]!)) return true;
    return false;
  }

  private close(key: string, seq: RetrySequence): void {
    this.open.delete(key);
    const n = this.openByClient.get(seq.client)!;
    if (n === 1) this.openByClient.delete(seq.client);
    else this.openByClient.set(seq.client, n - 1);
    if (this.done.length < MAX_SEQUENCES) {
      this.done.push(seq);
    } else {
      this.dropped++;
      this.attemptsHeld -= seq.attempts.length;
    }
  }

  /** Every sequence, the open ones (unresolved at the end of the capture) included, in order of their first attempt. */
  finish(): RetrySequence[] {
    for (const [key, seq] of [...this.open]) this.close(key, seq);
    return [...this.done].sort((a, b) => a.attempts[0]!.time - b.attempts[0]!.time);
  }
}

/** Median of a non-empty list. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Classifies the intervals between attempts: `doubling` when they double
 * (each 1.5–2.5× the one before, at least twice) and then, if they stop
 * growing, stay at a cap (within 20%), which capSeconds gives; `fixed` when
 * all are within 25% of their median; otherwise `irregular` (also with no
 * interval at all).
 */
export function classifyBackoff(intervals: number[]): { backoff: Backoff; capSeconds: number | undefined } {
  const n = intervals.length;
  if (n === 0) return { backoff: 'irregular', capSeconds: undefined };
  const med = median(intervals);
  const fixed = intervals.every((x) => Math.abs(x - med) <= 0.25 * med);
  let d = 0;
  while (d + 1 < n) {
    const prev = intervals[d]!;
    const r = prev > 0 ? intervals[d + 1]! / prev : 0;
    if (r < 1.5 || r > 2.5) break;
    d++;
  }
  if (d >= 2) {
    const rest = intervals.slice(d + 1);
    if (rest.length === 0) return { backoff: 'doubling', capSeconds: undefined };
    const cap = median(rest);
    const last = intervals[d]!;
    if (rest.every((x) => Math.abs(x - cap) <= 0.2 * cap) && cap >= 0.8 * last && cap <= 2.5 * last) {
      return { backoff: 'doubling', capSeconds: micro(cap) };
    }
  }
  if (fixed) return { backoff: 'fixed', capSeconds: undefined };
  return { backoff: 'irregular', capSeconds: undefined };
}

export interface Schedule {
  /** Attempts: the error replies and the reply that ended the sequence. */
  attempts: number;
  /** Seconds between consecutive attempts (call to call), the ending attempt included. */
  intervals: number[];
  backoff: Backoff;
  capSeconds: number | undefined;
  /** First error attempt's call → the ending reply (or, unresolved, the last error reply). */
  blockedSeconds: number;
  /** The retry succeeded (ended with an OK status). */
  resolved: boolean;
}

const OK_STATUSES = new Set(['NFS4_OK', 'NFS3_OK', 'NFS_OK', 'OK', 'LCK_GRANTED', 'NLM4_GRANTED', 'MNT3_OK', 'MNT_OK']);

export function isOkStatus(s: string): boolean {
  return OK_STATUSES.has(s);
}

export function analyzeSchedule(seq: RetrySequence): Schedule {
  const all = seq.end ? [...seq.attempts, seq.end] : seq.attempts;
  const intervals: number[] = [];
  for (let i = 1; i < all.length; i++) intervals.push(micro(all[i]!.time - all[i - 1]!.time));
  const { backoff, capSeconds } = classifyBackoff(intervals);
  const first = seq.attempts[0]!.time;
  const endTime = seq.end ? frameSeconds(seq.end.reply) : frameSeconds(seq.attempts[seq.attempts.length - 1]!.reply);
  return {
    attempts: seq.errors + (seq.end ? 1 : 0),
    intervals,
    backoff,
    capSeconds,
    blockedSeconds: micro(endTime - first),
    resolved: seq.end !== undefined && isOkStatus(seq.end.status),
  };
}

/**
 * Evidence for a sequence: the reply of each attempt (the first and last
 * ones when there are too many), then the ending reply; `room` frames at most.
 */
export function sequenceEvidence(ctx: DetectorContext, seq: RetrySequence, room = MAX_EVIDENCE): EvidenceFrame[] {
  const first = seq.attempts[0]!.time;
  const rel = (a: Attempt): string => `+${(a.time - first).toFixed(3)} s`;
  const out: EvidenceFrame[] = [];
  const slots = Math.max(1, room - (seq.end ? 1 : 0));
  const picks =
    seq.attempts.length <= slots
      ? seq.attempts.map((a, i) => [a, i] as const)
      : [
          ...seq.attempts.slice(0, Math.ceil(slots / 2)).map((a, i) => [a, i] as const),
          ...seq.attempts.slice(seq.attempts.length - Math.floor(slots / 2)).map((a, i, arr) => [a, seq.errors - arr.length + i] as const),
        ];
  for (const [a, i] of picks) out.push(evidence(ctx, a.reply, `${seq.op} → ${a.status} (attempt ${i + 1}, call ${rel(a)})`, formatFrameTime));
  if (seq.end) {
    const a = seq.end;
    const how = isOkStatus(a.status) ? 'retry succeeded' : 'retry ended';
    out.push(evidence(ctx, a.reply, `${seq.op} → ${a.status} (${how}, call ${rel(a)})`, formatFrameTime));
  }
  return out;
}

/** The metrics every retry finding carries. */
export function scheduleMetrics(seq: RetrySequence, s: Schedule): Record<string, number | string | number[] | string[]> {
  return cleanMetrics({
    attempts: s.attempts,
    errorReplies: seq.errors,
    intervals: s.intervals,
    blockedSeconds: s.blockedSeconds,
    // A single attempt has no schedule.
    backoff: s.intervals.length > 0 ? s.backoff : undefined,
    capSeconds: s.capSeconds,
    outcome: seq.end ? seq.end.status : 'unresolved at end of capture',
    // The times of some attempts were not kept (MAX_ATTEMPTS_KEPT, MAX_ATTEMPTS_HELD): the intervals skip them.
    errorRepliesTimed: seq.attempts.length < seq.errors ? seq.attempts.length : undefined,
  });
}

/**
 * How the client retried and how it ended, as one clause (the intervals
 * themselves go in the metrics): "the client retried every 2 s and
 * succeeded after 12 s", "the client retried with doubling delays (0.1 s
 * up to 15 s); none succeeded before the capture ended", "the client did
 * not retry before the capture ended".
 */
export function retryText(seq: RetrySequence, s: Schedule): string {
  const iv = s.intervals;
  const median = [...iv].sort((a, b) => a - b)[iv.length >> 1];
  const how =
    iv.length === 0 || median === undefined
      ? 'the client did not retry'
      : s.backoff === 'doubling'
        ? `the client retried with doubling delays (${secondsText(iv[0]!)} up to ${secondsText(s.capSeconds ?? Math.max(...iv))})`
        : s.backoff === 'fixed'
          ? `the client retried every ${secondsText(median)}`
          : `the client retried ${timesText(iv.length)} at irregular intervals`;
  if (s.resolved) return `${how} and succeeded after ${secondsText(s.blockedSeconds)}`;
  if (seq.end) return `${how}; it ended with ${seq.end.status} after ${secondsText(s.blockedSeconds)}`;
  return iv.length === 0 ? `${how} before the capture ended` : `${how}; none succeeded before the capture ended`;
}

/** One retry sequence's finding, with the clause that says why the server refused it. */
export interface RetryFinding {
  finding: Finding;
  seq: RetrySequence;
  sched: Schedule;
  /** "it had restarted (…) and allowed only reclaims": follows "the server answered X n times:". */
  cause: string;
}

const SEVERITY_RANK: Record<Finding['severity'], number> = { info: 0, warning: 1, error: 2 };

/**
 * One finding per client and server: a client's retry sequences (several
 * files or operations refused at the same time) merged into one, the
 * longest-blocked call named, each sequence in the metrics. A lone sequence
 * keeps its own finding.
 */
export function mergeRetryFindings(items: readonly RetryFinding[], words: { kind: string; verb: string; by: string; advice: string }): Finding[] {
  const groups = new Map<string, RetryFinding[]>();
  for (const it of items) {
    const key = `${it.seq.client}|${it.seq.server}`;
    const list = groups.get(key) ?? [];
    list.push(it);
    groups.set(key, list);
  }
  return [...groups.values()].map((list) => (list.length === 1 ? list[0]!.finding : merged(list, words)));
}

function merged(list: readonly RetryFinding[], words: { kind: string; verb: string; by: string; advice: string }): Finding {
  const worst = [...list].sort((a, b) => b.sched.blockedSeconds - a.sched.blockedSeconds)[0]!;
  const errors = list.reduce((n, it) => n + it.seq.errors, 0);
  const statuses = [...new Set(list.map((it) => it.seq.error))];
  const ops = new Map<string, number>();
  for (const it of list) ops.set(it.seq.op, (ops.get(it.seq.op) ?? 0) + 1);
  const opsText = [...ops].map(([op, n]) => (n === 1 ? op : `${op} ×${n}`));
  const files = [...new Set(list.map((it) => it.seq.file).filter((f) => f !== ''))];
  const resolved = list.filter((it) => it.sched.resolved).length;
  const first = list.reduce((a, b) => (a.finding.start <= b.finding.start ? a : b)).finding;
  const last = list.reduce((a, b) => (a.finding.end >= b.finding.end ? a : b)).finding;
  // Each sequence's first attempt and its end, in time order, the first ones kept.
  const seen = new Set<string>();
  const ev = list
    .flatMap((it) => [...it.finding.evidence.filter((e) => !e.what.includes('(attempt ') || e.what.includes('(attempt 1,')), ...it.finding.evidence.slice(-1)])
    .filter((e) => {
      const k = `${e.file}#${e.frame}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.frame - b.frame))
    .slice(0, MAX_EVIDENCE);
  const f: Finding = {
    kind: words.kind,
    severity: list.reduce<Finding['severity']>((s, it) => (SEVERITY_RANK[it.finding.severity] > SEVERITY_RANK[s] ? it.finding.severity : s), 'info'),
    title: `${plural(list.length, 'call')} of ${worst.seq.client} ${words.verb} up to ${secondsText(worst.sched.blockedSeconds)} ${words.by} (${errors} × ${listText(statuses)})`,
    explanation: sentences(
      `the server answered ${listText(statuses)} ${timesText(errors)} to ${plural(list.length, 'call')} (${listText(opsText, 3)}${files.length > 0 ? ` on ${plural(files.length, 'file')}` : ''}): ${worst.cause}`,
      `${resolved === list.length ? 'all succeeded in the end' : `${resolved} of ${list.length} succeeded in the end`}; the longest waited ${secondsText(worst.sched.blockedSeconds)}`,
      words.advice,
    ),
    client: worst.seq.client,
    server: worst.seq.server,
    start: first.start,
    end: last.end,
    durationSeconds: micro(Math.max(...list.map((it) => it.seq.lastTime)) - Math.min(...list.map((it) => it.seq.attempts[0]!.time))),
    count: list.reduce((n, it) => n + it.finding.count, 0),
    evidence: ev,
    metrics: cleanMetrics({
      calls: list.length,
      errorReplies: errors,
      resolved,
      longestBlockedSeconds: worst.sched.blockedSeconds,
      ops: opsText,
      files,
      sequences: list.map((it) => `${it.seq.op}${it.seq.file !== '' ? ` ${it.seq.file}` : ''}: ${it.seq.errors} × ${it.seq.error}, ${secondsText(it.sched.blockedSeconds)}, ${it.seq.end ? it.seq.end.status : 'unresolved'}`),
      ...Object.fromEntries(Object.entries(worst.finding.metrics).filter(([k]) => !(k in SEQUENCE_KEYS))),
    }),
    impact: { blockedSeconds: worst.sched.blockedSeconds, calls: list.length },
  };
  const clientid = list.find((it) => it.seq.clientid !== undefined)?.seq.clientid;
  if (clientid !== undefined) f.clientid = clientid;
  if (files.length === 1) f.file = files[0]!;
  return f;
}

/** Metrics of one sequence, left out of a merged finding's (the server-wide ones stay). */
const SEQUENCE_KEYS: Record<string, true> = { attempts: true, errorReplies: true, intervals: true, blockedSeconds: true, backoff: true, capSeconds: true, outcome: true, sequencesNotReported: true };
