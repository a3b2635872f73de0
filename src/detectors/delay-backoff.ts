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
 * retryMaxGapSeconds (300): a longer pause ends a retry sequence.
 */
import type { Transaction } from '../rpc/transaction.js';
import { formatFrameTime } from '../report/time.js';
import type { Detector, DetectorContext, DetectorOptions, Finding } from './finding.js';
import { analyzeSchedule, describeBackoff, RetryTracker, scheduleMetrics, sequenceEvidence, type RetrySequence } from './retry-schedule.js';

const DELAY_STATUSES = new Set(['NFS4ERR_DELAY', 'NFS3ERR_JUKEBOX']);

export class DelayBackoffDetector implements Detector {
  readonly kind = 'delay-backoff';
  private readonly tracker: RetryTracker;
  private readonly blockedErrorSeconds: number;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.blockedErrorSeconds = options.blockedErrorSeconds ?? 60;
    this.tracker = new RetryTracker((s) => DELAY_STATUSES.has(s), options.retryMaxGapSeconds ?? 300);
  }

  onTransaction(t: Transaction): void {
    this.tracker.onTransaction(t);
  }

  finish(): Finding[] {
    const out = this.tracker.finish().map((seq) => this.finding(seq));
    if (this.tracker.dropped > 0 && out.length > 0) out[out.length - 1]!.metrics.sequencesNotReported = this.tracker.dropped;
    return out;
  }

  private finding(seq: RetrySequence): Finding {
    const sched = analyzeSchedule(seq);
    const first = seq.attempts[0]!;
    const end = seq.end ? seq.end.reply : seq.attempts[seq.attempts.length - 1]!.reply;
    const fileText = seq.file !== '' ? ` ${seq.file}` : '';
    const outcome = sched.resolved
      ? `The retry succeeded after ${sched.blockedSeconds.toFixed(1)} s.`
      : seq.end
        ? `The retries ended with ${seq.end.status} after ${sched.blockedSeconds.toFixed(1)} s.`
        : `No retry succeeded before the capture ended (${sched.blockedSeconds.toFixed(1)} s blocked so far).`;
    const why =
      seq.error === 'NFS3ERR_JUKEBOX'
        ? 'NFS3ERR_JUKEBOX means the server cannot answer now (a file on offline/HSM storage being recalled, a delegation being recalled from another NFSv4 client, a busy backend)'
        : 'NFS4ERR_DELAY means the server is busy with something the request waits on (recalling a conflicting delegation or layout, a slow backend, an export being reloaded)';
    const f: Finding = {
      kind: this.kind,
      severity: sched.blockedSeconds > this.blockedErrorSeconds ? 'error' : 'warning',
      title: `${seq.op}${fileText} delayed ${sched.blockedSeconds.toFixed(1)} s (${seq.errors} × ${seq.error})`,
      explanation:
        `The server answered ${seq.op}${fileText} with ${seq.error} ${seq.errors} time(s). ${why}. ` +
        `The client ${describeBackoff(sched)}. ${outcome} ` +
        'Check what the server was waiting on at that time (delegation recalls to other clients — look for CB_RECALL —, HSM recalls, server load).',
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
    return f;
  }
}
