/**
 * The contract between the RPC record layer (record marking over TCP,
 * datagrams over UDP) and the call/reply matcher: one RPC message with where
 * it was seen.
 */
import type { MessageBytes } from '../../decoders/bytes.js';
import type { FrameRef } from '../capture/frame.js';
import type { Direction, Endpoint, TcpConnection } from '../transport/stream.js';

/** What carried an RPC message: TCP record marking, a UDP datagram, or RPC-over-RDMA (RFC 8166). */
export type RpcTransport = 'tcp' | 'udp' | 'rdma';

/** What the matcher needs of a message's connection: its id (TCP and RDMA connections are numbered apart). */
export interface MessageConnection {
  readonly id: number;
}

export interface RpcMessageRecord {
  transport: RpcTransport;
  /**
   * The connection and the direction of the message: the TCP connection, or
   * for RDMA the queue-pair connection; undefined for UDP.
   */
  conn: MessageConnection | undefined;
  dir: Direction;
  /** Sender and receiver. */
  src: Endpoint;
  dst: Endpoint;
  /**
   * The message bytes (record marks removed, fragments joined). Valid during
   * the sink's message() only: they may be a view of the reader's buffer.
   */
  bytes: MessageBytes;
  /** Frame that carried the first byte of the record (its record mark). */
  firstFrame: FrameRef;
  /** Frame in which the capture first held the whole record (the latest frame that carried its bytes), or where its missing bytes became known. */
  frame: FrameRef;
  /** The record layer skipped bytes to find this message (after a gap or at a mid-stream start). */
  resynced: boolean;
  /**
   * The stream ended (capture end, RST, FIN) before the record's last byte
   * was sent: the message never completed on the wire. A message cut only by
   * the capture (snaplen, lost segments) is complete, with bytes missing.
   */
  unfinished: boolean;
}

/** Messages up to this length are always kept whole: no policy asked. */
export const KEEP_WHOLE_MAX = 512;
/** Bytes kept at the end of a message that is not kept whole (where the last fragment allows). */
export const TAIL_KEEP = 4096;
/** A hard bound on the bytes kept of any one message. */
export const KEEP_MAX = 1 << 20;

/** What the record layer hands its messages to. */
export interface RpcMessageSink {
  message(m: RpcMessageRecord): void;
  /**
   * How many bytes from the start of a message to keep, asked once the first
   * KEEP_WHOLE_MAX bytes of a longer message are in (`head`). `length` is the
   * message length if known (a single-fragment record), else -1. A number at
   * least the length keeps the whole message (up to KEEP_MAX); a smaller one
   * keeps that many head bytes and up to TAIL_KEEP bytes at the end: bulk
   * data (READ replies, WRITE calls) is counted, never copied.
   */
  headToKeep(conn: TcpConnection | undefined, dir: Direction, head: Buffer, length: number): number;
  /**
   * Used while resynchronising: is a reply with this xid plausible here,
   * i.e. is a call with that xid outstanding on this connection in the other
   * direction?
   */
  isOutstandingXid(conn: TcpConnection | undefined, dir: Direction, xid: number): boolean;
}

/** Counters of the record layer, per run. */
export interface RecordStats {
  /** Records (messages) delivered. */
  messages: number;
  /** Messages with bytes missing from the capture. */
  truncatedMessages: number;
  /** Stream bytes skipped while looking for the next message (after gaps, mid-stream). */
  skippedBytes: number;
  /** Times the layer lost sync and searched for a message start. */
  resyncs: number;
  /** Bytes of bulk data counted but not kept (READ/WRITE payloads). */
  bytesNotKept: number;
}
