/**
 * Generated RoCE captures for what the real ones lack: InfiniBand
 * transport packets (BTH and extension headers, IBTA Vol. 1 ch. 9), CM
 * MADs on QP1 (ch. 12, with the RDMA-CM's IP private data and RFC 8797's
 * private message) and RPC-over-RDMA version 1 headers (RFC 8166), in
 * RoCEv2 (Ethernet/IPv4/UDP 4791) or RoCEv1 (Ethernet 0x8915 + GRH).
 *
 * A RoceSession plays both peers of one reliable connection and records
 * every packet it sends, with its frame number, so tests know where each
 * message is complete by construction. Packets can be left out of the
 * capture (`drop`) to make gaps.
 */
import type { PcapPacket } from './capture-writer.js';
import { ethernet, ipv4, parseIpv6 } from './packets.js';
import { udpDatagram } from './tcp.js';

export const ROCE_PORT = 4791;
export const ETHERTYPE_ROCE_V1 = 0x8915;

// Opcodes (RC unless said).
export const SEND_FIRST = 0x00;
export const SEND_MIDDLE = 0x01;
export const SEND_LAST = 0x02;
export const SEND_ONLY = 0x04;
export const SEND_LAST_INV = 0x16;
export const SEND_ONLY_INV = 0x17;
export const WRITE_FIRST = 0x06;
export const WRITE_MIDDLE = 0x07;
export const WRITE_LAST = 0x08;
export const WRITE_ONLY = 0x0a;
export const READ_REQUEST = 0x0c;
export const READ_RESP_FIRST = 0x0d;
export const READ_RESP_MIDDLE = 0x0e;
export const READ_RESP_LAST = 0x0f;
export const READ_RESP_ONLY = 0x10;
export const ACKNOWLEDGE = 0x11;
export const UD_SEND_ONLY = 0x64;

export interface BthSpec {
  opcode: number;
  destQp: number;
  psn: number;
  ackRequest?: boolean;
  /** RETH: virtual address (bigint), R_Key, DMA length. */
  reth?: { va: bigint; rkey: number; length: number };
  /** AETH: syndrome byte, MSN. */
  aeth?: { syndrome: number; msn: number };
  /** IETH: R_Key invalidated. */
  ieth?: number;
  /** DETH: Q_Key, source QP. */
  deth?: { qkey: number; srcQp: number };
  payload?: Buffer;
}

/** BTH + extension headers + payload (padded to 4) + a zero ICRC. */
export function bthPacket(s: BthSpec): Buffer {
  const payload = s.payload ?? Buffer.alloc(0);
  const pad = (4 - (payload.length & 3)) & 3;
  const parts: Buffer[] = [];
  const bth = Buffer.alloc(12);
  bth[0] = s.opcode;
  bth[1] = pad << 4;
  bth.writeUInt16BE(0xffff, 2);
  bth.writeUInt32BE(s.destQp & 0xffffff, 4);
  bth.writeUInt32BE((((s.ackRequest ?? false) ? 0x80000000 : 0) | (s.psn & 0xffffff)) >>> 0, 8);
  parts.push(bth);
  if (s.deth) {
    const d = Buffer.alloc(8);
    d.writeUInt32BE(s.deth.qkey >>> 0, 0);
    d.writeUInt32BE(s.deth.srcQp & 0xffffff, 4);
    parts.push(d);
  }
  if (s.reth) {
    const r = Buffer.alloc(16);
    r.writeBigUInt64BE(s.reth.va, 0);
    r.writeUInt32BE(s.reth.rkey >>> 0, 8);
    r.writeUInt32BE(s.reth.length >>> 0, 12);
    parts.push(r);
  }
  if (s.aeth) {
    const a = Buffer.alloc(4);
    a.writeUInt32BE(((s.aeth.syndrome << 24) | (s.aeth.msn & 0xffffff)) >>> 0, 0);
    parts.push(a);
  }
  if (s.ieth !== undefined) {
    const i = Buffer.alloc(4);
    i.writeUInt32BE(s.ieth >>> 0, 0);
    parts.push(i);
  }
  parts.push(payload, Buffer.alloc(pad), Buffer.alloc(4));
  return Buffer.concat(parts);
}

// ---- RPC-over-RDMA (RFC 8166) ----------------------------------------------

export interface Segment {
  handle: number;
  length: number;
  offset: bigint;
}

export interface RdmaHeaderSpec {
  xid: number;
  credits?: number;
  /** 0 MSG, 1 NOMSG, 2 MSGP, 3 DONE, 4 ERROR. */
  proc: number;
  readList?: (Segment & { position: number })[];
  writeList?: Segment[][];
  replyChunk?: Segment[];
  align?: number;
  thresh?: number;
  /** RDMA_ERROR: code (1 ERR_VERS with low/high, 2 ERR_CHUNK). */
  error?: { code: number; low?: number; high?: number };
}

export function rpcRdmaHeader(h: RdmaHeaderSpec): Buffer {
  const words: number[] = [h.xid, 1, h.credits ?? 32, h.proc];
  const seg = (s: Segment): void => {
    words.push(s.handle, s.length, Number(s.offset >> 32n), Number(s.offset & 0xffffffffn));
  };
  if (h.proc === 2) words.push(h.align ?? 0, h.thresh ?? 0);
  if (h.proc === 0 || h.proc === 1 || h.proc === 2) {
    for (const r of h.readList ?? []) {
      words.push(1, r.position);
      seg(r);
    }
    words.push(0);
    for (const chunk of h.writeList ?? []) {
      words.push(1, chunk.length);
      chunk.forEach(seg);
    }
    words.push(0);
    if (h.replyChunk) {
      words.push(1, h.replyChunk.length);
      h.replyChunk.forEach(seg);
    } else words.push(0);
  }
  if (h.proc === 4 && h.error) {
    words.push(h.error.code);
    if (h.error.code === 1) words.push(h.error.low ?? 1, h.error.high ?? 1);
  }
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32BE(w >>> 0, i * 4));
  return b;
}

// ---- CM MADs -----------------------------------------------------------------

const CM_REQ = 0x0010;
const CM_REJ = 0x0012;
const CM_REP = 0x0013;
const CM_RTU = 0x0014;
const CM_DREQ = 0x0015;
const CM_DREP = 0x0016;

function mad(attributeId: number, tid: bigint, data: Buffer): Buffer {
  const m = Buffer.alloc(256);
  m[0] = 1; // base version
  m[1] = 0x07; // CM
  m[2] = 2; // class version
  m[3] = 0x03; // Send()
  m.writeBigUInt64BE(tid, 8);
  m.writeUInt16BE(attributeId, 16);
  data.copy(m, 24, 0, Math.min(data.length, 232));
  return m;
}

function ipv4Gid(addr: string): Buffer {
  return parseIpv6(`::ffff:${addr}`);
}

/** RFC 8797 private message: version 1, remote invalidation, inline sizes in KiB. */
export function rpcRdmaCmPrivate(remoteInvalidate: boolean, sendKiB = 4, recvKiB = 4): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(0xf6ab0e18, 0);
  b[4] = 1;
  b[5] = remoteInvalidate ? 1 : 0;
  b[6] = sendKiB - 1;
  b[7] = recvKiB - 1;
  return b;
}

export interface CmReqSpec {
  commId: number;
  port: number;
  qpn: number;
  /** The PSN the server starts its sends at. */
  startingPsn: number;
  /** Path MTU enum: 3 = 1024. */
  pathMtu: number;
  client: string;
  server: string;
  sourcePort: number;
}

function cmReq(s: CmReqSpec): Buffer {
  const d = Buffer.alloc(232);
  d.writeUInt32BE(s.commId >>> 0, 0);
  d.writeUInt32BE(0, 8);
  d.writeUInt32BE((0x01060000 | s.port) >>> 0, 12);
  d.writeUInt32BE(((s.qpn << 8) | 0x10) >>> 0, 32); // responder resources 16
  d.writeUInt32BE(0x10, 36); // initiator depth 16
  d.writeUInt32BE(((s.startingPsn << 8) | 0xa0) >>> 0, 44);
  d.writeUInt16BE(0xffff, 48);
  d[50] = s.pathMtu << 4;
  ipv4Gid(s.client).copy(d, 56);
  ipv4Gid(s.server).copy(d, 72);
  // IP CM private data (IBTA Annex A11), then RFC 8797's message.
  const p = d.subarray(140);
  p[0] = 0;
  p[1] = 0x40;
  p.writeUInt16BE(s.sourcePort, 2);
  ipv4Gid(s.client).copy(p, 4);
  ipv4Gid(s.server).copy(p, 20);
  rpcRdmaCmPrivate(true).copy(p, 36);
  return d;
}

// ---- sessions ------------------------------------------------------------------

export interface SessionOptions {
  client?: string;
  server?: string;
  clientQp?: number;
  serverQp?: number;
  clientPsn?: number;
  serverPsn?: number;
  /** Path MTU in bytes (256 … 4096). */
  mtu?: number;
  /** RoCEv1 (GRH over Ethernet) instead of RoCEv2. */
  v1?: boolean;
  /** Seconds between packets (default 100 µs). */
  step?: number;
  /** Capture snaplen: frames are cut to this length. */
  snaplen?: number;
  port?: number;
  sourcePort?: number;
}

export type Side = 'client' | 'server';

const MTU_ENUM: Record<number, number> = { 256: 1, 512: 2, 1024: 3, 2048: 4, 4096: 5 };

export class RoceSession {
  readonly packets: PcapPacket[] = [];
  readonly client: string;
  readonly server: string;
  readonly clientQp: number;
  readonly serverQp: number;
  readonly mtu: number;
  /** Next requester PSN of each side. */
  readonly psn: Record<Side, number>;
  private msn: Record<Side, number> = { client: 0, server: 0 };
  private time = 1_800_000_000;
  private readonly step: number;
  /** Frame numbers (1-based) left out of the capture. */
  readonly dropped = new Set<number>();
  private frame = 0;
  private commId = 0x1000;

  constructor(private readonly o: SessionOptions = {}) {
    this.client = o.client ?? '10.0.0.2';
    this.server = o.server ?? '10.0.0.1';
    this.clientQp = o.clientQp ?? 0x11;
    this.serverQp = o.serverQp ?? 0x12;
    this.mtu = o.mtu ?? 1024;
    this.psn = { client: o.clientPsn ?? 1000, server: o.serverPsn ?? 5000 };
    this.step = o.step ?? 0.0001;
  }

  private addrs(from: Side): [string, string] {
    return from === 'client' ? [this.client, this.server] : [this.server, this.client];
  }

  /** The queue pair the packets from `from` go to. */
  peerQp(from: Side): number {
    return from === 'client' ? this.serverQp : this.clientQp;
  }

  /** Frame number the next packet gets. */
  get nextFrame(): number {
    return this.frame + 1;
  }

  /** Appends a packet; returns its frame number (numbered as if every packet were captured). */
  emit(from: Side, bth: Buffer): number {
    this.frame++;
    this.time += this.step;
    const [src, dst] = this.addrs(from);
    let data: Buffer;
    if (this.o.v1) {
      const grh = Buffer.alloc(40);
      grh[0] = 0x60;
      grh.writeUInt16BE(bth.length, 4);
      grh[6] = 0x1b;
      grh[7] = 64;
      ipv4Gid(src).copy(grh, 8);
      ipv4Gid(dst).copy(grh, 24);
      data = ethernet({ ethertype: ETHERTYPE_ROCE_V1 }, Buffer.concat([grh, bth]));
    } else {
      data = ethernet({ ethertype: 0x0800 }, ipv4({ src, dst, protocol: 17 }, udpDatagram(49152, ROCE_PORT, bth)));
    }
    const sec = Math.floor(this.time);
    const nsec = Math.round((this.time - sec) * 1e9);
    const snap = this.o.snaplen;
    this.packets.push({ tsSec: sec, tsNsec: nsec, data: snap !== undefined && data.length > snap ? data.subarray(0, snap) : data, origLen: data.length });
    return this.frame;
  }

  /** The packets of the capture (without the dropped ones), renumbered as a reader numbers them. */
  capture(): PcapPacket[] {
    return this.packets.filter((_, i) => !this.dropped.has(i + 1));
  }

  /** The frame number a reader gives to generated packet `n` (after the dropped ones before it). */
  captured(n: number): number {
    let before = 0;
    for (const d of this.dropped) if (d < n) before++;
    return n - before;
  }

  // ---- CM ----

  /** ConnectRequest, ConnectReply, ReadyToUse. Returns the REQ's frame. */
  connect(): number {
    const commId = this.commId++;
    const tid = BigInt(commId);
    const req = this.emit('client', bthPacket({ opcode: UD_SEND_ONLY, destQp: 1, psn: 0, deth: { qkey: 0x80010000, srcQp: 1 }, payload: mad(CM_REQ, tid, cmReq({ commId, port: this.o.port ?? 20049, qpn: this.clientQp, startingPsn: this.psn.server, pathMtu: MTU_ENUM[this.mtu] ?? 3, client: this.client, server: this.server, sourcePort: this.o.sourcePort ?? 40000 })) }));
    const rep = Buffer.alloc(232);
    rep.writeUInt32BE(commId + 0x100, 0);
    rep.writeUInt32BE(commId, 4);
    rep.writeUInt32BE((this.serverQp << 8) >>> 0, 12);
    rep.writeUInt32BE((this.psn.client << 8) >>> 0, 20);
    rep[24] = 16;
    rep[25] = 16;
    rpcRdmaCmPrivate(false).copy(rep, 36);
    this.emit('server', bthPacket({ opcode: UD_SEND_ONLY, destQp: 1, psn: 0, deth: { qkey: 0x80010000, srcQp: 1 }, payload: mad(CM_REP, tid, rep) }));
    const rtu = Buffer.alloc(232);
    rtu.writeUInt32BE(commId, 0);
    rtu.writeUInt32BE(commId + 0x100, 4);
    this.emit('client', bthPacket({ opcode: UD_SEND_ONLY, destQp: 1, psn: 1, deth: { qkey: 0x80010000, srcQp: 1 }, payload: mad(CM_RTU, tid, rtu) }));
    return req;
  }

  /** A ConnectRequest answered by a ConnectReject with `reason`. Returns [REQ frame, REJ frame]. */
  rejectedConnect(reason: number): [number, number] {
    const commId = this.commId++;
    const tid = BigInt(commId);
    const req = this.emit('client', bthPacket({ opcode: UD_SEND_ONLY, destQp: 1, psn: 0, deth: { qkey: 0x80010000, srcQp: 1 }, payload: mad(CM_REQ, tid, cmReq({ commId, port: this.o.port ?? 20049, qpn: this.clientQp, startingPsn: this.psn.server, pathMtu: 3, client: this.client, server: this.server, sourcePort: this.o.sourcePort ?? 40000 })) }));
    const rej = Buffer.alloc(232);
    rej.writeUInt32BE(0, 0);
    rej.writeUInt32BE(commId, 4);
    rej[8] = 0; // REQ rejected
    rej.writeUInt16BE(reason, 10);
    const r = this.emit('server', bthPacket({ opcode: UD_SEND_ONLY, destQp: 1, psn: 0, deth: { qkey: 0x80010000, srcQp: 1 }, payload: mad(CM_REJ, tid, rej) }));
    return [req, r];
  }

  /** A ConnectRequest sent `times` times with the same comm id (the CM retrying), never answered. Returns the frames. */
  unansweredConnect(times: number): number[] {
    const commId = this.commId++;
    const tid = BigInt(commId);
    const frames: number[] = [];
    for (let i = 0; i < times; i++) {
      frames.push(this.emit('client', bthPacket({ opcode: UD_SEND_ONLY, destQp: 1, psn: i, deth: { qkey: 0x80010000, srcQp: 1 }, payload: mad(CM_REQ, tid, cmReq({ commId, port: this.o.port ?? 20049, qpn: this.clientQp, startingPsn: this.psn.server, pathMtu: 3, client: this.client, server: this.server, sourcePort: this.o.sourcePort ?? 40000 })) })));
    }
    return frames;
  }

  /** DisconnectRequest from `from`, DisconnectReply. Returns the DREQ's frame. */
  disconnect(from: Side = 'client'): number {
    const other: Side = from === 'client' ? 'server' : 'client';
    const local = from === 'client' ? 0x1000 : 0x1100;
    const d = Buffer.alloc(232);
    d.writeUInt32BE(local, 0);
    d.writeUInt32BE(local === 0x1000 ? 0x1100 : 0x1000, 4);
    const f = this.emit(from, bthPacket({ opcode: UD_SEND_ONLY, destQp: 1, psn: 2, deth: { qkey: 0x80010000, srcQp: 1 }, payload: mad(CM_DREQ, 9n, d) }));
    const r = Buffer.alloc(232);
    r.writeUInt32BE(local === 0x1000 ? 0x1100 : 0x1000, 0);
    r.writeUInt32BE(local, 4);
    this.emit(other, bthPacket({ opcode: UD_SEND_ONLY, destQp: 1, psn: 2, deth: { qkey: 0x80010000, srcQp: 1 }, payload: mad(CM_DREP, 9n, r) }));
    return f;
  }

  // ---- RC traffic ----

  /**
   * A SEND of `message` from `from`, split at the path MTU (First/Middle/Last,
   * or Only). Returns the frames of its packets.
   */
  send(from: Side, message: Buffer, opts: { invalidate?: number } = {}): number[] {
    const frames: number[] = [];
    const n = Math.max(1, Math.ceil(message.length / this.mtu));
    for (let i = 0; i < n; i++) {
      const part = message.subarray(i * this.mtu, (i + 1) * this.mtu);
      const last = i === n - 1;
      let opcode = n === 1 ? SEND_ONLY : i === 0 ? SEND_FIRST : last ? SEND_LAST : SEND_MIDDLE;
      if (last && opts.invalidate !== undefined) opcode = n === 1 ? SEND_ONLY_INV : SEND_LAST_INV;
      const spec: BthSpec = { opcode, destQp: this.peerQp(from), psn: this.psn[from], ackRequest: last, payload: part };
      if (last && opts.invalidate !== undefined) spec.ieth = opts.invalidate;
      frames.push(this.emit(from, bthPacket(spec)));
      this.psn[from] = (this.psn[from] + 1) & 0xffffff;
    }
    return frames;
  }

  /** An RDMA WRITE of `data` from `from` to (rkey, va). Returns the frames. */
  write(from: Side, rkey: number, va: bigint, data: Buffer): number[] {
    const frames: number[] = [];
    const n = Math.max(1, Math.ceil(data.length / this.mtu));
    for (let i = 0; i < n; i++) {
      const part = data.subarray(i * this.mtu, (i + 1) * this.mtu);
      const opcode = n === 1 ? WRITE_ONLY : i === 0 ? WRITE_FIRST : i === n - 1 ? WRITE_LAST : WRITE_MIDDLE;
      const spec: BthSpec = { opcode, destQp: this.peerQp(from), psn: this.psn[from], payload: part };
      if (i === 0) spec.reth = { va, rkey, length: data.length };
      frames.push(this.emit(from, bthPacket(spec)));
      this.psn[from] = (this.psn[from] + 1) & 0xffffff;
    }
    return frames;
  }

  /**
   * An RDMA READ: `from` requests (rkey, va, length) and the peer answers with
   * `data`. Returns [request frame, response frames].
   */
  read(from: Side, rkey: number, va: bigint, data: Buffer): [number, number[]] {
    const psn = this.psn[from];
    const req = this.emit(from, bthPacket({ opcode: READ_REQUEST, destQp: this.peerQp(from), psn, ackRequest: true, reth: { va, rkey, length: data.length } }));
    const n = Math.max(1, Math.ceil(data.length / this.mtu));
    this.psn[from] = (psn + n) & 0xffffff;
    const responder: Side = from === 'client' ? 'server' : 'client';
    const frames: number[] = [];
    for (let i = 0; i < n; i++) {
      const opcode = n === 1 ? READ_RESP_ONLY : i === 0 ? READ_RESP_FIRST : i === n - 1 ? READ_RESP_LAST : READ_RESP_MIDDLE;
      const spec: BthSpec = { opcode, destQp: this.peerQp(responder), psn: (psn + i) & 0xffffff, payload: data.subarray(i * this.mtu, (i + 1) * this.mtu) };
      if (opcode !== READ_RESP_MIDDLE) spec.aeth = { syndrome: 0x1f, msn: ++this.msn[responder] };
      frames.push(this.emit(responder, bthPacket(spec)));
    }
    return [req, frames];
  }

  /** An ACK from `from` of the peer's packets up to `psn` (default: all sent so far). */
  ack(from: Side, psn?: number): number {
    const peer: Side = from === 'client' ? 'server' : 'client';
    const p = psn ?? ((this.psn[peer] - 1) & 0xffffff);
    return this.emit(from, bthPacket({ opcode: ACKNOWLEDGE, destQp: this.peerQp(from), psn: p, aeth: { syndrome: 0x1f, msn: ++this.msn[from] } }));
  }

  /** A NAK from `from`: code 0 PSN sequence error (at `psn`, the PSN it expected), 2 remote access error… */
  nak(from: Side, psn: number, code = 0): number {
    return this.emit(from, bthPacket({ opcode: ACKNOWLEDGE, destQp: this.peerQp(from), psn, aeth: { syndrome: 0x60 | code, msn: this.msn[from] } }));
  }

  /** An RNR NAK from `from`. */
  rnrNak(from: Side, psn: number): number {
    return this.emit(from, bthPacket({ opcode: ACKNOWLEDGE, destQp: this.peerQp(from), psn, aeth: { syndrome: 0x20 | 0x0e, msn: this.msn[from] } }));
  }

  /** Sends again the packets with these generated frame numbers (a retransmission), as they were. */
  resend(frames: number[]): number[] {
    return frames.map((f) => {
      const p = this.packets[f - 1]!;
      this.frame++;
      this.time += this.step;
      const sec = Math.floor(this.time);
      this.packets.push({ tsSec: sec, tsNsec: Math.round((this.time - sec) * 1e9), data: p.data, origLen: p.origLen ?? p.data.length });
      return this.frame;
    });
  }
}
