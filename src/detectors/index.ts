/**
 * The detector set: runs every detector on the transaction stream and the
 * TCP events, and collects their findings ranked by what they cost.
 *
 * It owns the shared TransportTimeline (detectors read it through their
 * context), feeding it each event and transaction before the detectors, so
 * a detector handed a transaction sees the TCP episodes up to its reply.
 *
 * After the detectors finish, every finding whose detector did not judge its
 * own confidence is checked against the capture loss between its hosts
 * during it: bytes missing from the capture there make it `medium`, with a
 * caveat saying so.
 */
import type { FrameRef } from '../capture/frame.js';
import type { OrphanReply, Transaction, TransactionSink } from '../rpc/transaction.js';
import type { TcpEvent } from '../transport/stream.js';
import { captureDetectors } from './group-capture.js';
import type { RdmaEvent } from '../transport/roce.js';
import type { Detector, DetectorContext, DetectorOptions, Finding, NotReportedByDetector } from './finding.js';
import { retryDetectors } from './group-retry.js';
import { serviceDetectors } from './group-service.js';
import { sessionDetectors } from './group-session.js';
import { transportDetectors } from './group-transport.js';
import { TransportTimeline } from './transport-timeline.js';
import { addressOf, isoSeconds, rankFindings } from './ranking.js';
import { bytesText } from './wording.js';
import { rdmaDetectors } from './group-rdma.js';
import { DEFAULT_FINDINGS_MAX_PER_KIND, FindingsCap, type FindingsNotListed } from './findings-cap.js';
import { GroupBudget } from './group-budget.js';
import { entityBoundOf } from '../memory/entity-bound.js';

export { addressOf, impactScore, isoSeconds, rankFindings } from './ranking.js';

export class DetectorSet implements TransactionSink {
  readonly detectors: Detector[];
  readonly timeline: TransportTimeline;
  private readonly lastFrame: () => FrameRef | undefined;
  private readonly cap: FindingsCap;
  /** The bound on the detectors' groups together (group-budget.ts). */
  private readonly groups: GroupBudget;

  constructor(ctx: DetectorContext, options: DetectorOptions = {}, detectors?: Detector[]) {
    const entities = entityBoundOf(options);
    this.timeline = ctx.timeline ?? new TransportTimeline(options['timelineMaxConnections'] ?? entities, entities);
    this.lastFrame = ctx.lastFrame ?? (() => undefined);
    const perKind = options['findingsMaxPerKind'] ?? DEFAULT_FINDINGS_MAX_PER_KIND;
    this.cap = new FindingsCap(perKind);
    // Each detector may hold as many groups as are listed of a kind, whatever the others hold.
    this.groups = ctx.groups ?? new GroupBudget(options['detectorsMaxGroups'] ?? entities, options['detectorsGroupFloor'] ?? perKind);
    const shared: DetectorContext = { ...ctx, timeline: this.timeline, groups: this.groups };
    this.detectors = detectors ?? [
      ...captureDetectors(shared, options),
      ...sessionDetectors(shared, options),
      ...retryDetectors(shared, options),
      ...transportDetectors(shared, options),
      ...serviceDetectors(shared, options),
      ...rdmaDetectors(shared, options),
    ];
  }

  transaction(t: Transaction): void {
    this.timeline.transaction(t);
    // Only the detectors that listen, each bound once: no property lookup per call on two dozen classes.
    const listeners = (this.transactionListeners ??= this.detectors.filter((d) => d.onTransaction !== undefined).map((d) => d.onTransaction!.bind(d)));
    for (let i = 0; i < listeners.length; i++) listeners[i]!(t);
  }

  private transactionListeners: ((t: Transaction) => void)[] | undefined;

  unanswered(t: Transaction): void {
    this.timeline.unanswered(t, this.lastFrame());
    for (const d of this.detectors) d.onUnanswered?.(t);
  }

  orphanReply(r: OrphanReply): void {
    this.timeline.orphanReply(r);
    for (const d of this.detectors) d.onOrphanReply?.(r);
  }

  tcpEvent(e: TcpEvent): void {
    this.timeline.event(e);
    // Only the detectors that listen (a hostile capture makes several events per connection).
    const listeners = (this.tcpListeners ??= this.detectors.filter((d) => d.onTcpEvent !== undefined));
    for (const d of listeners) d.onTcpEvent!(e);
  }

  private tcpListeners: Detector[] | undefined;

  rdmaEvent(e: RdmaEvent): void {
    for (const d of this.detectors) d.onRdmaEvent?.(e);
  }

  /**
   * Every detector's findings, ranked (see rankFindings), the first
   * findingsMaxPerKind of each kind, their confidence judged.
   *
   * With `release`, the set lets go of each detector once its findings are
   * taken, and of the transport timeline at the end (nothing is asked of it
   * after, but notReported() and notListed()): analyze() then builds the
   * rest of the report, and on a capture of thousands of hosts the
   * detectors' state is about as large as the report (1 GB replay: 50 MB
   * of it beside 59 MB of report, docs/memory.md, session 38).
   */
  findings(release = false): Finding[] {
    const ds = release ? this.detectors.splice(0) : [...this.detectors];
    if (release) {
      this.transactionListeners = undefined;
      this.tcpListeners = undefined;
    }
    // Cut detector by detector: at most one detector's findings beyond the cap are held at once.
    const kept: Finding[] = [];
    for (let d = ds.shift(); d !== undefined; d = ds.shift()) {
      const own = d.finish();
      // Asked after finish(): closing what was open can drop more.
      const left = d.notReported?.();
      if (left !== undefined && Object.keys(left).length > 0) this.leftOut[d.kind] = { ...this.leftOut[d.kind], ...left };
      // Of what it left out, how much the detectors' shared bound refused (the rest its own bound).
      const refused = this.groups.refused(d.kind);
      if (refused > 0) this.leftOut[d.kind] = { ...this.leftOut[d.kind], bySharedBound: refused };
      for (const f of own) inTimeOrder(f);
      for (const f of this.cap.keep(rankFindings(own))) kept.push(f);
    }
    const listed = this.cap.keep(rankFindings(kept));
    for (const f of listed) this.judgeConfidence(f);
    if (release) this.timeline.release();
    return listed;
  }

  /**
   * What each detector's bounds left out of its findings, by detector kind
   * (after findings()); undefined when nothing was.
   */
  notReported(): NotReportedByDetector | undefined {
    return Object.keys(this.leftOut).length > 0 ? this.leftOut : undefined;
  }

  private readonly leftOut: NotReportedByDetector = {};

  /** The findings beyond `findingsMaxPerKind` of their kind, counted (after findings()). */
  notListed(): FindingsNotListed | undefined {
    return this.cap.notListed();
  }

  /** A finding its detector did not weaken: weakened when the capture lost bytes between its hosts during it. */
  private judgeConfidence(f: Finding): void {
    if (f.confidence !== undefined) return;
    f.confidence = 'high';
    if (f.limitsJudgement !== undefined || f.kind === 'capture-quality') return;
    const from = isoSeconds(f.start);
    const to = isoSeconds(f.end);
    if (Number.isNaN(from) || Number.isNaN(to)) return;
    const client = f.client !== undefined ? addressOf(f.client) : undefined;
    const server = f.server !== undefined ? addressOf(f.server) : undefined;
    // A second either side: a gap is known where a later ACK revealed it.
    const loss = client !== undefined && server !== undefined ? this.timeline.lossDuring(from - 1, to + 1, client, server) : this.timeline.lossDuring(from - 1, to + 1);
    if (loss.gaps === 0) return;
    f.confidence = 'medium';
    f.caveat = `The capture lost ${bytesText(loss.bytes)} in ${loss.gaps} gap${loss.gaps === 1 ? '' : 's'} ${client !== undefined && server !== undefined ? 'between these hosts ' : ''}during this finding: some of its messages may be missing.`;
  }
}

/**
 * A finding's span by time: where the capture's clock went backwards
 * between its first and last events (in capture order), its end is earlier
 * than its start; the two are swapped, so no span is negative (the
 * capture-quality finding says the clock went backwards).
 */
export function inTimeOrder(f: Finding): void {
  if (!(f.durationSeconds < 0)) return;
  [f.start, f.end] = [f.end, f.start];
  f.durationSeconds = -f.durationSeconds;
}
