/**
 * Counts transactions per program, version and procedure, with the service
 * response time (Wireshark's rpc.time) min / max / mean, as tshark's
 * `-z rpc,srt` does; and keeps the first unanswered calls and replies
 * without a call, so a report can point at their frames.
 */
import { procedureName, programName } from '../../decoders/programs.js';
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { formatEndpoint } from '../transport/stream.js';
import type { OrphanReply, Transaction, TransactionSink } from '../rpc/transaction.js';

/** Unanswered calls and orphan replies listed by frame in a report (all are counted). */
const LISTED = 100;

export interface ProcedureTally {
  program: number;
  version: number;
  procedure: number;
  calls: number;
  answered: number;
  /** Replies other than MSG_ACCEPTED/SUCCESS. */
  rpcErrors: number;
  minSeconds: number;
  maxSeconds: number;
  sumSeconds: number;
}

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

function tallyKey(program: number, version: number, procedure: number): string {
  return `${program}/${version}/${procedure}`;
}

export class RpcSummary implements TransactionSink {
  readonly byProcedure = new Map<string, ProcedureTally>();
  readonly unansweredCalls: UnansweredCall[] = [];
  readonly orphans: OrphanReplyRef[] = [];
  unansweredCount = 0;
  orphanCount = 0;

  constructor(
    /** Whether a program number is an NFSv4 client's announced callback program. */
    private readonly isCallbackProgram: (program: number) => boolean,
    private readonly listener?: (t: Transaction) => void,
  ) {}

  private tally(t: Transaction): ProcedureTally {
    const key = tallyKey(t.program, t.version, t.procedure);
    let p = this.byProcedure.get(key);
    if (p === undefined) {
      p = {
        program: t.program,
        version: t.version,
        procedure: t.procedure,
        calls: 0,
        answered: 0,
        rpcErrors: 0,
        minSeconds: Infinity,
        maxSeconds: 0,
        sumSeconds: 0,
      };
      this.byProcedure.set(key, p);
    }
    return p;
  }

  transaction(t: Transaction): void {
    const p = this.tally(t);
    p.calls++;
    p.answered++;
    const s = t.latency;
    if (s < p.minSeconds) p.minSeconds = s;
    if (s > p.maxSeconds) p.maxSeconds = s;
    p.sumSeconds += s;
    const h = t.reply!.header;
    if (h.replyStat !== 0 || h.acceptStat !== 0) p.rpcErrors++;
    this.listener?.(t);
  }

  unanswered(t: Transaction): void {
    this.tally(t).calls++;
    this.unansweredCount++;
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
    this.orphanCount++;
    if (this.orphans.length < LISTED) {
      this.orphans.push({ at: r.frame, xid: r.xid, client: formatEndpoint(r.client), server: formatEndpoint(r.server) });
    }
  }

  /** Rows sorted by program, version, procedure, with names. */
  rows(): (ProcedureTally & { programName: string; procedureName: string })[] {
    return [...this.byProcedure.values()]
      .sort((a, b) => a.program - b.program || a.version - b.version || a.procedure - b.procedure)
      .map((p) => {
        const callback = this.isCallbackProgram(p.program);
        return {
          ...p,
          programName: programName(p.program, callback),
          procedureName: procedureName(p.program, p.version, p.procedure, callback),
        };
      });
  }
}
