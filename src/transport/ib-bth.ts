/**
 * The InfiniBand transport headers (IBTA Vol. 1, chapter 9) as RoCE carries
 * them: the Base Transport Header and the extension headers each opcode
 * brings.
 *
 *   BTH (12)   opcode, SE|M|pad count|tver, P_Key, reserved, dest QP (24 bits),
 *              A (ack request)|reserved, PSN (24 bits)
 *   RDETH (4)  RD only          DETH (8)   Q_Key, reserved, source QP (UD, RD)
 *   XRCETH (4) XRC only         RETH (16)  virtual address (64), R_Key, DMA length
 *   AtomicETH (28)              AETH (4)   syndrome, MSN (24 bits)
 *   AtomicAckETH (8)            ImmDt (4)  immediate data
 *   IETH (4)   R_Key to invalidate
 *
 * then the payload (with `pad count` bytes of padding to a multiple of 4)
 * and the 4-byte invariant CRC (not checked).
 *
 * Hot path: `decodeBth` fills a caller-owned BthPacket (no allocation).
 */

// Transport service in the opcode's top 3 bits.
export const IB_RC = 0;
export const IB_UC = 1;
export const IB_RD = 2;
export const IB_UD = 3;
export const IB_CNP = 4;
export const IB_XRC = 5;

// Operations (the opcode's low 5 bits) of RC, UC and XRC.
export const OP_SEND_FIRST = 0x00;
export const OP_SEND_MIDDLE = 0x01;
export const OP_SEND_LAST = 0x02;
export const OP_SEND_LAST_IMM = 0x03;
export const OP_SEND_ONLY = 0x04;
export const OP_SEND_ONLY_IMM = 0x05;
export const OP_WRITE_FIRST = 0x06;
export const OP_WRITE_MIDDLE = 0x07;
export const OP_WRITE_LAST = 0x08;
export const OP_WRITE_LAST_IMM = 0x09;
export const OP_WRITE_ONLY = 0x0a;
export const OP_WRITE_ONLY_IMM = 0x0b;
export const OP_READ_REQUEST = 0x0c;
export const OP_READ_RESPONSE_FIRST = 0x0d;
export const OP_READ_RESPONSE_MIDDLE = 0x0e;
export const OP_READ_RESPONSE_LAST = 0x0f;
export const OP_READ_RESPONSE_ONLY = 0x10;
export const OP_ACKNOWLEDGE = 0x11;
export const OP_ATOMIC_ACKNOWLEDGE = 0x12;
export const OP_CMP_SWAP = 0x13;
export const OP_FETCH_ADD = 0x14;
export const OP_SEND_LAST_INVALIDATE = 0x16;
export const OP_SEND_ONLY_INVALIDATE = 0x17;

/** UD SEND Only (with immediate: 0x65): the management datagrams on QP1. */
export const OPCODE_UD_SEND_ONLY = 0x64;
export const OPCODE_UD_SEND_ONLY_IMM = 0x65;
/** RoCEv2 congestion notification packet. */
export const OPCODE_CNP = 0x81;

export const BTH_LEN = 12;
export const ICRC_LEN = 4;

// Extension headers, as flags per operation.
const RETH = 1;
const AETH = 2;
const IETH = 4;
const IMM = 8;
const ATOMIC = 16;
const ATOMIC_ACK = 32;
/** Operation defined for RC / UC. */
const RC_OK = 64;
const UC_OK = 128;

/** Extension headers per RC/UC/XRC operation (index: low 5 bits); 0 = undefined operation. */
const OP_HEADERS: readonly number[] = (() => {
  const t = new Array<number>(32).fill(0);
  const both = RC_OK | UC_OK;
  t[OP_SEND_FIRST] = both;
  t[OP_SEND_MIDDLE] = both;
  t[OP_SEND_LAST] = both;
  t[OP_SEND_LAST_IMM] = both | IMM;
  t[OP_SEND_ONLY] = both;
  t[OP_SEND_ONLY_IMM] = both | IMM;
  t[OP_WRITE_FIRST] = both | RETH;
  t[OP_WRITE_MIDDLE] = both;
  t[OP_WRITE_LAST] = both;
  t[OP_WRITE_LAST_IMM] = both | IMM;
  t[OP_WRITE_ONLY] = both | RETH;
  t[OP_WRITE_ONLY_IMM] = both | RETH | IMM;
  t[OP_READ_REQUEST] = RC_OK | RETH;
  t[OP_READ_RESPONSE_FIRST] = RC_OK | AETH;
  t[OP_READ_RESPONSE_MIDDLE] = RC_OK;
  t[OP_READ_RESPONSE_LAST] = RC_OK | AETH;
  t[OP_READ_RESPONSE_ONLY] = RC_OK | AETH;
  t[OP_ACKNOWLEDGE] = RC_OK | AETH;
  t[OP_ATOMIC_ACKNOWLEDGE] = RC_OK | AETH | ATOMIC_ACK;
  t[OP_CMP_SWAP] = RC_OK | ATOMIC;
  t[OP_FETCH_ADD] = RC_OK | ATOMIC;
  t[OP_SEND_LAST_INVALIDATE] = RC_OK | IETH;
  t[OP_SEND_ONLY_INVALIDATE] = RC_OK | IETH;
  return t;
})();

const OP_NAMES: Readonly<Record<number, string>> = {
  [OP_SEND_FIRST]: 'SEND First',
  [OP_SEND_MIDDLE]: 'SEND Middle',
  [OP_SEND_LAST]: 'SEND Last',
  [OP_SEND_LAST_IMM]: 'SEND Last with Immediate',
  [OP_SEND_ONLY]: 'SEND Only',
  [OP_SEND_ONLY_IMM]: 'SEND Only with Immediate',
  [OP_WRITE_FIRST]: 'RDMA WRITE First',
  [OP_WRITE_MIDDLE]: 'RDMA WRITE Middle',
  [OP_WRITE_LAST]: 'RDMA WRITE Last',
  [OP_WRITE_LAST_IMM]: 'RDMA WRITE Last with Immediate',
  [OP_WRITE_ONLY]: 'RDMA WRITE Only',
  [OP_WRITE_ONLY_IMM]: 'RDMA WRITE Only with Immediate',
  [OP_READ_REQUEST]: 'RDMA READ Request',
  [OP_READ_RESPONSE_FIRST]: 'RDMA READ Response First',
  [OP_READ_RESPONSE_MIDDLE]: 'RDMA READ Response Middle',
  [OP_READ_RESPONSE_LAST]: 'RDMA READ Response Last',
  [OP_READ_RESPONSE_ONLY]: 'RDMA READ Response Only',
  [OP_ACKNOWLEDGE]: 'Acknowledge',
  [OP_ATOMIC_ACKNOWLEDGE]: 'Atomic Acknowledge',
  [OP_CMP_SWAP]: 'CmpSwap',
  [OP_FETCH_ADD]: 'FetchAdd',
  [OP_SEND_LAST_INVALIDATE]: 'SEND Last with Invalidate',
  [OP_SEND_ONLY_INVALIDATE]: 'SEND Only with Invalidate',
};

const SERVICE_NAMES = ['RC', 'UC', 'RD', 'UD', 'CNP', 'XRC', 'service(6)', 'service(7)'];

/** "RC SEND Only", "UD SEND Only", "CNP", … */
export function opcodeName(opcode: number): string {
  if (opcode === OPCODE_CNP) return 'CNP';
  const service = SERVICE_NAMES[opcode >> 5]!;
  if (opcode === OPCODE_UD_SEND_ONLY) return 'UD SEND Only';
  if (opcode === OPCODE_UD_SEND_ONLY_IMM) return 'UD SEND Only with Immediate';
  return `${service} ${OP_NAMES[opcode & 0x1f] ?? `opcode 0x${opcode.toString(16).padStart(2, '0')}`}`;
}

/** One decoded packet: a reusable view, valid until the next decode. */
export interface BthPacket {
  opcode: number;
  /** opcode >> 5: IB_RC, IB_UC, IB_UD, … */
  service: number;
  /** opcode & 0x1f (RC/UC/XRC operations). */
  op: number;
  solicited: boolean;
  padCount: number;
  pkey: number;
  destQp: number;
  ackRequest: boolean;
  psn: number;
  hasReth: boolean;
  /** RETH: the virtual address (high, low 32 bits), R_Key and DMA length. */
  vaHi: number;
  vaLo: number;
  rkey: number;
  dmaLength: number;
  hasAeth: boolean;
  /** AETH syndrome byte (see aethKind) and message sequence number. */
  syndrome: number;
  msn: number;
  hasImmediate: boolean;
  immediate: number;
  hasIeth: boolean;
  /** IETH: the R_Key the SEND invalidates. */
  invalidateRkey: number;
  hasDeth: boolean;
  qkey: number;
  srcQp: number;
  /** Offset of the payload in the buffer decoded. */
  payloadOffset: number;
  /** Payload bytes on the wire (padding and ICRC excluded). */
  payloadLength: number;
  /** Of those, how many the capture holds (fewer when the snaplen cut the packet). */
  payloadCaptured: number;
  /** Why the packet could not be decoded (decodeBth returned false). */
  reason: string;
}

export function newBthPacket(): BthPacket {
  return {
    opcode: 0, service: 0, op: 0, solicited: false, padCount: 0, pkey: 0, destQp: 0, ackRequest: false, psn: 0,
    hasReth: false, vaHi: 0, vaLo: 0, rkey: 0, dmaLength: 0,
    hasAeth: false, syndrome: 0, msn: 0,
    hasImmediate: false, immediate: 0, hasIeth: false, invalidateRkey: 0,
    hasDeth: false, qkey: 0, srcQp: 0,
    payloadOffset: 0, payloadLength: 0, payloadCaptured: 0, reason: '',
  };
}

/**
 * Decodes the BTH and extension headers of a packet whose transport bytes
 * (BTH … ICRC) are `buf[start..]` as captured, `wireLength` bytes long on
 * the wire. Returns false (with `out.reason`) for a packet too short for its
 * headers or of an undefined opcode. Never throws.
 */
export function decodeBth(buf: Buffer, start: number, wireLength: number, out: BthPacket): boolean {
  const cap = buf.length - start;
  if (cap < BTH_LEN || wireLength < BTH_LEN + ICRC_LEN) {
    out.reason = 'InfiniBand BTH cut short';
    return false;
  }
  const opcode = buf[start]!;
  const flags = buf[start + 1]!;
  out.opcode = opcode;
  out.service = opcode >> 5;
  out.op = opcode & 0x1f;
  out.solicited = (flags & 0x80) !== 0;
  out.padCount = (flags >> 4) & 3;
  out.pkey = buf.readUInt16BE(start + 2);
  out.destQp = buf.readUInt32BE(start + 4) & 0xffffff;
  const w = buf.readUInt32BE(start + 8);
  out.ackRequest = (w & 0x80000000) !== 0;
  out.psn = w & 0xffffff;
  out.hasReth = out.hasAeth = out.hasImmediate = out.hasIeth = out.hasDeth = false;

  let headers: number;
  let pos = start + BTH_LEN;
  switch (out.service) {
    case IB_RC:
      headers = OP_HEADERS[out.op]!;
      if ((headers & RC_OK) === 0) headers = 0;
      break;
    case IB_UC:
      headers = OP_HEADERS[out.op]!;
      if ((headers & UC_OK) === 0) headers = 0;
      break;
    case IB_XRC:
      headers = OP_HEADERS[out.op]!;
      if ((headers & RC_OK) === 0) headers = 0;
      pos += 4; // XRCETH
      break;
    case IB_UD:
      headers = opcode === OPCODE_UD_SEND_ONLY ? RC_OK : opcode === OPCODE_UD_SEND_ONLY_IMM ? RC_OK | IMM : 0;
      if (headers !== 0) {
        if (!need(buf, pos, 8, out)) return false;
        out.hasDeth = true;
        out.qkey = buf.readUInt32BE(pos);
        out.srcQp = buf.readUInt32BE(pos + 4) & 0xffffff;
        pos += 8;
      }
      break;
    default:
      // RD (not used by RoCE) and CNP: headers are not decoded, the payload is opaque.
      headers = opcode === OPCODE_CNP ? RC_OK : 0;
  }
  if (headers === 0) {
    out.reason = `undefined InfiniBand opcode 0x${opcode.toString(16).padStart(2, '0')}`;
    return false;
  }
  if ((headers & RETH) !== 0) {
    if (!need(buf, pos, 16, out)) return false;
    out.hasReth = true;
    out.vaHi = buf.readUInt32BE(pos);
    out.vaLo = buf.readUInt32BE(pos + 4);
    out.rkey = buf.readUInt32BE(pos + 8);
    out.dmaLength = buf.readUInt32BE(pos + 12);
    pos += 16;
  }
  if ((headers & ATOMIC) !== 0) pos += 28;
  if ((headers & AETH) !== 0) {
    if (!need(buf, pos, 4, out)) return false;
    out.hasAeth = true;
    const a = buf.readUInt32BE(pos);
    out.syndrome = a >>> 24;
    out.msn = a & 0xffffff;
    pos += 4;
  }
  if ((headers & ATOMIC_ACK) !== 0) pos += 8;
  if ((headers & IMM) !== 0) {
    if (!need(buf, pos, 4, out)) return false;
    out.hasImmediate = true;
    out.immediate = buf.readUInt32BE(pos);
    pos += 4;
  }
  if ((headers & IETH) !== 0) {
    if (!need(buf, pos, 4, out)) return false;
    out.hasIeth = true;
    out.invalidateRkey = buf.readUInt32BE(pos);
    pos += 4;
  }
  const headerLen = pos - start;
  const payloadLength = wireLength - headerLen - ICRC_LEN - out.padCount;
  if (payloadLength < 0) {
    out.reason = `${opcodeName(opcode)} shorter than its headers`;
    return false;
  }
  out.payloadOffset = pos;
  out.payloadLength = payloadLength;
  const captured = buf.length - pos;
  out.payloadCaptured = captured < 0 ? 0 : captured < payloadLength ? captured : payloadLength;
  return true;
}

function need(buf: Buffer, pos: number, n: number, out: BthPacket): boolean {
  if (pos + n <= buf.length) return true;
  out.reason = 'InfiniBand extension header cut short';
  return false;
}

// ---- AETH syndrome (IBTA Vol. 1 §9.7.5.1) ----------------------------------

export const AETH_ACK = 0;
export const AETH_RNR_NAK = 1;
export const AETH_NAK = 3;

/** ACK (0), RNR NAK (1), NAK (3), reserved (2). */
export function aethKind(syndrome: number): number {
  return (syndrome >> 5) & 3;
}

const NAK_NAMES = ['PSN Sequence Error', 'Invalid Request', 'Remote Access Error', 'Remote Operational Error', 'Invalid RD Request'];

/** A NAK's error name ("PSN Sequence Error", "Remote Access Error", …). */
export function nakName(syndrome: number): string {
  const code = syndrome & 0x1f;
  return NAK_NAMES[code] ?? `NAK code ${code}`;
}

/** Path MTU enum (IBTA Vol. 1 §14.2.5.12, in the CM REQ) to bytes; 0 when unknown. */
export function pathMtuBytes(code: number): number {
  return code >= 1 && code <= 5 ? 128 << code : 0;
}
