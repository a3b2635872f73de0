/**
 * slow-ops: calls whose latency is an outlier for their operation (NFSv3
 * procedure, NFSv4 COMPOUND main op, other programs' procedures).
 *
 * A call is an outlier when its latency is above both p99 × slowOpsFactor
 * (default 10) of its operation's latencies over the whole capture and
 * slowOpsFloorSeconds (default 0.5 s). Latencies go into a per-op
 * LatencyHistogram; since p99 needs every latency first, only the
 * CANDIDATES slowest calls per op are kept (a min-heap) and judged at the
 * end. One finding per op with outliers, the worst calls as evidence.
 * Options: slowOpsFactor (10), slowOpsFloorSeconds (0.5),
 * slowOpsErrorSeconds (30): error severity when the worst call took longer.
 */
import { programName, procedureName } from '../../decoders/programs.js';
import type { FrameRef } from '../capture/frame.js';
import { LatencyHistogram } from '../analysis/histogram.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatFrameTime } from '../report/time.js';
import { formatEndpoint } from '../transport/stream.js';
import { evidence, MAX_EVIDENCE, type Detector, type DetectorContext, type DetectorOptions, type Finding } from './finding.js';
import { micro } from './retry-schedule.js';

/** Slowest calls kept per op. */
export const CANDIDATES = 100;

interface Candidate {
  latency: number;
  call: FrameRef;
  reply: FrameRef;
  xid: number;
  client: string;
  server: string;
  file: string | undefined;
}

/** A bounded min-heap on latency: keeps the `cap` largest. */
class SlowestHeap {
  readonly items: Candidate[] = [];
  constructor(private readonly cap: number) {}

  offer(c: Candidate): void {
    const h = this.items;
    if (h.length < this.cap) {
      h.push(c);
      let i = h.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (h[p]!.latency <= h[i]!.latency) break;
        [h[p], h[i]] = [h[i]!, h[p]!];
        i = p;
      }
      return;
    }
    if (c.latency <= h[0]!.latency) return;
    h[0] = c;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.latency < h[m]!.latency) m = l;
      if (r < h.length && h[r]!.latency < h[m]!.latency) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}

interface OpStats {
  label: string;
  hist: LatencyHistogram;
  heap: SlowestHeap;
}

function opLabel(t: Transaction): string {
  const op = t.decoded?.call?.mainOp ?? procedureName(t.program, t.version, t.procedure);
  return `${programName(t.program)} v${t.version} ${op}`;
}

export class SlowOpsDetector implements Detector {
  readonly kind = 'slow-ops';
  private readonly ops = new Map<string, OpStats>();
  private readonly factor: number;
  private readonly floor: number;
  private readonly errorSeconds: number;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.factor = options.slowOpsFactor ?? 10;
    this.floor = options.slowOpsFloorSeconds ?? 0.5;
    this.errorSeconds = options.slowOpsErrorSeconds ?? 30;
  }

  onTransaction(t: Transaction): void {
    if (!t.reply || t.latency < 0) return;
    const label = opLabel(t);
    let s = this.ops.get(label);
    if (!s) {
      s = { label, hist: new LatencyHistogram(), heap: new SlowestHeap(CANDIDATES) };
      this.ops.set(label, s);
    }
    s.hist.record(t.latency);
    const heap = s.heap.items;
    if (heap.length < CANDIDATES || t.latency > heap[0]!.latency) {
      const a = t.nfs4?.ops.find((o) => o.op === t.decoded?.call?.mainOp);
      s.heap.offer({
        latency: t.latency,
        call: t.call.frame,
        reply: t.reply.frame,
        xid: t.xid,
        client: formatEndpoint(t.client),
        server: formatEndpoint(t.server),
        file: a?.path ?? a?.fh ?? t.decoded?.call?.fh,
      });
    }
  }

  finish(): Finding[] {
    const out: Finding[] = [];
    for (const s of this.ops.values()) {
      const p99 = s.hist.quantile(0.99) ?? 0;
      const p50 = s.hist.quantile(0.5) ?? 0;
      const threshold = Math.max(p99 * this.factor, this.floor);
      const outliers = s.heap.items.filter((c) => c.latency > threshold).sort((a, b) => b.latency - a.latency || a.call.number - b.call.number);
      if (outliers.length === 0) continue;
      const worst = outliers[0]!;
      const shown = outliers.slice(0, MAX_EVIDENCE / 2);
      const ev = shown.flatMap((c) => [
        evidence(this.ctx, c.call, `${s.label} call (xid 0x${c.xid.toString(16)})${c.file ? ` ${c.file}` : ''}`, formatFrameTime),
        evidence(this.ctx, c.reply, `${s.label} reply after ${c.latency.toFixed(3)} s`, formatFrameTime),
      ]);
      const byTime = [...outliers].sort((a, b) => a.call.tsSec - b.call.tsSec || a.call.tsNsec - b.call.tsNsec);
      const servers = [...new Set(outliers.map((c) => c.server))];
      const clients = [...new Set(outliers.map((c) => c.client))];
      const files = [...new Set(outliers.map((c) => c.file).filter((x): x is string => x !== undefined))];
      const more = outliers.length >= CANDIDATES ? ' (at least: only the slowest are kept)' : '';
      const f: Finding = {
        kind: this.kind,
        severity: worst.latency > this.errorSeconds ? 'error' : 'warning',
        title: `${outliers.length} slow ${s.label} call(s), worst ${worst.latency.toFixed(3)} s (p99 ${p99.toFixed(4)} s)`,
        explanation:
          `${outliers.length}${more} of ${s.hist.count} ${s.label} calls took longer than ${threshold.toFixed(3)} s ` +
          `(${this.factor} × the p99 of ${p99.toFixed(4)} s, and at least ${this.floor} s); the median is ${p50.toFixed(4)} s and the worst ${worst.latency.toFixed(3)} s. ` +
          'Outliers far above the usual latency point at a server stall (storage backend, lock or delegation recall, a thread pool exhausted) or lost replies retransmitted by the client: ' +
          'check the server at those times and the TCP analysis around the evidence frames.',
        start: formatFrameTime(byTime[0]!.call),
        end: formatFrameTime(byTime[byTime.length - 1]!.reply),
        durationSeconds: micro(worst.latency),
        count: outliers.length,
        evidence: ev,
        metrics: {
          op: s.label,
          calls: s.hist.count,
          outliers: outliers.length,
          p50Seconds: micro(p50),
          p99Seconds: micro(p99),
          thresholdSeconds: micro(threshold),
          worstSeconds: micro(worst.latency),
          latencies: shown.map((c) => micro(c.latency)),
        },
      };
      if (servers.length === 1) f.server = servers[0]!;
      if (clients.length === 1) f.client = clients[0]!;
      if (files.length === 1) f.file = files[0]!;
      out.push(f);
    }
    return out;
  }
}
