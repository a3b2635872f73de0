/**
 * delay-backoff: operations the server asked the client to retry later
 * (NFS4ERR_DELAY; NFSv3's NFS3ERR_JUKEBOX, e.g. a file being recalled from
 * tape or a delegation being recalled), with the client's retry schedule.
 *
 * One finding per retried operation (client address, server, op, file):
 * the attempts, the intervals between them (doubling / fixed / irregular,
 * and the cap), and how long the client was blocked (first refused call →
 * the reply that ended the retries). See retry-schedule.ts.
 *
 * Options: blockedErrorSeconds (60): error severity above it;
 * retryMaxGapSeconds (300): a longer pause ends a retry sequence;
 * retryMaxAttemptsHeld (MAX_ATTEMPTS_HELD, retry-schedule.ts): attempts
 * whose times are kept, in all sequences.
 */
import { noteNotReported } from './recent-groups.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatFrameTime } from '../report/time.js';
import { type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { secondsText, sentences, timesText } from './wording.js';
import { analyzeSchedule, mergeRetryFindings, retryText, type RetryFinding, RetryTracker, scheduleMetrics, sequenceEvidence, type RetrySequence } from './retry-schedule.js';
import { entityBoundOf } from '../memory/entity-bound.js';

const DELAY_STATUSES = new Set(['NFS4ERR_DELAY', 'NFS3ERR_JUKEBOX']);

const ADVICE = 'look for CB_RECALLs, storage recalls or server load then';

export class DelayBackoffDetector implements Detector {
  readonly kind = 'delay-backoff';
  private readonly tracker: RetryTracker;
  private readonly blockedErrorSeconds: number;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.blockedErrorSeconds = options.blockedErrorSeconds ?? 60;
    this.tracker = new RetryTracker((s) => DELAY_STATUSES.has(s), options.retryMaxGapSeconds ?? 300, options.retryMaxAttemptsHeld, entityBoundOf(options));
  }

  onTransaction(t: Transaction): void {
    this.tracker.onTransaction(t);
  }

  /** After finish(): the retry sequences beyond those held. */
  notReported(): NotReportedCounts {
    return positiveCounts({ sequencesNotReported: this.tracker.dropped });
  }

  finish(): Finding[] {
    const out = mergeRetryFindings(
      this.tracker.finish().map((seq) => this.finding(seq)),
      { kind: this.kind, verb: 'delayed', by: 'by the server', advice: ADVICE },
    );
    return noteNotReported(out, 'sequencesNotReported', this.tracker.dropped);
  }

  private finding(seq: RetrySequence): RetryFinding {
    const sched = analyzeSchedule(seq);
    const first = seq.attempts[0]!;
    const end = seq.end ? seq.end.reply : seq.attempts[seq.attempts.length - 1]!.reply;
    // A title names the path when known, else a short form of the handle (its hex in full stays in the metrics).
    const fileText = seq.file === '' ? '' : ` ${seq.file.replace(/^([0-9a-f]{8})[0-9a-f]{16,}([0-9a-f]{4})(?=\/|$)/i, '$1…$2')}`;
    const why =
      seq.error === 'NFS3ERR_JUKEBOX'
        ? 'it could not answer yet (a file on offline storage, a delegation recall, a busy backend)'
        : 'it was busy (recalling a delegation or layout, or a slow backend)';
    const f: Finding = {
      kind: this.kind,
      severity: sched.blockedSeconds > this.blockedErrorSeconds ? 'error' : 'warning',
      title: `${seq.op}${fileText} ${sched.blockedSeconds >= 0.05 ? `delayed ${secondsText(sched.blockedSeconds)}` : 'refused'} by the server (${seq.errors} × ${seq.error})`,
      explanation: sentences(
        `the server answered ${seq.error} ${timesText(seq.errors)}: ${why}`,
        retryText(seq, sched),
        ADVICE,
      ),
      client: seq.client,
      server: seq.server,
      start: formatFrameTime(first.call),
      end: formatFrameTime(end),
      durationSeconds: sched.blockedSeconds,
      count: sched.attempts,
      evidence: sequenceEvidence(this.ctx, seq),
      metrics: scheduleMetrics(seq, sched),
    };
    if (seq.clientid !== undefined) f.clientid = seq.clientid;
    if (seq.file !== '') f.file = seq.file;
    return { finding: f, seq, sched, cause: why };
  }
}
