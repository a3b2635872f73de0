/**
 * RPC-over-RDMA version 1 (RFC 8166): the transport header at the start of
 * every RDMA SEND, and the RDMA-CM private data peers exchange when they
 * connect (RFC 8797).
 *
 *   rdma_msg   = rdma_xid, rdma_vers (1), rdma_credit, rdma_body
 *   rdma_body  = rdma_proc, then per proc:
 *     RDMA_MSG (0)   read list, write list, reply chunk; the RPC message follows inline
 *     RDMA_NOMSG (1) read list, write list, reply chunk; the RPC message is in a chunk
 *     RDMA_MSGP (2)  rdma_align, rdma_thresh, the three lists; the RPC message follows
 *                    (RFC 5666 padded messages, deprecated by RFC 8166)
 *     RDMA_DONE (3)  void
 *     RDMA_ERROR (4) rdma_err: ERR_VERS (1) with vers_low, vers_high; ERR_CHUNK (2)
 *   read list   = optional-data list of read segments: position, handle, length, offset (64 bits)
 *   write list  = optional-data list of write chunks; a write chunk is a counted
 *                 array of segments: handle, length, offset
 *   reply chunk = an optional write chunk
 *
 * Read segments with the same XDR position form one read chunk (RFC 8166
 * §3.4.5); position 0 carries the whole RPC message (a Position-Zero Read
 * Chunk, with RDMA_NOMSG).
 *
 * Pure: no I/O, never throws. Offsets (64-bit virtual addresses) are kept as
 * two 32-bit halves, as JavaScript numbers cannot hold 64 bits exactly.
 */

export const RPCRDMA_VERSION = 1;

// rdma_proc
export const RDMA_MSG = 0;
export const RDMA_NOMSG = 1;
export const RDMA_MSGP = 2;
export const RDMA_DONE = 3;
export const RDMA_ERROR = 4;

// rpc_rdma_errcode
export const ERR_VERS = 1;
export const ERR_CHUNK = 2;

const PROC_NAMES = ['RDMA_MSG', 'RDMA_NOMSG', 'RDMA_MSGP', 'RDMA_DONE', 'RDMA_ERROR'];

export function rdmaProcName(proc: number): string {
  return PROC_NAMES[proc] ?? `rdma_proc(${proc})`;
}

export function rdmaErrorName(code: number): string {
  return code === ERR_VERS ? 'ERR_VERS' : code === ERR_CHUNK ? 'ERR_CHUNK' : `rdma_errcode(${code})`;
}

/** An RDMA segment: a registered memory region of the peer (RFC 8166 §3.4.3). */
export interface RdmaSegment {
  /** The handle (rkey / steering tag) the peer registered the memory with. */
  handle: number;
  length: number;
  /** The 64-bit offset (virtual address), high and low 32 bits. */
  offsetHi: number;
  offsetLo: number;
}

export interface ReadSegment extends RdmaSegment {
  /** Offset in the XDR stream of the RPC message where the chunk's data belongs. */
  position: number;
}

export interface RpcRdmaHeader {
  xid: number;
  version: number;
  /** Credits requested (in a call) or granted (in a reply). */
  credits: number;
  proc: number;
  readList: ReadSegment[];
  /** Write chunks, each a list of segments. */
  writeList: RdmaSegment[][];
  /** The reply chunk's segments; null when absent. */
  replyChunk: RdmaSegment[] | null;
  /** RDMA_MSGP only. */
  align?: number;
  thresh?: number;
  /** RDMA_ERROR only. */
  error?: { code: number; versLow?: number; versHigh?: number };
  /**
   * Offset where the inline RPC message starts (RDMA_MSG, RDMA_MSGP); for
   * the other procs the end of the header. -1 when the header is not whole.
   */
  bodyOffset: number;
  /**
   * 'ok'; 'truncated' when the captured bytes end inside the header;
   * 'malformed' when the header cannot be RPC-over-RDMA version 1 (another
   * version, an unknown proc, a list running past the end of the message).
   */
  status: 'ok' | 'truncated' | 'malformed';
  /** Why not ok, in a few words. */
  reason?: string;
}

/** Read segments, write chunks and segments per chunk, at most (no real header comes near). */
const MAX_LIST_ENTRIES = 4096;

/** Fixed part: xid, vers, credit, proc. */
export const RPCRDMA_FIXED_HEADER = 16;

class Cursor {
  pos: number;
  /** 'truncated' or 'malformed' once a read failed. */
  fail: 'truncated' | 'malformed' | undefined;
  reason: string | undefined;

  constructor(
    private readonly buf: Buffer,
    private readonly wireLength: number,
    start: number,
  ) {
    this.pos = start;
  }

  u32(): number {
    if (this.fail !== undefined) return 0;
    if (this.pos + 4 > this.buf.length) {
      // Beyond the captured bytes: cut by the capture, unless beyond the message itself.
      this.stop(this.pos + 4 > this.wireLength ? 'malformed' : 'truncated', 'header runs past the end');
      return 0;
    }
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  stop(kind: 'truncated' | 'malformed', reason: string): void {
    if (this.fail !== undefined) return;
    this.fail = kind;
    this.reason = reason;
  }
}

function segment(c: Cursor): RdmaSegment {
  const handle = c.u32();
  const length = c.u32();
  const offsetHi = c.u32();
  const offsetLo = c.u32();
  return { handle, length, offsetHi, offsetLo };
}

/** A counted array of segments (a write chunk or the reply chunk). */
function writeChunk(c: Cursor): RdmaSegment[] {
  const count = c.u32();
  const out: RdmaSegment[] = [];
  if (count > MAX_LIST_ENTRIES) {
    c.stop('malformed', `write chunk of ${count} segments`);
    return out;
  }
  for (let i = 0; i < count && c.fail === undefined; i++) out.push(segment(c));
  return out;
}

/** A list discriminator: 1 (an entry follows) or 0 (end); anything else is not XDR. */
function more(c: Cursor): boolean {
  const v = c.u32();
  if (v > 1) c.stop('malformed', `list discriminator ${v}`);
  return v === 1 && c.fail === undefined;
}

function chunkLists(c: Cursor, h: RpcRdmaHeader): void {
  while (more(c)) {
    if (h.readList.length >= MAX_LIST_ENTRIES) return c.stop('malformed', 'read list too long');
    const position = c.u32();
    const s = segment(c);
    if (c.fail === undefined) h.readList.push({ position, ...s });
  }
  while (more(c)) {
    if (h.writeList.length >= MAX_LIST_ENTRIES) return c.stop('malformed', 'write list too long');
    const chunk = writeChunk(c);
    if (c.fail === undefined) h.writeList.push(chunk);
  }
  if (more(c)) {
    const chunk = writeChunk(c);
    if (c.fail === undefined) h.replyChunk = chunk;
  }
}

/**
 * Decodes the transport header at the start of `buf` (the captured bytes of
 * a SEND message whose length on the wire is `wireLength`).
 */
export function decodeRpcRdmaHeader(buf: Buffer, wireLength: number = buf.length): RpcRdmaHeader {
  const c = new Cursor(buf, Math.max(wireLength, buf.length), 0);
  const h: RpcRdmaHeader = {
    xid: c.u32(),
    version: c.u32(),
    credits: c.u32(),
    proc: c.u32(),
    readList: [],
    writeList: [],
    replyChunk: null,
    bodyOffset: -1,
    status: 'ok',
  };
  if (c.fail === undefined) {
    if (h.version !== RPCRDMA_VERSION) c.stop('malformed', `RPC-over-RDMA version ${h.version}`);
    else {
      switch (h.proc) {
        case RDMA_MSGP:
          h.align = c.u32();
          h.thresh = c.u32();
          chunkLists(c, h);
          break;
        case RDMA_MSG:
        case RDMA_NOMSG:
          chunkLists(c, h);
          break;
        case RDMA_DONE:
          break;
        case RDMA_ERROR: {
          const code = c.u32();
          h.error = { code };
          if (code === ERR_VERS) {
            h.error.versLow = c.u32();
            h.error.versHigh = c.u32();
          } else if (code !== ERR_CHUNK && c.fail === undefined) c.stop('malformed', `RDMA_ERROR code ${code}`);
          break;
        }
        default:
          c.stop('malformed', `unknown rdma_proc ${h.proc}`);
      }
    }
  }
  if (c.fail !== undefined) {
    h.status = c.fail;
    h.reason = c.reason;
  } else h.bodyOffset = c.pos;
  return h;
}

/** Sum of the segments' lengths. */
export function chunkLength(segments: readonly RdmaSegment[]): number {
  let n = 0;
  for (const s of segments) n += s.length;
  return n;
}

/**
 * The read list as chunks: segments grouped by XDR position (consecutive
 * segments with the same position form one chunk), in list order.
 */
export function readChunks(list: readonly ReadSegment[]): { position: number; segments: ReadSegment[] }[] {
  const out: { position: number; segments: ReadSegment[] }[] = [];
  for (const s of list) {
    const last = out[out.length - 1];
    if (last !== undefined && last.position === s.position) last.segments.push(s);
    else out.push({ position: s.position, segments: [s] });
  }
  return out;
}

// ---- RDMA-CM private data (RFC 8797) ---------------------------------------

/** RFC 8797 §4: the format identifier of the RPC-over-RDMA version 1 CM private message. */
export const RPCRDMA_CM_PRIVATE_FORMAT = 0xf6ab0e18;

export interface RpcRdmaCmPrivate {
  version: number;
  /** The sender can accept Remote Invalidation (RFC 8797 §4.1.1). */
  remoteInvalidate: boolean;
  /** Largest RPC-over-RDMA message the sender will send / can receive inline, in bytes. */
  inlineSend: number;
  inlineRecv: number;
}

/**
 * Decodes RFC 8797's private message from the consumer part of the CM
 * private data; undefined when it is absent (another format identifier, or
 * too short).
 */
export function decodeRpcRdmaCmPrivate(data: Buffer): RpcRdmaCmPrivate | undefined {
  if (data.length < 8 || data.readUInt32BE(0) !== RPCRDMA_CM_PRIVATE_FORMAT) return undefined;
  // Sizes are in units of 1024 bytes, minus one (RFC 8797 §4.1.2).
  return {
    version: data[4]!,
    remoteInvalidate: (data[5]! & 1) === 1,
    inlineSend: (data[6]! + 1) * 1024,
    inlineRecv: (data[7]! + 1) * 1024,
  };
}
