/**
 * The network layer: frame → link layer → IPv4/IPv6 (→ fragment
 * reassembly) → one IpPacket for the transport layer.
 *
 * Hot path: one reused IpPacket, one reused scratch, no per-packet
 * allocation: the packet points into the frame's buffer and carries its
 * addresses as numbers. Reassembly allocates, but only for fragments.
 */
import type { MemoryBudget } from '../memory/budget.js';
import { loadAll, newFrame, type DiagnosticSink, type Frame } from '../capture/frame.js';
import { IPPROTO_TCP, IPPROTO_UDP, IpPacket, newNetStats, type NetStats } from './packet.js';
import { decodeLink, LinkOutcome, newLinkResult } from './link.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6, IPV6_HEADER_LEN, walkIpv6Headers } from './ipv6.js';
import { decodeGrh } from './grh.js';
import {
  FragmentReassembler,
  IpOutcome,
  ipv4FragmentKey,
  ipv6FragmentKey,
  newIpScratch,
  type ReassemblyLimits,
} from './fragments.js';

/** Longest IPv4 header, and longest TCP header. */
const MAX_HEADER = 60;

/** Malformed packets reported one by one; the rest are only counted in stats.malformed. */
export const MAX_MALFORMED_DIAGNOSTICS = 20;

export interface NetDecoderOptions {
  /** Fragment reassembly bounds; defaults: 64 datagrams, 4 MiB, 30 s. */
  reassembly?: Partial<ReassemblyLimits>;
  /** The memory budget the fragments in progress are accounted in. */
  budget?: MemoryBudget;
}

export class NetDecoder {
  readonly stats: NetStats = newNetStats();
  private readonly packet = new IpPacket(newFrame(0));
  private readonly link = newLinkResult();
  private readonly scratch = newIpScratch();
  private readonly reassembler: FragmentReassembler;
  private readonly warnedLinkTypes = new Set<number>();
  private malformedReported = 0;

  constructor(
    private readonly diag: DiagnosticSink,
    private readonly fileName: (fileIndex: number) => string,
    options: NetDecoderOptions = {},
  ) {
    this.reassembler = new FragmentReassembler(this.stats, options.reassembly, options.budget);
  }

  /**
   * Decodes one frame. Returns the reused IpPacket (valid until the next
   * call) for a TCP or UDP packet, a datagram this frame completed, or a
   * RoCEv1 packet (protocol IPPROTO_IB_BTH, GIDs as addresses); null
   * for anything else: non-IP, unknown link type, malformed, a fragment
   * still waiting for the rest, another transport protocol (counted in
   * stats.otherProtocol). Never throws on bad bytes.
   */
  decode(frame: Frame): IpPacket | null {
    const stats = this.stats;
    const linkType = frame.linkType;
    stats.linkTypes.set(linkType, (stats.linkTypes.get(linkType) ?? 0) + 1);

    // Time out stale fragments even while no fragment arrives.
    if (this.reassembler.nextDeadline !== Infinity) {
      const now = captureTime(frame);
      if (now > this.reassembler.nextDeadline) this.reassembler.expire(now);
    }

    const link = this.link;
    // A sparse frame (capture/pcap-sparse.ts): the link header is judged on
    // the bytes read; one that reaches beyond them (never, in practice) is
    // judged again with every byte read.
    let outcome = decodeLink(linkType, frame.buf, frame.start, frame.lazy === null ? frame.end : frame.lazy.readyEnd, link);
    if (frame.lazy !== null && outcome === LinkOutcome.MALFORMED) {
      loadAll(frame);
      outcome = decodeLink(linkType, frame.buf, frame.start, frame.end, link);
    }
    switch (outcome) {
      case LinkOutcome.IPV4:
        return this.ipv4(frame, link.offset);
      case LinkOutcome.IPV6:
        return this.ipv6(frame, link.offset);
      case LinkOutcome.NOT_IP:
        stats.nonIp++;
        return null;
      case LinkOutcome.ROCE_V1:
        return this.roceV1(frame, link.offset);
      case LinkOutcome.MALFORMED:
        this.malformed(frame, link.reason);
        return null;
      default:
        this.unknownLinkType(frame);
        return null;
    }
  }

  /**
   * End of the run: datagrams still waiting for fragments will never
   * complete; count their fragments as dropped.
   */
  finish(): void {
    this.reassembler.dropAll();
  }

  private ipv4(frame: Frame, off: number): IpPacket | null {
    // IPv4 and TCP headers are 60 bytes at most: within the bytes a sparse frame read, or all read.
    if (frame.lazy !== null && off + 2 * MAX_HEADER > frame.lazy.readyEnd) loadAll(frame);
    const pkt = this.packet;
    const scratch = this.scratch;
    const outcome = decodeIpv4(frame.buf, off, frame.end, frame.origLen - (off - frame.start), pkt, scratch);
    if (outcome === IpOutcome.MALFORMED) {
      this.malformed(frame, scratch.reason);
      return null;
    }
    this.stats.ipv4++;
    pkt.frame = frame;
    pkt.reassembled = false;
    if (outcome === IpOutcome.FRAGMENT) {
      loadAll(frame);
      const key = ipv4FragmentKey(pkt.src, pkt.dst, pkt.protocol, scratch.fragId);
      const datagram = this.reassembler.add(key, scratch, pkt.l4, pkt.l4WireLength, captureTime(frame));
      if (datagram === null) return null;
      pkt.setL4(datagram);
      pkt.reassembled = true;
    }
    return this.deliver();
  }

  private ipv6(frame: Frame, off: number): IpPacket | null {
    // Extension headers have no bound: a sparse frame is read whole unless TCP follows the fixed header.
    if (frame.lazy !== null && (off + IPV6_HEADER_LEN + MAX_HEADER > frame.lazy.readyEnd || frame.buf[off + 6] !== IPPROTO_TCP)) loadAll(frame);
    const pkt = this.packet;
    const scratch = this.scratch;
    const outcome = decodeIpv6(frame.buf, off, frame.end, frame.origLen - (off - frame.start), pkt, scratch);
    if (outcome === IpOutcome.MALFORMED) {
      this.malformed(frame, scratch.reason);
      return null;
    }
    this.stats.ipv6++;
    pkt.frame = frame;
    pkt.reassembled = false;
    if (outcome === IpOutcome.FRAGMENT) {
      loadAll(frame);
      const key = ipv6FragmentKey(pkt.src, pkt.dst, scratch.fragId);
      const datagram = this.reassembler.add(key, scratch, pkt.l4, pkt.l4WireLength, captureTime(frame));
      if (datagram === null) return null;
      // The fragmentable part may itself begin with extension headers.
      const inner = walkIpv6Headers(datagram, 0, datagram.length, datagram.length, this.reassembler.completedNextHeader, pkt, scratch);
      if (inner !== IpOutcome.DELIVER) {
        this.malformed(frame, inner === IpOutcome.FRAGMENT ? 'IPv6 fragment inside a reassembled datagram' : scratch.reason);
        return null;
      }
      pkt.reassembled = true;
    }
    return this.deliver();
  }

  /** RoCEv1: the GRH in place of an IP header (not counted as IP). */
  private roceV1(frame: Frame, off: number): IpPacket | null {
    loadAll(frame);
    const pkt = this.packet;
    if (!decodeGrh(frame.buf, off, frame.end, frame.origLen - (off - frame.start), pkt, this.scratch)) {
      this.malformed(frame, this.scratch.reason);
      return null;
    }
    this.stats.roceV1++;
    pkt.frame = frame;
    pkt.reassembled = false;
    return pkt;
  }

  private deliver(): IpPacket | null {
    const pkt = this.packet;
    const protocol = pkt.protocol;
    if (protocol === IPPROTO_TCP) return pkt;
    if (protocol === IPPROTO_UDP) {
      // Only TCP reads a sparse frame's bytes on demand.
      loadAll(pkt.frame);
      return pkt;
    }
    this.stats.otherProtocol++;
    return null;
  }

  private malformed(frame: Frame, reason: string): void {
    this.stats.malformed++;
    if (this.malformedReported >= MAX_MALFORMED_DIAGNOSTICS) return;
    this.malformedReported++;
    const more =
      this.malformedReported === MAX_MALFORMED_DIAGNOSTICS
        ? ` (further malformed packets are counted, not reported)`
        : '';
    this.diag.report({
      severity: 'warning',
      code: 'malformed-ip',
      file: this.fileName(frame.fileIndex),
      frame: frame.number,
      message: `${reason}; packet skipped${more}`,
    });
  }

  private unknownLinkType(frame: Frame): void {
    this.stats.unknownLinkType++;
    const linkType = frame.linkType;
    if (this.warnedLinkTypes.has(linkType)) return;
    this.warnedLinkTypes.add(linkType);
    this.diag.report({
      severity: 'warning',
      code: 'unknown-linktype',
      file: this.fileName(frame.fileIndex),
      frame: frame.number,
      message: `link type ${linkType} is not supported; its frames are skipped (counted)`,
    });
  }
}

/** Capture time in seconds (double: sub-microsecond precision is plenty for a 30 s timeout). */
function captureTime(frame: Frame): number {
  return frame.tsSec + frame.tsNsec * 1e-9;
}
