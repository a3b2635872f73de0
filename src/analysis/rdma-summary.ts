/**
 * The report's `rdma` section: what the RoCE and RPC-over-RDMA layers saw
 * (queue-pair connections with their CM parameters and credits, rejected
 * connection attempts, chunk use per operation, bytes moved by RDMA READ
 * and WRITE, PSN gaps, retransmissions and NAKs).
 */
import type { FrameRef } from '../capture/frame.js';
import type { RdmaOperationUse, RpcRdmaLayer } from '../rpc/rdma-stream.js';
import { opcodeName } from '../transport/ib-bth.js';
import { endpointText, type QpDirectionStats, type RdmaEvent, type RoceLayer } from '../transport/roce.js';
import type { RpcRdmaCmPrivate } from '../../decoders/rpcrdma.js';

/** Rejected connection attempts listed at most. */
const MAX_REJECTED = 100;

export interface RdmaFrameRef {
  file: string;
  frame: number;
  time: string;
}

export interface RdmaRejectReport extends RdmaFrameRef {
  client: string;
  server: string;
  /** The port the client asked for (20049 for NFS/RDMA), -1 when the ConnectRequest was not captured. */
  port: number;
  reason: number;
  reasonName: string;
  /** The ConnectRequest's frame, or null. */
  requestFrame: number | null;
}

export interface RdmaConnectionReport {
  id: number;
  client: string;
  server: string;
  /** Queue pair numbers (hex), null when never seen. */
  clientQp: string | null;
  serverQp: string | null;
  /** True when the capture holds the CM exchange (ConnectRequest/Reply). */
  cmSeen: boolean;
  first: RdmaFrameRef;
  /** The CM DisconnectRequest, when captured. */
  disconnect: RdmaFrameRef | null;
  pathMtu: number;
  /** RFC 8797 private data of each side, when sent. */
  clientPrivate: RpcRdmaCmPrivate | null;
  serverPrivate: RpcRdmaCmPrivate | null;
  /** RDMA READs each side accepts outstanding (CM responder resources), -1 when unknown. */
  clientReadCredits: number;
  serverReadCredits: number;
  calls: number;
  replies: number;
  creditsRequested: number;
  creditsGranted: number;
  creditsGrantedMin: number;
  creditsGrantedMax: number;
  maxOutstanding: number;
  creditsExhausted: number;
  sends: number;
  rdmaWriteBytes: number;
  rdmaReadBytes: number;
  psnGaps: number;
  gapPackets: number;
  retransmittedPackets: number;
  naks: number;
  rnrNaks: number;
}

export interface RdmaSection {
  /** RoCE packets decoded (RoCEv2 and RoCEv1), their transport bytes, and RoCEv1 packets among them. */
  packets: number;
  bytes: number;
  roceV1Packets: number;
  malformed: number;
  congestionNotifications: number;
  otherPackets: number;
  /** Packets per opcode name. */
  opcodes: Record<string, number>;
  cm: { requests: number; replies: number; rejects: number; readyToUse: number; disconnectRequests: number; disconnectReplies: number };
  rejected: RdmaRejectReport[];
  /** The queue-pair connections (the last 10,000 to appear). */
  connections: RdmaConnectionReport[];
  /** Connections left out of `connections`, and connections ended early because 65,536 were open at once. */
  connectionsNotListed: number;
  connectionsEvicted: number;
  /** RPC-over-RDMA headers by type and what they carried. */
  messages: {
    RDMA_MSG: number;
    RDMA_NOMSG: number;
    RDMA_MSGP: number;
    RDMA_DONE: number;
    RDMA_ERROR: number;
    notRpcRdma: number;
    truncatedHeaders: number;
    withReadList: number;
    withWriteList: number;
    withReplyChunk: number;
    repliesNotReconstructed: number;
    callsIncomplete: number;
  };
  /** Bytes moved: by RDMA WRITE and READ (all), and per kind of chunk. */
  bytesMoved: { rdmaWrite: number; rdmaRead: number; readChunks: number; writeChunks: number; replyChunks: number; unknownChunks: number };
  /** Chunk use per operation, sorted by program, version, procedure. */
  operations: RdmaOperationUse[];
  psnGaps: number;
  gapPackets: number;
  retransmittedPackets: number;
  /** NAKs by error name. */
  naks: Record<string, number>;
  rnrNaks: number;
  rpcRdmaErrors: number;
}

/** Collects the rejects as they happen; builds the section at the end. */
export class RdmaSummary {
  private readonly rejected: { e: RdmaEvent }[] = [];
  private readonly naks = new Map<string, number>();
  private rpcRdmaErrors = 0;

  event(e: RdmaEvent): void {
    if (e.kind === 'cm-reject' && this.rejected.length < MAX_REJECTED) this.rejected.push({ e });
    else if (e.kind === 'nak') this.naks.set(e.name, (this.naks.get(e.name) ?? 0) + 1);
    else if (e.kind === 'rpcrdma-error') this.rpcRdmaErrors++;
  }

  build(roce: RoceLayer, rpc: RpcRdmaLayer, where: (f: FrameRef) => RdmaFrameRef): RdmaSection {
    const rs = roce.stats;
    const ps = rpc.stats;
    const opcodes: Record<string, number> = {};
    for (const [op, n] of [...rs.opcodes.entries()].sort((a, b) => a[0] - b[0])) opcodes[opcodeName(op)] = n;
    const connections: RdmaConnectionReport[] = [];
    for (const c of roce.connections.values()) {
      const d = c.dirs.map((x) => x?.stats);
      const sum = (k: keyof QpDirectionStats): number => (d[0]?.[k] ?? 0) + (d[1]?.[k] ?? 0);
      const f = rpc.connectionFacts.get(c.id);
      const qp = (x: number | undefined): string | null => (x !== undefined && x >= 0 ? `0x${x.toString(16)}` : null);
      connections.push({
        id: c.id,
        client: endpointText(c.a),
        server: endpointText(c.b),
        // Packets toward the server (direction 0) name the server's QP.
        clientQp: qp(c.dirs[1]?.destQp),
        serverQp: qp(c.dirs[0]?.destQp),
        cmSeen: c.cm !== undefined,
        first: where(c.firstFrame),
        disconnect: c.cm?.disconnectFrame !== undefined ? where(c.cm.disconnectFrame) : null,
        pathMtu: c.pathMtu,
        clientPrivate: c.cm?.clientPrivate ?? null,
        serverPrivate: c.cm?.serverPrivate ?? null,
        clientReadCredits: c.cm?.clientResponderResources ?? -1,
        serverReadCredits: c.cm?.serverResponderResources ?? -1,
        calls: f?.calls ?? 0,
        replies: f?.replies ?? 0,
        creditsRequested: f?.creditsRequested ?? -1,
        creditsGranted: f?.creditsGranted ?? -1,
        creditsGrantedMin: f?.creditsGrantedMin ?? -1,
        creditsGrantedMax: f?.creditsGrantedMax ?? -1,
        maxOutstanding: f?.maxOutstanding ?? 0,
        creditsExhausted: f?.creditsExhausted ?? 0,
        sends: sum('sends'),
        rdmaWriteBytes: sum('writeBytes'),
        rdmaReadBytes: sum('readResponseBytes'),
        psnGaps: sum('gaps'),
        gapPackets: sum('gapPackets'),
        retransmittedPackets: sum('retransmittedPackets'),
        naks: sum('naks'),
        rnrNaks: sum('rnrNaks'),
      });
    }
    const operations = [...rpc.operations.values()].sort(
      (a, b) => a.program - b.program || a.version - b.version || a.procedure - b.procedure,
    );
    const t = roce.totals;
    const naks: Record<string, number> = {};
    for (const [k, v] of [...this.naks.entries()].sort()) naks[k] = v;
    return {
      packets: rs.packets,
      bytes: rs.bytes,
      roceV1Packets: rs.roceV1Packets,
      malformed: rs.malformed,
      congestionNotifications: rs.cnp,
      otherPackets: rs.otherPackets,
      opcodes,
      cm: {
        requests: rs.cm.requests,
        replies: rs.cm.replies,
        rejects: rs.cm.rejects,
        readyToUse: rs.cm.readyToUse,
        disconnectRequests: rs.cm.disconnectRequests,
        disconnectReplies: rs.cm.disconnectReplies,
      },
      rejected: this.rejected.map(({ e }) => ({
        ...where(e.at),
        client: e.client,
        server: e.server,
        port: e.port,
        reason: e.code,
        reasonName: e.name,
        requestFrame: e.requestAt?.number ?? null,
      })),
      connections,
      connectionsNotListed: rs.connectionsNotListed,
      connectionsEvicted: rs.connectionsEvicted,
      messages: {
        RDMA_MSG: ps.msg,
        RDMA_NOMSG: ps.nomsg,
        RDMA_MSGP: ps.msgp,
        RDMA_DONE: ps.done,
        RDMA_ERROR: ps.error,
        notRpcRdma: ps.notRpcRdma,
        truncatedHeaders: ps.truncatedHeaders,
        withReadList: ps.withReadList,
        withWriteList: ps.withWriteList,
        withReplyChunk: ps.withReplyChunk,
        repliesNotReconstructed: ps.repliesNotReconstructed,
        callsIncomplete: ps.callsIncomplete,
      },
      bytesMoved: {
        rdmaWrite: t.writeBytes,
        rdmaRead: t.readResponseBytes,
        readChunks: ps.readChunkBytes,
        writeChunks: ps.writeChunkBytes,
        replyChunks: ps.replyChunkBytes,
        unknownChunks: ps.unknownChunkBytes,
      },
      operations,
      psnGaps: t.gaps,
      gapPackets: t.gapPackets,
      retransmittedPackets: t.retransmittedPackets,
      naks,
      rnrNaks: t.rnrNaks,
      rpcRdmaErrors: this.rpcRdmaErrors,
    };
  }
}

/** Connections listed in a merged report at most (as one analysis lists them). */
const MAX_LISTED_CONNECTIONS = 10_000;

function addCounts<T extends object>(a: T, b: T): T {
  const out = { ...a } as Record<string, unknown>;
  for (const [k, v] of Object.entries(b as Record<string, unknown>)) {
    if (typeof v === 'number') out[k] = (typeof out[k] === 'number' ? (out[k] as number) : 0) + v;
  }
  return out as T;
}

function addKeyed(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const m = new Map(Object.entries(a));
  for (const [k, v] of Object.entries(b)) m.set(k, (m.get(k) ?? 0) + v);
  return Object.fromEntries([...m.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)));
}

/**
 * The rdma sections of two reports as one (`nfsight merge`): counts add,
 * operations combine per program/version/procedure, listed connections and
 * rejects are concatenated up to their caps (what is left out is counted).
 */
export function mergeRdmaSections(a: RdmaSection, b: RdmaSection): RdmaSection {
  const ops = new Map<string, RdmaOperationUse>();
  for (const o of [...a.operations, ...b.operations]) {
    const key = `${o.program}/${o.version}/${o.procedure}`;
    const had = ops.get(key);
    ops.set(key, had === undefined ? { ...o } : addCounts(had, o));
  }
  const connections = [...a.connections, ...b.connections];
  const listed = connections.slice(0, MAX_LISTED_CONNECTIONS);
  return {
    ...addCounts(a, b),
    opcodes: addKeyed(a.opcodes, b.opcodes),
    cm: addCounts(a.cm, b.cm),
    rejected: [...a.rejected, ...b.rejected].slice(0, MAX_REJECTED),
    connections: listed,
    connectionsNotListed: a.connectionsNotListed + b.connectionsNotListed + (connections.length - listed.length),
    messages: addCounts(a.messages, b.messages),
    bytesMoved: addCounts(a.bytesMoved, b.bytesMoved),
    operations: [...ops.values()].sort((x, y) => x.program - y.program || x.version - y.version || x.procedure - y.procedure),
    naks: addKeyed(a.naks, b.naks),
  };
}

/** An rdma section with nothing in it (a report made before NFS over RDMA was decoded). */
export function emptyRdmaSection(): RdmaSection {
  return {
    packets: 0, bytes: 0, roceV1Packets: 0, malformed: 0, congestionNotifications: 0, otherPackets: 0, opcodes: {},
    cm: { requests: 0, replies: 0, rejects: 0, readyToUse: 0, disconnectRequests: 0, disconnectReplies: 0 },
    rejected: [], connections: [], connectionsNotListed: 0, connectionsEvicted: 0,
    messages: { RDMA_MSG: 0, RDMA_NOMSG: 0, RDMA_MSGP: 0, RDMA_DONE: 0, RDMA_ERROR: 0, notRpcRdma: 0, truncatedHeaders: 0, withReadList: 0, withWriteList: 0, withReplyChunk: 0, repliesNotReconstructed: 0, callsIncomplete: 0 },
    bytesMoved: { rdmaWrite: 0, rdmaRead: 0, readChunks: 0, writeChunks: 0, replyChunks: 0, unknownChunks: 0 },
    operations: [], psnGaps: 0, gapPackets: 0, retransmittedPackets: 0, naks: {}, rnrNaks: 0, rpcRdmaErrors: 0,
  };
}
