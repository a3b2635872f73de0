/**
 * What a detector reports, and the one small interface every detector
 * implements. Each detector is its own module under src/detectors/, with
 * its own tests (a generated capture reproducing the incident, and a clean
 * capture that must give no finding of its kind).
 */
import type { FrameRef } from '../capture/frame.js';
import type { CaptureSilence } from '../analysis/capture-summary.js';
import type { OrphanReply, Transaction } from '../rpc/transaction.js';
import type { TcpEvent } from '../transport/stream.js';
import type { TransportTimeline } from './transport-timeline.js';
import type { GroupBudget } from './group-budget.js';
import type { RdmaEvent } from '../transport/roce.js';

export type FindingSeverity = 'info' | 'warning' | 'error';

/**
 * How sure a finding is: `high` unless what it rests on may be incomplete
 * (bytes missing from the capture around it: `medium`; its key evidence
 * possibly in those bytes: `low`).
 */
export type FindingConfidence = 'high' | 'medium' | 'low';

/** What a finding cost the clients: for ranking (time blocked × calls affected). */
export interface FindingImpact {
  /** Seconds applications were held up (the longest wait, stall or blocked retry). */
  blockedSeconds: number;
  /** Calls affected (failed, delayed, unanswered). */
  calls: number;
}

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
  /** Numbers that back the finding (intervals, counts, latencies…), named. Never empty values. */
  metrics: Record<string, number | string | number[] | string[]>;
  /** Set by the detector set for every finding (`high` unless weakened). */
  confidence?: FindingConfidence;
  /** Why the confidence is not high, in one sentence (e.g. bytes missing from the capture). */
  caveat?: string;
  /** For ranking; when absent, durationSeconds × count stand in. */
  impact?: FindingImpact;
  /**
   * Set on a capture-quality finding that keeps nfsight from judging the
   * mount's health (no RPC traffic, one direction only, heavy capture loss):
   * what it could not judge, and why, in a few words.
   */
  limitsJudgement?: string;
}

/** Evidence frames kept per finding. */
export const MAX_EVIDENCE = 20;

/** What the layers below the detectors counted, for judging the capture itself (read at the end). */
export interface CaptureFacts {
  frames: number;
  tcpSegments: number;
  udpDatagrams: number;
  rpcCalls: number;
  rpcReplies: number;
  /** TCP connection directions and UDP datagrams that were not RPC. */
  nonRpcStreams: number;
  nonRpcDatagrams: number;
  framesCutBySnaplen: number;
  /** Stream bytes TCP reassembly delivered in order. */
  tcpDeliveredBytes: number;
  /** RPC messages the capture cut (snaplen or gaps). */
  truncatedMessages: number;
  /** RPC messages cut before their header was whole (no call or reply could be read), and the first one's frame. */
  rpcHeadersCut: number;
  rpcHeadersCutFirst: FrameRef | undefined;
  /** Stream bytes skipped to find the next RPC message, and how often. */
  resyncSkippedBytes: number;
  resyncs: number;
  /** Frames whose timestamp is earlier than the frame before, the largest step back (seconds) and the first such frame. */
  timeBackwards: number;
  timeBackwardsMaxSeconds: number;
  timeBackwardsFirst: FrameRef | undefined;
  /** IP packets the capture held twice (skipped before TCP), the first copy with the packet it copied, and the last copy. */
  packetCopies: number;
  firstPacketCopy: { copy: FrameRef; original: FrameRef } | undefined;
  lastPacketCopy: FrameRef | undefined;
  /** Replies stamped before their calls (left out of every latency figure), and the first one's reply frame. */
  repliesBeforeCall: number;
  firstReplyBeforeCall: FrameRef | undefined;
  first: FrameRef | undefined;
  last: FrameRef | undefined;
}

/** What detectors are given to name things, and the shared views of the layers below. */
export interface DetectorContext {
  /** The input file name of a frame's fileIndex. */
  fileName(fileIndex: number): string;
  /** The path of a file handle (lowercase hex) where the capture named it. */
  pathOf?(fh: string): string | undefined;
  /** Per-connection TCP episodes (set by the detector set, fed before the detectors). */
  timeline?: TransportTimeline;
  /** The capture's counts, read in finish(). */
  facts?(): CaptureFacts;
  /** The longest pause of the whole capture (no frame at all) of a minute or more between two frames, if any (capture-summary.ts). */
  silenceWithin?(from: FrameRef, to: FrameRef): CaptureSilence | undefined;
  /** The last frame of the capture (for calls unanswered at its end), read in finish(). */
  lastFrame?(): FrameRef | undefined;
  /** The bound on the groups of the detectors that share it (set by the detector set; group-budget.ts). */
  groups?: GroupBudget;
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
  onOrphanReply?(r: OrphanReply): void;
  onTcpEvent?(e: TcpEvent): void;
  /** RoCE / RPC-over-RDMA events (CM rejects, PSN gaps, NAKs, RDMA_ERROR, credits). */
  onRdmaEvent?(e: RdmaEvent): void;
  finish(): Finding[];
  /**
   * What the detector's bounds left out of its findings, by what it was
   * (`callsNotReported`, `serversForgotten`…): only the counts above 0.
   * The report gathers them (`notReported`), so a drop is said also when
   * the detector has no finding to carry it.
   */
  notReported?(): NotReportedCounts;
}

/** Counts of what a detector left out, by name. */
export type NotReportedCounts = Record<string, number>;

/** Per detector kind, the counts of what its bounds left out (`Detector.notReported`). */
export type NotReportedByDetector = Record<string, NotReportedCounts>;

/** The counts above 0 of `counts`, in their order. */
export function positiveCounts(counts: NotReportedCounts): NotReportedCounts {
  const out: NotReportedCounts = {};
  for (const [k, n] of Object.entries(counts)) if (n > 0) out[k] = n;
  return out;
}

/** Options detectors may read (thresholds); each detector documents its own keys and defaults. */
export type DetectorOptions = Record<string, number | undefined>;

/** Builds an evidence entry for a frame. */
export function evidence(ctx: DetectorContext, at: FrameRef, what: string, formatTime: (f: FrameRef) => string): EvidenceFrame {
  return { file: ctx.fileName(at.fileIndex), frame: at.number, time: formatTime(at), what };
}
