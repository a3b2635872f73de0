/**
 * The RPC layer as the transport layer's handler: an RPC record stream on
 * each TCP connection direction, RPC over UDP datagrams, and the matcher
 * that turns messages into transactions.
 *
 * NFS is recognised by its port or by the RPC header, never by "the lower
 * port": every connection is given a record stream. On a connection with no
 * known RPC port, a direction that shows no RPC message within its first
 * NON_RPC_GIVE_UP bytes is taken for another protocol and no longer scanned.
 */
import type { FrameRef } from '../capture/frame.js';
import type {
  Direction,
  StreamConsumer,
  StreamControl,
  StreamEndReason,
  TcpConnection,
  TcpEvent,
  TransportHandler,
  UdpDatagram,
} from '../transport/stream.js';
import { isKnownProgram, PROG_NFS4_CB_DEFAULT } from '../../decoders/programs.js';
import { rpcFromDatagram } from './datagram.js';
import { RpcMatcher } from './matcher.js';
import type { RecordStats, RpcMessageRecord, RpcMessageSink } from './message.js';
import { RpcRecordStream } from './record-stream.js';
import type { TransactionSink } from './transaction.js';

/** Ports where RPC is expected: NFS, portmapper/rpcbind, and the common fixed mountd port. */
export const DEFAULT_RPC_PORTS: readonly number[] = [2049, 111, 20048];
/** Bytes of a direction scanned for RPC on a connection without a known RPC port. */
export const NON_RPC_GIVE_UP = 1 << 20;

export interface RpcLayerOptions {
  /** More ports to treat as RPC/NFS (`--nfs-port`). */
  nfsPorts?: readonly number[];
  /** TCP events go here (the capture summary, the detectors). */
  onTcpEvent?: (e: TcpEvent) => void;
}

export interface RpcLayerStats {
  record: RecordStats;
  /** TCP connection directions given up as not RPC. */
  nonRpcStreams: number;
  /** Bytes of those directions not scanned. */
  nonRpcBytes: number;
  /** UDP datagrams that were not RPC. */
  nonRpcDatagrams: number;
}

/**
 * One direction of one connection: forwards bytes to its record stream until
 * the direction proves not to be RPC, and counts the messages it yields.
 */
class DirectionGate implements StreamConsumer, RpcMessageSink {
  private readonly stream: RpcRecordStream;
  private messages = 0;
  private scanned = 0;
  private disabled = false;

  constructor(
    private readonly layer: RpcLayer,
    private readonly conn: TcpConnection,
    private readonly dir: Direction,
    private readonly knownPort: boolean,
    private readonly control: StreamControl | undefined,
  ) {
    this.stream = new RpcRecordStream(this, conn, dir, layer.stats.record);
  }

  data(buf: Buffer, start: number, end: number, offset: number, at: FrameRef): void {
    if (this.disabled) {
      this.layer.stats.nonRpcBytes += end - start;
      return;
    }
    this.stream.data(buf, start, end, offset, at);
    if (this.messages === 0 && !this.knownPort) {
      this.scanned += end - start;
      if (this.scanned > NON_RPC_GIVE_UP) {
        this.disabled = true;
        this.layer.stats.nonRpcStreams++;
      }
    }
  }

  gap(length: number, offset: number, at: FrameRef): void {
    if (!this.disabled) this.stream.gap(length, offset, at);
  }

  end(reason: StreamEndReason, at: FrameRef | undefined): void {
    if (!this.disabled) this.stream.end(reason, at);
    this.layer.directionEnded(this.conn);
  }

  // RpcMessageSink: counts, then hands on to the matcher.
  message(m: RpcMessageRecord): void {
    this.messages++;
    const head = m.bytes.head;
    if (this.control !== undefined && head.length >= 8 && head.readUInt32BE(4) === 1 && !this.layer.matcher.isOutstandingXid(this.conn, this.dir, head.readUInt32BE(0))) {
      // A reply without its call: the call may wait behind a hole in the
      // other direction that the capture missed and the peer acknowledged.
      this.control.releaseAcknowledged((this.dir ^ 1) as Direction);
    }
    this.layer.matcher.message(m);
  }

  isOutstandingXid(conn: TcpConnection | undefined, dir: Direction, xid: number): boolean {
    return this.layer.matcher.isOutstandingXid(conn, dir, xid);
  }

  headToKeep(conn: TcpConnection | undefined, dir: Direction, head: Buffer, length: number): number {
    return this.layer.matcher.headToKeep(conn, dir, head, length);
  }
}

export class RpcLayer implements TransportHandler {
  readonly matcher: RpcMatcher;
  readonly stats: RpcLayerStats = {
    record: { messages: 0, truncatedMessages: 0, skippedBytes: 0, resyncs: 0, bytesNotKept: 0 },
    nonRpcStreams: 0,
    nonRpcBytes: 0,
    nonRpcDatagrams: 0,
  };
  private readonly rpcPorts: Set<number>;
  /** Directions still open per connection id: the matcher forgets a connection when both have ended. */
  private readonly openDirections = new Map<number, number>();

  constructor(sink: TransactionSink, private readonly options: RpcLayerOptions = {}) {
    this.matcher = new RpcMatcher(sink);
    this.rpcPorts = new Set([...DEFAULT_RPC_PORTS, ...(options.nfsPorts ?? [])]);
  }

  openConnection(conn: TcpConnection, control?: StreamControl): [StreamConsumer, StreamConsumer] {
    const known = this.rpcPorts.has(conn.a.port) || this.rpcPorts.has(conn.b.port);
    this.openDirections.set(conn.id, 2);
    return [new DirectionGate(this, conn, 0, known, control), new DirectionGate(this, conn, 1, known, control)];
  }

  datagram(d: UdpDatagram): void {
    if (this.plausibleDatagram(d) && rpcFromDatagram(d, this.matcher, this.stats.record)) return;
    this.stats.nonRpcDatagrams++;
  }

  /**
   * Over UDP any datagram can look like an RPC header (an mDNS response
   * reads as an accepted reply), so a datagram is taken for RPC only where
   * something makes it plausible, as Wireshark's RPC heuristic does: a reply
   * when a call with its xid went the other way between the same two
   * endpoints; a call on a known RPC port (`--nfs-port`), or to a program
   * nfsight knows (MOUNT or NLM on a port the portmapper handed out).
   */
  private plausibleDatagram(d: UdpDatagram): boolean {
    const p = d.payload;
    if (p.length < 12) return false;
    const type = p.readUInt32BE(4);
    if (type === 1) return this.matcher.knowsUdpCall(d.dst, d.src, p.readUInt32BE(0));
    if (type !== 0) return false;
    if (this.rpcPorts.has(d.dst.port) || this.rpcPorts.has(d.src.port)) return true;
    if (p.length < 16) return false;
    const prog = p.readUInt32BE(12);
    return isKnownProgram(prog) || prog === PROG_NFS4_CB_DEFAULT;
  }

  tcpEvent(e: TcpEvent): void {
    this.options.onTcpEvent?.(e);
  }

  directionEnded(conn: TcpConnection): void {
    const left = (this.openDirections.get(conn.id) ?? 1) - 1;
    if (left > 0) {
      this.openDirections.set(conn.id, left);
      return;
    }
    this.openDirections.delete(conn.id);
    this.matcher.connectionEnded(conn);
  }

  /** End of the capture (after the transport layer ended every stream). */
  finish(): void {
    this.matcher.finish();
  }
}
