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
  first: FrameRef | undefined;
  last: FrameRef | undefined;
  /** Frames earlier than the frame before them, the largest such step back (seconds), and the first. */
  timeBackwards = 0;
  timeBackwardsMaxSeconds = 0;
  timeBackwardsFirst: FrameRef | undefined;
  readonly tcpEvents = new Map<TcpEventKind, number>();
  readonly refused: RefusedConnection[] = [];
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
    if (last === undefined) this.last = snapshotFrameRef(f);
    else {
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

  private wentBackwards(f: Frame, last: FrameRef): void {
    const step = last.tsSec - f.tsSec + (last.tsNsec - f.tsNsec) / 1e9;
    this.timeBackwards++;
    if (step > this.timeBackwardsMaxSeconds) this.timeBackwardsMaxSeconds = step;
    this.timeBackwardsFirst ??= snapshotFrameRef(f);
  }

  tcpEvent(e: TcpEvent): void {
    this.tcpEvents.set(e.kind, (this.tcpEvents.get(e.kind) ?? 0) + 1);
    if (e.kind === 'refused') {
      // The RST travels from the refusing server to the client that sent the SYN.
      const from = e.direction === 0 ? e.conn.a : e.conn.b;
      const to = e.direction === 0 ? e.conn.b : e.conn.a;
      this.refused.push({ at: snapshotFrameRef(e.at), client: formatEndpoint(to), server: formatEndpoint(from) });
    }
  }
}
