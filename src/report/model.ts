/**
 * The report object: the library's public result, which every renderer
 * prints without recomputing anything. Deterministic: the same input gives
 * the same object (no wall-clock times, maps sorted by key).
 */
import type { DiagnosticSummary } from '../capture/diagnostics.js';
import type { CaptureFileInfo } from '../capture/source.js';

export const REPORT_SCHEMA_VERSION = 1;

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
  first?: FrameLocation;
  last?: FrameLocation;
  /** Seconds from the first to the last frame. */
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
  /** Connection attempts answered by RST. */
  refused: RefusedConnectionReport[];
}

export interface UdpSection {
  datagrams: number;
  payloadBytes: number;
}

/** What could not be analysed, counted so nothing is lost silently. */
export interface SkippedSection {
  /** Frames not decoded: unknown link type, malformed link/IP/transport headers. */
  frames: number;
  /** Stream bytes missing from the capture (gaps). */
  bytes: number;
}

export interface Report {
  schemaVersion: number;
  tool: { name: 'nfsight'; version: string };
  capture: CaptureSection;
  network: NetworkSection;
  tcp: TcpSection;
  udp: UdpSection;
  skipped: SkippedSection;
  diagnostics: DiagnosticSummary;
}
