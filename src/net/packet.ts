/**
 * The contract between the link/IP layers and the transport layer: one
 * decoded IP packet carrying a transport-layer payload.
 *
 * The network decoder reuses a single IpPacket object and mutates it per
 * frame (no per-packet allocation on the hot path); a consumer copies what it
 * keeps beyond the call.
 */
import type { Frame } from '../capture/frame.js';

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/**
 * Not an IP protocol: the network layer's mark for a RoCEv1 packet (a GRH
 * with next header 0x1B, the InfiniBand BTH), delivered like an IP packet
 * with the GIDs as addresses.
 */
export const IPPROTO_IB_BTH = 0x1b;

export interface IpPacket {
  /** 4 or 6. */
  ipVersion: number;
  /** Source address in canonical text form (dotted quad; RFC 5952 for IPv6). */
  src: string;
  /** Destination address in canonical text form. */
  dst: string;
  /** Transport protocol number (IPPROTO_*), after IPv6 extension headers. */
  protocol: number;
  /**
   * The captured transport-layer bytes (header + payload): a view into the
   * frame (or, for a reassembled fragmented datagram, a fresh buffer).
   */
  l4: Buffer;
  /**
   * Length of the transport-layer bytes as the IP header states it. Larger
   * than `l4.length` when the snaplen cut the packet: the difference is the
   * number of bytes missing at the end.
   */
  l4WireLength: number;
  /** The frame that carried it (for a reassembled datagram: the last fragment's frame). */
  frame: Frame;
  /** True when this packet is a datagram reassembled from IP fragments. */
  reassembled: boolean;
}

/** Counters the network layer keeps; all of them are reported, none silently dropped. */
export interface NetStats {
  /** Frames per link type number. */
  linkTypes: Map<number, number>;
  /** Frames that carried IPv4 / IPv6. */
  ipv4: number;
  ipv6: number;
  /** Frames that were not IP (ARP, LLDP, …): counted, not an error. */
  nonIp: number;
  /** RoCEv1 frames (InfiniBand over Ethernet, ethertype 0x8915): not IP, decoded. */
  roceV1: number;
  /** Frames of a link type nfsight cannot decode. */
  unknownLinkType: number;
  /** Frames whose link or IP header was cut by the snaplen or malformed. */
  malformed: number;
  /** IP fragments seen, datagrams reassembled, fragments dropped (timeout, overlap, memory bound). */
  fragments: number;
  reassembled: number;
  fragmentsDropped: number;
  /** IP packets whose transport protocol is neither TCP nor UDP. */
  otherProtocol: number;
}

export function newNetStats(): NetStats {
  return {
    linkTypes: new Map(),
    ipv4: 0,
    ipv6: 0,
    nonIp: 0,
    roceV1: 0,
    unknownLinkType: 0,
    malformed: 0,
    fragments: 0,
    reassembled: 0,
    fragmentsDropped: 0,
    otherProtocol: 0,
  };
}
