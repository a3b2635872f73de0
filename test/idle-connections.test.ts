/**
 * Connections ended because they were idle while too many were open (the
 * TCP layer's maxOpenConnections, 10,000): they end as the capture's end
 * would end them, so that a call outstanding on one is an unanswered call,
 * not a memory drop.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { writePcap } from './gen/capture-writer.js';
import { NFSPROC3_READ, NFS_PROGRAM, XdrWriter, nfs3ReadArgs, recordMark, rpcAcceptedReply, rpcCall } from './gen/rpc.js';
import { Capture, TcpSession } from './gen/session.js';
import { tempDir, writeTemp } from './helpers.js';

const SERVER = { addr: '192.0.2.20', port: 2049 };
const FH = Buffer.alloc(28, 0xab);

const read = (xid: number): Buffer => recordMark(rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ, cred: { machine: 'c' } }, nfs3ReadArgs(FH, 0, 20_000)));

/** Two connections with a READ each, one never answered, one whose reply stops after its first segment; then, `later` s on, `others` new connections. */
function capture(later: number, others: number): string {
  const c = new Capture();
  const silent = new TcpSession(c, { addr: '192.0.2.10', port: 801 }, SERVER).handshake();
  silent.send('client', read(0x51));
  const cut = new TcpSession(c, { addr: '192.0.2.11', port: 801 }, SERVER).handshake();
  cut.send('client', read(0x52));
  // READ3resok: status, no attributes, count, eof, then 20,000 data bytes; only the first 1,448-byte segment is sent.
  const reply = recordMark(rpcAcceptedReply(0x52, Buffer.concat([new XdrWriter().u32(0).u32(0).u32(20_000).u32(1).u32(20_000).bytes(), Buffer.alloc(20_000, 0x61)])));
  cut.send('server', reply.subarray(0, 1448));
  c.advance(later);
  for (let i = 0; i < others; i++) new TcpSession(c, { addr: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, port: 900 }, SERVER).handshake();
  return writeTemp(tempDir(), 'idle.pcap', writePcap(c.frames, { linkType: 1 }));
}

describe('connections ended idle while too many are open', () => {
  it('their calls are unanswered calls, a reply cut short is unfinished, and nothing is counted as a memory drop', async () => {
    // 10,000 more connections 700 s later: the first two, silent for longer than 600 s, are ended.
    const report = await analyze(capture(700, 10_000));
    expect(report.rpc.unanswered).toBe(2);
    expect(report.rpc.unansweredCalls.map((u) => [u.xid, u.client, u.unfinishedReplyFrame !== null])).toEqual([
      ['0x00000051', '192.0.2.10:801', false],
      ['0x00000052', '192.0.2.11:801', true],
    ]);
    expect(report.memory.dropped.outstandingCalls).toBe(0);
    expect(report.memory.dropped.connections).toBe(0);
    expect(report.memory.dropped.partialRecords).toBe(0);
    expect(report.diagnostics.byCode['memory-limit']).toBeUndefined();
    expect(report.findings.filter((f) => f.kind === 'unanswered-call').length).toBeGreaterThan(0);
  }, 60_000);

  it('the same two calls are unanswered when nothing ends them before the capture does', async () => {
    const report = await analyze(capture(700, 100));
    expect(report.rpc.unansweredCalls.map((u) => [u.xid, u.client, u.unfinishedReplyFrame !== null])).toEqual([
      ['0x00000051', '192.0.2.10:801', false],
      ['0x00000052', '192.0.2.11:801', true],
    ]);
  });
});
