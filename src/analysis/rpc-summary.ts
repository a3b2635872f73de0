/**
 * Keeps the first unanswered calls and replies without a call, so a report
 * can point at their frames (all are counted by the matcher); and hands
 * every transaction to the caller's listener.
 */
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { formatEndpoint } from '../transport/stream.js';
import type { OrphanReply, Transaction, TransactionSink } from '../rpc/transaction.js';

/** Unanswered calls and orphan replies listed by frame in a report. */
const LISTED = 100;

export interface UnansweredCall {
  at: FrameRef;
  xid: number;
  program: number;
  version: number;
  procedure: number;
  client: string;
  server: string;
  retransmits: number;
  /** A reply that began (its first frame) but never completed before its stream ended. */
  unfinishedReplyAt: FrameRef | undefined;
}

export interface OrphanReplyRef {
  at: FrameRef;
  xid: number;
  client: string;
  server: string;
}

export class RpcSummary implements TransactionSink {
  readonly unansweredCalls: UnansweredCall[] = [];
  readonly orphans: OrphanReplyRef[] = [];
  /** Replies stamped before their calls (negative rpc.time: the clock stepped back), and the first one's reply frame. */
  repliesBeforeCall = 0;
  firstReplyBeforeCall: FrameRef | undefined;

  constructor(private readonly listener?: (t: Transaction) => void) {}

  transaction(t: Transaction): void {
    if (t.latency < 0) {
      this.repliesBeforeCall++;
      this.firstReplyBeforeCall ??= snapshotFrameRef(t.reply!.frame);
    }
    this.listener?.(t);
  }

  unanswered(t: Transaction): void {
    if (this.unansweredCalls.length < LISTED) {
      this.unansweredCalls.push({
        at: snapshotFrameRef(t.call.frame),
        xid: t.xid,
        program: t.program,
        version: t.version,
        procedure: t.procedure,
        client: formatEndpoint(t.client),
        server: formatEndpoint(t.server),
        retransmits: t.retransmits,
        unfinishedReplyAt: t.unfinishedReply ? snapshotFrameRef(t.unfinishedReply.firstFrame) : undefined,
      });
    }
    this.listener?.(t);
  }

  orphanReply(r: OrphanReply): void {
    if (this.orphans.length < LISTED) {
      this.orphans.push({ at: r.frame, xid: r.xid, client: formatEndpoint(r.client), server: formatEndpoint(r.server) });
    }
  }
}
