/**
 * What a detector reports, and the one small interface every detector
 * implements. Each detector is its own module under src/detectors/, with
 * its own tests (a generated capture reproducing the incident, and a clean
 * capture that must give no finding of its kind).
 */
import type { FrameRef } from '../capture/frame.js';
import type { Transaction } from '../rpc/transaction.js';
import type { TcpEvent } from '../transport/stream.js';

export type FindingSeverity = 'info' | 'warning' | 'error';

/** A frame to look at in Wireshark, and why. */
export interface EvidenceFrame {
  file: string;
  /** Frame number, 1-based per file, as Wireshark numbers it. */
  frame: number;
  /** ISO 8601 UTC time of the frame. */
  time: string;
  /** What this frame shows, in a few words ("OPEN → NFS4ERR_GRACE", "server retransmission"). */
  what: string;
}

export interface Finding {
  /** The detector's kind, e.g. `grace-period`. */
  kind: string;
  severity: FindingSeverity;
  /** One line. */
  title: string;
  /** Plain words: what happened, the likely cause, what to check next. */
  explanation: string;
  client?: string;
  server?: string;
  clientid?: string;
  sessionid?: string;
  /** The file concerned: its path where known, else its file handle. */
  file?: string;
  /** ISO 8601 UTC times of the first and last evidence. */
  start: string;
  end: string;
  durationSeconds: number;
  /** How many occurrences the finding covers (replies, episodes, calls…). */
  count: number;
  /** The first, the last and the key frames; at most MAX_EVIDENCE. */
  evidence: EvidenceFrame[];
  /** Numbers that back the finding (intervals, counts, latencies…), named. */
  metrics: Record<string, number | string | number[] | string[]>;
}

/** Evidence frames kept per finding. */
export const MAX_EVIDENCE = 20;

/** What detectors are given to name things. */
export interface DetectorContext {
  /** The input file name of a frame's fileIndex. */
  fileName(fileIndex: number): string;
  /** The path of a file handle (lowercase hex) where the capture named it. */
  pathOf?(fh: string): string | undefined;
}

/** A file for a finding: its path where known, else its file handle. */
export function fileLabel(ctx: DetectorContext, fhOrPath: string): string {
  return ctx.pathOf?.(fhOrPath) ?? fhOrPath;
}

/**
 * A detector: fed transactions (answered ones as their reply completes,
 * unanswered ones at the end of the capture) and TCP events, in capture
 * order; asked for its findings once at the end. It keeps bounded state:
 * no per-call history beyond what its pattern needs.
 */
export interface Detector {
  readonly kind: string;
  onTransaction?(t: Transaction): void;
  onUnanswered?(t: Transaction): void;
  onTcpEvent?(e: TcpEvent): void;
  finish(): Finding[];
}

/** Options detectors may read (thresholds); each detector documents its own keys and defaults. */
export type DetectorOptions = Record<string, number | undefined>;

/** Builds an evidence entry for a frame. */
export function evidence(ctx: DetectorContext, at: FrameRef, what: string, formatTime: (f: FrameRef) => string): EvidenceFrame {
  return { file: ctx.fileName(at.fileIndex), frame: at.number, time: formatTime(at), what };
}
