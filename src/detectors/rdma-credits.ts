/**
 * rdma-credits: RPC-over-RDMA flow control (RFC 8166 §3.3). The server
 * grants credits in each reply; the client may have at most that many
 * calls outstanding. When the client reaches the limit, further calls wait
 * for a reply: the connection's concurrency is capped by the credits.
 *
 * - Exhausted: the client had as many calls outstanding as the credits
 *   granted, `creditsExhaustedMin` (default 1) times or more. Severity
 *   info; warning when it happened 100 times or more.
 * - Exceeded: a call beyond the credits granted (a protocol violation: the
 *   server may drop it). Severity error.
 */
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { formatFrameTime } from '../report/time.js';
import { LruMap } from '../memory/lru.js';
import type { RdmaEvent } from '../transport/roce.js';
import { MAX_EVIDENCE, evidence, type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { round, secondsFrom } from './transport-common.js';
import { plural, sentences, timesText } from './wording.js';
import { entityBoundOf } from '../memory/entity-bound.js';

interface Credits {
  client: string;
  server: string;
  describe: string;
  credits: Set<number>;
  exhausted: number;
  exceeded: number;
  frames: { at: FrameRef; what: string }[];
  first: FrameRef;
  last: FrameRef;
}

export class RdmaCreditsDetector implements Detector {
  readonly kind = 'rdma-credits';
  private readonly conns = new LruMap<number, Credits>();
  /** Connections forgotten with their credit events (beyond 10,000, the oldest first). */
  private connectionsNotReported = 0;
  private readonly min: number;
  /** Connections followed at most (the oldest forgotten, counted). */
  private readonly maxConns: number;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.min = options['creditsExhaustedMin'] ?? 1;
    this.maxConns = entityBoundOf(options);
  }

  onRdmaEvent(e: RdmaEvent): void {
    if ((e.kind !== 'credits-exhausted' && e.kind !== 'credits-exceeded') || e.conn === undefined) return;
    let c = this.conns.get(e.conn.id);
    if (c === undefined) {
      c = { client: e.client, server: e.server, describe: e.conn.describe(), credits: new Set(), exhausted: 0, exceeded: 0, frames: [], first: snapshotFrameRef(e.at), last: snapshotFrameRef(e.at) };
      this.conns.set(e.conn.id, c);
      if (this.conns.size > this.maxConns) {
        this.conns.shift();
        this.connectionsNotReported++;
      }
    }
    c.last = snapshotFrameRef(e.at);
    if (c.credits.size < 16) c.credits.add(e.count);
    if (e.kind === 'credits-exhausted') c.exhausted++;
    else c.exceeded++;
    if (c.frames.length < MAX_EVIDENCE) {
      c.frames.push({ at: snapshotFrameRef(e.at), what: e.kind === 'credits-exhausted' ? `call uses the last of ${plural(e.count, 'credit')}` : `call beyond the ${plural(e.count, 'credit')} granted` });
    }
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ connectionsNotReported: this.connectionsNotReported });
  }

  finish(): Finding[] {
    const out: Finding[] = [];
    for (const c of this.conns.values()) {
      if (c.exceeded === 0 && c.exhausted < this.min) continue;
      const credits = [...c.credits].sort((a, b) => a - b).join('/');
      const exceeded = c.exceeded > 0;
      out.push({
        kind: this.kind,
        severity: exceeded ? 'error' : c.exhausted >= 100 ? 'warning' : 'info',
        title: exceeded
          ? `Calls beyond the RPC-over-RDMA credits on ${c.describe} (${timesText(c.exceeded)}, ${credits} granted)`
          : `RPC-over-RDMA credits exhausted ${timesText(c.exhausted)} on ${c.describe} (${credits} granted)`,
        explanation: exceeded
          ? sentences(
              `the client sent calls while it already had as many outstanding as the server's credit grant (${credits}): RFC 8166 forbids it, and the server may drop such calls or the connection`,
              'look for a client bug or a server that lowered its grant',
            )
          : sentences(
              `${timesText(c.exhausted)} the client had as many calls outstanding as the server granted credits (${credits}), so further calls waited for a reply`,
              'if calls are slow meanwhile, the credit limit caps the concurrency: raise sunrpc.svc_rdma.max_requests (64) on a Linux server, or use nconnect',
            ),
        client: c.client.replace(/:\d+$/, ''),
        server: c.server,
        start: formatFrameTime(c.first),
        end: formatFrameTime(c.last),
        durationSeconds: round(Math.max(0, secondsFrom(c.first, c.last))),
        count: c.exhausted + c.exceeded,
        evidence: c.frames.map((f) => evidence(this.ctx, f.at, f.what, formatFrameTime)),
        metrics: { exhausted: c.exhausted, exceeded: c.exceeded, credits },
      });
    }
    return out;
  }
}
