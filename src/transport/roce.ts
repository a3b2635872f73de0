/**
 * RoCE: InfiniBand reliable connections carried in UDP port 4791 (RoCEv2)
 * or straight over Ethernet (RoCEv1, ethertype 0x8915, after a GRH).
 *
 * What this layer does, per queue-pair connection and per direction of
 * travel:
 * - knows the connection before its first message when the capture holds
 *   the CM exchange on QP1 (ConnectRequest with the service id → port,
 *   ConnectReply, ReadyToUse, ConnectReject with its reason, Disconnect),
 *   or pairs the two directions from the traffic itself;
 * - follows the requester's PSNs (SEND, RDMA WRITE, RDMA READ Request): a
 *   packet ahead of the next expected PSN is held until it is clear whether
 *   the capture lost packets (the receiver acknowledges beyond them: a PSN
 *   gap, reported like a TCP gap) or the network did (the sender goes back
 *   and sends them again, often after a NAK: then the held packets were
 *   discarded by the receiver too); a packet behind it is a retransmission;
 * - reassembles SEND First/Middle/Last into messages for the layer above;
 * - counts RDMA WRITE and READ Response data, tied to the R_Key and virtual
 *   address they target, without copying it (the layer above copies what
 *   it needs: a reply chunk, a position-zero read chunk);
 * - reports ACK/NAK syndromes, RNR NAKs and congestion notifications.
 *
 * Cost for other traffic: none (the transport layer checks UDP port 4791).
 */
import { snapshotFrameRef, type DiagnosticSink, type FrameRef } from '../capture/frame.js';
import type { IpPacket } from '../net/packet.js';
import {
  AETH_ACK,
  AETH_NAK,
  AETH_RNR_NAK,
  IB_RC,
  IB_UC,
  IB_UD,
  IB_XRC,
  ICRC_LEN,
  OPCODE_CNP,
  OP_ACKNOWLEDGE,
  OP_ATOMIC_ACKNOWLEDGE,
  OP_READ_REQUEST,
  OP_READ_RESPONSE_FIRST,
  OP_READ_RESPONSE_LAST,
  OP_READ_RESPONSE_ONLY,
  OP_SEND_FIRST,
  OP_SEND_LAST,
  OP_SEND_LAST_IMM,
  OP_SEND_LAST_INVALIDATE,
  OP_SEND_MIDDLE,
  OP_SEND_ONLY,
  OP_SEND_ONLY_IMM,
  OP_SEND_ONLY_INVALIDATE,
  OP_WRITE_FIRST,
  OP_WRITE_LAST,
  OP_WRITE_LAST_IMM,
  OP_WRITE_MIDDLE,
  OP_WRITE_ONLY,
  OP_WRITE_ONLY_IMM,
  aethKind,
  decodeBth,
  nakName,
  newBthPacket,
  opcodeName,
  pathMtuBytes,
  type BthPacket,
} from './ib-bth.js';
import { decodeCmMad, rejectReasonName, type CmRep, type CmReq } from './ib-cm.js';
import type { Direction, Endpoint } from './stream.js';
import type { RpcRdmaCmPrivate } from '../../decoders/rpcrdma.js';
import { LruMap } from '../memory/lru.js';

export { ROCE_V2_PORT } from '../net/packet.js';
/** IANA's port for NFS over RDMA (RFC 5667). */
export const NFS_RDMA_PORT = 20049;
/** RoCEv1: the ethertype, and the GRH's next-header value for a BTH. */
export const ETHERTYPE_ROCE_V1 = 0x8915;
export const GRH_LEN = 40;

const PSN_MASK = 0xffffff;
const PSN_HALF = 0x800000;
/** Out-of-sequence packets held per direction before they are taken as a capture gap. */
const MAX_HELD_PACKETS = 256;
const MAX_HELD_BYTES = 1 << 20;
/** Outstanding RDMA READ requests remembered per direction. */
const MAX_OUTSTANDING_READS = 1024;
/** Largest SEND message reassembled (RPC-over-RDMA inline messages are a few KB). */
const MAX_SEND_BYTES = 1 << 20;
/**
 * Bytes held over all connections (SENDs being reassembled, packets held
 * behind a PSN gap). Beyond it, held packets are taken as a capture gap at
 * once and SEND parts are counted, not kept (the message arrives cut).
 */
const MAX_BUFFERED_BYTES = 64 << 20;
/** Connections listed in the report (beyond: counted, the oldest dropped from the list). */
export const MAX_REPORTED_CONNECTIONS = 10_000;
/** Connections followed at once; beyond, the one idle longest is ended (counted). */
export const MAX_LIVE_CONNECTIONS = 65_536;

/** The layer's memory bounds (tests make them small). */
export interface RoceLimits {
  liveConnections: number;
  listedConnections: number;
  bufferedBytes: number;
}

export const DEFAULT_ROCE_LIMITS: Readonly<RoceLimits> = {
  liveConnections: MAX_LIVE_CONNECTIONS,
  listedConnections: MAX_REPORTED_CONNECTIONS,
  bufferedBytes: MAX_BUFFERED_BYTES,
};
/** ConnectRequests remembered until their reply or reject. */
const MAX_PENDING_REQUESTS = 4096;
const MAX_DIAGNOSTICS = 20;

/** What the CM exchange told about a connection. */
export interface CmInfo {
  /** The service id's port (20049 for NFS/RDMA); -1 when not an RDMA-CM service id. */
  port: number;
  serviceId: string;
  pathMtu: number;
  /** RDMA READs the client accepts / issues outstanding (REQ responder resources / initiator depth). */
  clientResponderResources: number;
  clientInitiatorDepth: number;
  serverResponderResources: number;
  serverInitiatorDepth: number;
  /** RFC 8797 private data of each side, where sent. */
  clientPrivate: RpcRdmaCmPrivate | undefined;
  serverPrivate: RpcRdmaCmPrivate | undefined;
  requestFrame: FrameRef | undefined;
  replyFrame: FrameRef | undefined;
  readyFrame: FrameRef | undefined;
  disconnectFrame: FrameRef | undefined;
}

/** Per direction of travel: what the packets toward one queue pair did. */
export interface QpDirectionStats {
  packets: number;
  /** SEND messages delivered, and their bytes. */
  sends: number;
  sendBytes: number;
  /** RDMA WRITE payload bytes, and RDMA READ Response payload bytes, sent this way. */
  writeBytes: number;
  readResponseBytes: number;
  readRequests: number;
  acks: number;
  naks: number;
  rnrNaks: number;
  /** Requester packets the capture never saw (PSN gaps), in how many gaps. */
  gapPackets: number;
  gaps: number;
  /** Requester packets seen again (PSN already seen): retransmissions. */
  retransmittedPackets: number;
}

function newDirectionStats(): QpDirectionStats {
  return { packets: 0, sends: 0, sendBytes: 0, writeBytes: 0, readResponseBytes: 0, readRequests: 0, acks: 0, naks: 0, rnrNaks: 0, gapPackets: 0, gaps: 0, retransmittedPackets: 0 };
}

/** An outstanding RDMA READ request, answered by READ Responses in the other direction. */
interface ReadRequest {
  psn: number;
  rkey: number;
  vaHi: number;
  vaLo: number;
  length: number;
  /** Response packets expected (ceil(length / path MTU)); -1 while the MTU is unknown. */
  packets: number;
  /** Bytes per response packet (the First response's payload), once seen. */
  unit: number;
  nextPsn: number;
  received: number;
  at: FrameRef;
}

/** A requester packet held while a PSN gap before it is unexplained. */
interface HeldPacket {
  bth: BthPacket;
  payload: Buffer;
  at: FrameRef;
}

/** A SEND being reassembled. */
interface SendAssembly {
  firstPsn: number;
  /** Payload bytes per packet (the First packet's). */
  unit: number;
  parts: Buffer[];
  /** Captured bytes held, contiguous from the start. */
  captured: number;
  /** True once a part went missing: later parts are counted, not kept. */
  broken: boolean;
  firstFrame: FrameRef;
}

/** Packets traveling toward one queue pair: one direction of a connection. */
export class QpDirection {
  readonly stats: QpDirectionStats = newDirectionStats();
  /** Next requester PSN expected; -1 when unknown. */
  expectedPsn = -1;
  held: HeldPacket[] | undefined;
  heldBytes = 0;
  send: SendAssembly | undefined;
  /** The RDMA WRITE in progress: its R_Key, address, first PSN and bytes per packet. */
  write: { rkey: number; vaHi: number; vaLo: number; firstPsn: number; unit: number } | undefined;
  /** READ requests sent this way, answered in the other direction. */
  readonly reads: ReadRequest[] = [];
  /** The READ request whose responses are arriving this way. */
  respondingTo: ReadRequest | undefined;

  constructor(
    readonly conn: RdmaConnection,
    readonly dir: Direction,
    readonly src: string,
    readonly dst: string,
    /** The destination QP number (-1 until seen). */
    public destQp: number,
  ) {}
}

/** A queue-pair connection: the RDMA counterpart of a TCP connection. */
export class RdmaConnection {
  midstream: boolean;
  readonly dirs: [QpDirection | undefined, QpDirection | undefined] = [undefined, undefined];
  cm: CmInfo | undefined;
  /** Learnt from the first full-size First/Middle packet, or the CM's path MTU; 0 unknown. */
  pathMtu = 0;
  /** Where the connection ended (CM disconnect), if it did in the capture. */
  endedAt: FrameRef | undefined;
  /** Ended: by a disconnect, the reuse of a QP number, or the end of the capture. */
  ended = false;
  /** Comm ids of the two sides (CM), for the disconnect. */
  commIds: [number, number] = [-1, -1];

  constructor(
    readonly id: number,
    /** Side A: the CM's active side (the client) when seen, else the first sender. */
    public a: Endpoint,
    public b: Endpoint,
    readonly firstFrame: FrameRef,
    midstream: boolean,
  ) {
    this.midstream = midstream;
  }

  /** "10.0.0.2:32792 qp 0x11 → 10.0.0.1:20049 qp 0x11" */
  describe(): string {
    const qp = (d: QpDirection | undefined): string => (d !== undefined && d.destQp >= 0 ? ` qp 0x${d.destQp.toString(16)}` : '');
    return `${endpointText(this.a)}${qp(this.dirs[1])} ↔ ${endpointText(this.b)}${qp(this.dirs[0])}`;
  }
}

export function endpointText(e: Endpoint): string {
  return e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`;
}

/** What RDMA events are about; detectors and the report read them. */
export type RdmaEventKind =
  /** A CM ConnectRequest (a connection attempt). */
  | 'cm-request'
  /** A ConnectReply: the connection is accepted. */
  | 'cm-connected'
  /** A ConnectReject: `code` is the reason, `name` its name. */
  | 'cm-reject'
  /**
   * A ConnectRequest sent `count` times (the CM retrying) and never answered
   * by the end of the capture; `requestAt` the first, `at` the last.
   */
  | 'cm-unanswered'
  /** A DisconnectRequest. */
  | 'cm-disconnect'
  /** `count` requester packets the capture never saw, before `at`. */
  | 'psn-gap'
  /** `count` requester packets seen again (retransmissions). */
  | 'retransmission'
  /** A NAK (`name`: PSN Sequence Error, Remote Access Error, …). */
  | 'nak'
  /** A receiver-not-ready NAK. */
  | 'rnr-nak'
  /** An RPC-over-RDMA RDMA_ERROR (`name`: ERR_VERS / ERR_CHUNK; `xid`). */
  | 'rpcrdma-error'
  /** A call sent while the requester had as many calls outstanding as the credits granted (`count`: credits). */
  | 'credits-exhausted'
  /** A call beyond the credits granted (`count`: credits). */
  | 'credits-exceeded';

export interface RdmaEvent {
  kind: RdmaEventKind;
  at: FrameRef;
  conn: RdmaConnection | undefined;
  /** Direction of the packet that caused the event (within conn), 0 when no connection. */
  direction: Direction;
  /** "addr:port" of the client (active side) and server. */
  client: string;
  server: string;
  /** The server port (20049 for NFS/RDMA), -1 when unknown. */
  port: number;
  count: number;
  code: number;
  name: string;
  /** RPC-over-RDMA events: the xid concerned; else 0. */
  xid: number;
  /** cm-reject: the ConnectRequest's frame, when captured. */
  requestAt?: FrameRef;
}

/** A SEND message: valid during the call only. */
export interface SendMessage {
  /** The captured bytes, contiguous from the start of the message. */
  bytes: Buffer;
  /** Message length on the wire. */
  length: number;
  /** Bytes the capture lost (gaps, snaplen). */
  missing: number;
  firstFrame: FrameRef;
  /** The frame of its last packet: where the message is complete. */
  frame: FrameRef;
  /** SEND with Invalidate: the R_Key invalidated; -1 otherwise. */
  invalidateRkey: number;
}

/** RDMA WRITE or READ Response data landing at (rkey, va + offset): a reused object, valid during the call. */
export interface Placement {
  kind: 'write' | 'read-response';
  rkey: number;
  vaHi: number;
  vaLo: number;
  /** Offset from va of `bytes[0]`. */
  offset: number;
  /** Captured payload bytes (a view). */
  bytes: Buffer;
  /** Payload length on the wire. */
  length: number;
  at: FrameRef;
}

/** A READ request fully answered (its Last or Only response). */
export interface ReadDone {
  rkey: number;
  vaHi: number;
  vaLo: number;
  length: number;
  /** Payload bytes the capture saw of its responses. */
  received: number;
  at: FrameRef;
}

/** The layer above (RPC-over-RDMA). `dir` is the direction of travel of the packets concerned. */
export interface RdmaConsumer {
  opened(c: RdmaConnection): void;
  send(c: RdmaConnection, dir: Direction, m: SendMessage): void;
  placed(c: RdmaConnection, dir: Direction, p: Placement): void;
  readDone(c: RdmaConnection, dir: Direction, r: ReadDone): void;
  /** The connection ended (CM disconnect, reuse of its QP, end of the capture). */
  ended(c: RdmaConnection, at: FrameRef | undefined): void;
}

export interface RoceStats {
  /** Packets with a decodable BTH (v2 and v1), and of them RoCEv1. */
  packets: number;
  roceV1Packets: number;
  /** Transport bytes (BTH … ICRC) on the wire. */
  bytes: number;
  /** Packets whose headers were cut or of an undefined opcode. */
  malformed: number;
  /** Packets per opcode name. */
  opcodes: Map<number, number>;
  /** Congestion notification packets (RoCEv2 CNP). */
  cnp: number;
  /** UD datagrams other than CM MADs, and RD packets: counted, not decoded. */
  otherPackets: number;
  cm: { requests: number; replies: number; rejects: number; readyToUse: number; disconnectRequests: number; disconnectReplies: number; other: number };
  /** SEND messages whose start the capture lost (Middle/Last without First): dropped. */
  sendsWithoutStart: number;
  /** READ responses for no request the capture holds. */
  orphanReadResponses: number;
  /** Connections ended because too many were open at once (the one idle longest). */
  connectionsEvicted: number;
  /** Connections left out of the report's list (beyond MAX_REPORTED_CONNECTIONS, the oldest). */
  connectionsNotListed: number;
}

export class RoceLayer {
  readonly stats: RoceStats = {
    packets: 0,
    roceV1Packets: 0,
    bytes: 0,
    malformed: 0,
    opcodes: new Map(),
    cnp: 0,
    otherPackets: 0,
    cm: { requests: 0, replies: 0, rejects: 0, readyToUse: 0, disconnectRequests: 0, disconnectReplies: 0, other: 0 },
    sendsWithoutStart: 0,
    orphanReadResponses: 0,
    connectionsEvicted: 0,
    connectionsNotListed: 0,
  };
  /** Connections seen (the last MAX_REPORTED_CONNECTIONS), in order of appearance. */
  readonly connections = new LruMap<number, RdmaConnection>();
  /** Connections not ended, least recently active first. */
  private readonly live = new LruMap<number, RdmaConnection>();
  private nextId = 0;
  /** Directions by destination address, then destination QP. */
  private readonly byDest = new Map<string, Map<number, QpDirection>>();
  /** Connections with one direction known, waiting for the other. */
  private readonly halfOpen: RdmaConnection[] = [];
  /** ConnectRequests by "client addr|local comm id". */
  private readonly requests = new LruMap<string, { req: CmReq; client: string; server: string; at: FrameRef; attempts: number; last: FrameRef }>();
  /** Connections by "addr|comm id" of either side. */
  private readonly byCommId = new LruMap<string, RdmaConnection>();
  /**
   * ConnectRequests rejected lately (client address and comm id): the CM
   * resends a reject whose acknowledgement it missed, as it resends a reply.
   */
  private readonly rejectedRequests = new LruMap<string, true>();
  /** The per-direction counters summed over every connection (listed or not). */
  readonly totals: QpDirectionStats = newDirectionStats();
  private readonly bth: BthPacket = newBthPacket();
  /** Bytes held now: SEND assemblies and out-of-sequence packets (MAX_BUFFERED_BYTES). */
  private buffered = 0;
  private readonly placement: Placement = { kind: 'write', rkey: 0, vaHi: 0, vaLo: 0, offset: 0, bytes: Buffer.alloc(0), length: 0, at: { fileIndex: 0, number: 0, tsSec: 0, tsNsec: 0 } };
  private diagnostics = 0;

  constructor(
    private readonly consumer: RdmaConsumer,
    private readonly onEvent: (e: RdmaEvent) => void = () => {},
    private readonly diag?: DiagnosticSink,
    private readonly fileName: (fileIndex: number) => string = () => '?',
    limits: Partial<RoceLimits> = {},
  ) {
    this.limits = { ...DEFAULT_ROCE_LIMITS, ...limits };
  }

  private readonly limits: RoceLimits;

  /** A RoCEv2 packet: the UDP payload (captured view) and its length on the wire. */
  udp(pkt: IpPacket, payload: Buffer, wireLength: number): void {
    this.packet(pkt.src, pkt.dst, payload, 0, wireLength, pkt.frame);
  }

  /**
   * A RoCEv1 packet: `pkt.l4` holds the BTH onward (after the GRH), with
   * `pkt.src`/`pkt.dst` the GIDs as text.
   */
  roceV1(pkt: IpPacket): void {
    this.stats.roceV1Packets++;
    this.packet(pkt.src, pkt.dst, pkt.l4, 0, pkt.l4WireLength, pkt.frame);
  }

  /** End of the capture: held packets are capture gaps, every connection ends. */
  finish(): void {
    for (const c of [...this.live.values()]) this.end(c, undefined);
    // Requests the CM sent again and again, and nobody answered.
    for (const r of this.requests.values()) {
      if (r.attempts < 2) continue;
      const port = r.req.port;
      this.onEvent({
        kind: 'cm-unanswered', at: r.last, conn: undefined, direction: 0,
        client: endpointText({ addr: r.client, port: r.req.ipCm?.sourcePort ?? 0 }), server: endpointText({ addr: r.server, port: port >= 0 ? port : 0 }),
        port, count: r.attempts, code: 0, name: '', xid: 0, requestAt: r.at,
      });
    }
  }

  // ---------------------------------------------------------------------------

  private packet(src: string, dst: string, buf: Buffer, start: number, wireLength: number, at: FrameRef): void {
    const stats = this.stats;
    const b = this.bth;
    if (!decodeBth(buf, start, wireLength, b)) {
      stats.malformed++;
      this.report(at, `${b.reason}; packet skipped`);
      return;
    }
    stats.packets++;
    stats.bytes += wireLength;
    stats.opcodes.set(b.opcode, (stats.opcodes.get(b.opcode) ?? 0) + 1);
    const service = b.service;
    if (service === IB_RC || service === IB_UC || service === IB_XRC) {
      this.connected(src, dst, buf, at);
    } else if (service === IB_UD && b.destQp === 1) {
      this.cm(src, dst, buf.subarray(b.payloadOffset, b.payloadOffset + b.payloadCaptured), at);
    } else if (b.opcode === OPCODE_CNP) {
      stats.cnp++;
    } else {
      stats.otherPackets++;
    }
  }

  private count(d: QpDirection, key: keyof QpDirectionStats, n: number): void {
    d.stats[key] += n;
    this.totals[key] += n;
  }

  private report(at: FrameRef, message: string): void {
    if (this.diag === undefined || this.diagnostics >= MAX_DIAGNOSTICS) return;
    this.diagnostics++;
    const more = this.diagnostics === MAX_DIAGNOSTICS ? ' (further malformed RoCE packets are counted, not reported)' : '';
    this.diag.report({ severity: 'warning', code: 'malformed-roce', file: this.fileName(at.fileIndex), frame: at.number, message: message + more });
  }

  // ---- connections -----------------------------------------------------------

  private newConnection(a: Endpoint, b: Endpoint, at: FrameRef, midstream: boolean): RdmaConnection {
    const c = new RdmaConnection(this.nextId++, a, b, snapshotFrameRef(at), midstream);
    this.connections.set(c.id, c);
    if (this.connections.size > this.limits.listedConnections) {
      this.connections.shift();
      this.stats.connectionsNotListed++;
    }
    this.live.set(c.id, c);
    if (this.live.size > this.limits.liveConnections) {
      this.stats.connectionsEvicted++;
      this.end(this.live.oldest()![1], undefined);
    }
    this.consumer.opened(c);
    return c;
  }

  private direction(c: RdmaConnection, dir: Direction, src: string, dst: string, destQp: number): QpDirection {
    const d = new QpDirection(c, dir, src, dst, destQp);
    c.dirs[dir] = d;
    let dests = this.byDest.get(dst);
    if (dests === undefined) {
      dests = new Map();
      this.byDest.set(dst, dests);
    }
    const old = dests.get(destQp);
    // A QP number used again: its previous connection is over.
    if (old !== undefined && old.conn !== c) this.end(old.conn, undefined);
    dests.set(destQp, d);
    return d;
  }

  /** The direction an RC/UC packet travels in, creating its connection when the capture did not show the CM exchange. */
  private lookup(src: string, dst: string, destQp: number, at: FrameRef): QpDirection {
    const known = this.byDest.get(dst)?.get(destQp);
    if (known !== undefined && known.src === src) return known;
    // The reverse direction of a connection seen one way so far.
    for (let i = 0; i < this.halfOpen.length; i++) {
      const c = this.halfOpen[i]!;
      const only = c.dirs[0] ?? c.dirs[1]!;
      if (only.src === dst && only.dst === src) {
        this.halfOpen.splice(i, 1);
        const dir: Direction = c.dirs[0] === undefined ? 0 : 1;
        return this.direction(c, dir, src, dst, destQp);
      }
    }
    const c = this.newConnection({ addr: src, port: 0 }, { addr: dst, port: 0 }, at, true);
    this.halfOpen.push(c);
    if (this.halfOpen.length > 64) this.halfOpen.shift();
    return this.direction(c, 0, src, dst, destQp);
  }

  private end(c: RdmaConnection, at: FrameRef | undefined): void {
    if (c.ended) return;
    c.ended = true;
    this.live.delete(c.id);
    for (const d of c.dirs) if (d !== undefined && d.held !== undefined) this.releaseHeld(d, at ?? d.held[d.held.length - 1]!.at);
    for (const d of c.dirs) {
      if (d === undefined) continue;
      const dests = this.byDest.get(d.dst);
      if (dests?.get(d.destQp) === d) {
        dests.delete(d.destQp);
        if (dests.size === 0) this.byDest.delete(d.dst);
      }
      this.dropSend(d);
    }
    const h = this.halfOpen.indexOf(c);
    if (h >= 0) this.halfOpen.splice(h, 1);
    if (at !== undefined) c.endedAt = snapshotFrameRef(at);
    this.consumer.ended(c, at);
  }

  private event(kind: RdmaEventKind, at: FrameRef, c: RdmaConnection | undefined, dir: Direction, extra: Partial<RdmaEvent> = {}): void {
    this.onEvent({
      kind,
      at: snapshotFrameRef(at),
      conn: c,
      direction: dir,
      client: c !== undefined ? endpointText(c.a) : '',
      server: c !== undefined ? endpointText(c.b) : '',
      port: c?.cm?.port ?? -1,
      count: 1,
      code: 0,
      name: '',
      xid: 0,
      ...extra,
    });
  }

  // ---- connection management (QP1) -------------------------------------------

  private cm(src: string, dst: string, mad: Buffer, at: FrameRef): void {
    const m = decodeCmMad(mad);
    const cm = this.stats.cm;
    if (m === undefined) {
      this.stats.otherPackets++;
      return;
    }
    switch (m.kind) {
      case 'REQ': {
        cm.requests++;
        const key = `${src}|${m.localCommId}`;
        const again = this.requests.get(key);
        if (again !== undefined) {
          // The CM resends a request that timed out, with the same comm id.
          again.attempts++;
          again.last = snapshotFrameRef(at);
        } else {
          const first = snapshotFrameRef(at);
          this.requests.set(key, { req: m, client: src, server: dst, at: first, attempts: 1, last: first });
          if (this.requests.size > MAX_PENDING_REQUESTS) this.requests.shift();
        }
        const port = m.port;
        this.onEvent({
          kind: 'cm-request', at: snapshotFrameRef(at), conn: undefined, direction: 0,
          client: endpointText({ addr: src, port: m.ipCm?.sourcePort ?? 0 }), server: endpointText({ addr: dst, port: port >= 0 ? port : 0 }),
          port, count: 1, code: 0, name: '', xid: 0,
        });
        return;
      }
      case 'REP':
        cm.replies++;
        this.connectReply(src, dst, m, at);
        return;
      case 'REJ': {
        cm.rejects++;
        const key = `${dst}|${m.remoteCommId}`;
        const r = this.requests.get(key);
        // The same reject again: no second rejection.
        if (r === undefined && this.rejectedRequests.get(key) !== undefined) return;
        this.requests.delete(key);
        this.rejectedRequests.set(key, true);
        if (this.rejectedRequests.size > MAX_PENDING_REQUESTS) this.rejectedRequests.shift();
        const port = r?.req.port ?? -1;
        this.onEvent({
          kind: 'cm-reject',
          at: snapshotFrameRef(at),
          conn: undefined,
          direction: 1,
          client: endpointText({ addr: dst, port: r?.req.ipCm?.sourcePort ?? 0 }),
          server: endpointText({ addr: src, port: port >= 0 ? port : 0 }),
          port,
          count: 1,
          code: m.reason,
          name: rejectReasonName(m.reason),
          xid: 0,
          ...(r !== undefined ? { requestAt: r.at } : {}),
        });
        return;
      }
      case 'RTU': {
        cm.readyToUse++;
        const c = this.byCommId.get(`${src}|${m.localCommId}`);
        if (c?.cm !== undefined) c.cm.readyFrame = snapshotFrameRef(at);
        return;
      }
      case 'DREQ':
      case 'DREP': {
        if (m.kind === 'DREQ') cm.disconnectRequests++;
        else cm.disconnectReplies++;
        const c = this.byCommId.get(`${src}|${m.localCommId}`) ?? this.byCommId.get(`${dst}|${m.remoteCommId}`);
        if (c === undefined) return;
        if (m.kind === 'DREQ') {
          if (c.cm !== undefined) c.cm.disconnectFrame = snapshotFrameRef(at);
          this.event('cm-disconnect', at, c, c.a.addr === src ? 0 : 1);
        }
        this.end(c, at);
        return;
      }
      default:
        cm.other++;
    }
  }

  private connectReply(src: string, dst: string, rep: CmRep, at: FrameRef): void {
    // The same reply again (the CM resends it until the client's ReadyToUse
    // comes): the connection it made stands.
    const made = this.byCommId.get(`${src}|${rep.localCommId}`);
    if (made !== undefined && made.commIds[0] === rep.remoteCommId && made.commIds[1] === rep.localCommId) return;
    // The ConnectRequest came from the REP's destination.
    const r = this.requests.get(`${dst}|${rep.remoteCommId}`);
    const req = r?.req;
    const port = req?.port ?? -1;
    const c = this.newConnection(
      { addr: dst, port: req?.ipCm?.sourcePort ?? 0 },
      { addr: src, port: port >= 0 ? port : 0 },
      r?.at ?? at,
      false,
    );
    c.cm = {
      port,
      serviceId: req !== undefined ? `0x${hex8(req.serviceIdHi)}${hex8(req.serviceIdLo)}` : '',
      pathMtu: pathMtuBytes(req?.pathMtu ?? 0),
      clientResponderResources: req?.responderResources ?? -1,
      clientInitiatorDepth: req?.initiatorDepth ?? -1,
      serverResponderResources: rep.responderResources,
      serverInitiatorDepth: rep.initiatorDepth,
      clientPrivate: req?.rpcRdma,
      serverPrivate: rep.rpcRdma,
      requestFrame: r?.at,
      replyFrame: snapshotFrameRef(at),
      readyFrame: undefined,
      disconnectFrame: undefined,
    };
    c.pathMtu = c.cm.pathMtu;
    c.commIds = [rep.remoteCommId, rep.localCommId];
    this.byCommId.set(`${dst}|${rep.remoteCommId}`, c);
    this.byCommId.set(`${src}|${rep.localCommId}`, c);
    // Kept beyond the connection's end (a late DisconnectReply, a resent reply), for as many as are listed.
    while (this.byCommId.size > 2 * this.limits.listedConnections) this.byCommId.shift();
    // Client → server packets go to the server's QP; the REP names the PSN the client starts at.
    const toServer = this.direction(c, 0, dst, src, rep.localQpn);
    toServer.expectedPsn = rep.startingPsn;
    if (req !== undefined) {
      const toClient = this.direction(c, 1, src, dst, req.localQpn);
      toClient.expectedPsn = req.startingPsn;
    } else {
      this.halfOpen.push(c);
    }
    this.event('cm-connected', at, c, 1, { port });
    if (r !== undefined) this.requests.delete(`${dst}|${rep.remoteCommId}`);
  }

  // ---- reliable / unreliable connected traffic -----------------------------

  private connected(src: string, dst: string, buf: Buffer, at: FrameRef): void {
    const b = this.bth;
    const d = this.lookup(src, dst, b.destQp, at);
    this.live.touch(d.conn.id);
    this.count(d, 'packets', 1);
    const op = b.op;
    if (op === OP_ACKNOWLEDGE || op === OP_ATOMIC_ACKNOWLEDGE) return this.acknowledge(d, at);
    if (op >= OP_READ_RESPONSE_FIRST && op <= OP_READ_RESPONSE_ONLY) return this.readResponse(d, buf, at);
    this.requester(d, b, buf.subarray(b.payloadOffset, b.payloadOffset + b.payloadCaptured), at, false);
  }

  /**
   * A requester packet (SEND, WRITE, READ Request, atomics) in PSN order:
   * delivered when expected, held when ahead, dropped as a retransmission
   * when behind.
   */
  private requester(d: QpDirection, b: BthPacket, payload: Buffer, at: FrameRef, fromHeld: boolean, knownAt: FrameRef = at): void {
    if (d.expectedPsn >= 0 && b.psn !== d.expectedPsn) {
      const ahead = (b.psn - d.expectedPsn) & PSN_MASK;
      if (ahead < PSN_HALF) {
        // Unreliable connections never retransmit: what is missing is lost.
        if (b.service === IB_UC || fromHeld) this.gap(d, ahead, knownAt);
        else return this.hold(d, b, payload, at);
      } else {
        this.count(d, 'retransmittedPackets', 1);
        this.event('retransmission', at, d.conn, d.dir, { count: 1, name: opcodeName(b.opcode) });
        return;
      }
    }
    this.deliver(d, b, payload, at);
    if (d.held !== undefined && !fromHeld) this.drainHeld(d);
  }

  private hold(d: QpDirection, b: BthPacket, payload: Buffer, at: FrameRef): void {
    const held = (d.held ??= []);
    held.push({ bth: { ...b }, payload: Buffer.from(payload), at: snapshotFrameRef(at) });
    d.heldBytes += payload.length;
    this.buffered += payload.length;
    if (held.length > MAX_HELD_PACKETS || d.heldBytes > MAX_HELD_BYTES || this.buffered > this.limits.bufferedBytes) this.releaseHeld(d, at);
  }

  /** Delivers held packets that are now in sequence. */
  private drainHeld(d: QpDirection): void {
    const held = d.held!;
    held.sort((x, y) => ((x.bth.psn - d.expectedPsn) & PSN_MASK) - ((y.bth.psn - d.expectedPsn) & PSN_MASK));
    while (held.length > 0 && held[0]!.bth.psn === d.expectedPsn) {
      const h = held.shift()!;
      d.heldBytes -= h.payload.length;
      this.buffered -= h.payload.length;
      this.deliver(d, h.bth, h.payload, h.at);
    }
    // Anything left behind the expected PSN came again meanwhile.
    while (held.length > 0 && ((held[0]!.bth.psn - d.expectedPsn) & PSN_MASK) >= PSN_HALF) {
      const n = held.shift()!.payload.length;
      d.heldBytes -= n;
      this.buffered -= n;
    }
    if (held.length === 0) {
      d.held = undefined;
      d.heldBytes = 0;
    }
  }

  /** The receiver has the packets before the held ones (or nobody will send them): the capture lost them. */
  private releaseHeld(d: QpDirection, at: FrameRef): void {
    const held = d.held;
    if (held === undefined) return;
    d.held = undefined;
    this.buffered -= d.heldBytes;
    d.heldBytes = 0;
    held.sort((x, y) => ((x.bth.psn - d.expectedPsn) & PSN_MASK) - ((y.bth.psn - d.expectedPsn) & PSN_MASK));
    // The gap is known where the acknowledgement (or the end) revealed it.
    for (const h of held) this.requester(d, h.bth, h.payload, h.at, true, at);
  }

  private gap(d: QpDirection, packets: number, at: FrameRef): void {
    this.count(d, 'gaps', 1);
    this.count(d, 'gapPackets', packets);
    this.event('psn-gap', at, d.conn, d.dir, { count: packets });
  }

  private deliver(d: QpDirection, b: BthPacket, payload: Buffer, at: FrameRef): void {
    const op = b.op;
    const c = d.conn;
    if (op === OP_READ_REQUEST) {
      this.count(d, 'readRequests', 1);
      const packets = c.pathMtu > 0 ? Math.max(1, Math.ceil(b.dmaLength / c.pathMtu)) : -1;
      d.expectedPsn = packets > 0 ? (b.psn + packets) & PSN_MASK : -1;
      d.reads.push({ psn: b.psn, rkey: b.rkey, vaHi: b.vaHi, vaLo: b.vaLo, length: b.dmaLength, packets, unit: 0, nextPsn: b.psn, received: 0, at: snapshotFrameRef(at) });
      if (d.reads.length > MAX_OUTSTANDING_READS) d.reads.shift();
      return;
    }
    d.expectedPsn = (b.psn + 1) & PSN_MASK;
    if (op >= OP_SEND_FIRST && op <= OP_SEND_ONLY_IMM) this.sendPacket(d, b, payload, at);
    else if (op === OP_SEND_LAST_INVALIDATE || op === OP_SEND_ONLY_INVALIDATE) this.sendPacket(d, b, payload, at);
    else if (op >= OP_WRITE_FIRST && op <= OP_WRITE_ONLY_IMM) this.writePacket(d, b, payload, at);
    // Atomics carry no payload the layers above read.
  }

  private learnMtu(c: RdmaConnection, full: number): void {
    if (full > c.pathMtu) c.pathMtu = full;
  }

  private sendPacket(d: QpDirection, b: BthPacket, payload: Buffer, at: FrameRef): void {
    const op = b.op;
    const only = op === OP_SEND_ONLY || op === OP_SEND_ONLY_IMM || op === OP_SEND_ONLY_INVALIDATE;
    const first = op === OP_SEND_FIRST;
    const last = op === OP_SEND_LAST || op === OP_SEND_LAST_IMM || op === OP_SEND_LAST_INVALIDATE;
    if (only) {
      // The common case: a whole message in one packet, handed up as a view.
      this.dropSend(d); // a SEND whose end the capture lost
      this.emitSend(d, payload, b.payloadLength, b.payloadLength - payload.length, at, at, b.hasIeth ? b.invalidateRkey : -1);
      return;
    }
    if (first) {
      this.learnMtu(d.conn, b.payloadLength);
      this.dropSend(d);
      this.buffered += payload.length;
      d.send = { firstPsn: b.psn, unit: b.payloadLength, parts: [Buffer.from(payload)], captured: payload.length, broken: payload.length < b.payloadLength, firstFrame: snapshotFrameRef(at) };
      return;
    }
    const s = d.send;
    if (s === undefined) {
      if (last) this.stats.sendsWithoutStart++;
      return;
    }
    const index = (b.psn - s.firstPsn) & PSN_MASK;
    const offset = index * s.unit;
    if (op === OP_SEND_MIDDLE) this.learnMtu(d.conn, b.payloadLength);
    if (!s.broken && offset === s.captured && s.captured + payload.length <= MAX_SEND_BYTES && this.buffered + payload.length <= this.limits.bufferedBytes) {
      s.parts.push(Buffer.from(payload));
      s.captured += payload.length;
      this.buffered += payload.length;
      if (payload.length < b.payloadLength) s.broken = true;
    } else {
      s.broken = true;
    }
    if (!last) return;
    this.dropSend(d);
    const length = offset + b.payloadLength;
    const bytes = s.parts.length === 1 ? s.parts[0]! : Buffer.concat(s.parts, s.captured);
    this.emitSend(d, bytes, length, length - s.captured, s.firstFrame, at, b.hasIeth ? b.invalidateRkey : -1);
  }

  /** Forgets the SEND being reassembled (completed, or its end never came). */
  private dropSend(d: QpDirection): void {
    if (d.send === undefined) return;
    this.buffered -= d.send.captured;
    d.send = undefined;
  }

  private emitSend(d: QpDirection, bytes: Buffer, length: number, missing: number, firstFrame: FrameRef, frame: FrameRef, invalidateRkey: number): void {
    this.count(d, 'sends', 1);
    this.count(d, 'sendBytes', length);
    this.consumer.send(d.conn, d.dir, { bytes, length, missing, firstFrame, frame, invalidateRkey });
  }

  private writePacket(d: QpDirection, b: BthPacket, payload: Buffer, at: FrameRef): void {
    const op = b.op;
    let offset = 0;
    if (b.hasReth) {
      // First or Only: the R_Key and address of the whole WRITE.
      if (op === OP_WRITE_FIRST) this.learnMtu(d.conn, b.payloadLength);
      d.write = { rkey: b.rkey, vaHi: b.vaHi, vaLo: b.vaLo, firstPsn: b.psn, unit: b.payloadLength };
    } else {
      const w = d.write;
      if (w === undefined) {
        this.count(d, 'writeBytes', b.payloadLength);
        return;
      }
      if (op === OP_WRITE_MIDDLE) this.learnMtu(d.conn, b.payloadLength);
      offset = ((b.psn - w.firstPsn) & PSN_MASK) * w.unit;
    }
    this.count(d, 'writeBytes', b.payloadLength);
    const w = d.write!;
    if (op === OP_WRITE_LAST || op === OP_WRITE_LAST_IMM || op === OP_WRITE_ONLY || op === OP_WRITE_ONLY_IMM) d.write = undefined;
    this.place(d, 'write', w.rkey, w.vaHi, w.vaLo, offset, payload, b.payloadLength, at);
  }

  private place(d: QpDirection, kind: Placement['kind'], rkey: number, vaHi: number, vaLo: number, offset: number, bytes: Buffer, length: number, at: FrameRef): void {
    const p = this.placement;
    p.kind = kind;
    p.rkey = rkey;
    p.vaHi = vaHi;
    p.vaLo = vaLo;
    p.offset = offset;
    p.bytes = bytes;
    p.length = length;
    p.at = at;
    this.consumer.placed(d.conn, d.dir, p);
  }

  /** READ Responses travel toward the requester of the READ, answering requests sent the other way. */
  private readResponse(d: QpDirection, buf: Buffer, at: FrameRef): void {
    const b = this.bth;
    const c = d.conn;
    const other = c.dirs[(d.dir ^ 1) as Direction];
    const reads = other?.reads;
    const op = b.op;
    const starts = op === OP_READ_RESPONSE_FIRST || op === OP_READ_RESPONSE_ONLY;
    let r = d.respondingTo;
    if (r === undefined || starts || !inRange(r, b.psn)) {
      r = undefined;
      if (reads !== undefined) {
        for (const x of reads) {
          if (x.psn === b.psn || (!starts && inRange(x, b.psn))) {
            r = x;
            break;
          }
        }
      }
    }
    if (r === undefined) {
      this.stats.orphanReadResponses++;
      this.count(d, 'readResponseBytes', b.payloadLength);
      return;
    }
    d.respondingTo = r;
    if (op === OP_READ_RESPONSE_FIRST) {
      r.unit = b.payloadLength;
      this.learnMtu(c, b.payloadLength);
    }
    if (((b.psn - r.nextPsn) & PSN_MASK) >= PSN_HALF) {
      // A response seen before: the responder sent it again.
      this.count(d, 'retransmittedPackets', 1);
      this.event('retransmission', at, c, d.dir, { count: 1, name: opcodeName(b.opcode) });
      return;
    }
    const skipped = (b.psn - r.nextPsn) & PSN_MASK;
    if (skipped > 0) this.gap(d, skipped, at);
    r.nextPsn = (b.psn + 1) & PSN_MASK;
    const unit = r.unit > 0 ? r.unit : c.pathMtu;
    const offset = ((b.psn - r.psn) & PSN_MASK) * unit;
    this.count(d, 'readResponseBytes', b.payloadLength);
    r.received += b.payloadLength;
    const payload = buf.subarray(b.payloadOffset, b.payloadOffset + b.payloadCaptured);
    this.place(d, 'read-response', r.rkey, r.vaHi, r.vaLo, offset, payload, b.payloadLength, at);
    if (op === OP_READ_RESPONSE_LAST || op === OP_READ_RESPONSE_ONLY) {
      d.respondingTo = undefined;
      // Requests before this one whose responses never came are given up.
      const i = reads!.indexOf(r);
      reads!.splice(0, i + 1);
      this.consumer.readDone(c, d.dir, { rkey: r.rkey, vaHi: r.vaHi, vaLo: r.vaLo, length: r.length, received: Math.min(r.received, r.length), at });
    }
  }

  private acknowledge(d: QpDirection, at: FrameRef): void {
    const b = this.bth;
    const c = d.conn;
    const kind = aethKind(b.syndrome);
    // The ACK answers the requester packets of the other direction.
    const other = c.dirs[(d.dir ^ 1) as Direction];
    if (kind === AETH_ACK) {
      this.count(d, 'acks', 1);
      // The receiver has everything up to this PSN: held packets beyond a gap it never NAKed were lost by the capture.
      if (other?.held !== undefined && other.expectedPsn >= 0 && ((b.psn - other.expectedPsn) & PSN_MASK) < PSN_HALF) {
        this.releaseHeld(other, at);
      }
    } else if (kind === AETH_NAK) {
      this.count(d, 'naks', 1);
      this.event('nak', at, c, d.dir, { code: b.syndrome & 0x1f, name: nakName(b.syndrome) });
    } else if (kind === AETH_RNR_NAK) {
      this.count(d, 'rnrNaks', 1);
      this.event('rnr-nak', at, c, d.dir, { name: 'RNR NAK' });
    }
  }
}

function inRange(r: ReadRequest, psn: number): boolean {
  const delta = (psn - r.psn) & PSN_MASK;
  return r.packets > 0 ? delta < r.packets : delta < PSN_HALF && ((psn - r.nextPsn) & PSN_MASK) < 2;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** Bytes of a RoCE packet's ICRC, for generators and tests. */
export const ROCE_ICRC_LEN = ICRC_LEN;
