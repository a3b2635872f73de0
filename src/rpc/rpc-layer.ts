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
import type { FrameRef, LazyBytes } from '../capture/frame.js';
import type {
  ConnectionConsumer,
  Direction,
  FrozenConsumer,
  StreamControl,
  StreamEndReason,
  TcpConnection,
  TcpEvent,
  TransportHandler,
  UdpDatagram,
} from '../transport/stream.js';
import { isKnownProgram, PROG_NFS4_CB_DEFAULT } from '../../decoders/programs.js';
import { MemoryBudget, type MemoryAccount } from '../memory/budget.js';
import { fromFloat } from '../transport/cold-store.js';
import { LruList } from '../memory/lru.js';
import { rpcFromDatagram } from './datagram.js';
import { RpcMatcher } from './matcher.js';
import type { RecordStats, RpcMessageRecord, RpcMessageSink } from './message.js';
import { RpcRecordStream, type PartialRecordTracker } from './record-stream.js';
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
  /** The memory budget (outstanding calls, partial records); none: unlimited. */
  budget?: MemoryBudget;
  /** Late retransmissions and duplicate replies counted on transactions the caller holds (RpcMatcherOptions). */
  lateCounts?: boolean;
  /** UDP directions with no call waiting kept at most (RpcMatcherOptions). */
  maxIdleUdpDirections?: number;
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
 * Estimated heap bytes of a record stream (one per connection direction
 * that carried data), charged to the budget's "connections" account while
 * its connection is open (measured on Node 20: docs/memory.md).
 */
export const RECORD_STREAM_BYTES = 500;
/** Idle record streams kept for reuse: enough for the connections active at once in a busy capture; not accounted (a few KB). */
const SPARE_STREAMS = 64;

/** RpcConnection.flags: facts about direction 0 in the low byte, about direction 1 in the next (shifted by 8 × dir). */
const G_KNOWN_PORT = 2;
const G_SAW_MESSAGE = 4;
const G_DISABLED = 8;
const G_ENDED = 16;
const G_EVICTED = 32;

/**
 * The RPC side of one TCP connection, both directions: forwards each
 * direction's bytes to its record stream until the direction proves not to
 * be RPC, and counts the messages it yields. Kept small (one per open
 * connection, a ConnectionConsumer rather than two StreamConsumers): the
 * booleans in `flags`, a record stream made with a direction's first byte
 * and let go between messages.
 */
class RpcConnection implements ConnectionConsumer, RpcMessageSink {
  private flags: number;
  private stream0: RpcRecordStream | undefined = undefined;
  private stream1: RpcRecordStream | undefined = undefined;
  /** Stream offset where an idle stream let go stopped (-1: none was; the next is made as the connection's first). */
  private resume0 = -1;
  private resume1 = -1;
  /** Bytes scanned for RPC (on a connection without a known RPC port). */
  private scanned0 = 0;
  private scanned1 = 0;

  constructor(
    private readonly layer: RpcLayer,
    private readonly conn: TcpConnection,
    knownPort: boolean,
    private readonly control: StreamControl | undefined,
  ) {
    this.flags = knownPort ? G_KNOWN_PORT | (G_KNOWN_PORT << 8) : 0;
  }

  /** Waiting between messages (no record stream held): its state as numbers (ConnectionConsumer.freeze). */
  freeze(s: FrozenConsumer): boolean {
    if (this.stream0 !== undefined || this.stream1 !== undefined) return false;
    s.ints[0] = this.flags;
    s.ints[1] = this.scanned0;
    s.ints[2] = this.scanned1;
    s.floats[0] = this.resume0;
    s.floats[1] = this.resume1;
    return true;
  }

  /** Made again from what `freeze` wrote. */
  static thaw(layer: RpcLayer, conn: TcpConnection, control: StreamControl, s: FrozenConsumer): RpcConnection {
    const c = new RpcConnection(layer, conn, false, control);
    c.flags = s.ints[0]!;
    c.scanned0 = s.ints[1]!;
    c.scanned1 = s.ints[2]!;
    c.resume0 = fromFloat(s.floats[0]!);
    c.resume1 = fromFloat(s.floats[1]!);
    return c;
  }

  /** Bytes go to the record streams, which ask for those they read. */
  get readsSparse(): boolean {
    return true;
  }

  private has(dir: Direction, bit: number): boolean {
    return (this.flags & (bit << (dir << 3))) !== 0;
  }

  private set(dir: Direction, bit: number): void {
    this.flags |= bit << (dir << 3);
  }

  private stream(dir: Direction): RpcRecordStream | undefined {
    return dir === 0 ? this.stream0 : this.stream1;
  }

  private setStream(dir: Direction, s: RpcRecordStream | undefined): void {
    if (dir === 0) this.stream0 = s;
    else this.stream1 = s;
  }

  private open(dir: Direction): RpcRecordStream {
    this.layer.connections.add(RECORD_STREAM_BYTES);
    const partials = this.layer.partials;
    const resumeAt = dir === 0 ? this.resume0 : this.resume1;
    const options = resumeAt < 0 ? { partials } : { partials, resumeAt };
    const spare = this.layer.spareStreams.pop();
    const s = spare !== undefined ? spare.reuse(this, this.conn, dir, this.layer.stats.record, options) : new RpcRecordStream(this, this.conn, dir, this.layer.stats.record, options);
    this.setStream(dir, s);
    return s;
  }

  /**
   * A stream in sync between messages is let go (a new one resumes it at
   * the next byte): a connection waiting for its next message holds none.
   */
  private letGoIfIdle(dir: Direction, stream: RpcRecordStream): void {
    if (!stream.idle || this.stream(dir) !== stream) return;
    if (dir === 0) this.resume0 = stream.offset;
    else this.resume1 = stream.offset;
    this.setStream(dir, undefined);
    this.layer.connections.add(-RECORD_STREAM_BYTES);
    if (this.layer.spareStreams.length < SPARE_STREAMS) this.layer.spareStreams.push(stream);
  }

  data(dir: Direction, buf: Buffer, start: number, end: number, offset: number, at: FrameRef, lazy: LazyBytes | null = null): void {
    if (this.has(dir, G_ENDED)) return;
    if (this.has(dir, G_DISABLED)) {
      this.layer.stats.nonRpcBytes += end - start;
      return;
    }
    const stream = this.stream(dir) ?? this.open(dir);
    stream.data(buf, start, end, offset, at, lazy);
    this.letGoIfIdle(dir, stream);
    if (!this.has(dir, G_SAW_MESSAGE | G_KNOWN_PORT)) {
      const scanned = (dir === 0 ? (this.scanned0 += end - start) : (this.scanned1 += end - start));
      if (scanned > NON_RPC_GIVE_UP) {
        this.set(dir, G_DISABLED);
        this.layer.stats.nonRpcStreams++;
      }
    }
  }

  gap(dir: Direction, length: number, offset: number, at: FrameRef): void {
    if (!this.has(dir, G_DISABLED | G_ENDED)) (this.stream(dir) ?? this.open(dir)).gap(length, offset, at);
  }

  end(dir: Direction, reason: StreamEndReason, at: FrameRef | undefined): void {
    if (this.has(dir, G_ENDED)) return;
    const stream = this.stream(dir);
    if (!this.has(dir, G_DISABLED)) stream?.end(reason, at);
    this.set(dir, G_ENDED | (reason === 'evicted' ? G_EVICTED : 0));
    if (stream !== undefined) {
      // The stream is done with: what it held goes with it.
      this.setStream(dir, undefined);
      this.layer.connections.add(-RECORD_STREAM_BYTES);
    }
    // The matcher forgets the connection when both directions have ended.
    const other = (dir ^ 1) as Direction;
    if (this.has(other, G_ENDED)) this.layer.connectionEnded(this.conn, this.has(dir, G_EVICTED) || this.has(other, G_EVICTED));
  }

  // RpcMessageSink: counts, then hands on to the matcher.
  message(m: RpcMessageRecord): void {
    const dir = m.dir;
    this.set(dir, G_SAW_MESSAGE);
    const head = m.bytes.head;
    if (this.control !== undefined && head.length >= 8 && head.readUInt32BE(4) === 1 && !this.layer.matcher.isOutstandingXid(this.conn, dir, head.readUInt32BE(0))) {
      // A reply without its call: the call may wait behind a hole in the
      // other direction that the capture missed and the peer acknowledged.
      this.control.releaseAcknowledged((dir ^ 1) as Direction);
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

/**
 * The memory budget's partial records: the record streams whose message in
 * progress holds bytes, oldest first; under pressure the oldest message in
 * progress is dropped (its stream stays in sync, the message is not analysed).
 */
class PartialRecords implements PartialRecordTracker {
  private readonly streams = new LruList<RpcRecordStream>();
  private readonly account: MemoryAccount;

  constructor(private readonly budget: MemoryBudget) {
    this.account = budget.account('partialRecords');
    this.account.evictor = (bytes) => this.evict(bytes);
  }

  held(stream: RpcRecordStream, delta: number): void {
    this.account.add(delta);
    const listed = this.streams.contains(stream);
    if (delta > 0 && !listed) this.streams.push(stream);
    else if (delta < 0 && listed && !stream.holdsBytes) this.streams.remove(stream);
  }

  dropped(): void {
    this.budget.drop('partialRecords', 1);
  }

  private evict(want: number): number {
    let freed = 0;
    for (let s = this.streams.oldest; s !== null && freed < want; s = this.streams.oldest) {
      const n = s.dropPartial();
      if (n > 0) this.dropped();
      if (this.streams.contains(s)) this.streams.remove(s);
      freed += n;
    }
    return freed;
  }
}

export class RpcLayer implements TransportHandler {
  readonly matcher: RpcMatcher;
  /** Bytes held by messages in progress (the memory budget). */
  readonly partials: PartialRecords;
  /** The budget's "connections" account (shared with TCP reassembly), charged for the record streams. */
  readonly connections: MemoryAccount;
  readonly stats: RpcLayerStats = {
    record: { messages: 0, truncatedMessages: 0, skippedBytes: 0, resyncs: 0, bytesNotKept: 0 },
    nonRpcStreams: 0,
    nonRpcBytes: 0,
    nonRpcDatagrams: 0,
  };
  private readonly rpcPorts: Set<number>;
  /** Record streams let go while idle, to be reused (RpcRecordStream.reuse): at most SPARE_STREAMS. */
  readonly spareStreams: RpcRecordStream[] = [];

  constructor(sink: TransactionSink, private readonly options: RpcLayerOptions = {}) {
    const budget = options.budget ?? new MemoryBudget(Infinity);
    this.matcher = new RpcMatcher(sink, budget, {
      ...(options.lateCounts === undefined ? {} : { lateCounts: options.lateCounts }),
      ...(options.maxIdleUdpDirections === undefined ? {} : { maxIdleUdpDirections: options.maxIdleUdpDirections }),
    });
    this.partials = new PartialRecords(budget);
    this.connections = budget.account('connections');
    this.rpcPorts = new Set([...DEFAULT_RPC_PORTS, ...(options.nfsPorts ?? [])]);
  }

  openConnection(conn: TcpConnection, control?: StreamControl): ConnectionConsumer {
    const known = this.rpcPorts.has(conn.a.port) || this.rpcPorts.has(conn.b.port);
    return new RpcConnection(this, conn, known, control);
  }

  thawConnection(conn: TcpConnection, control: StreamControl, s: FrozenConsumer): ConnectionConsumer {
    return RpcConnection.thaw(this, conn, control, s);
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

  /** Both directions of a connection ended: its calls are answered no more (or, evicted, dropped). */
  connectionEnded(conn: TcpConnection, evicted: boolean): void {
    if (evicted) this.matcher.connectionEvicted(conn);
    else this.matcher.connectionEnded(conn);
  }

  /** End of the capture (after the transport layer ended every stream). */
  finish(): void {
    this.matcher.finish();
  }
}
