/**
 * InfiniBand Communication Management (IBTA Vol. 1, chapter 12): the MADs
 * (management datagrams) peers exchange on QP1 to set up and tear down a
 * reliable connection, and the IP addressing the RDMA-CM puts in a
 * ConnectRequest's private data (IBTA Annex A11), which is how a RoCE
 * connection names its port (20049 for NFS/RDMA).
 *
 *   MAD header (24): base version, management class (0x07 = CM), class
 *     version, method, status, class specific, transaction id (8),
 *     attribute id, reserved, attribute modifier
 *   then 232 bytes of attribute data.
 *
 * Rare packets: plain objects, allocation is fine. Never throws.
 */
import { decodeRpcRdmaCmPrivate, type RpcRdmaCmPrivate } from '../../decoders/rpcrdma.js';

export const MAD_HEADER_LEN = 24;
export const MGMT_CLASS_CM = 0x07;

export const CM_REQ = 0x0010;
export const CM_MRA = 0x0011;
export const CM_REJ = 0x0012;
export const CM_REP = 0x0013;
export const CM_RTU = 0x0014;
export const CM_DREQ = 0x0015;
export const CM_DREP = 0x0016;
export const CM_SIDR_REQ = 0x0017;
export const CM_SIDR_REP = 0x0018;
export const CM_LAP = 0x0019;
export const CM_APR = 0x001a;

const ATTRIBUTE_NAMES: Readonly<Record<number, string>> = {
  [CM_REQ]: 'ConnectRequest',
  [CM_MRA]: 'MsgRcptAck',
  [CM_REJ]: 'ConnectReject',
  [CM_REP]: 'ConnectReply',
  [CM_RTU]: 'ReadyToUse',
  [CM_DREQ]: 'DisconnectRequest',
  [CM_DREP]: 'DisconnectReply',
  [CM_SIDR_REQ]: 'ServiceIDResReq',
  [CM_SIDR_REP]: 'ServiceIDResReqResp',
  [CM_LAP]: 'LoadAlternatePath',
  [CM_APR]: 'AlternatePathResponse',
};

export function cmMessageName(attributeId: number): string {
  return ATTRIBUTE_NAMES[attributeId] ?? `CM attribute 0x${attributeId.toString(16).padStart(4, '0')}`;
}

/** ConnectReject reasons (IBTA Vol. 1 Table 112). */
const REJECT_REASONS: Readonly<Record<number, string>> = {
  1: 'No QP available',
  2: 'No EEC available',
  3: 'No resources available',
  4: 'Timeout',
  5: 'Unsupported request',
  6: 'Invalid Communication ID',
  7: 'Invalid Communication Instance',
  8: 'Invalid Service ID',
  9: 'Invalid Transport Service Type',
  10: 'Stale connection',
  11: 'RDC does not exist',
  12: 'Primary Remote Port GID rejected',
  13: 'Primary Remote Port LID rejected',
  14: 'Invalid Primary SL',
  15: 'Invalid Primary Traffic Class',
  16: 'Invalid Primary Hop Limit',
  17: 'Invalid Primary Packet Rate',
  18: 'Alternate Remote Port GID rejected',
  19: 'Alternate Remote Port LID rejected',
  20: 'Invalid Alternate SL',
  21: 'Invalid Alternate Traffic Class',
  22: 'Invalid Alternate Hop Limit',
  23: 'Invalid Alternate Packet Rate',
  24: 'Port Redirection',
  26: 'Invalid Path MTU',
  27: 'Insufficient Responder Resources',
  28: 'Consumer Reject',
  29: 'RNR Retry Count Reject',
  30: 'Duplicate Local Comm ID',
  31: 'Unsupported Class Version',
  32: 'Invalid Primary Flow Label',
  33: 'Invalid Alternate Flow Label',
};

export function rejectReasonName(reason: number): string {
  return REJECT_REASONS[reason] ?? `reason ${reason}`;
}

/** The RDMA-CM's service id for a TCP-port-space ("RDMA_PS_TCP") port: 0x0000000001060000 | port. */
const RDMA_PS_TCP_HI = 0x00000000;
const RDMA_PS_TCP_LO_PREFIX = 0x01060000;
/** …and the IB port space (RDMA_PS_IB), which the RDMA-CM also uses. */
const RDMA_PS_IB_LO_PREFIX = 0x013f0000;

/** The port of an RDMA-CM service id, or -1 when the id is not one. */
export function serviceIdPort(hi: number, lo: number): number {
  if (hi !== RDMA_PS_TCP_HI) return -1;
  const prefix = (lo & 0xffff0000) >>> 0;
  return prefix === RDMA_PS_TCP_LO_PREFIX || prefix === RDMA_PS_IB_LO_PREFIX ? lo & 0xffff : -1;
}

/** The RDMA-CM's IP addressing in a ConnectRequest's private data (IBTA Annex A11). */
export interface IpCmPrivate {
  ipVersion: number;
  sourcePort: number;
  /** Addresses as text (IPv4 dotted quad for IPv4). */
  source: string;
  destination: string;
  /** The consumer's own private data that follows (56 bytes). */
  consumer: Buffer;
}

export interface CmReq {
  kind: 'REQ';
  localCommId: number;
  serviceIdHi: number;
  serviceIdLo: number;
  /** The service id's port (RDMA-CM), -1 when it is not an RDMA-CM service id. */
  port: number;
  localQpn: number;
  responderResources: number;
  initiatorDepth: number;
  /** Transport service type: 0 RC, 1 UC, 2 RD. */
  transportType: number;
  startingPsn: number;
  /** Path MTU enum (1 = 256 … 5 = 4096). */
  pathMtu: number;
  ipCm: IpCmPrivate | undefined;
  rpcRdma: RpcRdmaCmPrivate | undefined;
}

export interface CmRep {
  kind: 'REP';
  localCommId: number;
  remoteCommId: number;
  localQpn: number;
  startingPsn: number;
  responderResources: number;
  initiatorDepth: number;
  rpcRdma: RpcRdmaCmPrivate | undefined;
}

export interface CmRej {
  kind: 'REJ';
  localCommId: number;
  remoteCommId: number;
  /** Which message is rejected: 0 REQ, 1 REP, 2 no message (MRA'd). */
  messageRejected: number;
  reason: number;
}

export interface CmPair {
  kind: 'RTU' | 'DREQ' | 'DREP' | 'MRA' | 'OTHER';
  attributeId: number;
  localCommId: number;
  remoteCommId: number;
}

export type CmMessage = CmReq | CmRep | CmRej | CmPair;

const REQ_PRIVATE_OFFSET = 140;
const REP_PRIVATE_OFFSET = 36;
const IP_CM_CONSUMER_OFFSET = 36;

function u24(b: Buffer, at: number): number {
  return b.readUInt32BE(at) >>> 8;
}

function gidText(b: Buffer, at: number, ipVersion: number): string {
  if (ipVersion === 4) return `${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(at + i).toString(16));
  return groups.join(':');
}

function ipCmPrivate(p: Buffer): IpCmPrivate | undefined {
  if (p.length < IP_CM_CONSUMER_OFFSET) return undefined;
  const ipVersion = p[1]! >> 4;
  if (ipVersion !== 4 && ipVersion !== 6) return undefined;
  return {
    ipVersion,
    sourcePort: p.readUInt16BE(2),
    source: gidText(p, 4, ipVersion),
    destination: gidText(p, 20, ipVersion),
    consumer: p.subarray(IP_CM_CONSUMER_OFFSET),
  };
}

/**
 * Decodes a CM MAD from the payload of a UD SEND on QP1. Returns undefined
 * for another management class or a MAD cut before the fields read.
 */
export function decodeCmMad(mad: Buffer): CmMessage | undefined {
  if (mad.length < MAD_HEADER_LEN + 8 || mad[1] !== MGMT_CLASS_CM) return undefined;
  const attributeId = mad.readUInt16BE(16);
  const d = mad.subarray(MAD_HEADER_LEN);
  const localCommId = d.readUInt32BE(0);
  const remoteCommId = d.readUInt32BE(4);
  switch (attributeId) {
    case CM_REQ: {
      if (d.length < 52) return undefined;
      const hi = d.readUInt32BE(8);
      const lo = d.readUInt32BE(12);
      const priv = d.length > REQ_PRIVATE_OFFSET ? d.subarray(REQ_PRIVATE_OFFSET) : Buffer.alloc(0);
      const ip = ipCmPrivate(priv);
      return {
        kind: 'REQ',
        localCommId,
        serviceIdHi: hi,
        serviceIdLo: lo,
        port: serviceIdPort(hi, lo),
        localQpn: u24(d, 32),
        responderResources: d[35]!,
        initiatorDepth: d[39]!,
        transportType: (d[43]! >> 1) & 3,
        startingPsn: u24(d, 44),
        pathMtu: d[50]! >> 4,
        ipCm: ip,
        rpcRdma: ip !== undefined ? decodeRpcRdmaCmPrivate(ip.consumer) : undefined,
      };
    }
    case CM_REP: {
      if (d.length < 28) return undefined;
      const priv = d.length > REP_PRIVATE_OFFSET ? d.subarray(REP_PRIVATE_OFFSET) : Buffer.alloc(0);
      return {
        kind: 'REP',
        localCommId,
        remoteCommId,
        localQpn: u24(d, 12),
        startingPsn: u24(d, 20),
        responderResources: d[24]!,
        initiatorDepth: d[25]!,
        rpcRdma: decodeRpcRdmaCmPrivate(priv),
      };
    }
    case CM_REJ:
      if (d.length < 12) return undefined;
      return { kind: 'REJ', localCommId, remoteCommId, messageRejected: d[8]! >> 6, reason: d.readUInt16BE(10) };
    case CM_RTU:
      return { kind: 'RTU', attributeId, localCommId, remoteCommId };
    case CM_DREQ:
      return { kind: 'DREQ', attributeId, localCommId, remoteCommId };
    case CM_DREP:
      return { kind: 'DREP', attributeId, localCommId, remoteCommId };
    case CM_MRA:
      return { kind: 'MRA', attributeId, localCommId, remoteCommId };
    default:
      return { kind: 'OTHER', attributeId, localCommId, remoteCommId };
  }
}
