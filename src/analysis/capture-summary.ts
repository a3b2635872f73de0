/**
 * Counts what the capture holds below the RPC layer: frames, bytes, time
 * span, TCP connections and their events, UDP datagrams. It is the transport
 * handler of the pipeline until the RPC layer takes the streams over, and
 * its counters stay part of every report.
 */
import { snapshotFrameRef, type Frame, type FrameRef } from '../capture/frame.js';
import {
  formatEndpoint,
  type StreamConsumer,
  type StreamEndReason,
  type TcpConnection,
  type TcpEvent,
  type TcpEventKind,
  type TransportHandler,
  type UdpDatagram,
} from '../transport/stream.js';

export interface RefusedConnection {
  /** Frame of the RST that refused the connection. */
  at: FrameRef;
  client: string;
  server: string;
}

/** Counts the bytes one direction of a TCP connection delivered and lost. */
class CountingConsumer implements StreamConsumer {
  constructor(private readonly summary: CaptureSummary) {}
  data(bytes: Buffer): void {
    this.summary.streamBytes += bytes.length;
  }
  gap(length: number): void {
    this.summary.gapBytes += length;
    this.summary.gaps++;
  }
  end(_reason: StreamEndReason): void {}
}

export class CaptureSummary implements TransportHandler {
  frames = 0;
  capturedBytes = 0;
  wireBytes = 0;
  /** Frames whose captured length is less than their wire length. */
  framesCutBySnaplen = 0;
  first: FrameRef | undefined;
  last: FrameRef | undefined;
  tcpConnections = 0;
  streamBytes = 0;
  gapBytes = 0;
  gaps = 0;
  udpDatagrams = 0;
  udpBytes = 0;
  readonly tcpEvents = new Map<TcpEventKind, number>();
  readonly refused: RefusedConnection[] = [];
  private readonly consumer = new CountingConsumer(this);

  /** Called for every frame, before any decoding. */
  frame(f: Frame): void {
    this.frames++;
    this.capturedBytes += f.data.length;
    this.wireBytes += f.origLen;
    if (f.data.length < f.origLen) this.framesCutBySnaplen++;
    if (this.first === undefined) this.first = snapshotFrameRef(f);
    if (this.last === undefined) this.last = snapshotFrameRef(f);
    else {
      const l = this.last;
      l.fileIndex = f.fileIndex;
      l.number = f.number;
      l.tsSec = f.tsSec;
      l.tsNsec = f.tsNsec;
    }
  }

  openConnection(_conn: TcpConnection): [StreamConsumer, StreamConsumer] {
    this.tcpConnections++;
    return [this.consumer, this.consumer];
  }

  datagram(d: UdpDatagram): void {
    this.udpDatagrams++;
    this.udpBytes += d.wireLength;
  }

  tcpEvent(e: TcpEvent): void {
    this.tcpEvents.set(e.kind, (this.tcpEvents.get(e.kind) ?? 0) + 1);
    if (e.kind === 'refused') {
      // The RST travels from the refusing server to the client that sent the SYN.
      const from = e.direction === 0 ? e.conn.a : e.conn.b;
      const to = e.direction === 0 ? e.conn.b : e.conn.a;
      this.refused.push({ at: snapshotFrameRef(e.at), client: formatEndpoint(to), server: formatEndpoint(from) });
    }
  }
}
