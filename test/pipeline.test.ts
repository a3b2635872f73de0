/**
 * The layers together on the real captures: every TCP connection tshark
 * sees, nfsight sees with the same endpoints, and each direction's stream
 * (bytes delivered plus bytes reported missing) has the length tshark's
 * sequence numbers give.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import {
  formatEndpoint,
  type StreamConsumer,
  type TcpConnection,
  type TcpEvent,
  type TransportHandler,
} from '../src/transport/stream.js';
import { CAPTURES, bundledCaptures, expectedOf, runTransport } from './helpers.js';

interface DirectionTally {
  delivered: number;
  missing: number;
  ended: string | undefined;
}

interface ConnTally {
  a: string;
  b: string;
  midstream: boolean;
  dirs: [DirectionTally, DirectionTally];
}

class Recorder implements TransportHandler {
  conns: ConnTally[] = [];
  events: TcpEvent[] = [];
  datagrams = 0;
  openConnection(conn: TcpConnection): [StreamConsumer, StreamConsumer] {
    const tally: ConnTally = {
      a: formatEndpoint(conn.a),
      b: formatEndpoint(conn.b),
      midstream: conn.midstream,
      dirs: [
        { delivered: 0, missing: 0, ended: undefined },
        { delivered: 0, missing: 0, ended: undefined },
      ],
    };
    this.conns.push(tally);
    const consumer = (d: DirectionTally): StreamConsumer => ({
      data: (_buf, start, end) => {
        d.delivered += end - start;
      },
      gap: (length) => {
        d.missing += length;
      },
      end: (reason) => {
        d.ended = reason;
      },
    });
    return [consumer(tally.dirs[0]), consumer(tally.dirs[1])];
  }
  datagram(): void {
    this.datagrams++;
  }
  tcpEvent(e: TcpEvent): void {
    this.events.push(e);
  }
}

async function runLayers(name: string): Promise<Recorder> {
  const rec = new Recorder();
  await runTransport(name, rec);
  return rec;
}

describe('TCP streams agree with tshark on the bundled captures', () => {
  for (const name of bundledCaptures()) {
    it(name, async () => {
      const exp = expectedOf(name);
      const rec = await runLayers(name);
      const ours = rec.conns
        .map((c) => `${c.a} > ${c.b}: ${c.dirs[0].delivered + c.dirs[0].missing} / ${c.dirs[1].delivered + c.dirs[1].missing}`)
        .sort();
      const theirs = exp.tcp.streams.map((s) => `${s.a} > ${s.b}: ${s.bytesAtoB} / ${s.bytesBtoA}`).sort();
      expect(ours).toEqual(theirs);
      // Every stream direction was ended exactly once, by something.
      for (const c of rec.conns) for (const d of c.dirs) expect(d.ended).toBeDefined();
      expect(rec.datagrams).toBe(exp.udpDatagrams);
    });
  }
});

describe('the report on the bundled captures', () => {
  it('counts the lossy capture: nothing missing, retransmissions seen, one connection starting mid-stream', async () => {
    const name = 'lossy-read-cut.pcap';
    const exp = expectedOf(name);
    const report = await analyze(join(CAPTURES, name));
    expect(report.capture.frames).toBe(exp.frames);
    expect(report.tcp.connections).toBe(exp.tcp.streams.length);
    expect(report.tcp.segments).toBe(exp.tcp.segments);
    // The cut starts mid-transfer; server segments lost before the capture point were retransmitted.
    expect(report.tcp.gapBytes).toBe(0);
    expect(report.tcp.events['retransmission']).toBe(exp.tcp.flags['retransmission']);
    expect(report.tcp.events['rst']).toBe(exp.tcp.flags['rst']);
  });

  it('counts the bytes the snaplen cut as missing and the frames it cut', async () => {
    const name = 'nfsv3-snaplen200.pcap';
    const exp = expectedOf(name);
    const report = await analyze(join(CAPTURES, name));
    expect(report.capture.framesCutBySnaplen).toBe(exp.framesCutBySnaplen);
    expect(report.capture.wireBytes).toBe(exp.wireBytes);
    expect(report.tcp.gapBytes).toBeGreaterThan(0);
    const streamTotal = exp.tcp.streams.reduce((s, x) => s + x.bytesAtoB + x.bytesBtoA, 0);
    expect(report.tcp.deliveredBytes + report.tcp.gapBytes).toBe(streamTotal);
    expect(report.skipped.bytes).toBe(report.tcp.gapBytes);
  });

  it('decodes Linux cooked v2 frames (tcpdump -i any)', async () => {
    const report = await analyze(join(CAPTURES, 'nfsv4-any-sll2-head.pcap'));
    expect(report.capture.linkTypes).toEqual({ 'Linux cooked v2 (SLL2) (276)': 40 });
    expect(report.network.ipv4 + report.network.ipv6).toBe(40);
    expect(report.skipped.frames).toBe(0);
  });
});
