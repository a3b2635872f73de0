/**
 * RoCEv1: InfiniBand packets straight over Ethernet (ethertype 0x8915), the
 * 40-byte Global Route Header first (IBTA Vol. 1 §8.3; IPv6's layout: IP
 * version 6, traffic class, flow label, payload length, next header 0x1B
 * for a BTH, hop limit, source and destination GIDs).
 *
 * The packet is handed to the transport layer like an IP packet: the GIDs
 * as addresses (two IPv4-mapped GIDs as IPv4 addresses, so that RoCEv1 and
 * RoCEv2 name hosts alike) and `protocol` IPPROTO_IB_BTH.
 */
import { u16be, u32be } from '../capture/bytes.js';
import type { IpScratch } from './fragments.js';
import { IPPROTO_IB_BTH, type IpPacket } from './packet.js';

export const GRH_LEN = 40;
/** The GRH's next header for an InfiniBand BTH. */
export const GRH_NEXT_HEADER_BTH = 0x1b;

function ipv4Mapped(data: Buffer, off: number): boolean {
  return u32be(data, off) === 0 && u32be(data, off + 4) === 0 && u32be(data, off + 8) === 0xffff;
}

/**
 * Fills `pkt` from the GRH at `off` in `data` (captured up to `end`);
 * `wireLength` is the frame's length on the wire from `off`. Returns false
 * (with `scratch.reason`) for a GRH cut short or not followed by a BTH.
 */
export function decodeGrh(data: Buffer, off: number, end: number, wireLength: number, pkt: IpPacket, scratch: IpScratch): boolean {
  if (end - off < GRH_LEN || wireLength < GRH_LEN) {
    scratch.reason = 'RoCEv1 GRH cut short';
    return false;
  }
  if (data[off]! >> 4 !== 6 || data[off + 6] !== GRH_NEXT_HEADER_BTH) {
    scratch.reason = 'RoCEv1 GRH without a BTH (IP version not 6 or next header not 0x1B)';
    return false;
  }
  const payloadLength = u16be(data, off + 4);
  // Ethernet may pad a short frame; a length beyond the frame is the GRH's lie.
  const available = wireLength - GRH_LEN;
  if (payloadLength > available) {
    scratch.reason = `RoCEv1 GRH payload length ${payloadLength} beyond the frame (${available} bytes)`;
    return false;
  }
  // Two IPv4-mapped GIDs are given as IPv4 addresses (their text the dotted quad).
  const v4 = ipv4Mapped(data, off + 8) && ipv4Mapped(data, off + 24);
  pkt.ipVersion = v4 ? 4 : 6;
  pkt.ipId = -1;
  pkt.src0 = v4 ? 0 : u32be(data, off + 8);
  pkt.src1 = v4 ? 0 : u32be(data, off + 12);
  pkt.src2 = v4 ? 0 : u32be(data, off + 16);
  pkt.src3 = u32be(data, off + 20);
  pkt.dst0 = v4 ? 0 : u32be(data, off + 24);
  pkt.dst1 = v4 ? 0 : u32be(data, off + 28);
  pkt.dst2 = v4 ? 0 : u32be(data, off + 32);
  pkt.dst3 = u32be(data, off + 36);
  pkt.protocol = IPPROTO_IB_BTH;
  pkt.buf = data;
  pkt.l4Start = off + GRH_LEN;
  pkt.l4End = Math.min(end, off + GRH_LEN + payloadLength);
  pkt.l4WireLength = payloadLength;
  return true;
}
