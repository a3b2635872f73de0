/**
 * What the TCP layer showed on each connection, as episodes in time, shared
 * by the detectors that explain RPC behaviour by the transport (slow calls,
 * unanswered calls, network health, capture quality):
 *
 * - retransmission stalls: one segment (stream offset) sent again two or
 *   more times, nothing newer retransmitted in between: the peer did not
 *   acknowledge it (RTO backoff), with the intervals between the resends;
 * - zero-window episodes: from the first zero-window advertisement of a side
 *   to the segment reopening its window (or the connection's end): that side
 *   stopped reading;
 * - capture gaps: bytes of a stream the capture never saw (the peer ACKed
 *   them, or they were given up at a FIN / overflow), gaps less than a
 *   second apart merged. Snaplen cuts are counted apart, not as gaps.
 *
 * Each episode counts the RPC calls whose latency (call → reply, or call →
 * the connection's end for an unanswered one) overlaps it, and keeps the
 * slowest. Per connection and direction it also counts every TCP event
 * kind, for rates.
 *
 * Bounded: at most `maxConnections` connections (least recently active
 * evicted), MAX_EPISODES episodes per connection (the oldest dropped and
 * counted), and per pair of addresses at most MAX_GAP_SPANS spans of
 * capture loss (the closest merged when full).
 */
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { LruMap } from '../memory/lru.js';
import { appended, NO_ITEMS } from '../memory/small-lists.js';
import type { OrphanReply, Transaction } from '../rpc/transaction.js';
import type { Direction, Endpoint, TcpConnection, TcpEvent } from '../transport/stream.js';
import { FrameSeries, directionFrom, frameCompare, operationOf, round, secondsFrom } from './transport-common.js';
import { DEFAULT_ENTITY_BOUND } from '../memory/entity-bound.js';

/** Episodes kept per connection. */
export const MAX_EPISODES = 32;
/** Retransmission intervals kept per stall. */
export const MAX_INTERVALS = 16;
/**
 * After a stall of at least this long, retransmissions closer than this to
 * the previous one are its recovery (go-back-N), not new losses.
 */
const RECOVERY_SECONDS = 1;
/** Recent retransmission frames kept per direction (allocated at the first one). */
const RECENT_RESENDS = 32;
/** Spans of capture loss kept per pair of addresses. */
export const MAX_GAP_SPANS = 64;
/** Gaps closer than this (seconds) make one capture-gap episode. */
const GAP_MERGE_SECONDS = 1;
/** Address pairs followed for capture loss. */
/** Ports that carry NFS and its side protocols when no call says which side is the server. */
const SERVICE_PORTS = new Set([2049, 111, 20048, 20049, 4045]);

export type EpisodeKind = 'retransmission-stall' | 'zero-window' | 'capture-gap';

/** The slowest call overlapping an episode. */
export interface OverlappingCall {
  xid: number;
  op: string;
  call: FrameRef;
  /** Undefined for a call never answered. */
  reply: FrameRef | undefined;
  /** Seconds from the call's first segment to its reply (or, unanswered, to the end it waited until). */
  seconds: number;
}

export interface TransportEpisode {
  kind: EpisodeKind;
  connId: number;
  /**
   * The direction concerned: the sender of the resent segment (stall), the
   * side advertising the zero window (zero-window), the stream the bytes are
   * missing from (capture-gap).
   */
  dir: Direction;
  start: FrameRef;
  end: FrameRef;
  /** Nothing has ended it yet (a zero window still closed, the current stall). */
  open: boolean;
  /** Resends of the segment (stall), zero-window segments, gaps. */
  count: number;
  /** Bytes missing (capture-gap); segment length (stall). */
  bytes: number;
  /** Stream offset of the resent segment (stall), of the first gap. */
  offset: number;
  /** Seconds between consecutive resends (stall), the first MAX_INTERVALS. */
  intervals: number[];
  /** The first frames of the episode and its last. */
  frames: FrameSeries;
  /** Calls whose latency overlaps the episode. */
  calls: number;
  worst: OverlappingCall | undefined;
  /** A stall never resolved: the data was still unacknowledged when the connection (or capture) ended, `end`. */
  unresolved?: boolean;
}


/** Every TCP event kind counted for one direction of a connection. */
export class DirectionCounters {
  retransmissions = 0;
  retransmittedBytes = 0;
  /** Retransmissions of a segment already resent (the repeats of an RTO backoff series): not new losses. */
  repeatedResends = 0;
  /** Whether the last retransmission was such a repeat, or part of the recovery right after a stall. */
  lastWasRepeat = false;
  /** Recovering from a stall: retransmissions following each other within RECOVERY_SECONDS. */
  recovering = false;
  lastResend: FrameRef | undefined;
  /** The last RECENT_RESENDS retransmission frames, oldest first (none until the first). */
  recentResends: FrameRef[] | undefined;
  fastRetransmissions = 0;
  spuriousRetransmissions = 0;
  outOfOrder = 0;
  lostSegments = 0;
  lostBytes = 0;
  /** ACKs (sent by the peer) of bytes of this direction the capture never saw. */
  ackedUnseen = 0;
  ackedUnseenBytes = 0;
  /** Duplicate ACKs sent by this direction. */
  dupAcks = 0;
  /** Zero-window segments sent by this direction. */
  zeroWindows = 0;
  gaps = 0;
  gapBytes = 0;
  snaplenGaps = 0;
  snaplenGapBytes = 0;
  keepAlives = 0;
  unackedBytes = 0;
  fin: FrameRef | undefined;
  rst: FrameRef | undefined;
}

/** The counts of a direction that has had no event: all zero, never added to (a write throws). */
const NO_COUNTERS: DirectionCounters = Object.freeze(new DirectionCounters());

/** One connection's timeline. */
export class ConnectionTimeline {
  /**
   * The counts of each direction: NO_COUNTERS (all zero, frozen) until the
   * direction's first event (`countersOf`). A hostile capture's connections
   * often see events one way only, and the pair was 412 bytes of each of
   * its 10,000 timelines.
   */
  readonly counters: [DirectionCounters, DirectionCounters] = [NO_COUNTERS, NO_COUNTERS];
  /** The episodes, oldest first (at most MAX_EPISODES; older ones dropped). */
  episodes: TransportEpisode[] = [];
  droppedEpisodes = 0;
  /**
   * What the dropped episodes held, per kind: how many, their seconds, the
   * calls overlapping them (made at the first drop: most connections never
   * drop one).
   */
  dropped: Record<EpisodeKind, { count: number; seconds: number; calls: number }> | undefined;
  /** The direction the RPC client sends in, once known (from a call, else guessed). */
  clientDir: Direction | undefined;
  /** The connection's end ('connection-end'), once seen. */
  ended: FrameRef | undefined;
  lastSeen: FrameRef;
  /** RPC calls seen on the connection (answered or not), and replies. */
  calls = 0;
  answered = 0;
  orphanReplies = 0;
  // Per direction, as fields rather than pairs: a hostile capture keeps
  // 10,000 timelines, and three pairs were 190 bytes of each.
  /** The current retransmission series of each direction (an episode once resent twice). */
  private series0: TransportEpisode | undefined = undefined;
  private series1: TransportEpisode | undefined = undefined;
  /** The zero-window episode open in each direction. */
  private zeroWindow0: TransportEpisode | undefined = undefined;
  private zeroWindow1: TransportEpisode | undefined = undefined;
  /** The last capture-gap episode of each direction (later gaps within GAP_MERGE_SECONDS join it). */
  private lastGap0: TransportEpisode | undefined = undefined;
  private lastGap1: TransportEpisode | undefined = undefined;

  constructor(public conn: TcpConnection) {
    this.lastSeen = snapshotFrameRef(conn.firstFrame);
  }

  /** Whether it holds anything the detectors judge: an episode, or loss, reordering, zero windows or capture gaps in either direction. */
  hasTrouble(): boolean {
    if (this.episodes.length > 0 || this.droppedEpisodes > 0) return true;
    for (const k of this.counters) if (k.retransmissions + k.lostSegments + k.outOfOrder + k.zeroWindows + k.gaps + k.ackedUnseen > 0) return true;
    return false;
  }

  /** The direction of the RPC client: learnt from calls; else the SYN sender, else the side not on a service port. */
  clientDirection(): Direction {
    if (this.clientDir !== undefined) return this.clientDir;
    const { a, b } = this.conn;
    if (SERVICE_PORTS.has(b.port) && !SERVICE_PORTS.has(a.port)) return 0;
    if (SERVICE_PORTS.has(a.port) && !SERVICE_PORTS.has(b.port)) return 1;
    if (!this.conn.midstream) return 0;
    return a.port >= b.port ? 0 : 1;
  }

  client(): Endpoint {
    return this.clientDirection() === 0 ? this.conn.a : this.conn.b;
  }

  server(): Endpoint {
    return this.clientDirection() === 0 ? this.conn.b : this.conn.a;
  }

  /** The counts of a direction, to be added to (made at its first event). */
  private countersOf(d: Direction): DirectionCounters {
    const c = this.counters[d];
    return c !== NO_COUNTERS ? c : (this.counters[d] = new DirectionCounters());
  }

  private seriesOf(d: Direction): TransportEpisode | undefined {
    return d === 0 ? this.series0 : this.series1;
  }

  private setSeries(d: Direction, ep: TransportEpisode | undefined): void {
    if (d === 0) this.series0 = ep;
    else this.series1 = ep;
  }

  private zeroWindowOf(d: Direction): TransportEpisode | undefined {
    return d === 0 ? this.zeroWindow0 : this.zeroWindow1;
  }

  private setZeroWindow(d: Direction, ep: TransportEpisode | undefined): void {
    if (d === 0) this.zeroWindow0 = ep;
    else this.zeroWindow1 = ep;
  }

  private push(ep: TransportEpisode): void {
    this.episodes = appended(this.episodes, ep);
    if (this.episodes.length > MAX_EPISODES) {
      const old = this.episodes.shift()!;
      this.droppedEpisodes++;
      const d = (this.dropped ??= {
        'retransmission-stall': { count: 0, seconds: 0, calls: 0 },
        'zero-window': { count: 0, seconds: 0, calls: 0 },
        'capture-gap': { count: 0, seconds: 0, calls: 0 },
      })[old.kind];
      d.count++;
      d.seconds += Math.max(0, secondsFrom(old.start, old.end));
      d.calls += old.calls;
    }
  }

  private newEpisode(kind: EpisodeKind, e: TcpEvent, dir: Direction): TransportEpisode {
    const frames = new FrameSeries(4);
    frames.add(e.at);
    // Frame references are replaced, never changed in place: the episode's start and end, and its first frame, are one object.
    const at = frames.first[0]!;
    return {
      kind,
      connId: e.conn.id,
      dir,
      start: at,
      end: at,
      open: true,
      count: 1,
      bytes: e.bytes,
      offset: e.offset,
      // Shared while it has none (all episodes but stalls).
      intervals: NO_ITEMS,
      frames,
      calls: 0,
      worst: undefined,
    };
  }

  /** Feeds one TCP event of this connection. */
  event(e: TcpEvent): void {
    this.conn = e.conn;
    if (frameCompare(e.at, this.lastSeen) > 0) this.lastSeen = snapshotFrameRef(e.at);
    const d = e.direction;
    // Counts made for the direction of an event that adds to them (not its end, not an ACK of the peer's bytes).
    const c = e.kind === 'connection-end' || e.kind === 'ack-lost-segment' ? this.counters[d] : this.countersOf(d);
    switch (e.kind) {
      case 'retransmission':
        c.retransmissions++;
        c.retransmittedBytes += e.bytes;
        c.recentResends ??= [];
        c.recentResends.push(snapshotFrameRef(e.at));
        if (c.recentResends.length > RECENT_RESENDS) c.recentResends.shift();
        this.retransmission(e);
        break;
      case 'fast-retransmission':
        c.fastRetransmissions++;
        break;
      case 'spurious-retransmission':
        c.spuriousRetransmissions++;
        break;
      case 'out-of-order':
        c.outOfOrder++;
        break;
      case 'lost-segment':
        c.lostSegments++;
        c.lostBytes += e.bytes;
        break;
      case 'ack-lost-segment': {
        const peer = this.countersOf((d ^ 1) as Direction);
        peer.ackedUnseen++;
        peer.ackedUnseenBytes += e.bytes;
        break;
      }
      case 'dup-ack':
        c.dupAcks++;
        break;
      case 'keep-alive':
        c.keepAlives++;
        break;
      case 'zero-window': {
        c.zeroWindows++;
        const open = this.zeroWindowOf(d);
        if (open === undefined) {
          const ep = this.newEpisode('zero-window', e, d);
          this.setZeroWindow(d, ep);
          this.push(ep);
        } else {
          open.count++;
          open.end = snapshotFrameRef(e.at);
          open.frames.add(e.at);
        }
        break;
      }
      case 'window-reopened': {
        const open = this.zeroWindowOf(d);
        if (open !== undefined) {
          open.end = snapshotFrameRef(e.at);
          open.frames.add(e.at);
          open.open = false;
          this.setZeroWindow(d, undefined);
        }
        break;
      }
      case 'gap': {
        c.gaps++;
        c.gapBytes += e.bytes;
        const last = d === 0 ? this.lastGap0 : this.lastGap1;
        if (last !== undefined && secondsFrom(last.end, e.at) <= GAP_MERGE_SECONDS) {
          last.count++;
          last.bytes += e.bytes;
          last.end = snapshotFrameRef(e.at);
          last.frames.add(e.at);
        } else {
          const ep = this.newEpisode('capture-gap', e, d);
          ep.open = false;
          if (d === 0) this.lastGap0 = ep;
          else this.lastGap1 = ep;
          this.push(ep);
        }
        break;
      }
      case 'snaplen-gap':
        c.snaplenGaps++;
        c.snaplenGapBytes += e.bytes;
        break;
      case 'unacked-data':
        c.unackedBytes += e.bytes;
        break;
      case 'fin':
        c.fin ??= snapshotFrameRef(e.at);
        break;
      case 'rst':
        c.rst ??= snapshotFrameRef(e.at);
        break;
      case 'connection-end':
        this.ended = snapshotFrameRef(e.at);
        for (const dir of [0, 1] as const) {
          const z = this.zeroWindowOf(dir);
          if (z !== undefined) {
            z.end = snapshotFrameRef(e.at);
            z.open = false;
            this.setZeroWindow(dir, undefined);
          }
          const s = this.seriesOf(dir);
          if (s !== undefined) {
            // Still unacknowledged at the end (data left unacked): the stall lasted until then.
            if (s.count >= 2 && this.counters[dir].unackedBytes > 0 && frameCompare(e.at, s.end) > 0) {
              s.end = snapshotFrameRef(e.at);
              s.unresolved = true;
            }
            s.open = false;
          }
        }
        break;
      default:
        break;
    }
  }

  /** A retransmission: extends the direction's series when it resends the same (or older) data, else starts one. */
  private retransmission(e: TcpEvent): void {
    const d = e.direction;
    const s = this.seriesOf(d);
    const c = this.countersOf(d);
    const repeat = s !== undefined && (e.offset === s.offset || (e.offset >= 0 && e.offset < s.offset));
    // After a stall, the resends that follow at once are its recovery, not new losses.
    const soon = c.lastResend !== undefined && secondsFrom(c.lastResend, e.at) <= RECOVERY_SECONDS;
    const stalled = s !== undefined && s.count >= 2 && secondsFrom(s.start, s.end) >= RECOVERY_SECONDS;
    c.recovering = !repeat && soon && (c.recovering || stalled);
    c.lastWasRepeat = repeat || c.recovering;
    c.lastResend = snapshotFrameRef(e.at);
    if (c.lastWasRepeat) c.repeatedResends++;
    if (s !== undefined && repeat) {
      const interval = round(secondsFrom(s.end, e.at));
      if (s.intervals.length < MAX_INTERVALS) s.intervals = appended(s.intervals, interval);
      s.count++;
      s.end = snapshotFrameRef(e.at);
      s.frames.add(e.at);
      // Resent twice: the peer is not acknowledging it; from now on an episode.
      if (s.count === 2) this.push(s);
      return;
    }
    if (s !== undefined) s.open = false;
    this.setSeries(d, this.newEpisode('retransmission-stall', e, d));
  }

  /** A call on this connection answered (reply set) or never answered (`end`: how far it waited). */
  call(t: Transaction, end: FrameRef): void {
    const from = t.call.firstFrame;
    // From the call's first byte: a call held back by a zero window waited from then.
    const seconds = Math.max(0, secondsFrom(from, end));
    for (const ep of this.episodes) {
      if (frameCompare(ep.start, end) > 0) continue;
      if (!ep.open && frameCompare(ep.end, from) < 0) continue;
      ep.calls++;
      if (ep.worst === undefined || seconds > ep.worst.seconds) {
        ep.worst = { xid: t.xid, op: operationOf(t), call: snapshotFrameRef(t.call.frame), reply: t.reply ? snapshotFrameRef(t.reply.frame) : undefined, seconds: round(seconds) };
      }
    }
  }

  /**
   * Retransmissions of a direction within [from, to], counted among the
   * recent ones kept (`atLeast`: some may have been older than those kept).
   */
  resendsDuring(dir: Direction, from: FrameRef, to: FrameRef): { count: number; atLeast: boolean } {
    const r = this.counters[dir].recentResends;
    if (r === undefined) return { count: 0, atLeast: false };
    let count = 0;
    for (const f of r) if (frameCompare(f, from) >= 0 && frameCompare(f, to) <= 0) count++;
    return { count, atLeast: r.length === RECENT_RESENDS && frameCompare(r[0]!, from) >= 0 };
  }

  /** The episodes overlapping [from, to] (frames in capture order). */
  during(from: FrameRef, to: FrameRef): TransportEpisode[] {
    return this.episodes.filter((ep) => frameCompare(ep.start, to) <= 0 && (ep.open || frameCompare(ep.end, from) >= 0));
  }
}

/** A span of time in which bytes between two hosts were missing from the capture. */
export interface LossSpan {
  /** Seconds since the epoch. */
  from: number;
  to: number;
  bytes: number;
  gaps: number;
}

const seconds = (f: FrameRef): number => f.tsSec + f.tsNsec / 1e9;

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** The per-connection timelines, and the spans of capture loss per pair of hosts. */
export class TransportTimeline {
  /** Timelines of connections not ended yet, the least recently active first. */
  private readonly conns = new LruMap<number, ConnectionTimeline>();
  /**
   * Of ended connections (their 'connection-end' seen), kept for what comes
   * after (a straggler's analysis, a late transaction), the least recently
   * active first. They go first when there are too many: an ended one has
   * told the detectors what it had to (network-health folds it at its end),
   * a live one has not. With one list, 10,000 short connections opened and
   * closed during a 30 s stall pushed the stalled connection's timeline out,
   * and its unanswered READ and the stall went unreported.
   */
  private readonly ended = new LruMap<number, ConnectionTimeline>();
  private readonly loss = new LruMap<string, LossSpan[]>();
  /** Timelines of connections not ended let go (beyond maxConnections in all) that held something the detectors judge (hasTrouble). */
  evicted = 0;

  constructor(
    private readonly maxConnections = DEFAULT_ENTITY_BOUND,
    /** Client/server pairs whose loss is followed at most (the oldest forgotten). */
    private readonly maxGapPairs = DEFAULT_ENTITY_BOUND,
  ) {}

  /** Lets go of every timeline (the findings are made: DetectorSet.findings(true)). */
  release(): void {
    this.conns.clear();
    this.ended.clear();
    this.loss.clear();
  }

  private touch(conn: TcpConnection): ConnectionTimeline {
    let c = this.conns.touch(conn.id);
    if (c !== undefined) return c;
    c = this.ended.touch(conn.id);
    if (c !== undefined) return c;
    c = new ConnectionTimeline(conn);
    this.conns.set(conn.id, c);
    if (this.conns.size + this.ended.size > this.maxConnections) {
      if (this.ended.size > 0) this.ended.shift();
      else if (this.conns.shift()![1].hasTrouble()) this.evicted++;
    }
    return c;
  }

  get(connId: number): ConnectionTimeline | undefined {
    return connId < 0 ? undefined : (this.conns.get(connId) ?? this.ended.get(connId));
  }

  event(e: TcpEvent): void {
    if (e.kind === 'refused') return;
    // The end of a connection whose timeline was let go makes none: an empty one would only push out another.
    if (e.kind === 'connection-end' && this.get(e.conn.id) === undefined) return;
    const c = this.touch(e.conn);
    c.event(e);
    if (e.kind === 'connection-end' && this.conns.delete(e.conn.id)) this.ended.set(e.conn.id, c);
    if (e.kind === 'gap') this.noteLoss(e.conn.a.addr, e.conn.b.addr, e.at, e.bytes);
  }

  private timelineOf(t: Transaction): ConnectionTimeline | undefined {
    if (t.connId < 0) return undefined;
    let c = this.conns.touch(t.connId) ?? this.ended.touch(t.connId);
    // Not seen in any TCP event yet: named from the transaction until then.
    c ??= this.touch({ id: t.connId, a: t.client, b: t.server, midstream: true, firstFrame: t.call.firstFrame, segments: [0, 0], dataSegments: [0, 0] });
    if (c.clientDir === undefined) c.clientDir = directionFrom(c.conn, t.client);
    return c;
  }

  transaction(t: Transaction): void {
    const c = this.timelineOf(t);
    if (c === undefined || t.reply === undefined) return;
    c.calls++;
    c.answered++;
    if (frameCompare(t.reply.lastFrame, c.lastSeen) > 0) c.lastSeen = snapshotFrameRef(t.reply.lastFrame);
    c.call(t, t.reply.frame);
  }

  unanswered(t: Transaction, captureEnd: FrameRef | undefined): void {
    const c = this.timelineOf(t);
    if (c === undefined) return;
    c.calls++;
    c.call(t, c.ended ?? captureEnd ?? c.lastSeen);
  }

  orphanReply(r: OrphanReply): void {
    if (r.connId < 0) return;
    let c = this.get(r.connId);
    // Not seen in any TCP event yet: named from the reply until then (midstream: its call is not in the capture).
    if (c === undefined) c = this.touch({ id: r.connId, a: r.client, b: r.server, midstream: true, firstFrame: r.frame, segments: [0, 0], dataSegments: [0, 0] });
    if (c.clientDir === undefined) c.clientDir = directionFrom(c.conn, r.client);
    c.orphanReplies++;
  }

  private noteLoss(a: string, b: string, at: FrameRef, bytes: number): void {
    const key = pairKey(a, b);
    let spans = this.loss.get(key);
    const t = seconds(at);
    if (spans === undefined) {
      if (this.loss.size >= this.maxGapPairs) this.loss.shift();
      // A list of its own size: most pairs see one span (a push onto an empty list reserves 16 places).
      this.loss.set(key, [{ from: t, to: t, bytes, gaps: 1 }]);
      return;
    }
    const last = spans[spans.length - 1];
    if (last !== undefined && t - last.to <= GAP_MERGE_SECONDS && t >= last.from) {
      last.to = Math.max(last.to, t);
      last.bytes += bytes;
      last.gaps++;
      return;
    }
    spans.push({ from: t, to: t, bytes, gaps: 1 });
    if (spans.length > MAX_GAP_SPANS) {
      // Full: merge the two neighbours closest in time (the spans get coarser, never lost).
      let best = 0;
      for (let i = 1; i < spans.length - 1; i++) if (spans[i + 1]!.from - spans[i]!.to < spans[best + 1]!.from - spans[best]!.to) best = i;
      const x = spans[best]!;
      const y = spans[best + 1]!;
      spans.splice(best, 2, { from: Math.min(x.from, y.from), to: Math.max(x.to, y.to), bytes: x.bytes + y.bytes, gaps: x.gaps + y.gaps });
    }
  }

  /**
   * Capture loss between two hosts (or between any hosts, when `a`/`b` are
   * undefined) within [from, to] seconds since the epoch.
   */
  lossDuring(from: number, to: number, a?: string, b?: string): { bytes: number; gaps: number } {
    const lists = a !== undefined && b !== undefined ? [this.loss.get(pairKey(a, b)) ?? []] : [...this.loss.values()];
    let bytes = 0;
    let gaps = 0;
    for (const spans of lists) {
      for (const s of spans) {
        if (s.to < from || s.from > to) continue;
        bytes += s.bytes;
        gaps += s.gaps;
      }
    }
    return { bytes, gaps };
  }

}
