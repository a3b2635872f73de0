/**
 * The detector set: runs every detector on the transaction stream and the
 * TCP events, and collects their findings in a deterministic order.
 */
import type { OrphanReply, Transaction, TransactionSink } from '../rpc/transaction.js';
import type { TcpEvent } from '../transport/stream.js';
import type { Detector, DetectorContext, DetectorOptions, Finding } from './finding.js';
import { retryDetectors } from './group-retry.js';
import { sessionDetectors } from './group-session.js';
import { transportDetectors } from './group-transport.js';

const SEVERITY_ORDER: Record<string, number> = { error: 0, warning: 1, info: 2 };

export class DetectorSet implements TransactionSink {
  readonly detectors: Detector[];

  constructor(ctx: DetectorContext, options: DetectorOptions = {}, detectors?: Detector[]) {
    this.detectors = detectors ?? [...sessionDetectors(ctx, options), ...retryDetectors(ctx, options), ...transportDetectors(ctx, options)];
  }

  transaction(t: Transaction): void {
    for (const d of this.detectors) d.onTransaction?.(t);
  }

  unanswered(t: Transaction): void {
    for (const d of this.detectors) d.onUnanswered?.(t);
  }

  orphanReply(_r: OrphanReply): void {}

  tcpEvent(e: TcpEvent): void {
    for (const d of this.detectors) d.onTcpEvent?.(e);
  }

  /** Every detector's findings: most severe first, then by start time, kind and title. */
  findings(): Finding[] {
    const all = this.detectors.flatMap((d) => d.finish());
    return all.sort(
      (a, b) =>
        (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) ||
        (a.start < b.start ? -1 : a.start > b.start ? 1 : 0) ||
        (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) ||
        (a.title < b.title ? -1 : a.title > b.title ? 1 : 0),
    );
  }
}
