/**
 * RPC calls and replies on the real captures, against tshark: every call
 * (frame, xid, program, version, procedure), every reply and the call it
 * answers, and rpc.time, equal what tshark decodes wherever tshark decodes
 * them. Where nfsight decodes more (snaplen-cut messages, streams tshark
 * loses), the extra transactions are listed here, one by one.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { CAPTURES, bundledCaptures, expectedOf } from './helpers.js';

type TsharkRow = [number, string, number, number, number, number, number | null, string | null];

interface Decoded {
  calls: Set<string>;
  replies: Set<string>;
  times: Map<number, string>;
  report: Awaited<ReturnType<typeof analyze>>;
}

const hex = (xid: number): string => `0x${xid.toString(16).padStart(8, '0')}`;
const callKey = (frame: number, xid: string, prog: number, vers: number, proc: number): string =>
  `call ${frame} ${xid} ${prog}/${vers}/${proc}`;
const replyKey = (frame: number, xid: string, callFrame: number): string => `reply ${frame} ${xid} -> ${callFrame}`;

async function decode(name: string): Promise<Decoded> {
  const calls = new Set<string>();
  const replies = new Set<string>();
  const times = new Map<number, string>();
  const onTransaction = (t: Transaction): void => {
    const x = hex(t.xid);
    calls.add(callKey(t.call.frame.number, x, t.program, t.version, t.procedure));
    // Retransmitted calls are calls too, in tshark's listing.
    for (const f of t.retransmitFrames) calls.add(callKey(f.number, x, t.program, t.version, t.procedure));
    if (t.reply) {
      replies.add(replyKey(t.reply.frame.number, x, t.call.frame.number));
      times.set(t.reply.frame.number, t.latency.toFixed(9));
    }
  };
  const report = await analyze(join(CAPTURES, name), { onTransaction });
  return { calls, replies, times, report };
}

function tsharkSets(rows: TsharkRow[]): { calls: Set<string>; replies: Set<string>; times: Map<number, string> } {
  const calls = new Set<string>();
  const replies = new Set<string>();
  const times = new Map<number, string>();
  for (const [frame, xid, type, prog, vers, proc, callFrame, time] of rows) {
    if (type === 0) calls.add(callKey(frame, xid, prog, vers, proc));
    else if (callFrame !== null) {
      replies.add(replyKey(frame, xid, callFrame));
      if (time !== null) times.set(frame, time);
    }
  }
  return { calls, replies, times };
}

const minus = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x)).sort();

/**
 * Transactions nfsight decodes that tshark does not, per capture: each is
 * explained. Everything else must be equal.
 */
const NFSIGHT_DECODES_MORE: Record<string, { calls: string[]; replies: string[] }> = {};

describe('RPC transactions equal tshark’s', () => {
  for (const name of bundledCaptures()) {
    it(name, async () => {
      const exp = expectedOf(name) as ReturnType<typeof expectedOf> & {
        rpc: { messages: TsharkRow[]; messagesWithoutOutOfOrderReassembly?: TsharkRow[] };
      };
      // tshark loses different messages with out-of-order reassembly on (after a
      // snaplen-cut segment) and off (segments that arrived out of order): the
      // reference is what either run decodes.
      const theirs = tsharkSets([...exp.rpc.messages, ...(exp.rpc.messagesWithoutOutOfOrderReassembly ?? [])]);
      const ours = await decode(name);
      const extra = NFSIGHT_DECODES_MORE[name] ?? { calls: [], replies: [] };
      expect(minus(theirs.calls, ours.calls)).toEqual([]);
      expect(minus(theirs.replies, ours.replies)).toEqual([]);
      expect(minus(ours.calls, theirs.calls)).toEqual(extra.calls);
      expect(minus(ours.replies, theirs.replies)).toEqual(extra.replies);
      // rpc.time to the nanosecond, wherever both time a reply.
      for (const [frame, time] of theirs.times) expect(`${frame}: ${ours.times.get(frame)}`).toBe(`${frame}: ${time}`);
      expect(ours.report.rpc.invalidMessages).toBe(0);
    });
  }
});

describe('where nfsight decodes more than tshark', () => {
  it('nfsv3-snaplen200: every call answered and timed, where tshark with out-of-order reassembly loses 3 replies', async () => {
    const name = 'nfsv3-snaplen200.pcap';
    const exp = expectedOf(name) as ReturnType<typeof expectedOf> & { rpc: { messages: TsharkRow[] } };
    const tsharkReplies = exp.rpc.messages.filter((m) => m[2] === 1).length;
    const ours = await decode(name);
    expect(tsharkReplies).toBe(9);
    expect(ours.report.rpc.matched).toBe(12);
    expect(ours.report.rpc.unanswered).toBe(0);
    // READ replies cut by the snaplen are matched and timed from their headers.
    expect(ours.report.rpc.truncatedMessages).toBeGreaterThan(0);
  });

  it('lossy-read-cut starts inside a READ reply: nfsight skips to the next record and decodes everything after it', async () => {
    const ours = await decode('lossy-read-cut.pcap');
    expect(ours.report.rpc.resyncs).toBeGreaterThanOrEqual(1);
    expect(ours.report.rpc.resyncSkippedBytes).toBeGreaterThan(0);
    expect(ours.report.rpc.invalidMessages).toBe(0);
    // Its last READ reply was still arriving when the cut ends: the call stays unanswered.
    expect(ours.report.rpc.unansweredCalls.map((u) => u.frame)).toEqual([246]);
  });

  it('unanswered-read-tail: the READ whose reply never completed is unanswered, not answered by its first segments', async () => {
    const ours = await decode('unanswered-read-tail.pcap');
    expect(ours.report.rpc.unansweredCalls).toHaveLength(1);
    // Frame 66 is frame 2215 of unanswered-read.pcap; the reply began in the server's next segment, frame 67.
    expect(ours.report.rpc.unansweredCalls[0]).toMatchObject({ xid: '0x351ccd70', procedureName: 'READ', frame: 66 });
    expect(ours.report.rpc.unansweredCalls[0]!.unfinishedReplyFrame).toBe(67);
    expect(ours.report.rpc.matched).toBe(0);
  });
});
