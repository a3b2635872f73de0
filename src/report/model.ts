/**
 * The report object: the library's public result, which every renderer
 * prints without recomputing anything. Deterministic: the same input gives
 * the same object (no wall-clock times, maps sorted by key).
 */
import type { DiagnosticSummary } from '../capture/diagnostics.js';
import type { CaptureFileInfo } from '../capture/source.js';
import type { ErrorRow, FileRow, OperationRow, PeerRow, TrackedSection } from '../analysis/op-stats.js';
import type { OperationCap } from '../analysis/operation-cap.js';

export type { OperationCap } from '../analysis/operation-cap.js';

export type {
  ErrorFrame,
  ErrorRow,
  FileRow,
  LatencySummary,
  OperationKind,
  OperationRow,
  PeerRow,
  TallyData,
  TrackedSection,
} from '../analysis/op-stats.js';
export type { CompactHistogramData, HistogramData } from '../analysis/histogram.js';
export type {
  TimelineEpisode,
  TimelineFilter,
  TimelineInterval,
  TimelineLatency,
  TimelineMark,
  TimelineOpPoint,
  TimelineSection,
  TimelineSeries,
} from '../analysis/timeline.js';
import type { TimelineSection } from '../analysis/timeline.js';
import type { MemoryReport } from '../memory/budget.js';
import type { Finding, NotReportedByDetector } from '../detectors/finding.js';
import type { Verdict } from '../detectors/verdict.js';
import type { FindingsNotListed } from '../detectors/findings-cap.js';

export type { Verdict, VerdictLine } from '../detectors/verdict.js';
import type { RdmaSection } from '../analysis/rdma-summary.js';
export type { RdmaConnectionReport, RdmaRejectReport, RdmaSection } from '../analysis/rdma-summary.js';

/**
 * 2: the per-operation sections (operations, errors, clients, servers, files).
 * 3: verdict, timeline, rdma, memory; capture.files[] with givenPosition,
 * firstTime, lastTime; files rows with errors per file.
 */
export const REPORT_SCHEMA_VERSION = 3;

export interface FrameLocation {
  /** Input file as named by the user. */
  file: string;
  /** Frame number in that file (1-based, as Wireshark). */
  frame: number;
  /** ISO 8601 UTC time. */
  time: string;
}

export interface CaptureSection {
  files: CaptureFileInfo[];
  /** Frames read in all files. */
  frames: number;
  /** Bytes of packet data captured (after the snaplen). */
  capturedBytes: number;
  /** Bytes of the packets on the wire. */
  wireBytes: number;
  /** Frames cut by the snaplen (captured length < wire length). */
  framesCutBySnaplen: number;
  /** Frames read but left out by `--time-window` (not counted in `frames`). */
  framesOutsideTimeWindow: number;
  /** Frames of an input file that an earlier input file holds too (the same capture given twice, overlapping cuts): read once, not counted in `frames`. */
  framesInEarlierFile?: number;
  /** The earliest and latest frames by time (the first and last read, unless time goes backwards: as capinfos). */
  first?: FrameLocation;
  last?: FrameLocation;
  /** Seconds from the earliest to the latest frame. */
  durationSeconds: number;
  /** Frames per link type name. */
  linkTypes: Record<string, number>;
}

export interface NetworkSection {
  ipv4: number;
  ipv6: number;
  nonIp: number;
  unknownLinkType: number;
  malformed: number;
  fragments: number;
  reassembledDatagrams: number;
  fragmentsDropped: number;
  otherProtocol: number;
  /** IP packets captured twice microseconds apart (tcpdump -i any over a bond, bridge or VLAN; a mirror port): the copies, read once (src/net/packet-copies.ts). */
  packetCopies?: number;
}

export interface RefusedConnectionReport extends FrameLocation {
  client: string;
  server: string;
}

export interface TcpSection {
  connections: number;
  segments: number;
  payloadBytes: number;
  /** Bytes handed in order to the stream consumers. */
  deliveredBytes: number;
  /** Bytes the capture never saw (lost by the capture or cut by the snaplen), and in how many gaps. */
  gapBytes: number;
  gaps: number;
  retransmittedBytes: number;
  malformedHeaders: number;
  /** Count per TCP event kind, sorted by kind. */
  events: Record<string, number>;
  /** Connection attempts answered by RST: the first 100. */
  refused: RefusedConnectionReport[];
  /** Those beyond the first 100, not listed. */
  refusedNotListed: number;
}

export interface UdpSection {
  datagrams: number;
  payloadBytes: number;
}

export interface UnansweredCallReport extends FrameLocation {
  xid: string;
  program: number;
  version: number;
  procedure: number;
  procedureName: string;
  client: string;
  server: string;
  retransmits: number;
  /** Frame where a reply began that never completed (its stream ended first), or null. */
  unfinishedReplyFrame: number | null;
}

export interface OrphanReplyReport extends FrameLocation {
  xid: string;
  client: string;
  server: string;
}

export interface RpcSection {
  calls: number;
  replies: number;
  /** Calls answered in the capture. */
  matched: number;
  unanswered: number;
  /** Replies whose call the capture does not hold. */
  repliesWithoutCall: number;
  retransmittedCalls: number;
  duplicateReplies: number;
  /** Messages whose RPC header was not a valid call or reply. */
  invalidMessages: number;
  /** Messages the capture cut (snaplen, lost segments): matched and timed as far as their headers allow. */
  truncatedMessages: number;
  /** Stream bytes skipped to find the next message after a gap or a mid-stream start. */
  resyncSkippedBytes: number;
  resyncs: number;
  /** READ/WRITE payload bytes counted but not kept. */
  bulkBytesNotKept: number;
  /** TCP connection directions and UDP datagrams that were not RPC. */
  nonRpcStreams: number;
  nonRpcDatagrams: number;
  /** NFSv4 callback program announcements not learnt (beyond the first 1,024 programs: their calls are not decoded as callbacks); only when there are some. */
  callbackAnnouncementsNotLearned?: number;
  /** The first 100 unanswered calls. */
  unansweredCalls: UnansweredCallReport[];
  /** The first 100 replies without a call. */
  orphanReplies: OrphanReplyReport[];
}

/** What could not be analysed, counted so nothing is lost silently. */
export interface SkippedSection {
  /** Frames not decoded: unknown link type, malformed link/IP/transport headers. */
  frames: number;
  /** Stream bytes missing from the capture (gaps). */
  bytes: number;
  /** Stream bytes passed over while looking for the next RPC message. */
  resyncBytes: number;
}

export interface Report {
  schemaVersion: number;
  tool: { name: 'nfsight'; version: string };
  /** The answer first: the findings above info ranked by impact, or "no problems found", or what could not be judged. */
  verdict: Verdict;
  capture: CaptureSection;
  network: NetworkSection;
  tcp: TcpSection;
  udp: UdpSection;
  /** NFS over RDMA (RoCE): connections, rejects, chunk use, bytes moved, PSN gaps and NAKs. */
  rdma: RdmaSection;
  rpc: RpcSection;
  skipped: SkippedSection;
  /**
   * The memory budget (`--max-memory`): its limit, the most buffered state
   * held at once, and what was dropped to stay within it, per kind.
   */
  memory: MemoryReport;
  /** The detectors' findings: most severe first, then by impact (time blocked × calls affected), then by start time. */
  findings: Finding[];
  /** Findings beyond `findingsMaxPerKind` (1000) of their kind, counted per kind and severity; absent when every finding is listed. */
  findingsNotListed?: FindingsNotListed;
  /**
   * What the detectors' bounds left out of their findings, per detector kind
   * and what was left out (`{"rpc-retransmission": {"callsNotReported": 120}}`);
   * absent when nothing was. Also in the last finding of the detector, when
   * it has one.
   */
  notReported?: NotReportedByDetector;
  diagnostics: DiagnosticSummary;
  /**
   * Per (program, version, procedure), per NFSv4 COMPOUND main op and per
   * NFSv4 op: calls, errors, latency (ms, with its mergeable histogram),
   * bytes and throughput. Sorted by program, version, kind, procedure, op;
   * then the OTHER rows (programName and name `OTHER`), one per kind, that
   * count the calls of the operations beyond the first `operationsCap.maxRows`.
   */
  operations: OperationRow[];
  /** The operations table's cap (MAX_OPERATIONS), and the calls its OTHER rows count (`folded`). */
  operationsCap: OperationCap;
  /** Error table: status × op, with the first reply frames. Sorted by program, version, status, op; then an OTHER row beyond the cap. */
  errors: ErrorRow[];
  /** The errors table's cap, and the error replies its OTHER row counts (`folded`). */
  errorsCap: OperationCap;
  /** Per client address (without port), sorted by address. */
  clients: TrackedSection<PeerRow>;
  /** Per server "addr:port", sorted. */
  servers: TrackedSection<PeerRow>;
  /** Per file handle (with its path where known), sorted by handle; the least used are evicted beyond maxTracked. */
  files: TrackedSection<FileRow>;
  /**
   * The time series: per interval, calls, answers, errors, bytes, latency
   * (overall and per operation) and TCP events; each finding's episode.
   */
  timeline: TimelineSection;
}
