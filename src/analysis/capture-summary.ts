/**
 * Counts what the capture holds below the RPC layer that the layers
 * themselves do not: frames, bytes and time span, and the TCP events
 * (refused connections listed with their frames).
 */
import { assignFrameRef, snapshotFrameRef, type Frame, type FrameRef } from '../capture/frame.js';
import { formatEndpoint, type TcpEvent, type TcpEventKind } from '../transport/stream.js';

export interface RefusedConnection {
  /** Frame of the RST that refused the connection. */
  at: FrameRef;
  client: string;
  server: string;
}

/** A pause of the whole capture: no frame at all between two frames in time order. */
export interface CaptureSilence {
  /** The latest frame before the pause, and the frame that ended it. */
  from: FrameRef;
  to: FrameRef;
  seconds: number;
  /**
   * What TCP's own timers made of the frame that ended the pause, if
   * anything: a SYN (a reconnect after a backoff, up to 5 minutes on Linux),
   * a retransmission or a keep-alive. Such a pause was lived, not lost.
   */
  endedBy: TcpEventKind | undefined;
}

/** TCP events that say a pause ended by a host's timer, not by the capture resuming. */
const TIMER_EVENTS: ReadonlySet<TcpEventKind> = new Set<TcpEventKind>(['connection-start', 'port-reuse', 'retransmission', 'keep-alive', 'refused']);

/**
 * Refused connections listed (the first ones), the rest only counted: a
 * SYN flood or a port scan answered by RSTs refuses hundreds of thousands
 * (1,000,000 refused SYNs held 918 MB of peak RSS, docs/memory.md).
 */
export const REFUSED_LISTED = 100;

/** Pauses of the whole capture this long or longer are remembered (the latest SILENCES_KEPT of them). */
export const SILENCE_SECONDS = 60;
const SILENCES_KEPT = 256;

/** One input file's frames in time: its first and last, and the longest pause between two of its frames. */
export interface FileSpan {
  first: FrameRef;
  last: FrameRef;
  maxPauseSeconds: number;
}

export class CaptureSummary {
  frames = 0;
  capturedBytes = 0;
  wireBytes = 0;
  /** Frames whose captured length is less than their wire length. */
  framesCutBySnaplen = 0;
  /** The first and last frames read (in file order). */
  first: FrameRef | undefined;
  last: FrameRef | undefined;
  /** The earliest and latest frames by time: the first and last unless time goes backwards. */
  earliest: FrameRef | undefined;
  latest: FrameRef | undefined;
  /** The latest pauses of SILENCE_SECONDS or more, oldest first (a ring: `silenceCount` in all). */
  private readonly silences: CaptureSilence[] = [];
  silenceCount = 0;
  /** Frames earlier than the frame before them, the largest such step back (seconds), and the first. */
  timeBackwards = 0;
  timeBackwardsMaxSeconds = 0;
  timeBackwardsFirst: FrameRef | undefined;
  readonly tcpEvents = new Map<TcpEventKind, number>();
  /** The first REFUSED_LISTED refused connections; `refusedNotListed` counts the rest. */
  readonly refused: RefusedConnection[] = [];
  refusedNotListed = 0;
  /** Per input file (by file index): its span, for the checks between the files of a rotated set. */
  readonly fileSpans: (FileSpan | undefined)[] = [];

  /** Called for every frame, before any decoding. */
  frame(f: Frame): void {
    this.frames++;
    const captured = f.end - f.start;
    this.capturedBytes += captured;
    this.wireBytes += f.origLen;
    if (captured < f.origLen) this.framesCutBySnaplen++;
    if (this.first === undefined) this.first = snapshotFrameRef(f);
    const last = this.last;
    if (last === undefined) {
      this.last = snapshotFrameRef(f);
      this.earliest = snapshotFrameRef(f);
      this.latest = snapshotFrameRef(f);
    } else {
      const latest = this.latest!;
      if (f.tsSec > latest.tsSec || (f.tsSec === latest.tsSec && f.tsNsec >= latest.tsNsec)) {
        if (f.tsSec - latest.tsSec >= SILENCE_SECONDS) this.silent(latest, f);
        assignFrameRef(latest, f);
      }
      const earliest = this.earliest!;
      if (f.tsSec < earliest.tsSec || (f.tsSec === earliest.tsSec && f.tsNsec < earliest.tsNsec)) assignFrameRef(earliest, f);
      if (f.tsSec < last.tsSec || (f.tsSec === last.tsSec && f.tsNsec < last.tsNsec)) this.wentBackwards(f, last);
      else if (last.fileIndex === f.fileIndex) {
        const pause = f.tsSec - last.tsSec + (f.tsNsec - last.tsNsec) / 1e9;
        const span = this.fileSpans[f.fileIndex]!;
        if (pause > span.maxPauseSeconds) span.maxPauseSeconds = pause;
      }
      assignFrameRef(last, f);
    }
    const span = this.fileSpans[f.fileIndex];
    if (span === undefined) this.fileSpans[f.fileIndex] = { first: snapshotFrameRef(f), last: snapshotFrameRef(f), maxPauseSeconds: 0 };
    else assignFrameRef(span.last, f);
  }

  /**
   * The longest pause of the whole capture within [from, to] (by time),
   * among the latest remembered, that no TCP timer ended (`endedBy`).
   */
  longestSilenceWithin(from: FrameRef, to: FrameRef): CaptureSilence | undefined {
    const a = from.tsSec + from.tsNsec / 1e9;
    const b = to.tsSec + to.tsNsec / 1e9;
    let best: CaptureSilence | undefined;
    for (const s of this.silences) {
      if (s.endedBy === undefined && s.from.tsSec + s.from.tsNsec / 1e9 >= a && s.to.tsSec + s.to.tsNsec / 1e9 <= b && (best === undefined || s.seconds > best.seconds)) best = s;
    }
    return best;
  }

  private silent(latest: FrameRef, f: Frame): void {
    const seconds = f.tsSec - latest.tsSec + (f.tsNsec - latest.tsNsec) / 1e9;
    if (seconds < SILENCE_SECONDS) return;
    const s: CaptureSilence = { from: snapshotFrameRef(latest), to: snapshotFrameRef(f), seconds, endedBy: undefined };
    if (this.silences.length === SILENCES_KEPT) this.silences.shift();
    this.silences.push(s);
    this.silenceCount++;
  }

  private wentBackwards(f: Frame, last: FrameRef): void {
    const step = last.tsSec - f.tsSec + (last.tsNsec - f.tsNsec) / 1e9;
    this.timeBackwards++;
    if (step > this.timeBackwardsMaxSeconds) this.timeBackwardsMaxSeconds = step;
    this.timeBackwardsFirst ??= snapshotFrameRef(f);
  }

  tcpEvent(e: TcpEvent): void {
    this.tcpEvents.set(e.kind, (this.tcpEvents.get(e.kind) ?? 0) + 1);
    if (TIMER_EVENTS.has(e.kind)) {
      const last = this.silences[this.silences.length - 1];
      // The frame's events come after the frame itself: the latest pause is the one it may have ended.
      if (last !== undefined && last.endedBy === undefined && last.to.fileIndex === e.at.fileIndex && last.to.number === e.at.number) last.endedBy = e.kind;
    }
    if (e.kind === 'refused') {
      if (this.refused.length >= REFUSED_LISTED) {
        this.refusedNotListed++;
        return;
      }
      // The RST travels from the refusing server to the client that sent the SYN.
      const from = e.direction === 0 ? e.conn.a : e.conn.b;
      const to = e.direction === 0 ? e.conn.b : e.conn.a;
      this.refused.push({ at: snapshotFrameRef(e.at), client: formatEndpoint(to), server: formatEndpoint(from) });
    }
  }
}
