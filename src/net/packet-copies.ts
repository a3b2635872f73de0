/**
 * Packets the capture holds twice. `tcpdump -i any` on a host whose NIC
 * sits under a bond, a bridge or a VLAN interface sees every packet on two
 * interfaces (the link headers differ, the IP packet is the same), and a
 * mirror port that copies both directions of a switch port does the same.
 * Read twice, each copy is a TCP retransmission or a duplicate ACK (as
 * Wireshark shows them): packet loss that never happened, on every
 * connection. Each copy is read once.
 *
 * A packet is a copy of a recent one (the last one in its slot of SLOTS,
 * picked by what a copy shares with its original) when it came within
 * WINDOW_NS of it, either way (two interfaces stamp their copies a few
 * microseconds apart, in either order; WINDOW_NO_ID_NS without an IPv4
 * identification), with the same IP version, protocol, addresses, IPv4
 * identification, transport length and first WORDS transport words: the
 * TCP header with its sequence and acknowledgement numbers and its
 * checksum over the segment (20 bytes: 0.7% of a CPU profile of the 105
 * MB `meta` capture; 32 bytes took 1.6%).
 *
 * A sender's own TCP retransmission, even within the window, has a new
 * IPv4 identification. IPv6 has none, so there only packets carrying data
 * (more than IPV6_MIN_LENGTH transport bytes) are compared: two duplicate
 * ACKs sent microseconds apart can be alike to the byte, two data segments
 * cannot. Two duplicate ACKs of a sender of identification 0, within 50
 * µs, captured before the NIC wrote their checksums and differing only in
 * their SACK blocks, would be taken for one. Reassembled fragments are not
 * compared (their fragments were, by the reassembler's duplicate check),
 * nor is RoCE.
 */
import { FNV_PRIME } from '../fnv.js';
import { assignFrameRef, snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { IPPROTO_IB_BTH, IPPROTO_UDP, ROCE_V2_PORT, type IpPacket } from './packet.js';

/** Packets remembered, each in the slot its key and first words pick (a power of two). */
const SLOT_BITS = 8;
const SLOTS = 1 << SLOT_BITS;
const SLOT_SHIFT = 32 - SLOT_BITS;
/**
 * Two copies come within this of each other (nanoseconds): the two
 * interfaces of one host, or the two ports of one switch, a few
 * microseconds apart, tens under load. Tighter for packets whose IPv4
 * identification is 0 (atomic datagrams under RFC 6864: FreeBSD and
 * NetApp ONTAP send DF packets so) and IPv6, which have nothing that tells
 * a sender's own retransmission from a copy: a fast retransmission on a
 * fast LAN can follow its original by a hundred microseconds.
 */
const WINDOW_NS = 200_000;
const WINDOW_NO_ID_NS = 50_000;
/** Transport words compared (20 bytes). */
const WORDS = 5;
/** IPv6 packets with at most this many transport bytes (no identification, no data) are never copies. */
const IPV6_MIN_LENGTH = 60;


/** The 32-bit word at `o`, its bytes at or past `end` (not captured) read as 0. */
function word(b: Buffer, o: number, end: number): number {
  if (o + 4 <= end) return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  let w = 0;
  for (let i = 0; i < 4; i++) w = (w << 8) | (o + i < end ? b[o + i]! : 0);
  return w;
}

export class PacketCopyFilter {
  /** Copies skipped, the first of them with the packet it copied, and the last. */
  copies = 0;
  first: { copy: FrameRef; original: FrameRef } | undefined;
  last: FrameRef | undefined;
  // Direct-mapped by a packet's key and first words: a copy lands in its original's slot.
  private readonly sec = new Float64Array(SLOTS);
  private readonly nsec = new Int32Array(SLOTS);
  private readonly key = new Int32Array(SLOTS);
  private readonly words = new Int32Array(SLOTS * WORDS);
  private readonly length = new Int32Array(SLOTS).fill(-1);
  private readonly fileIndex = new Int32Array(SLOTS);
  private readonly number = new Float64Array(SLOTS);
  private readonly current = new Int32Array(WORDS);

  /** True when the packet is a copy of a recent one (skip it); else it is remembered. */
  isCopy(pkt: IpPacket): boolean {
    if (pkt.reassembled || (pkt.ipId < 0 && pkt.l4WireLength <= IPV6_MIN_LENGTH)) return false;
    const b = pkt.buf;
    const p = pkt.protocol;
    const at = pkt.l4Start;
    // RoCE: an InfiniBand retransmission after a NAK leaves the NIC within
    // microseconds, byte for byte the same (RoCEv2 NICs send IPv4
    // identification 0): never taken for a copy.
    if (p === IPPROTO_IB_BTH || (p === IPPROTO_UDP && pkt.l4End - at >= 4 && ((b[at + 2]! << 8) | b[at + 3]!) === ROCE_V2_PORT)) return false;
    const f = pkt.frame;
    let k = Math.imul(p ^ pkt.ipId ^ (pkt.l4WireLength << 8), FNV_PRIME);
    k = Math.imul(k ^ pkt.src3, FNV_PRIME);
    k = Math.imul(k ^ pkt.dst3, FNV_PRIME);
    if (pkt.ipVersion === 6) k = Math.imul(k ^ pkt.src0 ^ pkt.src1 ^ pkt.src2 ^ pkt.dst0 ^ pkt.dst1 ^ pkt.dst2, FNV_PRIME);
    // The first transport words: TCP's ports, sequence and acknowledgement
    // numbers, flags and window, checksum; UDP's ports, length and checksum,
    // then the RPC xid and message type.
    let end = pkt.l4End;
    // A sparse frame has its headers read at least.
    if (f.lazy !== null && f.lazy.readyEnd < end) end = f.lazy.readyEnd;
    const cur = this.current;
    if (at + 4 * WORDS <= end) {
      for (let i = 0, o = at; i < WORDS; i++, o += 4) cur[i] = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    } else {
      for (let i = 0; i < WORDS; i++) cur[i] = word(b, at + 4 * i, end);
    }
    const slot = Math.imul(k ^ cur[1]! ^ cur[2]!, FNV_PRIME) >>> SLOT_SHIFT;
    const len = pkt.l4WireLength;
    const w = this.words;
    const base = slot * WORDS;
    if (this.key[slot] === k && this.length[slot] === len) {
      let same = true;
      for (let i = 0; i < WORDS; i++) {
        if (w[base + i] !== cur[i]) {
          same = false;
          break;
        }
      }
      const ns = (f.tsSec - this.sec[slot]!) * 1e9 + (f.tsNsec - this.nsec[slot]!);
      const window = pkt.ipId > 0 ? WINDOW_NS : WINDOW_NO_ID_NS;
      if (same && ns <= window && ns >= -window) {
        // The original stays: a third interface's copy is a copy of it too.
        if (this.copies++ === 0) this.first = { copy: snapshotFrameRef(f), original: { fileIndex: this.fileIndex[slot]!, number: this.number[slot]!, tsSec: this.sec[slot]!, tsNsec: this.nsec[slot]! } };
        if (this.last === undefined) this.last = snapshotFrameRef(f);
        else assignFrameRef(this.last, f);
        return true;
      }
    }
    this.sec[slot] = f.tsSec;
    this.nsec[slot] = f.tsNsec;
    this.key[slot] = k;
    this.length[slot] = len;
    for (let i = 0; i < WORDS; i++) w[base + i] = cur[i]!;
    this.fileIndex[slot] = f.fileIndex;
    this.number[slot] = f.number;
    return false;
  }
}
