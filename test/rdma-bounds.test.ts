/**
 * The RoCE and RPC-over-RDMA layers keep bounded state: connections open at
 * once (the idlest ended), connections listed, bytes held behind PSN gaps
 * and in SEND reassembly. The bounds are made small here; what is dropped
 * is counted and the calls still come through.
 */
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../src/capture/source.js';
import type { Frame } from '../src/capture/frame.js';
import { NetDecoder } from '../src/net/decoder.js';
import { RpcMatcher } from '../src/rpc/matcher.js';
import { RpcRdmaLayer } from '../src/rpc/rdma-stream.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { RoceLayer, type RdmaEvent, type RoceLimits } from '../src/transport/roce.js';
import { Transport } from '../src/transport/transport.js';
import { writePcap } from './gen/capture-writer.js';
import { RoceSession, rpcRdmaHeader } from './gen/roce.js';
import { getattrCall, getattrReply, lossAndNaks, multiPacketSends } from './gen/roce-scenarios.js';
import { makeFh } from './gen/nfs3.js';
import { tempDir, writeTemp } from './helpers.js';

interface Run {
  roce: RoceLayer;
  answered: Transaction[];
  unanswered: Transaction[];
  events: RdmaEvent[];
}

async function run(pcap: Buffer, limits: Partial<RoceLimits>): Promise<Run> {
  const file = writeTemp(tempDir(), 'bounds.pcap', pcap);
  const answered: Transaction[] = [];
  const unanswered: Transaction[] = [];
  const events: RdmaEvent[] = [];
  const matcher = new RpcMatcher({ transaction: (t) => answered.push(t), unanswered: (t) => unanswered.push(t), orphanReply: () => undefined });
  const rpc = new RpcRdmaLayer(matcher, { messages: 0, truncatedMessages: 0, skippedBytes: 0, resyncs: 0, bytesNotKept: 0 }, (e) => events.push(e));
  const roce = new RoceLayer(rpc, (e) => events.push(e), undefined, undefined, limits);
  const diag = { report: () => undefined };
  const net = new NetDecoder(diag, () => 'bounds.pcap');
  const transport = new Transport({ openConnection: () => { throw new Error('no TCP here'); }, datagram: () => undefined, tcpEvent: () => undefined }, undefined, roce);
  await readCaptureFile(file, 0, (f: Frame) => {
    const p = net.decode(f);
    if (p) transport.packet(p);
  }, diag);
  transport.finish();
  matcher.finish();
  return { roce, answered, unanswered, events };
}

/** `n` connections without the CM exchange, one GETATTR each (QPs 0x100+i / 0x200+i). */
function manyConnections(n: number): Buffer {
  const packets = [];
  for (let i = 0; i < n; i++) {
    const s = new RoceSession({ clientQp: 0x100 + i, serverQp: 0x200 + i, step: 0.001 });
    const xid = 0x1000 + i;
    s.send('client', Buffer.concat([rpcRdmaHeader({ xid, proc: 0 }), getattrCall(xid, makeFh(i))]));
    s.send('server', Buffer.concat([rpcRdmaHeader({ xid, proc: 0 }), getattrReply(xid)]));
    packets.push(...s.capture().map((p) => ({ ...p, tsSec: p.tsSec + i })));
  }
  return writePcap(packets, { linkType: 1, nanosecond: true });
}

describe('RDMA state is bounded', () => {
  it('40 connections with 8 open at most and 16 listed: every call answered, the rest counted', async () => {
    const r = await run(manyConnections(40), { liveConnections: 8, listedConnections: 16 });
    expect(r.answered.map((t) => t.xid)).toEqual(Array.from({ length: 40 }, (_, i) => 0x1000 + i));
    expect(r.unanswered).toEqual([]);
    expect(r.roce.stats.connectionsEvicted).toBe(32);
    expect(r.roce.stats.connectionsNotListed).toBe(24);
    expect([...r.roce.connections.values()].map((c) => c.id)).toEqual(Array.from({ length: 16 }, (_, i) => 24 + i));
    expect(r.roce.totals.sends).toBe(80);
  });

  it('no room to hold packets behind a PSN gap: the network loss is taken for a capture gap at once', async () => {
    const full = await run(lossAndNaks().pcap, {});
    expect(full.events.filter((e) => e.kind === 'psn-gap').map((e) => e.count)).toEqual([1]);
    const tight = await run(lossAndNaks().pcap, { bufferedBytes: 16 });
    // The lost 0x304 is now a gap too, and its resent copy a retransmission.
    expect(tight.events.filter((e) => e.kind === 'psn-gap').map((e) => e.count)).toEqual([1, 1]);
    expect(tight.roce.totals.retransmittedPackets).toBe(2);
    expect(tight.answered.map((t) => t.xid).sort()).toEqual([0x301, 0x303, 0x305]);
  });

  it('no room to reassemble SENDs: the messages arrive cut, and are still matched', async () => {
    const r = await run(multiPacketSends().pcap, { bufferedBytes: 16 });
    expect(r.answered.map((t) => [t.xid, t.call.frame.number, t.reply?.frame.number])).toEqual([
      [0x101, 5, 7],
      [0x102, 9, 13],
      [0x103, 16, 17],
    ]);
    expect(r.answered.every((t) => t.call.missing > 0 || t.reply!.missing > 0)).toBe(true);
  });
});
