/**
 * TCP sequence analysis the way Wireshark 4.0 does it
 * (epan/dissectors/packet-tcp.c: tcp_analyze_sequence_number, and the
 * initial-RTT bookkeeping in dissect_tcp), so that the retransmissions,
 * out-of-order segments, lost segments, zero windows and duplicate ACKs
 * nfsight counts are the frames tshark flags `tcp.analysis.*`.
 *
 * It works on the header fields of each segment, in capture order, before
 * and independently of stream delivery (tcp-reassembly.ts): a segment is
 * judged by what was seen before it, never by what comes after. The state
 * is one {@link TcpFlowAnalysis} per direction and the initial RTT of the
 * connection (Wireshark's conversation), {@link TcpRttState}; TCP
 * reassembly keeps them in its own per-direction and per-connection objects
 * (no object of the analysis's own per connection). {@link classifySegment}
 * returns the flags of one segment as a bit mask: nothing is allocated per
 * segment. {@link TcpAnalysis} holds the state of one connection in one
 * object.
 *
 * The rules, per segment of direction "fwd" (the peer direction is "rev");
 * `nextSeq` is the highest sequence number + 1 seen from fwd (SYN and FIN
 * count one), 0 meaning "none yet" (Wireshark's convention, 0 included);
 * `lastAck`/`window` are those of fwd's previous segment, whatever its flags:
 *  - zero window probe: 1 byte at nextSeq while rev's last window was 0
 *    (skips the checks down to duplicate ACK, and does not advance nextSeq);
 *  - zero window: window field 0, no SYN/FIN/RST;
 *  - lost segment ("previous segment not captured"): seq beyond nextSeq, no RST;
 *  - keep-alive: 0 or 1 byte at nextSeq - 1, no SYN/FIN/RST;
 *  - window update: no data, seq = nextSeq, ack = lastAck, a new non-zero window;
 *  - keep-alive ACK / zero window probe ACK: the repeated ACK answering one
 *    (not a duplicate ACK then);
 *  - duplicate ACK: no data, no SYN/FIN/RST, seq = nextSeq, ack = lastAck,
 *    window non-zero and unchanged; counted until the ACK number changes;
 *  - ACKed lost segment ("ACKed segment that wasn't captured"): ACK flag
 *    and an ACK number beyond `maxSeqToBeAcked`, the end of the contiguous
 *    sequence space seen from rev. Flagged when rev sent beyond that bound
 *    (the bound then moves to rev's nextSeq); when it did not, flagged only
 *    if rev's duplicate-ACK count is 0, which it then sets to -1 ("already
 *    reported", until rev's ACK number changes). Wireshark's counter is
 *    unsigned, so that -1 also passes the ">= 2 duplicate ACKs" test of a
 *    fast retransmission;
 *  - segments with data, SYN or FIN, not keep-alives, in this order:
 *     - spurious retransmission: data all already ACKed by rev (whether or
 *       not it is below nextSeq);
 *    then, for a seq below nextSeq ("not advanced"; except a segment of more
 *    than one byte at nextSeq - 1, after a keep-alive or a probe):
 *     - fast retransmission: rev sent >= 2 duplicate ACKs of this seq, the
 *       last one less than 20 ms ago;
 *     - out-of-order: less than the out-of-order threshold since nextSeq
 *       last advanced (the initial RTT, SYN to the first segment with ACK
 *       and without SYN, when the handshake was seen; else 3 ms), and the
 *       segment (SYN/FIN counting one) does not end exactly at nextSeq;
 *     - retransmission: otherwise.
 *    Fast and spurious retransmissions also carry Wireshark's
 *    `tcp.analysis.retransmission`; {@link TA_ANY_RETRANSMISSION} covers the three.
 *
 * Windows are compared raw (unscaled), as Wireshark's analysis sees them.
 * The rules were checked frame by frame against tshark 4.0.17 on real and
 * on randomly generated sessions (losses, repeats, keep-alives, zero
 * windows, FIN/RST, timing around the thresholds).
 *
 * Not reproduced: window full (needs the window scale), and the cap of
 * 10000 unacknowledged segments per direction past which Wireshark stops
 * counting SYN/FIN in nextSeq (it would take a list of unacked segments).
 * Timestamps are compared as Wireshark does, in unsigned nanoseconds: a
 * segment earlier than the reference (time going backwards) is "long after".
 */

/** Wireshark's TCP_A_* bits (packet-tcp.h); window full (0x0400 there) is not computed. */
export const TA_RETRANSMISSION = 0x0001;
export const TA_LOST_PACKET = 0x0002;
export const TA_ACK_LOST_PACKET = 0x0004;
export const TA_KEEP_ALIVE = 0x0008;
export const TA_DUPLICATE_ACK = 0x0010;
export const TA_ZERO_WINDOW = 0x0020;
export const TA_ZERO_WINDOW_PROBE = 0x0040;
export const TA_ZERO_WINDOW_PROBE_ACK = 0x0080;
export const TA_KEEP_ALIVE_ACK = 0x0100;
export const TA_OUT_OF_ORDER = 0x0200;
export const TA_FAST_RETRANSMISSION = 0x0400;
export const TA_WINDOW_UPDATE = 0x0800;
export const TA_SPURIOUS_RETRANSMISSION = 0x4000;
/** The segments Wireshark flags `tcp.analysis.retransmission`. */
export const TA_ANY_RETRANSMISSION = TA_RETRANSMISSION | TA_FAST_RETRANSMISSION | TA_SPURIOUS_RETRANSMISSION;

// Flag bits of the TCP header (tcp-header.ts has the same values).
const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

/** Out-of-order threshold without a measured initial RTT: 3 ms. */
const DEFAULT_OOO_THRESHOLD_NS = 3_000_000;
/** A fast retransmission comes within 20 ms of the last duplicate ACK. */
const FAST_RETRANSMISSION_NS = 20_000_000;

/** a > b in 32-bit sequence space. */
function gtSeq(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

/** a < b in 32-bit sequence space. */
function ltSeq(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a <= b in 32-bit sequence space. */
function leSeq(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/**
 * Nanoseconds from (s0, n0) to (s1, n1) as Wireshark's guint64 arithmetic
 * sees it: a negative difference is huge.
 */
function elapsedNs(s1: number, n1: number, s0: number, n0: number): number {
  const t = (s1 - s0) * 1e9 + (n1 - n0);
  return t < 0 ? Infinity : t;
}

/** What the analysis remembers of one direction (Wireshark's tcp_analyze_seq_flow_info_t and tcp_flow_t). */
export class TcpFlowAnalysis {
  /** Highest sequence number seen + 1 (SYN/FIN count one); 0 = unknown. */
  nextSeq = 0;
  /** Capture time when nextSeq last advanced. */
  nextSeqSec = 0;
  nextSeqNsec = 0;
  /** End of the contiguous sequence space seen (for "ACKed segment that wasn't captured"); 0 = unknown. */
  maxSeqToBeAcked = 0;
  /** ACK number of the previous segment (whether or not it had the ACK flag). */
  lastAck = 0;
  lastAckSec = 0;
  lastAckNsec = 0;
  /** Raw window field of the previous segment; -1 before the first. */
  window = -1;
  /** Duplicate ACKs in a row with the current ACK number; -1 once the peer was flagged for ACKing unseen data. */
  dupAckNum = 0;
  /** TA_* flags of the previous segment. */
  lastSegmentFlags = 0;

  /** Copies another direction's state (used to swap directions). */
  copyFrom(o: TcpFlowAnalysis): void {
    this.nextSeq = o.nextSeq;
    this.nextSeqSec = o.nextSeqSec;
    this.nextSeqNsec = o.nextSeqNsec;
    this.maxSeqToBeAcked = o.maxSeqToBeAcked;
    this.lastAck = o.lastAck;
    this.lastAckSec = o.lastAckSec;
    this.lastAckNsec = o.lastAckNsec;
    this.window = o.window;
    this.dupAckNum = o.dupAckNum;
    this.lastSegmentFlags = o.lastSegmentFlags;
  }
}

/** What the analysis remembers of a connection besides its two directions: its initial RTT. */
export interface TcpRttState {
  /** Time of the most recent SYN without ACK; 0/0 = none. */
  mruSynSec: number;
  mruSynNsec: number;
  /** Initial RTT in nanoseconds; 0 = not known (then the threshold is 3 ms). */
  firstRttNs: number;
}

/** Details of the last classified segment, for the events built from it (one object per reassembler, not per connection). */
export class SegmentDetails {
  /** TA_LOST_PACKET: bytes skipped (seq - previous nextSeq), and the sequence number where they start. */
  lostBytes = 0;
  lostFromSeq = 0;
  /** TA_ACK_LOST_PACKET: bytes ACKed but never seen, and the sequence number (peer's) where they start. */
  ackLostBytes = 0;
  ackLostFromSeq = 0;
}

/** The initial RTT when known, else 3 ms (a negative RTT is huge, as in Wireshark's unsigned arithmetic). */
export function outOfOrderThresholdNs(c: TcpRttState): number {
  const rtt = c.firstRttNs;
  return rtt === 0 ? DEFAULT_OOO_THRESHOLD_NS : rtt < 0 ? Infinity : rtt;
}

/**
 * Classifies one segment of direction `fwd` (the peer direction is `rev`)
 * of the connection whose RTT state is `c`, and records it; the details of
 * lost and ACKed-lost segments go to `d`. `seq`/`ack` are unsigned 32-bit,
 * `seglen` the payload length on the wire (captured or not), `flags` the TCP
 * flag bits, `window` the raw window field, (`tsSec`, `tsNsec`) the capture
 * time. Returns the TA_* bits. The state lives in the caller's objects (TCP
 * reassembly keeps it in its per-direction objects: the analysis has no
 * object of its own per connection).
 */
export function classifySegment(
  c: TcpRttState, fwd: TcpFlowAnalysis, rev: TcpFlowAnalysis, d: SegmentDetails,
  seq: number, ack: number, seglen: number, flags: number, window: number, tsSec: number, tsNsec: number,
): number {
  // Sequence numbers are kept as signed 32-bit integers (V8 small
  // integers: an unsigned one above 2^31 takes a heap number per field);
  // the comparisons are modulo 2^32 either way.
  seq |= 0;
  ack |= 0;
  const synFinRst = (flags & (SYN | FIN | RST)) !== 0;
  let ta = 0;

  checks: {
    // ZERO WINDOW PROBE: one byte at nextSeq while the peer's window is closed.
    if (seglen === 1 && seq === fwd.nextSeq && rev.window === 0) {
      ta |= TA_ZERO_WINDOW_PROBE;
      break checks;
    }
    // ZERO WINDOW
    if (window === 0 && !synFinRst) ta |= TA_ZERO_WINDOW;
    // LOST PACKET: beyond what should come next (only once something was seen).
    if (fwd.nextSeq !== 0 && gtSeq(seq, fwd.nextSeq) && (flags & RST) === 0) {
      ta |= TA_LOST_PACKET;
      d.lostBytes = (seq - fwd.nextSeq) >>> 0;
      d.lostFromSeq = fwd.nextSeq;
    }
    const prevSeq = (fwd.nextSeq - 1) | 0;
    // KEEP ALIVE: 0 or 1 byte one before nextSeq.
    if ((seglen === 0 || seglen === 1) && seq === prevSeq && !synFinRst) ta |= TA_KEEP_ALIVE;
    const sameAck = seglen === 0 && seq === fwd.nextSeq && ack === fwd.lastAck && !synFinRst;
    // WINDOW UPDATE
    if (sameAck && window !== 0 && window !== fwd.window) ta |= TA_WINDOW_UPDATE;
    // KEEP ALIVE ACK
    if (sameAck && window !== 0 && window === fwd.window && (rev.lastSegmentFlags & TA_KEEP_ALIVE) !== 0) {
      ta |= TA_KEEP_ALIVE_ACK;
      break checks;
    }
    // ZERO WINDOW PROBE ACK
    if (sameAck && window === 0 && fwd.window === 0 && (rev.lastSegmentFlags & TA_ZERO_WINDOW_PROBE) !== 0) {
      ta |= TA_ZERO_WINDOW_PROBE_ACK;
      break checks;
    }
    // DUPLICATE ACK (after -1, "ACKed unseen segment" reported, counting restarts at 1)
    if (sameAck && window !== 0 && window === fwd.window) {
      fwd.dupAckNum = fwd.dupAckNum === -1 ? 1 : fwd.dupAckNum + 1;
      ta |= TA_DUPLICATE_ACK;
    }
  }
  // A new ACK number resets the duplicate count.
  if (ack !== fwd.lastAck) fwd.dupAckNum = 0;

  // ACKED LOST PACKET: the peer ACKs what was never seen from it. When the
  // peer sent nothing beyond the bound since, reported once until the
  // peer's own ACK number changes (its dupAckNum back to 0; -1 = reported).
  if (rev.maxSeqToBeAcked !== 0 && gtSeq(ack, rev.maxSeqToBeAcked) && (flags & ACK) !== 0) {
    const from = rev.maxSeqToBeAcked;
    let flagged: boolean;
    if (rev.maxSeqToBeAcked !== rev.nextSeq) {
      rev.maxSeqToBeAcked = rev.nextSeq;
      flagged = true;
    } else {
      flagged = rev.dupAckNum === 0;
      rev.dupAckNum = -1;
    }
    if (flagged) {
      ta |= TA_ACK_LOST_PACKET;
      d.ackLostBytes = (ack - from) >>> 0;
      d.ackLostFromSeq = from;
    }
  }

  // SPURIOUS / FAST RETRANSMISSION / OUT-OF-ORDER / RETRANSMISSION
  const end = (seq + seglen) | 0;
  // Where the next segment should start.
  const nextSeq = (flags & (SYN | FIN)) !== 0 ? (end + 1) | 0 : end;
  if ((seglen > 0 || (flags & (SYN | FIN)) !== 0) && (ta & TA_KEEP_ALIVE) === 0) {
    let notAdvanced = fwd.nextSeq !== 0 && ltSeq(seq, fwd.nextSeq);
    // More than one byte at nextSeq - 1 (after a keep-alive or probe) brings new data.
    if (seglen > 1 && ((fwd.nextSeq - 1) | 0) === seq) notAdvanced = false;
    if (seglen > 0 && rev.lastAck !== 0 && leSeq(end, rev.lastAck)) {
      ta |= TA_SPURIOUS_RETRANSMISSION;
    } else if (
      // -1 is 0xffffffff in Wireshark's unsigned counter: >= 2.
      notAdvanced && (rev.dupAckNum >= 2 || rev.dupAckNum === -1) && rev.lastAck === seq &&
      elapsedNs(tsSec, tsNsec, rev.lastAckSec, rev.lastAckNsec) < FAST_RETRANSMISSION_NS
    ) {
      ta |= TA_FAST_RETRANSMISSION;
    } else if (
      notAdvanced &&
      elapsedNs(tsSec, tsNsec, fwd.nextSeqSec, fwd.nextSeqNsec) < outOfOrderThresholdNs(c) &&
      fwd.nextSeq !== nextSeq
    ) {
      ta |= TA_OUT_OF_ORDER;
    } else if (notAdvanced) {
      ta |= TA_RETRANSMISSION;
    }
  }

  if ((ta & TA_ZERO_WINDOW_PROBE) === 0) {
    if (gtSeq(nextSeq, fwd.nextSeq) || fwd.nextSeq === 0) {
      fwd.nextSeq = nextSeq;
      fwd.nextSeqSec = tsSec;
      fwd.nextSeqNsec = tsNsec;
    }
    if (seq === fwd.maxSeqToBeAcked || fwd.maxSeqToBeAcked === 0) fwd.maxSeqToBeAcked = fwd.nextSeq;
  }
  fwd.window = window;
  fwd.lastAck = ack;
  fwd.lastAckSec = tsSec;
  fwd.lastAckNsec = tsNsec;
  fwd.lastSegmentFlags = ta;

  // Initial RTT: from the latest SYN to the first segment with ACK and without SYN.
  if ((flags & (SYN | ACK)) === SYN) {
    c.mruSynSec = tsSec;
    c.mruSynNsec = tsNsec;
  } else if (
    (flags & (SYN | ACK)) === ACK && c.firstRttNs === 0 && (c.mruSynSec !== 0 || c.mruSynNsec !== 0)
  ) {
    c.firstRttNs = (tsSec - c.mruSynSec) * 1e9 + (tsNsec - c.mruSynNsec);
  }
  return ta;
}

/** The analysis of one connection (both directions, and its initial RTT) in one object of its own. */
export class TcpAnalysis extends SegmentDetails implements TcpRttState {
  readonly flows: [TcpFlowAnalysis, TcpFlowAnalysis] = [new TcpFlowAnalysis(), new TcpFlowAnalysis()];
  mruSynSec = 0;
  mruSynNsec = 0;
  firstRttNs = 0;

  /** The initial RTT when known, else 3 ms. */
  outOfOrderThresholdNs(): number {
    return outOfOrderThresholdNs(this);
  }

  /** Exchanges the two directions (when a connection is taken over with its sides the other way round). */
  swapDirections(): void {
    const tmp = new TcpFlowAnalysis();
    tmp.copyFrom(this.flows[0]);
    this.flows[0].copyFrom(this.flows[1]);
    this.flows[1].copyFrom(tmp);
  }

  /** Classifies one segment of direction `dir` and records it (see {@link classifySegment}). */
  classify(dir: 0 | 1, seq: number, ack: number, seglen: number, flags: number, window: number, tsSec: number, tsNsec: number): number {
    return classifySegment(this, this.flows[dir], this.flows[dir ^ 1]!, this, seq, ack, seglen, flags, window, tsSec, tsNsec);
  }
}
