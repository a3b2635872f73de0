/**
 * No hang can pass for a wait: every loop over buffered data (TCP
 * out-of-order buffer flushes and skips, record marking, fragment eviction)
 * counts its turns, and a loop that stops making progress throws an
 * InternalError instead of spinning. The pipeline turns it into one
 * warning naming the file and frame, and the analysis goes on.
 *
 * The bugs are simulated by replacing one method for the test (a drain that
 * delivers nothing, a scan that finds nothing and consumes nothing, an
 * eviction that evicts nothing), as a wrong edit of that method would.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Diagnostic, Frame, FrameRef } from '../src/capture/frame.js';
import { InternalError, InternalErrorCatcher } from '../src/internal-error.js';
import { FragmentReassembler } from '../src/net/fragments.js';
import { NetDecoder } from '../src/net/decoder.js';
import type { IpPacket } from '../src/net/packet.js';
import { RpcRecordStream } from '../src/rpc/record-stream.js';
import type { Transaction } from '../src/rpc/transaction.js';
import type { StreamConsumer, TcpConnection, TransportHandler } from '../src/transport/stream.js';
import { TcpReassembler } from '../src/transport/tcp-reassembly.js';
import { Transport } from '../src/transport/transport.js';
import { writePcap } from './gen/capture-writer.js';
import { ETHERTYPE_IPV4, ethernet, fragmentIpv4, makeFrame, patternBytes } from './gen/packets.js';
import { NFS_PROGRAM, XdrWriter, recordMark, rpcAcceptedReply, rpcCall } from './gen/rpc.js';
import { Capture, TcpSession, type Host } from './gen/session.js';
import { ACK, FIN, PSH, ipPacket, tcpSegment } from './gen/tcp.js';
import { tempDir, writeTemp } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const SERVER: Host = { addr: '192.0.2.20', port: 2049 };
const CLIENT_A: Host = { addr: '192.0.2.10', port: 801 };
const CLIENT_B: Host = { addr: '192.0.2.10', port: 802 };
const call = (xid: number): Buffer => rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: 1, cred: {} }, new XdrWriter().opaque(Buffer.alloc(32, 7)).bytes());
const reply = (xid: number): Buffer => rpcAcceptedReply(xid, Buffer.alloc(88, 1));

type Method = (this: unknown, ...args: never[]) => unknown;
/** Replaces a (private) method of a prototype for the test; `fake` gets the original. */
function replace<T extends object>(proto: T, name: string, fake: (real: Method, self: unknown, args: unknown[]) => unknown): void {
  const p = proto as unknown as Record<string, Method>;
  const real = p[name]!;
  expect(typeof real).toBe('function');
  vi.spyOn(p, name).mockImplementation(function (this: unknown, ...args: unknown[]) {
    return fake(real, this, args);
  } as Method);
}

async function run(c: Capture): Promise<{ transactions: Transaction[]; report: Awaited<ReturnType<typeof analyze>>; file: string }> {
  const transactions: Transaction[] = [];
  const file = writeTemp(tempDir(), 'bounds.pcap', writePcap(c.frames, { linkType: 1 }));
  const report = await analyze(file, { onTransaction: (t) => transactions.push(t) });
  return { transactions, report, file };
}

const noConsumer: StreamConsumer = { data: () => undefined, gap: () => undefined, end: () => undefined };
const nullHandler: TransportHandler = {
  openConnection: (_c: TcpConnection) => [noConsumer, noConsumer],
  datagram: () => undefined,
  tcpEvent: () => undefined,
};

describe('TCP reassembly: a drain that makes no progress', () => {
  it('throws an InternalError at the FIN (flush) instead of spinning, and drops the buffer to go on', () => {
    replace(TcpReassembler.prototype, 'drain', () => undefined);
    const tr = new Transport(nullHandler);
    const seg = (seq: number, flags: number, payload = Buffer.alloc(0)): IpPacket =>
      ipPacket(tcpSegment({ srcPort: 801, dstPort: 2049, seq, ack: 1, flags }, payload), { src: '10.0.0.1', dst: '10.0.0.2' });
    tr.packet(seg(100, ACK | PSH, Buffer.alloc(10, 1))); // mid-stream start at 100
    tr.packet(seg(120, ACK | PSH, Buffer.alloc(10, 3))); // ahead of [110, 120): buffered
    tr.packet(seg(110, ACK | PSH, Buffer.alloc(10, 2))); // fills the hole; [120, 130) is next, and never drained
    expect(tr.stats.tcp.bufferedBytes).toBe(10);
    expect(() => tr.packet(seg(130, ACK | FIN))).toThrow(/^tcp-reassembly\.ts: flush: a loop over buffered data made no progress in 1 turns: .*; 1 out-of-order segments dropped$/);
    expect(tr.stats.tcp.bufferedBytes).toBe(0);
    expect(() => tr.packet(seg(130, ACK | FIN))).not.toThrow();
  });

  it('over the out-of-order buffer bound (giving up holes one by one) throws too', () => {
    replace(TcpReassembler.prototype, 'drain', () => undefined);
    const tr = new TcpReassembler(nullHandler, { maxBufferedPerDirection: 15 });
    const seg = (seq: number): IpPacket =>
      ipPacket(tcpSegment({ srcPort: 801, dstPort: 2049, seq, ack: 1, flags: ACK | PSH }, Buffer.alloc(10, 1)), { src: '10.0.0.1', dst: '10.0.0.2' });
    tr.segment(seg(100)); // mid-stream start at 100
    tr.segment(seg(120)); // buffered: 10 bytes
    expect(tr.stats.bufferedBytes).toBe(10);
    expect(() => tr.segment(seg(140))).toThrow(/^tcp-reassembly\.ts: buffer bound: a loop over buffered data made no progress in 2 turns: .*; 2 out-of-order segments dropped$/);
    expect(tr.stats.bufferedBytes).toBe(0);
  });

  it('an ACK beyond the hole (skip) and the end of the capture (flush of every connection) throw too', () => {
    replace(TcpReassembler.prototype, 'drain', () => undefined);
    const tr = new Transport(nullHandler);
    const seg = (port: number, seq: number, payload: Buffer): IpPacket =>
      ipPacket(tcpSegment({ srcPort: port, dstPort: 2049, seq, ack: 1, flags: ACK | PSH }, payload), { src: '10.0.0.1', dst: '10.0.0.2' });
    for (const port of [801, 802]) {
      tr.packet(seg(port, 100, Buffer.alloc(10)));
      tr.packet(seg(port, 120, Buffer.alloc(10)));
      tr.packet(seg(port, 110, Buffer.alloc(10)));
    }
    expect(tr.stats.tcp.bufferedBytes).toBe(20);
    // The server ACKs all of port 801's bytes: a late segment may still fill the hole, nothing is skipped yet.
    const ack = ipPacket(tcpSegment({ srcPort: 2049, dstPort: 801, seq: 1, ack: 130, flags: ACK }), { src: '10.0.0.2', dst: '10.0.0.1' });
    expect(() => tr.packet(ack)).not.toThrow();
    expect(tr.stats.tcp.bufferedBytes).toBe(20);
    // At the end, skipping to the ACK finds port 801's buffer stuck (thrown, being the first), the flush port 802's: both dropped.
    expect(() => tr.finish()).toThrow(/^tcp-reassembly\.ts: skip to an ACKed offset: /);
    expect(tr.stats.tcp.bufferedBytes).toBe(0);
  });

  it('in the pipeline: one warning naming the file and the FIN’s frame; the other connection and later frames go on', async () => {
    const c = new Capture();
    const a = new TcpSession(c, CLIENT_A, SERVER).handshake();
    const b = new TcpSession(c, CLIENT_B, SERVER).handshake();
    a.send('client', recordMark(call(1)));
    a.send('server', recordMark(reply(1)));
    // Call 2 reaches the capture out of order; the drain of connection A never delivers its second segment.
    a.send('client', recordMark(call(2)), { sizes: [40], order: [1, 0], ack: false });
    const fin = a.fin('client');
    b.send('client', recordMark(call(3)));
    b.send('server', recordMark(reply(3)));
    replace(TcpReassembler.prototype, 'drain', (real, self, args) => {
      const [, conn] = args as [unknown, { info: TcpConnection }];
      return conn.info.id === 0 ? undefined : real.apply(self, args as never[]);
    });
    const { transactions, report, file } = await run(c);
    expect(transactions.filter((t) => t.reply !== undefined).map((t) => t.xid)).toEqual([1, 3]);
    const bugs = report.diagnostics.items.filter((d) => d.code === 'internal-error');
    expect(bugs).toHaveLength(1);
    expect(bugs[0]).toMatchObject({ severity: 'warning', file, frame: fin });
    expect(bugs[0]!.message).toMatch(/^nfsight bug, please report it: tcp-reassembly\.ts: flush: a loop over buffered data made no progress in 1 turns/);
    expect(report.diagnostics.byCode['internal-error']).toBe(1);
  });
});

describe('record marking: a scan that makes no progress', () => {
  const midstream: TcpConnection = {
    id: 0,
    a: { addr: '10.0.0.1', port: 801 },
    b: { addr: '10.0.0.2', port: 2049 },
    midstream: true,
    firstFrame: { fileIndex: 0, number: 1, tsSec: 0, tsNsec: 0 },
    segments: [0, 0],
    dataSegments: [0, 0],
  };
  const sink = { message: () => undefined, isOutstandingXid: () => false, headToKeep: () => 1 << 20 };
  const stats = () => ({ messages: 0, truncatedMessages: 0, skippedBytes: 0, resyncs: 0, bytesNotKept: 0 });

  it('throws an InternalError, then looks for the next message', () => {
    replace(RpcRecordStream.prototype, 'scan', (_real, _self, args) => args[1]); // returns where it started, still out of sync
    const s = new RpcRecordStream(sink, midstream, 0, stats());
    const at = { fileIndex: 0, number: 1, tsSec: 0, tsNsec: 0 };
    expect(() => s.data(Buffer.alloc(100, 0x5a), 0, 100, 0, at)).toThrow(/^record-stream\.ts: run: a loop over buffered data made no progress in 1056 turns/);
  });

  it('in the pipeline: one warning at the frame; messages after it are found', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT_A, SERVER); // no handshake: starts out of sync
    const junk = s.send('client', Buffer.alloc(300, 0x5a), { ack: false });
    s.send('client', recordMark(call(7)));
    s.send('server', recordMark(reply(7)));
    // The scan is stuck on the junk's frame only.
    replace(RpcRecordStream.prototype, 'scan', (real, self, args) => ((args[3] as FrameRef).number === junk[0] ? args[1] : real.apply(self, args as never[])));
    const { transactions, report, file } = await run(c);
    expect(transactions.map((t) => [t.xid, t.reply !== undefined])).toEqual([[7, true]]);
    const bugs = report.diagnostics.items.filter((d) => d.code === 'internal-error');
    expect(bugs).toEqual([expect.objectContaining({ file, frame: junk[0] })]);
  });
});

describe('fragment reassembly: an eviction that evicts nothing', () => {
  it('throws an InternalError and drops what it held', () => {
    replace(FragmentReassembler.prototype, 'evictOldest', () => true);
    const dec = new NetDecoder({ report: () => undefined }, () => 'x', { reassembly: { maxDatagrams: 2 } });
    const frag = (id: number): Frame =>
      makeFrame(1, ethernet({ ethertype: ETHERTYPE_IPV4 }, fragmentIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, id }, patternBytes(64), [32])[0]!), { number: id });
    expect(dec.decode(frag(1))).toBeNull();
    expect(dec.decode(frag(2))).toBeNull();
    expect(() => dec.decode(frag(3))).toThrow(/^fragments\.ts: evict to the datagram bound: .*; 2 datagrams in reassembly dropped$/);
    expect(dec.stats.fragmentsDropped).toBe(2);
  });
});

describe('InternalErrorCatcher', () => {
  it('reports the first as a warning with file and frame, counts the rest, rethrows anything else', () => {
    const diags: Diagnostic[] = [];
    const catcher = new InternalErrorCatcher({ report: (d) => diags.push(d) }, (i) => ['a.pcap', 'b.pcap'][i]!);
    const at = { fileIndex: 1, number: 42, tsSec: 0, tsNsec: 0 };
    catcher.guard(() => {
      throw new InternalError('x.ts: loop', 'stuck');
    }, at);
    catcher.caught(new InternalError('y.ts: loop', 'stuck again'), { ...at, number: 50 });
    expect(() => catcher.caught(new TypeError('not ours'), at)).toThrow(TypeError);
    catcher.finish();
    expect(diags).toEqual([
      {
        severity: 'warning',
        code: 'internal-error',
        file: 'b.pcap',
        frame: 42,
        message: 'nfsight bug, please report it: x.ts: loop: stuck; the analysis goes on (further internal errors are only counted)',
      },
      { severity: 'warning', code: 'internal-error', file: 'b.pcap', message: '2 internal errors in all (the first at frame 42)' },
    ]);
  });
});
