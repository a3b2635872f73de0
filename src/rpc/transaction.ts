/**
 * An RPC transaction: a call and its reply (if the capture has one), with
 * where and when each was seen. The unit every analysis consumes.
 */
import type { MessageBytes } from '../../decoders/bytes.js';
import type { DecodedCall, DecodedReply } from '../../decoders/decoded.js';
import type { Credential, RpcReplyHeader } from '../../decoders/rpc.js';
import type { FrameRef } from '../capture/frame.js';
import type { Nfs4Attribution } from '../nfs/v4-state.js';
import type { RpcTransport } from './message.js';
import type { Endpoint } from '../transport/stream.js';

/**
 * Frames of a message: `frame` is where Wireshark shows it, the frame in
 * which the capture first held its whole record (the latest frame that
 * carried any of its bytes: its last byte's, or the retransmission that
 * filled a hole in it; never a frame without its bytes, such as an ACK); for
 * a message the capture cut (snaplen, lost segments), which Wireshark
 * cannot reassemble, its first frame, where Wireshark dissects the header.
 * Timing uses `frame`, as rpc.time does.
 *
 * Wireshark's two TCP reassembly modes differ only for a message complete
 * behind a hole in an earlier one, later filled: without out-of-order
 * reassembly (tshark's default) it is shown in the frame of its own last
 * byte, as here; with it, in the frame that filled the hole
 * (scripts/tshark-reference.mjs tsharkCalls, test/gen/late-delivery.ts).
 */
export interface RpcCallSide {
  /** Frame that carried the first byte of the call's record. */
  firstFrame: FrameRef;
  /** Frame where Wireshark shows the call (see above). */
  frame: FrameRef;
  /**
   * Frame in which the record was complete: the latest frame that carried
   * any of its bytes, or, with bytes missing, the frame where they became
   * known missing.
   */
  lastFrame: FrameRef;
  /** Message length on the wire (record marks excluded). */
  bytes: number;
  /** Bytes of the message the capture never saw. */
  missing: number;
  /** The message bytes as kept, and where the procedure arguments start. */
  body: MessageBytes;
  bodyOffset: number;
  /** The connection ended before the call's record was complete on the wire. */
  unfinished: boolean;
}

/** A reply the server began to send but that never completed on the wire before its stream ended. */
export interface UnfinishedReply {
  firstFrame: FrameRef;
  /** Frame where its stream ended. */
  lastFrame: FrameRef;
  /** Bytes of the reply that were sent (captured or not) before the end. */
  bytesSent: number;
}

/**
 * The transport answered a call instead of the server's RPC layer:
 * RPC-over-RDMA's RDMA_ERROR (RFC 8166), sent when the responder could not
 * use the call's transport header. The call was answered, and failed; no
 * RPC reply exists.
 */
export interface TransportError {
  /** The rpc_rdma_errcode name, as tshark shows rpcordma.errcode: `ERR_VERS`, `ERR_CHUNK`. */
  name: string;
  code: number;
}

export interface RpcReplySide {
  firstFrame: FrameRef;
  frame: FrameRef;
  lastFrame: FrameRef;
  bytes: number;
  missing: number;
  header: RpcReplyHeader;
  body: MessageBytes;
  /** Where the procedure results start (accepted SUCCESS replies). */
  bodyOffset: number;
  /**
   * Set when the transport answered instead (RDMA_ERROR): then `header` is a
   * stand-in (reply_stat -1, no results: see replyErrorName), `bytes` 0.
   */
  transportError?: TransportError;
}

export interface Transaction {
  xid: number;
  transport: RpcTransport;
  /** TCP connection id (as in the TCP layer, 0-based like tcp.stream), -1 for UDP and RDMA. */
  connId: number;
  /** The caller and the callee (for a backchannel callback, the NFS server is the "client"). */
  client: Endpoint;
  server: Endpoint;
  program: number;
  version: number;
  procedure: number;
  cred: Credential;
  call: RpcCallSide;
  /** Undefined for a call the capture never saw answered. */
  reply: RpcReplySide | undefined;
  /** For an unanswered call: a reply that started but never completed (the stream ended inside it). */
  unfinishedReply: UnfinishedReply | undefined;
  /**
   * Seconds from the call's frame to the reply's frame (Wireshark's rpc.time);
   * -1 when unanswered (check `reply`: in a capture whose timestamps go
   * backwards, a merged one, rpc.time is negative too).
   */
  latency: number;
  /** Times the call was seen again with the same xid (client retransmissions). */
  retransmits: number;
  /** Frames of those retransmissions (the first few). */
  retransmitFrames: FrameRef[];
  /** Replies seen again for the same call after the first. */
  duplicateReplies: number;
  /** The program's arguments and results, decoded (set by the decode stage where a decoder exists). */
  decoded?: { call: DecodedCall | undefined; reply: DecodedReply | undefined };
  /** NFSv4 COMPOUND: its client, session, slot and each op's file handle (set by Nfs4State). */
  nfs4?: Nfs4Attribution;
}

/** A reply for which no call was seen (the call before the capture started, or lost). */
export interface OrphanReply {
  xid: number;
  transport: RpcTransport;
  connId: number;
  client: Endpoint;
  server: Endpoint;
  frame: FrameRef;
  header: RpcReplyHeader;
}

/** What the matcher hands transactions to. */
export interface TransactionSink {
  /**
   * A call seen for the first time (not a retransmission), before its
   * reply: its transaction comes later through transaction() or
   * unanswered(). Optional: lets a listener keep calls in call-frame order.
   */
  call?(t: Transaction): void;
  /**
   * A call answered: in the order replies complete. The message bodies
   * (call.body, reply.body) are valid during the call only: decode them then.
   */
  transaction(t: Transaction): void;
  /** A call never answered in the capture: at the end (or when its state expires). */
  unanswered(t: Transaction): void;
  /**
   * A call announced by call() and then dropped to stay within the memory
   * budget (its fate unknown): neither transaction() nor unanswered() follows.
   */
  forgotten?(t: Transaction): void;
  orphanReply(r: OrphanReply): void;
}

export interface MatcherStats {
  calls: number;
  replies: number;
  matched: number;
  unanswered: number;
  orphanReplies: number;
  retransmittedCalls: number;
  duplicateReplies: number;
  /** Replies whose stream ended inside them: their calls stay unanswered. */
  unfinishedReplies: number;
  /** Messages that were not RPC calls or replies (malformed headers). */
  invalid: number;
  /** Of those, messages whose header the capture cut (snaplen, lost segments): RPC, but unreadable. */
  invalidCut: number;
}

/** What analyze() knows beyond the transaction (to be passed to onTransaction). */
export interface TransactionContext {
  /** The path of a file handle (lowercase hex), as learnt so far (FileHandlePaths.pathOf). */
  pathOf?: (fh: string) => string | undefined;
  /** Whether a program number is an NFSv4 client's announced callback program. */
  isCallbackProgram?: (program: number) => boolean;
  /** The name of an input file by its index in the run (FrameRef.fileIndex). */
  fileName?: (fileIndex: number) => string;
}
