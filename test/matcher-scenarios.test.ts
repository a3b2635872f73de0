/**
 * Every path of the RPC matcher on generated captures (test/gen/matcher-scenarios.ts),
 * over TCP and UDP, against tshark's matching of the same bytes
 * (test/gen/matcher-scenarios.expected.json: rpc.call.dup, rpc.reply.dup,
 * rpc.dup, rpc.repframe, rpc.reqframe, rpc.time per message).
 *
 * From tshark's view follows nfsight's: one transaction per call that is not
 * a duplicate, its retransmissions (the calls tshark marks as duplicates of
 * it), its reply (the first reply to it), its duplicate replies, its
 * latency (rpc.time of the reply), and the report's counters.
 *
 * Where nfsight differs on purpose, the scenario lists the exception and why.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { MATCHER_SCENARIOS } from './gen/matcher-scenarios.js';
import { tempDir, writeTemp } from './helpers.js';

interface Message {
  frame: number;
  xid: string;
  msgtype: number;
  procedure: number | null;
  callDup: number | null;
  replyDup: number | null;
  dup: boolean;
  reqframe?: number | null;
  repframe?: number | null;
  time?: string | null;
}

interface Expected {
  scenarios: Record<string, { what: string; sha256: string; messages: Message[] }>;
}

const EXPECTED = JSON.parse(readFileSync(new URL('./gen/matcher-scenarios.expected.json', import.meta.url), 'utf8')) as Expected;

/**
 * Where nfsight matches differently from tshark 4.0.17, on purpose: the
 * messages as nfsight reads them (a call that is new, not a duplicate; a
 * reply to that call). Latencies of replies changed here come from the
 * capture's own timestamps.
 */
interface Exception {
  why: string;
  /** Calls nfsight takes for new calls (tshark: a duplicate). */
  newCalls: number[];
  /** Replies and the call nfsight matches them with (tshark: another call, or a duplicate reply). */
  replies: Record<number, number>;
}

const ANOTHER_PROCEDURE: Exception = {
  why:
    'tshark (packet-rpc.c) takes a call whose xid it saw before in the conversation for a retransmission without comparing the procedure, ' +
    'and decodes the reply with the first call’s procedure; a call for another procedure is a new call (RFC 5531 §9: the xid only pairs a reply with its call)',
  newCalls: [],
  replies: {},
};

const EXCEPTIONS: Record<string, Exception> = {
  'tcp: xid reused for another procedure': { ...ANOTHER_PROCEDURE, newCalls: [8], replies: { 10: 8 } },
  'udp: xid reused for another procedure': { ...ANOTHER_PROCEDURE, newCalls: [3], replies: { 4: 3 } },
  'udp: xid reused from another port of the client': {
    why:
      'tshark’s UDP conversation for RPC is the client address and the server port (the client port is a wildcard), so calls from two ports ' +
      'of one host with the same xid are one call to it; nfsight pairs by address and port, as servers’ duplicate request caches do',
    newCalls: [2],
    replies: { 3: 2, 4: 1 },
  },
};

/** Capture time of each frame of a classic little-endian microsecond pcap, in seconds. */
function frameTimes(pcap: Buffer): number[] {
  expect(pcap.readUInt32LE(0)).toBe(0xa1b2c3d4);
  const times: number[] = [];
  for (let at = 24; at + 16 <= pcap.length; at += 16 + pcap.readUInt32LE(at + 8)) {
    times.push(pcap.readUInt32LE(at) + pcap.readUInt32LE(at + 4) / 1e6);
  }
  return times;
}

/** The transactions and counters nfsight must give, from tshark's messages (and the scenario's exceptions). */
function expectedView(messages: readonly Message[], exception: Exception | undefined, times: number[]) {
  const msgs = messages.map((m) => ({ ...m }));
  for (const m of msgs) {
    if (exception === undefined) break;
    if (m.msgtype === 0 && exception.newCalls.includes(m.frame)) m.callDup = null;
    const to = exception.replies[m.frame];
    if (m.msgtype === 1 && to !== undefined) {
      // The first reply nfsight sees for that call is its reply; a later one is a duplicate.
      const earlier = msgs.some((r) => r.msgtype === 1 && r.frame < m.frame && (exception.replies[r.frame] ?? r.repframe) === to);
      m.repframe = to;
      m.replyDup = earlier ? 1 : null;
      m.time = (times[m.frame - 1]! - times[to - 1]!).toFixed(6);
    }
  }
  const calls = msgs.filter((m) => m.msgtype === 0);
  const replies = msgs.filter((m) => m.msgtype === 1);
  const transactions = calls
    .filter((c) => c.callDup === null)
    .map((c) => {
      const reply = replies.find((r) => r.repframe === c.frame && r.replyDup === null);
      return {
        xid: Number(c.xid),
        procedure: c.procedure,
        callFrame: c.frame,
        replyFrame: reply?.frame ?? null,
        latency: reply?.time ? Number(reply.time).toFixed(6) : null,
        retransmitFrames: calls.filter((r) => r.callDup === c.frame).map((r) => r.frame),
        duplicateReplies: replies.filter((r) => r.repframe === c.frame && r.replyDup !== null).length,
      };
    })
    .sort((a, b) => a.callFrame - b.callFrame);
  const counters = {
    calls: calls.length,
    replies: replies.length,
    matched: transactions.filter((t) => t.replyFrame !== null).length,
    unanswered: transactions.filter((t) => t.replyFrame === null).length,
    retransmittedCalls: calls.filter((c) => c.callDup !== null).length,
    duplicateReplies: replies.filter((r) => r.replyDup !== null).length,
    repliesWithoutCall: replies.filter((r) => r.repframe === null).length,
  };
  return { transactions, counters };
}

function nfsightView(transactions: readonly Transaction[]) {
  return transactions
    .map((t) => ({
      xid: t.xid,
      procedure: t.procedure,
      callFrame: t.call.frame.number,
      replyFrame: t.reply?.frame.number ?? null,
      latency: t.reply ? t.latency.toFixed(6) : null,
      retransmitFrames: t.retransmitFrames.map((f) => f.number),
      duplicateReplies: t.duplicateReplies,
    }))
    .sort((a, b) => a.callFrame - b.callFrame);
}

describe('matcher scenarios against tshark', () => {
  it('every scenario has tshark’s view stored, and every stored view a scenario', () => {
    expect(MATCHER_SCENARIOS.map((s) => s.name).sort()).toEqual(Object.keys(EXPECTED.scenarios).sort());
    for (const name of Object.keys(EXCEPTIONS)) expect(EXPECTED.scenarios[name], name).toBeDefined();
  });

  for (const s of MATCHER_SCENARIOS) {
    it(s.name, async () => {
      const stored = EXPECTED.scenarios[s.name]!;
      const pcap = s.capture();
      // tshark's view is of these very bytes (else: npm run build && node scripts/matcher-expected.mjs).
      expect(createHash('sha256').update(pcap).digest('hex')).toBe(stored.sha256);
      const want = expectedView(stored.messages, EXCEPTIONS[s.name], frameTimes(pcap));
      const transactions: Transaction[] = [];
      const report = await analyze(writeTemp(tempDir(), 'scenario.pcap', pcap), { onTransaction: (t) => transactions.push(t) });
      expect(nfsightView(transactions)).toEqual(want.transactions);
      expect(transactions.every((t) => t.transport === s.transport)).toBe(true);
      expect(report.rpc).toMatchObject(want.counters);
    });
  }
});
