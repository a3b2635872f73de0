/**
 * The contract between the transport layer (TCP reassembly, UDP) and the
 * layers above (the RPC stream decoder), in the manner of gopacket's
 * reassembly: in-order bytes per connection direction, and lost bytes
 * reported explicitly so the consumer can resynchronise.
 */
import type { FrameRef, LazyBytes } from '../capture/frame.js';

export interface Endpoint {
  addr: string;
  port: number;
}

/** The text of each endpoint object formatted, with what it was made from (an endpoint may be reused for another). */
const endpointTexts = new WeakMap<Endpoint, { addr: string; port: number; text: string }>();

/** "addr:port" ("[addr]:port" for IPv6); the same string for the same endpoint object (no string built per call). */
export function formatEndpoint(e: Endpoint): string {
  const known = endpointTexts.get(e);
  if (known !== undefined && known.addr === e.addr && known.port === e.port) return known.text;
  const text = e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`;
  endpointTexts.set(e, { addr: e.addr, port: e.port, text });
  return text;
}

/** One TCP connection as the capture shows it. */
export interface TcpConnection {
  /** 0-based index in order of first appearance (like Wireshark's tcp.stream). */
  readonly id: number;
  /** Side A: the SYN sender when the handshake was seen, otherwise the sender of the first segment. */
  a: Endpoint;
  /** Side B. */
  b: Endpoint;
  /** True when the capture started after the connection was set up (no SYN seen). */
  midstream: boolean;
  /** The frame of the first segment seen. */
  readonly firstFrame: FrameRef;
  /**
   * Segments seen per direction so far (index = Direction), retransmissions
   * included, and those of them that carried payload. Updated as segments
   * arrive: final at the connection's 'connection-end' event. A connection
   * frozen between its segments (tcp-reassembly.ts) is given a new
   * TcpConnection object when it is made again, with the same id and
   * values: the one of the latest event (or `thawConnection`) is current.
   */
  readonly segments: readonly [number, number];
  readonly dataSegments: readonly [number, number];
}

/** Direction within a connection: 0 is A→B, 1 is B→A. */
export type Direction = 0 | 1;

/**
 * Why a stream ended. 'evicted': the memory budget dropped the connection's
 * state (what it held is dropped, counted). 'idle': silent for
 * idleTimeoutSec while maxOpenConnections were open, it is ended as the
 * capture's end would end it (its message in progress delivered as
 * unfinished, its calls unanswered), since nothing came on it for so long.
 */
export type StreamEndReason = 'fin' | 'rst' | 'capture-end' | 'reused' | 'evicted' | 'idle';

/**
 * Receives the bytes of one direction of one TCP connection, in order.
 * Every call concerns bytes of exactly one captured segment, so `at` is the
 * frame of both the first and the last byte given. `at` may be the reader's
 * reused frame, valid only during the call: keep it with `snapshotFrameRef`.
 */
export interface StreamConsumer {
  /**
   * The consumer honours `lazy` in `data`: it asks for the bytes it reads.
   * Any other consumer is handed bytes that are all read.
   */
  readonly readsSparse?: boolean;
  /**
   * In-order bytes: `buf[start, end)`, the captured segment's own buffer
   * (no copy, no view made), valid only during the call: copy what you
   * keep. `offset` is the stream offset of `buf[start]` (bytes since the
   * first byte seen in this direction). `at` is the frame that carried the
   * bytes: for bytes that waited out of order, an earlier frame than the one
   * that filled the hole before them, which is delivered first.
   *
   * `lazy` (only for a consumer that `readsSparse`): the segment's frame is
   * read sparsely, and a byte of `buf[start, end)` holds the captured byte
   * only once `lazy.need` covered it. Bytes passed over need not be read.
   */
  data(buf: Buffer, start: number, end: number, offset: number, at: FrameRef, lazy?: LazyBytes | null): void;
  /**
   * `length` bytes are missing from the capture at stream offset `offset`
   * (segments lost by the capture, or cut by the snaplen). The bytes before
   * and after a gap are never joined. `at` is the frame where the loss became
   * known.
   */
  gap(length: number, offset: number, at: FrameRef): void;
  /** No more data in this direction. */
  end(reason: StreamEndReason, at: FrameRef | undefined): void;
}

/**
 * Receives the bytes of both directions of one TCP connection: the calls of
 * {@link StreamConsumer}, the direction first. One object per connection
 * where two StreamConsumers take two (what a live connection costs matters:
 * docs/memory.md).
 */
export interface ConnectionConsumer {
  /** As StreamConsumer.readsSparse, for both directions. */
  readonly readsSparse?: boolean;
  data(dir: Direction, buf: Buffer, start: number, end: number, offset: number, at: FrameRef, lazy?: LazyBytes | null): void;
  gap(dir: Direction, length: number, offset: number, at: FrameRef): void;
  end(dir: Direction, reason: StreamEndReason, at: FrameRef | undefined): void;
  /**
   * The connection waits for nothing and may be frozen (tcp-reassembly.ts:
   * kept as numbers, its objects let go, until its next segment): writes
   * the consumer's state in `s` and returns true when it is all there (the
   * consumer is then let go, and made again by
   * {@link TransportHandler.thawConnection}); false when it holds more (a
   * message in progress): the connection stays as it is. A consumer
   * without it is never let go.
   */
  freeze?(s: FrozenConsumer): boolean;
}

/** Room for a consumer's state in a frozen connection: a few integers and doubles. */
export interface FrozenConsumer {
  /** FROZEN_CONSUMER_INTS 32-bit integers. */
  readonly ints: Int32Array;
  /** FROZEN_CONSUMER_FLOATS doubles. */
  readonly floats: Float64Array;
}

export const FROZEN_CONSUMER_INTS = 3;
export const FROZEN_CONSUMER_FLOATS = 2;

/** A ConnectionConsumer made of one StreamConsumer per direction. */
class PerDirection implements ConnectionConsumer {
  readonly readsSparse = true;
  constructor(private readonly c0: StreamConsumer, private readonly c1: StreamConsumer) {}

  data(dir: Direction, buf: Buffer, start: number, end: number, offset: number, at: FrameRef, lazy: LazyBytes | null = null): void {
    const c = dir === 0 ? this.c0 : this.c1;
    if (lazy === null || c.readsSparse === true) {
      c.data(buf, start, end, offset, at, lazy);
    } else {
      lazy.need(start, end);
      c.data(buf, start, end, offset, at);
    }
  }

  gap(dir: Direction, length: number, offset: number, at: FrameRef): void {
    (dir === 0 ? this.c0 : this.c1).gap(length, offset, at);
  }

  end(dir: Direction, reason: StreamEndReason, at: FrameRef | undefined): void {
    (dir === 0 ? this.c0 : this.c1).end(reason, at);
  }
}

/** The consumer of a connection given as one per direction, or as one for both. */
export function connectionConsumer(c: ConnectionConsumer | readonly [StreamConsumer, StreamConsumer]): ConnectionConsumer {
  return Array.isArray(c) ? new PerDirection(c[0], c[1]) : (c as ConnectionConsumer);
}

export interface UdpDatagram {
  src: Endpoint;
  dst: Endpoint;
  /** Captured UDP payload: a view valid only during the call. */
  payload: Buffer;
  /** UDP payload length per the UDP header; larger than payload.length when cut by the snaplen. */
  wireLength: number;
  at: FrameRef;
}

/**
 * What the transport layer reports about TCP segments and connections.
 *
 * The per-segment kinds follow Wireshark 4.0's `tcp.analysis` flags
 * (tcp-analysis.ts has the rules): for each of them nfsight emits one event
 * per frame tshark flags, on the same frames, so the counts agree with
 * tshark's. They judge segments from their headers in capture order, not
 * from what reassembly made of them. 'gap' and the connection kinds are
 * nfsight's own.
 */
export type TcpEventKind =
  /**
   * tcp.analysis.retransmission: data (or SYN/FIN) below the highest
   * sequence number seen in this direction, neither a keep-alive nor
   * out-of-order; includes the fast and spurious retransmissions, which also
   * get their own event below. bytes: the segment length.
   */
  | 'retransmission'
  /** tcp.analysis.fast_retransmission: a retransmission of what the peer asked for with >= 2 duplicate ACKs, < 20 ms after the last. */
  | 'fast-retransmission'
  /** tcp.analysis.spurious_retransmission: data the peer had already ACKed, sent again. */
  | 'spurious-retransmission'
  /**
   * tcp.analysis.out_of_order: data below the highest sequence number seen,
   * arriving less than the initial RTT (3 ms when unknown) after it.
   * bytes: the segment length.
   */
  | 'out-of-order'
  /**
   * tcp.analysis.lost_segment ("previous segment not captured"): the segment
   * starts beyond the highest sequence number seen in this direction.
   * bytes/offset: the sequence space skipped (it may arrive later, out of order).
   */
  | 'lost-segment'
  /** tcp.analysis.ack_lost_segment: the segment ACKs peer data the capture did not contain. bytes/offset: in the peer's stream. */
  | 'ack-lost-segment'
  /** tcp.analysis.keep_alive: 0 or 1 byte one before the next expected sequence number (not a retransmission). */
  | 'keep-alive'
  /** tcp.analysis.zero_window: window field 0, no SYN/FIN/RST. */
  | 'zero-window'
  /**
   * tcp.analysis.duplicate_ack: no data and no SYN/FIN/RST, same sequence
   * number, ACK number and (non-zero) window as this direction's previous
   * segment. offset: the ACKed offset in the peer's stream.
   */
  | 'dup-ack'
  /**
   * nfsight's own: `bytes` bytes at stream offset `offset` that reassembly
   * never got (capture loss, buffer overflow), reported to the consumer as a
   * gap. `at` is the frame where the loss became known.
   */
  | 'gap'
  /**
   * nfsight's own: `bytes` bytes at stream offset `offset` of the segment in
   * frame `at` that the snaplen cut off (a gap to the consumer, like 'gap',
   * but the bytes were not lost: only not captured in full).
   */
  | 'snaplen-gap'
  /** nfsight's own: the first FIN of this direction. */
  | 'fin'
  /**
   * nfsight's own: the first segment of this direction with a non-zero
   * window after one with a zero window (the end of a zero-window episode).
   */
  | 'window-reopened'
  /** nfsight's own: a connection seen for the first time (direction: of its first segment); one per connection. */
  | 'connection-start'
  /**
   * nfsight's own: the connection's end (FIN both ways, RST, reuse of its
   * 4-tuple, eviction, or the end of the capture), after its streams ended;
   * one per connection. `conn.segments` then holds its final counts.
   */
  | 'connection-end'
  /**
   * A segment with the RST flag: every one, as tshark's tcp.flags.reset == 1
   * counts them (a second RST, or one after the connection ended, included).
   */
  | 'rst'
  /** nfsight's own: an RST that ended its connection (the first on a connection still open; also an 'rst'). */
  | 'rst-close'
  /** A SYN answered by RST (connection refused). */
  | 'refused'
  /** A new connection on a 4-tuple whose previous connection had ended. */
  | 'port-reuse'
  /** Bytes sent that the peer had not acknowledged when the connection or capture ended. */
  | 'unacked-data';

export interface TcpEvent {
  kind: TcpEventKind;
  conn: TcpConnection;
  /** Direction of the segment that caused the event (for 'refused': of the RST). */
  direction: Direction;
  at: FrameRef;
  /** Kind-specific: segment length / bytes lost / unacknowledged; 0 where not meaningful. */
  bytes: number;
  /**
   * Kind-specific: the stream offset concerned (-1 where not meaningful,
   * or where the direction concerned had not started).
   */
  offset: number;
}

/** What the layer above may ask of the transport about one connection. */
export interface StreamControl {
  /**
   * Stops waiting for bytes of direction `dir` that the peer has already
   * acknowledged but the capture has not shown (until then a late
   * retransmission may still fill the hole): they are reported as a gap now
   * and what waited behind them is delivered. Called, for instance, when a
   * reply arrives whose call may be waiting there.
   */
  releaseAcknowledged(dir: Direction): void;
}

/** What the transport layer calls for the layer above. */
export interface TransportHandler {
  /**
   * A connection was seen for the first time; returns the consumer of its
   * two directions (one object, or one per direction).
   */
  openConnection(conn: TcpConnection, control: StreamControl): ConnectionConsumer | [StreamConsumer, StreamConsumer];
  /**
   * A frozen connection's next segment came (or it is evicted, or the
   * capture ends): the consumer made again from what its `freeze` wrote,
   * for `conn`, a new TcpConnection with the same id, endpoints (the same
   * objects) and values, and `control`, also new. Needed by a handler
   * whose consumers freeze.
   */
  thawConnection?(conn: TcpConnection, control: StreamControl, s: FrozenConsumer): ConnectionConsumer;
  datagram(d: UdpDatagram): void;
  tcpEvent(e: TcpEvent): void;
}
