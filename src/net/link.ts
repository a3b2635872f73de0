/**
 * Link-layer decoding: from a frame's link type and bytes to the
 * network-layer protocol and the offset where its header starts.
 *
 * Hot path: no allocation. The caller owns one LinkResult and passes it in
 * every time; the outcome is a small integer.
 */

import { u16be as u16 } from '../capture/bytes.js';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  LINKTYPE_RAW_OLD_12,
  LINKTYPE_RAW_OLD_14,
} from '../capture/linktypes.js';

// Ethertypes (IEEE registry).
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
/** Pre-standard Q-in-Q outer tag some switches still send. */
export const ETHERTYPE_QINQ_OLD = 0x9100;
/** RoCEv1: InfiniBand over Ethernet, a GRH first. */
export const ETHERTYPE_ROCE_V1 = 0x8915;
/** Type/length values up to this are an 802.3 length (LLC/SNAP follows), not a type. */
export const ETHER_MAX_LENGTH_FIELD = 1500;

// Address families in NULL/LOOP headers. AF_INET6 differs between BSDs.
export const AF_INET = 2;
export const AF_INET6_NETBSD_OPENBSD = 24;
export const AF_INET6_FREEBSD = 28;
export const AF_INET6_DARWIN = 30;

const ETHER_HEADER_LEN = 14;
const ETHER_TYPE_OFFSET = 12;
const VLAN_TAG_LEN = 4;
const SLL_HEADER_LEN = 16;
const SLL_PROTOCOL_OFFSET = 14;
const SLL2_HEADER_LEN = 20;
const SLL2_PROTOCOL_OFFSET = 0;
const NULL_HEADER_LEN = 4;

/** What the link layer carries. */
export const LinkOutcome = {
  IPV4: 1,
  IPV6: 2,
  /** A known link type carrying something other than IP (ARP, LLDP, LLC…). */
  NOT_IP: 3,
  /** The link header is cut short or nonsensical; `reason` says why. */
  MALFORMED: 4,
  /** nfsight does not decode this link type. */
  UNKNOWN_LINKTYPE: 5,
  /** RoCEv1 (ethertype 0x8915): `offset` is where the GRH starts. */
  ROCE_V1: 6,
} as const;
export type LinkOutcome = (typeof LinkOutcome)[keyof typeof LinkOutcome];

/** Filled by decodeLink; reused across frames. */
export interface LinkResult {
  /** Offset of the network-layer header in the frame bytes (IPV4/IPV6 only). */
  offset: number;
  /** Why the header is malformed (MALFORMED only); a constant string. */
  reason: string;
}

export function newLinkResult(): LinkResult {
  return { offset: 0, reason: '' };
}

function isVlanTpid(type: number): boolean {
  return type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD;
}

/**
 * Resolves an ethertype whose payload starts at `payload`: skips any stack of
 * VLAN tags (each: 2 bytes TCI, then the inner type) and classifies the
 * result. Shared by Ethernet and both SLL forms, since the cooked headers
 * carry VLAN tags the same way when the kernel did not strip them.
 */
function resolveEthertype(data: Buffer, end: number, type: number, payload: number, out: LinkResult): LinkOutcome {
  while (isVlanTpid(type)) {
    if (payload + VLAN_TAG_LEN > end) {
      out.reason = 'VLAN tag cut short';
      return LinkOutcome.MALFORMED;
    }
    type = u16(data, payload + 2);
    payload += VLAN_TAG_LEN;
  }
  out.offset = payload;
  if (type === ETHERTYPE_IPV4) return LinkOutcome.IPV4;
  if (type === ETHERTYPE_IPV6) return LinkOutcome.IPV6;
  if (type === ETHERTYPE_ROCE_V1) return LinkOutcome.ROCE_V1;
  // Anything else, including an 802.3 length field (<= 1500) followed by
  // LLC, is simply not IP.
  return LinkOutcome.NOT_IP;
}

function decodeEthernet(data: Buffer, start: number, end: number, out: LinkResult): LinkOutcome {
  if (end - start < ETHER_HEADER_LEN) {
    out.reason = 'Ethernet header cut short';
    return LinkOutcome.MALFORMED;
  }
  const type = u16(data, start + ETHER_TYPE_OFFSET);
  if (type <= ETHER_MAX_LENGTH_FIELD) return LinkOutcome.NOT_IP;
  return resolveEthertype(data, end, type, start + ETHER_HEADER_LEN, out);
}

function decodeSll(data: Buffer, start: number, end: number, headerLen: number, protocolOffset: number, out: LinkResult): LinkOutcome {
  if (end - start < headerLen) {
    out.reason = 'Linux cooked header cut short';
    return LinkOutcome.MALFORMED;
  }
  return resolveEthertype(data, end, u16(data, start + protocolOffset), start + headerLen, out);
}

/** Raw IP: no link header; the IP version nibble says which IP it is. */
function decodeRaw(data: Buffer, start: number, end: number, out: LinkResult): LinkOutcome {
  if (end === start) {
    out.reason = 'empty raw IP packet';
    return LinkOutcome.MALFORMED;
  }
  out.offset = start;
  const version = data[start]! >> 4;
  if (version === 4) return LinkOutcome.IPV4;
  if (version === 6) return LinkOutcome.IPV6;
  out.reason = 'raw IP packet with an IP version other than 4 or 6';
  return LinkOutcome.MALFORMED;
}

function familyOutcome(family: number, start: number, out: LinkResult): LinkOutcome {
  out.offset = start + NULL_HEADER_LEN;
  if (family === AF_INET) return LinkOutcome.IPV4;
  if (family === AF_INET6_NETBSD_OPENBSD || family === AF_INET6_FREEBSD || family === AF_INET6_DARWIN) {
    return LinkOutcome.IPV6;
  }
  return LinkOutcome.NOT_IP;
}

/**
 * BSD NULL: the family is in the byte order of the host that wrote the file,
 * which the file does not tell us reliably; families are small numbers, so
 * whichever reading is small is the right one.
 */
function decodeNull(data: Buffer, start: number, end: number, out: LinkResult): LinkOutcome {
  if (end - start < NULL_HEADER_LEN) {
    out.reason = 'loopback header cut short';
    return LinkOutcome.MALFORMED;
  }
  const le = data.readUInt32LE(start);
  return familyOutcome(le <= 0xffff ? le : data.readUInt32BE(start), start, out);
}

/** OpenBSD LOOP: like NULL but always in network byte order. */
function decodeLoop(data: Buffer, start: number, end: number, out: LinkResult): LinkOutcome {
  if (end - start < NULL_HEADER_LEN) {
    out.reason = 'loopback header cut short';
    return LinkOutcome.MALFORMED;
  }
  return familyOutcome(data.readUInt32BE(start), start, out);
}

/** Forces the version: a mismatching version nibble is caught by the IP decoder. */
function decodeFixed(outcome: LinkOutcome, start: number, out: LinkResult): LinkOutcome {
  out.offset = start;
  return outcome;
}

/**
 * Classifies the link layer of a frame whose captured bytes are
 * `data[start, end)`. On IPV4/IPV6, `out.offset` is where the IP header
 * starts (an index into `data`); on MALFORMED, `out.reason` says why.
 */
export function decodeLink(linkType: number, data: Buffer, start: number, end: number, out: LinkResult): LinkOutcome {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return decodeEthernet(data, start, end, out);
    case LINKTYPE_LINUX_SLL:
      return decodeSll(data, start, end, SLL_HEADER_LEN, SLL_PROTOCOL_OFFSET, out);
    case LINKTYPE_LINUX_SLL2:
      return decodeSll(data, start, end, SLL2_HEADER_LEN, SLL2_PROTOCOL_OFFSET, out);
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_OLD_12:
    case LINKTYPE_RAW_OLD_14:
      return decodeRaw(data, start, end, out);
    case LINKTYPE_IPV4:
      return decodeFixed(LinkOutcome.IPV4, start, out);
    case LINKTYPE_IPV6:
      return decodeFixed(LinkOutcome.IPV6, start, out);
    case LINKTYPE_NULL:
      return decodeNull(data, start, end, out);
    case LINKTYPE_LOOP:
      return decodeLoop(data, start, end, out);
    default:
      return LinkOutcome.UNKNOWN_LINKTYPE;
  }
}
