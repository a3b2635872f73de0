/**
 * RoCEv1: InfiniBand packets straight over Ethernet (ethertype 0x8915), the
 * 40-byte Global Route Header first (IBTA Vol. 1 §8.3; IPv6's layout: IP
 * version 6, traffic class, flow label, payload length, next header 0x1B
 * for a BTH, hop limit, source and destination GIDs).
 *
 * The packet is handed to the transport layer like an IP packet: the GIDs
 * as addresses (an IPv4-mapped GID as its dotted quad, so that RoCEv1 and
 * RoCEv2 name hosts alike) and `protocol` IPPROTO_IB_BTH.
 */
import type { IpScratch } from './fragments.js';
import { ipv4Text } from './ipv4.js';
import { ipv6Text } from './ipv6.js';
import { IPPROTO_IB_BTH, type IpPacket } from './packet.js';

export const GRH_LEN = 40;
/** The GRH's next header for an InfiniBand BTH. */
export const GRH_NEXT_HEADER_BTH = 0x1b;

function gidText(data: Buffer, off: number): string {
  const mapped =
    data.readUInt32BE(off) === 0 && data.readUInt32BE(off + 4) === 0 && data.readUInt32BE(off + 8) === 0xffff;
  return mapped ? ipv4Text(data, off + 12) : ipv6Text(data, off);
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
  const payloadLength = data.readUInt16BE(off + 4);
  // Ethernet may pad a short frame; a length beyond the frame is the GRH's lie.
  const available = wireLength - GRH_LEN;
  if (payloadLength > available) {
    scratch.reason = `RoCEv1 GRH payload length ${payloadLength} beyond the frame (${available} bytes)`;
    return false;
  }
  pkt.ipVersion = 6;
  pkt.src = gidText(data, off + 8);
  pkt.dst = gidText(data, off + 24);
  pkt.protocol = IPPROTO_IB_BTH;
  pkt.l4 = data.subarray(off + GRH_LEN, Math.min(end, off + GRH_LEN + payloadLength));
  pkt.l4WireLength = payloadLength;
  return true;
}
