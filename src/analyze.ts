/**
 * The pipeline of one run: capture source → link/IP → TCP/UDP → (RPC and
 * analyses) → report. One pass, streaming; everything per packet is
 * synchronous within the frame callback.
 */
import { DiagnosticCollector } from './capture/diagnostics.js';
import type { Diagnostic, Frame, FrameRef } from './capture/frame.js';
import { secondsBetween } from './capture/frame.js';
import { linkTypeName } from './capture/linktypes.js';
import { readCaptures, type ReadOptions } from './capture/source.js';
import { CaptureSummary } from './analysis/capture-summary.js';
import { NetDecoder } from './net/decoder.js';
import { Transport } from './transport/transport.js';
import { REPORT_SCHEMA_VERSION, type FrameLocation, type Report } from './report/model.js';
import { formatFrameTime } from './report/time.js';
import { VERSION } from './version.js';

export interface AnalyzeOptions extends ReadOptions {
  /** Called for each diagnostic as it happens (the CLI prints them on stderr). */
  onDiagnostic?: (d: Diagnostic) => void;
  /** Called after every chunk of frames with the frames read so far (progress display). */
  onProgress?: (frames: number) => void;
}

/**
 * Analyses one capture or a rotated set of captures (read in the order
 * given, as one continuous capture) and returns the report.
 */
export async function analyze(inputs: string | readonly string[], options: AnalyzeOptions = {}): Promise<Report> {
  const files = typeof inputs === 'string' ? [inputs] : [...inputs];
  const diag = new DiagnosticCollector(200, options.onDiagnostic);
  const summary = new CaptureSummary();
  const net = new NetDecoder(diag, (i) => files[i] ?? '?');
  const transport = new Transport(summary);

  const onFrame = (frame: Frame): void => {
    summary.frame(frame);
    const pkt = net.decode(frame);
    if (pkt !== null) transport.packet(pkt);
  };
  const infos = await readCaptures(files, onFrame, diag, options);
  net.finish();
  transport.finish();

  const where = (ref: FrameRef): FrameLocation => ({
    file: files[ref.fileIndex] ?? '?',
    frame: ref.number,
    time: formatFrameTime(ref),
  });
  const sortedRecord = <K extends string | number>(m: Map<K, number>, name: (k: K) => string): Record<string, number> => {
    const out: Record<string, number> = {};
    const entries = [...m.entries()].map(([k, v]) => [name(k), v] as const).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    for (const [k, v] of entries) out[k] = (out[k] ?? 0) + v;
    return out;
  };

  const ns = net.stats;
  const ts = transport.stats;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'nfsight', version: VERSION },
    capture: {
      files: infos,
      frames: summary.frames,
      capturedBytes: summary.capturedBytes,
      wireBytes: summary.wireBytes,
      framesCutBySnaplen: summary.framesCutBySnaplen,
      ...(summary.first ? { first: where(summary.first) } : {}),
      ...(summary.last ? { last: where(summary.last) } : {}),
      durationSeconds: summary.first && summary.last ? Number(secondsBetween(summary.first, summary.last).toFixed(9)) : 0,
      linkTypes: sortedRecord(ns.linkTypes, (k) => `${linkTypeName(k)} (${k})`),
    },
    network: {
      ipv4: ns.ipv4,
      ipv6: ns.ipv6,
      nonIp: ns.nonIp,
      unknownLinkType: ns.unknownLinkType,
      malformed: ns.malformed,
      fragments: ns.fragments,
      reassembledDatagrams: ns.reassembled,
      fragmentsDropped: ns.fragmentsDropped,
      otherProtocol: ns.otherProtocol,
    },
    tcp: {
      connections: summary.tcpConnections,
      segments: ts.tcp.segments,
      payloadBytes: ts.tcp.payloadBytes,
      deliveredBytes: summary.streamBytes,
      gapBytes: summary.gapBytes,
      gaps: summary.gaps,
      retransmittedBytes: ts.tcp.retransmittedBytes,
      malformedHeaders: ts.tcp.malformed,
      events: sortedRecord(summary.tcpEvents, (k) => k),
      refused: summary.refused.map((r) => ({ ...where(r.at), client: r.client, server: r.server })),
    },
    udp: { datagrams: summary.udpDatagrams, payloadBytes: summary.udpBytes },
    skipped: {
      frames: ns.unknownLinkType + ns.malformed + ts.tcp.malformed + ts.udpMalformed,
      bytes: summary.gapBytes,
    },
    diagnostics: diag.summary(),
  };
}
