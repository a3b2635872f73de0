/**
 * The pipeline of one run: capture source → link/IP → TCP/UDP → (RPC and
 * analyses) → report. One pass, streaming; everything per packet is
 * synchronous within the frame callback.
 */
import { DiagnosticCollector } from './capture/diagnostics.js';
import { InternalErrorCatcher } from './internal-error.js';
import type { Diagnostic, Frame, FrameRef } from './capture/frame.js';
import { secondsBetween } from './capture/frame.js';
import { linkTypeName } from './capture/linktypes.js';
import { firstFrameTimes, orderByTimes, readCaptures, type ReadOptions } from './capture/source.js';
import { DuplicateFrameFilter, laterFirstTimes } from './capture/duplicate-frames.js';
import { PacketCopyFilter } from './net/packet-copies.js';
import { TimeWindowFilter, type TimeWindow } from './capture/time-window.js';
import { CaptureSummary } from './analysis/capture-summary.js';
import { OperationStats } from './analysis/op-stats.js';
import { RpcSummary } from './analysis/rpc-summary.js';
import { RdmaSummary } from './analysis/rdma-summary.js';
import { duplicateDiagnostics, fileSeamDiagnostics } from './analysis/rotated-set.js';
import { Timeline, type TimelineOptions } from './analysis/timeline.js';
import { procedureName } from '../decoders/programs.js';
import { NetDecoder } from './net/decoder.js';
import { DetectorSet } from './detectors/index.js';
import type { CaptureFacts, DetectorOptions } from './detectors/finding.js';
import { buildVerdict } from './detectors/verdict.js';
import { DecodeStage } from './nfs/decode-stage.js';
import { FileHandlePaths } from './nfs/fh-paths.js';
import { Nfs4State } from './nfs/v4-state.js';
import { RpcLayer } from './rpc/rpc-layer.js';
import { RpcRdmaLayer } from './rpc/rdma-stream.js';
import type { Transaction, TransactionContext, TransactionSink } from './rpc/transaction.js';
import { Transport } from './transport/transport.js';
import { RoceLayer, type RdmaEvent } from './transport/roce.js';
import { REPORT_SCHEMA_VERSION, type FrameLocation, type Report } from './report/model.js';
import { formatFrameTime } from './report/time.js';
import { VERSION } from './version.js';
import { DEFAULT_MAX_MEMORY, MemoryBudget } from './memory/budget.js';
import { entityBoundFor } from './memory/entity-bound.js';
import { largeInput, tightenHeapGrowth } from './memory/heap-growth.js';

export interface AnalyzeOptions extends ReadOptions {
  /** Called for each diagnostic as it happens (the CLI prints them on stderr). */
  onDiagnostic?: (d: Diagnostic) => void;
  /**
   * Called for every transaction: answered ones as their reply completes,
   * unanswered ones at the end. Message bodies are valid during the call only.
   */
  onTransaction?: (t: Transaction, ctx: TransactionContext) => void;
  /**
   * Called when a call is first seen, before its reply (the same object
   * later reaches onTransaction): lets a listener list calls in call-frame
   * order with bounded buffering.
   */
  onCall?: (t: Transaction) => void;
  /** A call announced by onCall and then dropped to stay within the memory budget: it never reaches onTransaction. */
  onCallForgotten?: (t: Transaction) => void;
  /**
   * Whether the listeners read the replies' decoded `results` (default
   * true). False: the decoders make only the summary fields (status, byte
   * counts, handles, stop; the calls' arguments are decoded whole as ever),
   * as they do when there is no listener; NFSv3 attributes and directory
   * entries are skipped, not built (the `calls` command).
   */
  decodeResults?: boolean;
  /**
   * Whether the listeners keep a transaction after onTransaction returns
   * (default true): a retransmission or duplicate reply seen after the reply
   * is then counted on it (`retransmits`, `duplicateReplies`), which needs
   * the answered calls remembered with a weak reference to their
   * transaction, and V8 then promotes every transaction out of its young
   * generation. False when each is read during the call only (the `calls`
   * command: a row is made at once): such late messages are counted in the
   * report's figures only, as without a listener, and the collector's work
   * drops (the `calls` table of a 256 MB replay: 18-21 → 10-12 s,
   * docs/performance.md, session 39).
   */
  keepsTransactions?: boolean;
  /** Ports to treat as NFS/RPC besides 2049, 111 and 20048 (`--nfs-port`). */
  nfsPorts?: readonly number[];
  /** Only frames in this window of capture time are analysed (`--time-window`). */
  timeWindow?: TimeWindow;
  /** Detector thresholds (each detector documents its keys). */
  detectorOptions?: DetectorOptions;
  /**
   * Distinct operations with a row of their own in the operations and
   * errors tables, the time series and the slow-ops detector (unless its
   * `slowOpsMaxOperations` says otherwise), at most: MAX_OPERATIONS (1,000)
   * by default, and MAX_TIMELINE_SERIES (100) time series. The calls of
   * later operations are counted in OTHER rows (src/analysis/operation-cap.ts).
   */
  maxOperations?: number;
  /** The time series' interval length (automatic when absent) and filter (`nfsight timeline`). */
  timeline?: Pick<TimelineOptions, 'intervalNs' | 'filter'>;
  /**
   * Bytes of buffered state kept at most (`--max-memory`; default 64 MiB):
   * beyond it the oldest is dropped and counted in the report's `memory`.
   * Tables keyed by a host, a connection or a group (TCP connections, NFSv4
   * clients, the detectors' groups) follow it in proportion below the
   * default: 10,000 entries each at 64 MiB and above, 2,500 at 16 MiB
   * (src/memory/entity-bound.ts).
   */
  maxMemory?: number;
  /**
   * Open TCP connections kept as objects (default 1,024): the least recently
   * active beyond are kept as numbers while they wait for nothing
   * (docs/memory.md). The results are the same whatever it is; 0 (every
   * connection frozen between its segments) is how the tests check that.
   */
  hotConnections?: number;
  /** Several inputs are read by the time of their first frame (default), or in the order given. */
  fileOrder?: 'first-frame' | 'given';
}

/** A byte count as the user would write it for --max-memory. */
function formatLimit(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MB` : `${bytes} bytes`;
}

/**
 * Analyses one capture or a rotated set of captures (read as one
 * continuous capture, by the time of each file's first frame) and returns
 * the report.
 */
export async function analyze(inputs: string | readonly string[], options: AnalyzeOptions = {}): Promise<Report> {
  const given = typeof inputs === 'string' ? [inputs] : [...inputs];
  // V8's heap growth is held tight while a large capture is analysed, from the first read, or from the first drop (src/memory/heap-growth.ts).
  let heap = largeInput(given) ? tightenHeapGrowth() : undefined;
  const firstTimes = await firstFrameTimes(given, options).catch((err: unknown) => {
    heap?.release();
    throw err;
  });
  const order = options.fileOrder === 'given' ? given.map((_, i) => i) : orderByTimes(firstTimes);
  const files = order.map((i) => given[i]!);
  // Frames a file shares with an earlier one (the same capture given twice, overlapping cuts) are read once.
  const duplicates = new DuplicateFrameFilter(laterFirstTimes(order.map((i) => firstTimes[i])));
  const dedupe = duplicates.active;
  const diag = new DiagnosticCollector(200, options.onDiagnostic);
  // One budget for every holder of state that grows with the input; the first drop is said once.
  const budget = new MemoryBudget(options.maxMemory ?? DEFAULT_MAX_MEMORY);
  // Tables keyed by a host, a connection or a group follow as many as the limit allows (entity-bound.ts).
  const entities = entityBoundFor(budget.limit);
  let current: Frame | undefined;
  budget.onFirstDrop = () => {
    heap ??= tightenHeapGrowth();
    diag.report({
      severity: 'warning',
      code: 'memory-limit',
      file: current ? (files[current.fileIndex] ?? '?') : (files[0] ?? '?'),
      ...(current ? { frame: current.number } : {}),
      message: `memory limit of ${formatLimit(budget.limit)} reached: the oldest buffered state is dropped, counted in the report's memory.dropped; --max-memory raises the limit`,
    });
  };
  // File handles have a ceiling of their own (a quarter of the limit): they drop nothing else, and leave V8 no garbage, so the heap stays as it is.
  budget.onFirstCeilingDrop = (account) => {
    diag.report({
      severity: 'warning',
      code: 'memory-ceiling',
      file: current ? (files[current.fileIndex] ?? '?') : (files[0] ?? '?'),
      ...(current ? { frame: current.number } : {}),
      message: `file handle paths reached their ceiling of ${formatLimit(account.ceiling)} (a quarter of the memory limit): the paths of the least recently used handles are forgotten, counted in the report's memory.dropped.fileHandles; --max-memory raises the ceiling`,
    });
  };
  const summary = new CaptureSummary();
  // Transactions flow: matcher → decode stage → summaries (and the caller's listener).
  const listener = options.onTransaction;
  // Without a listener nothing reads the replies' decoded results beyond their summary fields.
  const summaryOnly = (listener === undefined && options.onCall === undefined) || options.decodeResults === false;
  const decodeStage = new DecodeStage(diag, (i) => files[i] ?? '?', undefined, summaryOnly);
  const fhPaths = new FileHandlePaths(undefined, budget);
  const context: TransactionContext = {
    pathOf: (fh) => fhPaths.pathOf(fh),
    isCallbackProgram: (p) => decodeStage.isCallbackProgram(p),
    fileName: (i) => files[i] ?? '?',
  };
  const rpcSummary = new RpcSummary(listener && ((t) => listener(t, context)));
  // Read by the detectors at the end: what the layers below counted.
  const facts = (): CaptureFacts => ({
    frames: summary.frames,
    tcpSegments: transport.stats.tcp.segments,
    udpDatagrams: transport.stats.udpDatagrams,
    rpcCalls: rpc.matcher.stats.calls,
    rpcReplies: rpc.matcher.stats.replies,
    nonRpcStreams: rpc.stats.nonRpcStreams,
    nonRpcDatagrams: rpc.stats.nonRpcDatagrams,
    framesCutBySnaplen: summary.framesCutBySnaplen,
    tcpDeliveredBytes: transport.stats.tcp.deliveredBytes,
    truncatedMessages: rpc.stats.record.truncatedMessages,
    rpcHeadersCut: rpc.matcher.stats.invalidCut,
    rpcHeadersCutFirst: rpc.matcher.firstInvalidCut,
    resyncSkippedBytes: rpc.stats.record.skippedBytes,
    resyncs: rpc.stats.record.resyncs,
    timeBackwards: summary.timeBackwards,
    timeBackwardsMaxSeconds: summary.timeBackwardsMaxSeconds,
    timeBackwardsFirst: summary.timeBackwardsFirst,
    packetCopies: copies.copies,
    firstPacketCopy: copies.first,
    lastPacketCopy: copies.last,
    repliesBeforeCall: rpcSummary.repliesBeforeCall,
    firstReplyBeforeCall: rpcSummary.firstReplyBeforeCall,
    first: summary.first,
    last: summary.last,
  });
  const maxOperations = options.maxOperations;
  const detectors = new DetectorSet(
    { fileName: (i) => files[i] ?? '?', pathOf: (fh) => fhPaths.pathOf(fh), facts, lastFrame: () => summary.last, silenceWithin: (a, b) => summary.longestSilenceWithin(a, b) },
    { entityBound: entities, ...(maxOperations === undefined ? {} : { slowOpsMaxOperations: maxOperations }), ...options.detectorOptions },
  );
  decodeStage.next.push(fhPaths, new Nfs4State(fhPaths, { budget, maxClients: entities, maxSessions: entities, maxAnomalies: entities }), detectors, rpcSummary);
  const opStats = new OperationStats({ budget, maxOperations, pathOf: (fh) => fhPaths.pathOf(fh), fileName: (i) => files[i] ?? '?', isCallbackProgram: (p) => decodeStage.isCallbackProgram(p) });
  decodeStage.next.push(opStats);
  const timeline = new Timeline({ ...options.timeline, maxOperations, isCallbackProgram: (p) => decodeStage.isCallbackProgram(p) });
  decodeStage.next.push(timeline);
  const onCall = options.onCall;
  const rpcSink: TransactionSink =
    onCall === undefined
      ? decodeStage
      : {
          call: onCall,
          transaction: (t) => decodeStage.transaction(t),
          unanswered: (t) => decodeStage.unanswered(t),
          orphanReply: (r) => decodeStage.orphanReply(r),
          ...(options.onCallForgotten ? { forgotten: options.onCallForgotten } : {}),
        };
  const rpc = new RpcLayer(rpcSink, {
    budget,
    maxIdleUdpDirections: entities,
    // Only the caller's listeners can hold a transaction once it is handed on.
    lateCounts: (listener !== undefined || onCall !== undefined) && options.keepsTransactions !== false,
    ...(options.nfsPorts ? { nfsPorts: options.nfsPorts } : {}),
    onTcpEvent: (e) => {
      summary.tcpEvent(e);
      detectors.tcpEvent(e);
      timeline.tcpEvent(e);
    },
  });
  const net = new NetDecoder(diag, (i) => files[i] ?? '?', { budget });
  // NFS over RDMA: RoCE → RPC-over-RDMA → the same matcher.
  const rdmaSummary = new RdmaSummary();
  const onRdmaEvent = (e: RdmaEvent): void => {
    rdmaSummary.event(e);
    detectors.rdmaEvent(e);
  };
  const rpcRdma = new RpcRdmaLayer(rpc.matcher, rpc.stats.record, onRdmaEvent);
  const roce = new RoceLayer(rpcRdma, onRdmaEvent, diag, (i) => files[i] ?? '?');
  const transport = new Transport(rpc, { budget, maxOpenConnections: entities, maxClosedRemembered: entities, ...(options.hotConnections === undefined ? {} : { maxHotConnections: options.hotConnections }) }, roce);

  const window = options.timeWindow ? new TimeWindowFilter(options.timeWindow) : undefined;
  // A packet captured twice (tcpdump -i any over a bond, a bridge or a VLAN) is read once.
  const copies = new PacketCopyFilter();
  // An nfsight bug a layer notices (a loop that stopped making progress) costs a warning, not the run.
  const bugs = new InternalErrorCatcher(diag, (i) => files[i] ?? '?');
  const onFrame = (frame: Frame): void => {
    if (window !== undefined && !window.accepts(frame)) return;
    if (dedupe && duplicates.duplicate(frame)) return;
    current = frame;
    summary.frame(frame);
    timeline.frame(frame);
    try {
      const pkt = net.decode(frame);
      if (pkt !== null && !copies.isCopy(pkt)) transport.packet(pkt);
      if (budget.used > budget.limit) budget.reclaim(frame.tsSec);
    } catch (err) {
      bugs.caught(err, frame);
    }
    budget.notePeak();
  };
  const infos = await readCaptures(files, onFrame, diag, options).catch((err: unknown) => {
    heap?.release();
    throw err;
  });
  infos.forEach((info, i) => {
    const span = summary.fileSpans[i];
    info.givenPosition = order[i]! + 1;
    info.firstTime = span ? formatFrameTime(span.first) : null;
    info.lastTime = span ? formatFrameTime(span.last) : null;
  });
  for (const d of duplicateDiagnostics(files, duplicates)) diag.report(d);
  for (const d of fileSeamDiagnostics(files, summary.fileSpans)) diag.report(d);
  const emptyWindow = window?.emptyWindowMessage();
  if (emptyWindow !== undefined) diag.report({ severity: 'warning', code: 'time-window-empty', file: files[0] ?? '?', message: emptyWindow });
  bugs.guard(() => net.finish(), summary.last);
  bugs.guard(() => transport.finish(), summary.last);
  bugs.guard(() => rpc.finish(), summary.last);
  bugs.finish();

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
  const ms = rpc.matcher.stats;
  const rs = rpc.stats.record;
  const hex = (xid: number): string => `0x${xid.toString(16).padStart(8, '0')}`;
  // The detectors' state goes as their findings are taken: the rest of the report is made after.
  const findings = detectors.findings(true);
  const findingsNotListed = detectors.notListed();
  const notReported = detectors.notReported();
  timeline.setFindings(findings);
  const report: Report = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'nfsight', version: VERSION },
    verdict: buildVerdict(findings, ms.calls, findingsNotListed, notReported),
    capture: {
      files: infos,
      frames: summary.frames,
      capturedBytes: summary.capturedBytes,
      wireBytes: summary.wireBytes,
      framesCutBySnaplen: summary.framesCutBySnaplen,
      framesOutsideTimeWindow: window?.skipped ?? 0,
      ...(duplicates.skipped > 0 ? { framesInEarlierFile: duplicates.skipped } : {}),
      // By time, as capinfos gives them: the first and last frames unless time goes backwards somewhere.
      ...(summary.earliest ? { first: where(summary.earliest) } : {}),
      ...(summary.latest ? { last: where(summary.latest) } : {}),
      durationSeconds: summary.earliest && summary.latest ? Number(secondsBetween(summary.earliest, summary.latest).toFixed(9)) : 0,
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
      ...(copies.copies > 0 ? { packetCopies: copies.copies } : {}),
    },
    tcp: {
      connections: ts.tcp.connections,
      segments: ts.tcp.segments,
      payloadBytes: ts.tcp.payloadBytes,
      deliveredBytes: ts.tcp.deliveredBytes,
      gapBytes: ts.tcp.gapBytes,
      gaps: (summary.tcpEvents.get('gap') ?? 0) + (summary.tcpEvents.get('snaplen-gap') ?? 0),
      retransmittedBytes: ts.tcp.retransmittedBytes,
      malformedHeaders: ts.tcp.malformed,
      events: sortedRecord(summary.tcpEvents, (k) => k),
      refused: summary.refused.map((r) => ({ ...where(r.at), client: r.client, server: r.server })),
      refusedNotListed: summary.refusedNotListed,
    },
    udp: { datagrams: ts.udpDatagrams, payloadBytes: ts.udpPayloadBytes },
    rdma: rdmaSummary.build(roce, rpcRdma, where),
    rpc: {
      calls: ms.calls,
      replies: ms.replies,
      matched: ms.matched,
      unanswered: ms.unanswered,
      repliesWithoutCall: ms.orphanReplies,
      retransmittedCalls: ms.retransmittedCalls,
      duplicateReplies: ms.duplicateReplies,
      invalidMessages: ms.invalid,
      truncatedMessages: rs.truncatedMessages,
      resyncSkippedBytes: rs.skippedBytes,
      resyncs: rs.resyncs,
      bulkBytesNotKept: rs.bytesNotKept,
      nonRpcStreams: rpc.stats.nonRpcStreams,
      nonRpcDatagrams: rpc.stats.nonRpcDatagrams,
      ...(decodeStage.callbackAnnouncementsNotLearned > 0 ? { callbackAnnouncementsNotLearned: decodeStage.callbackAnnouncementsNotLearned } : {}),
      unansweredCalls: rpcSummary.unansweredCalls.map((u) => ({
        ...where(u.at),
        xid: hex(u.xid),
        program: u.program,
        version: u.version,
        procedure: u.procedure,
        procedureName: procedureName(u.program, u.version, u.procedure),
        client: u.client,
        server: u.server,
        retransmits: u.retransmits,
        unfinishedReplyFrame: u.unfinishedReplyAt?.number ?? null,
      })),
      orphanReplies: rpcSummary.orphans.map((o) => ({ ...where(o.at), xid: hex(o.xid), client: o.client, server: o.server })),
    },
    skipped: {
      frames: ns.unknownLinkType + ns.malformed + ts.tcp.malformed + ts.udpMalformed,
      bytes: ts.tcp.gapBytes,
      resyncBytes: rs.skippedBytes,
    },
    memory: budget.report(),
    findings,
    ...(findingsNotListed !== undefined ? { findingsNotListed } : {}),
    ...(notReported !== undefined ? { notReported } : {}),
    diagnostics: diag.summary(),
    ...opStats.toJSON(),
    timeline: timeline.toJSON(),
  };
  // Held until the report is made: making it allocates while the analysis's state is still alive.
  heap?.release();
  return report;
}
