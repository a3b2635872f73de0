/**
 * slow-ops: slow calls, and operations that are slow as a rule, each
 * explained by what the transport showed while the call waited.
 *
 * A call is slow when its latency (rpc.time) is
 *  - at or above an absolute floor: `slowDataSeconds` (5 s) for data
 *    operations (READ, WRITE, COMMIT and the NFSv4.2 copies), else
 *    `slowMetadataSeconds` (1 s) — whatever the other calls took, so a
 *    stall is found even when it is the capture's p99 itself; or
 *  - at least `slowOpsFactor` (10) × its operation's median and at least
 *    `slowRelativeFloorSeconds` (0.1 s): an outlier.
 * An operation is slow as a rule (a slow server, not an incident) when its
 * median is at or above `slowMedianDataSeconds` (2 s) or
 * `slowMedianMetadataSeconds` (0.5 s) over at least `slowMedianMinCalls`
 * (5) calls.
 *
 * Each slow call is explained by the episodes of its connection between the
 * call and the reply (see transport-timeline.ts): the server's reply
 * segments resent without an ACK (a TCP stall), the client's call segments
 * resent without an ACK (the server did not get the call), a zero window
 * (which side stopped reading), single retransmissions (each lost packet
 * costs a timeout), bytes missing from the capture (the latency is
 * uncertain), or nothing — then the time was spent in the server.
 *
 * One finding per client, server and operation with slow calls (the worst
 * named by xid and frame), and one per operation slow as a rule. Warning
 * when the worst call reached the absolute floor (info for an outlier below
 * it); error when it took `slowOpsErrorSeconds` (30 s) or more. Latencies go into a per-operation histogram (for the median); only
 * the CANDIDATES slowest calls per operation are kept, explained when kept.
 * The first `slowOpsMaxOperations` (MAX_OPERATIONS) operations seen are
 * followed each; the calls of later ones together, as OTHER (its slow
 * calls named by their own operation; no median finding, the median of
 * many operations being none's).
 */
import { grownTo } from '../memory/typed-arrays.js';
import { procedureName, programName } from '../../decoders/programs.js';
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { LatencyHistogram } from '../analysis/histogram.js';
import { CappedRows, MAX_OPERATIONS, OTHER, otherLabel } from '../analysis/operation-cap.js';
import { NO_NAME, ProcedureKeyed } from '../analysis/procedure-keyed.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatFrameTime } from '../report/time.js';
import { formatEndpoint, type Direction } from '../transport/stream.js';
import { evidence, MAX_EVIDENCE, type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import type { TransportEpisode } from './transport-timeline.js';
import { directionFrom, frameCompare, round, secondsFrom } from './transport-common.js';
import { SILENCE_SECONDS } from '../analysis/capture-summary.js';
import { capitalize, cleanMetrics, plural, secondsText, sentences, xidText } from './wording.js';

/** Slowest calls kept per op. */
export const CANDIDATES = 100;
/** Slow calls shown per finding. */
const SHOWN = 6;

/** Operations that move file data: their floors are higher. */
const DATA_OPS = new Set(['READ', 'WRITE', 'COMMIT', 'READ_PLUS', 'COPY', 'CLONE', 'ALLOCATE', 'DEALLOCATE', 'WRITE_SAME']);

/** What the transport showed while a call waited. */
export type SlowCause = 'server-stall' | 'client-stall' | 'server-zero-window' | 'client-zero-window' | 'retransmissions' | 'capture-gap' | 'capture-pause' | 'server';

const CAUSE_NAMES: Record<SlowCause, string> = {
  'server-stall': 'TCP stall of the reply',
  'client-stall': 'TCP stall of the call',
  'server-zero-window': 'server zero window',
  'client-zero-window': 'client zero window',
  retransmissions: 'TCP retransmissions',
  'capture-gap': 'capture gap',
  'capture-pause': 'capture pause or clock step',
  server: 'server latency',
};

const CAUSES = Object.keys(CAUSE_NAMES) as SlowCause[];
const CAUSE_INDEX = new Map(CAUSES.map((c, i) => [c, i] as const));
/** Servers followed per operation (the first seen). */
const MAX_SERVERS = 1000;

/**
 * An operation's servers, the first MAX_SERVERS seen, without objects per
 * server (a wide capture has 1,000 per operation, 11,000 in all): a
 * server's number in a Map, and in typed arrays by that number the frame
 * of its last reply and its slow calls by cause, with the order in which
 * its causes first came (the finding lists causes as they were merged
 * server by server). About 370 bytes a server as objects (a record, a Map
 * of causes, two frame references), about 130 so (docs/memory.md).
 */
export class ServerTallies {
  /** Server → its number, in the order first seen. */
  readonly numbers = new Map<string, number>();
  /** The call frame of the first transaction of a server followed, the earliest of all. */
  first: FrameRef | undefined;
  /** Slow calls of the servers followed. */
  slowCalls = 0;
  private lastFile = new Int32Array(0);
  private lastNumber = new Float64Array(0);
  private lastSec = new Float64Array(0);
  private lastNsec = new Int32Array(0);
  /** Slow calls by (server, cause). */
  private causeCounts = new Int32Array(0);
  /** A server's causes in the order first seen: 4 bits each (cause index + 1), the first lowest. */
  private causeOrder = new Int32Array(0);

  /** The server's number (made for a server new while fewer than MAX_SERVERS are followed), or −1. */
  numberOf(server: string, callFrame: FrameRef): number {
    let n = this.numbers.get(server);
    if (n !== undefined) return n;
    n = this.numbers.size;
    if (n >= MAX_SERVERS) return -1;
    this.numbers.set(server, n);
    if (n === this.lastFile.length) this.grow(Math.min(MAX_SERVERS, Math.max(16, 2 * n)));
    if (this.first === undefined || frameCompare(callFrame, this.first) < 0) this.first = snapshotFrameRef(callFrame);
    return n;
  }

  /** The frame of the reply answering the server's latest transaction. */
  setLast(n: number, f: FrameRef): void {
    this.lastFile[n] = f.fileIndex;
    this.lastNumber[n] = f.number;
    this.lastSec[n] = f.tsSec;
    this.lastNsec[n] = f.tsNsec;
  }

  /** A slow call of the server, with its cause. */
  slow(n: number, cause: SlowCause): void {
    this.slowCalls++;
    const c = CAUSE_INDEX.get(cause)!;
    if (this.causeCounts[n * CAUSES.length + c]!++ === 0) {
      let order = this.causeOrder[n]!;
      let shift = 0;
      while (order >>> shift !== 0) shift += 4;
      this.causeOrder[n] = order | ((c + 1) << shift);
    }
  }

  /** The latest of the servers' last replies. */
  last(): FrameRef {
    let best = 0;
    for (let n = 1; n < this.numbers.size; n++) {
      if ((this.lastFile[n]! - this.lastFile[best]! || this.lastNumber[n]! - this.lastNumber[best]!) >= 0) best = n;
    }
    return { fileIndex: this.lastFile[best]!, number: this.lastNumber[best]!, tsSec: this.lastSec[best]!, tsNsec: this.lastNsec[best]! };
  }

  /** Slow calls by cause, merged server by server (each server's causes in the order they came). */
  causes(): Map<SlowCause, number> {
    const out = new Map<SlowCause, number>();
    for (let n = 0; n < this.numbers.size; n++) {
      for (let order = this.causeOrder[n]!; order !== 0; order >>>= 4) {
        const c = (order & 15) - 1;
        out.set(CAUSES[c]!, (out.get(CAUSES[c]!) ?? 0) + this.causeCounts[n * CAUSES.length + c]!);
      }
    }
    return out;
  }

  private grow(size: number): void {
    this.lastFile = grownTo(this.lastFile, size);
    this.lastNumber = grownTo(this.lastNumber, size);
    this.lastSec = grownTo(this.lastSec, size);
    this.lastNsec = grownTo(this.lastNsec, size);
    this.causeCounts = grownTo(this.causeCounts, size * CAUSES.length);
    this.causeOrder = grownTo(this.causeOrder, size);
  }
}

interface Explanation {
  cause: SlowCause;
  /** One clause saying what the transport showed (or did not). */
  text: string;
  /** Frames of the episode, for the evidence. */
  frames: { at: FrameRef; what: string }[];
}

interface Candidate {
  latency: number;
  call: FrameRef;
  reply: FrameRef;
  xid: number;
  client: string;
  server: string;
  file: string | undefined;
  why: Explanation;
  /** The call's operation (opLabel), kept in the OTHER operations only. */
  op?: string;
}

/** A bounded min-heap on latency: keeps the `cap` largest. */
class SlowestHeap {
  readonly items: Candidate[] = [];
  constructor(private readonly cap: number) {}

  /** The smallest latency kept, when full. */
  floor(): number {
    return this.items.length < this.cap ? -Infinity : this.items[0]!.latency;
  }

  offer(c: Candidate): void {
    const h = this.items;
    if (h.length < this.cap) {
      h.push(c);
      let i = h.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (h[p]!.latency <= h[i]!.latency) break;
        [h[p], h[i]] = [h[i]!, h[p]!];
        i = p;
      }
      return;
    }
    if (c.latency <= h[0]!.latency) return;
    h[0] = c;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.latency < h[m]!.latency) m = l;
      if (r < h.length && h[r]!.latency < h[m]!.latency) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}

interface OpStats {
  label: string;
  op: string;
  data: boolean;
  hist: LatencyHistogram;
  heap: SlowestHeap;
  servers: ServerTallies;
  /** The calls of the operations beyond the cap. */
  other?: true;
}

function newOpStats(label: string, op: string): OpStats {
  return { label, op, data: DATA_OPS.has(op), hist: new LatencyHistogram(), heap: new SlowestHeap(CANDIDATES), servers: new ServerTallies() };
}

/** `READ calls`; the OTHER operations' `calls of other operations`. */
function callsOf(s: OpStats): string {
  return s.other ? `calls of ${otherLabel('series')}` : `${s.op} calls`;
}

function opName(t: Transaction): string {
  return t.decoded?.call?.mainOp || procedureName(t.program, t.version, t.procedure);
}

function opLabel(t: Transaction): string {
  return `${programName(t.program)} v${t.version} ${opName(t)}`;
}

export class SlowOpsDetector implements Detector {
  readonly kind = 'slow-ops';
  private callsOfServersNotFollowed = 0;
  /** By label (opLabel). */
  private readonly ops: CappedRows<OpStats>;
  private otherOps: OpStats | undefined;
  /** Each operation's stats, found without building its label per call. */
  private readonly byProcedure = new ProcedureKeyed<OpStats>();
  private readonly factor: number;
  private readonly relativeFloor: number;
  private readonly metadataFloor: number;
  private readonly dataFloor: number;
  private readonly medianMetadata: number;
  private readonly medianData: number;
  private readonly medianMinCalls: number;
  private readonly errorSeconds: number;
  private readonly pauseSeconds: number;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.factor = options['slowOpsFactor'] ?? 10;
    this.relativeFloor = options['slowRelativeFloorSeconds'] ?? 0.1;
    this.metadataFloor = options['slowMetadataSeconds'] ?? 1;
    this.dataFloor = options['slowDataSeconds'] ?? 5;
    this.medianMetadata = options['slowMedianMetadataSeconds'] ?? 0.5;
    this.medianData = options['slowMedianDataSeconds'] ?? 2;
    this.medianMinCalls = options['slowMedianMinCalls'] ?? 5;
    this.errorSeconds = options['slowOpsErrorSeconds'] ?? 30;
    this.pauseSeconds = Math.max(SILENCE_SECONDS, options['capturePauseSeconds'] ?? 90);
    this.ops = new CappedRows(options['slowOpsMaxOperations'] ?? MAX_OPERATIONS);
  }

  /** The stats of a call's operation: its own, made while fewer than the cap are followed, or OTHER's. */
  private statsOf(t: Transaction): OpStats {
    const mainOp = t.decoded?.call?.mainOp;
    const hit = this.byProcedure.find(t.program, t.version, t.procedure, 0, mainOp ?? NO_NAME);
    if (hit !== undefined) return hit;
    const label = opLabel(t);
    const s = this.ops.get(label, () => newOpStats(label, opName(t)));
    if (s === undefined) return (this.otherOps ??= { ...newOpStats(OTHER, OTHER), other: true });
    this.byProcedure.names(t.program, t.version, t.procedure)?.set(mainOp ?? NO_NAME, s);
    return s;
  }

  onTransaction(t: Transaction): void {
    // A negative rpc.time (timestamps going backwards) says nothing about slowness.
    if (!t.reply || t.latency < 0) return;
    const s = this.statsOf(t);
    s.hist.record(t.latency);
    const server = formatEndpoint(t.server);
    const medianFloor = s.data ? this.medianData : this.medianMetadata;
    let why: Explanation | undefined;
    // Per server: the calls, and what the transport showed during the slow-ish ones.
    const sv = s.servers.numberOf(server, t.call.frame);
    if (sv >= 0) {
      s.servers.setLast(sv, t.reply.frame);
      if (t.latency >= medianFloor) {
        why = this.explain(t);
        s.servers.slow(sv, why.cause);
      }
    } else {
      this.callsOfServersNotFollowed++;
    }
    if (t.latency < this.relativeFloor && t.latency < (s.data ? this.dataFloor : this.metadataFloor)) return;
    if (t.latency <= s.heap.floor()) return;
    const a = t.nfs4?.ops.find((o) => o.op === t.decoded?.call?.mainOp);
    const fh = a?.path ?? a?.fh ?? t.decoded?.call?.fh;
    s.heap.offer({
      latency: t.latency,
      call: snapshotFrameRef(t.call.frame),
      reply: snapshotFrameRef(t.reply.frame),
      xid: t.xid,
      client: t.client.addr,
      server,
      file: fh !== undefined ? (this.ctx.pathOf?.(fh) ?? fh) : undefined,
      why: why ?? this.explain(t),
      ...(s.other ? { op: opLabel(t) } : {}),
    });
  }

  /** What the transport showed while the call waited. */
  private explain(t: Transaction): Explanation {
    const pause = this.ctx.silenceWithin?.(t.call.firstFrame, t.reply!.frame);
    // A client with a call outstanding sends something within about a minute (a
    // TCP keepalive, a resent call; Linux: timeo=600 over TCP, 1.1 s over UDP),
    // so a capture with no frame at all for longer, on any connection, did not
    // see that time pass: it paused, or the capturing host stepped its clock. A
    // silence that a TCP timer ended (a reconnect's SYN after its backoff, a
    // retransmission, a keep-alive) was lived, and is not offered.
    if (pause !== undefined && pause.seconds >= this.pauseSeconds && pause.seconds >= t.latency / 2) {
      return {
        cause: 'capture-pause',
        text: `no frame at all was captured for ${secondsText(pause.seconds)} of it, on any connection: the capture paused or its clock stepped, and the latency is probably not real`,
        frames: [
          { at: pause.from, what: 'the last frame before the capture goes silent' },
          { at: pause.to, what: `the next frame, ${secondsText(pause.seconds)} later` },
        ],
      };
    }
    const tl = this.ctx.timeline?.get(t.connId);
    if (t.transport === 'udp' || tl === undefined) {
      return { cause: 'server', text: t.transport === 'udp' ? 'over UDP there is no transport evidence: the time was spent in the server or the reply was lost and resent' : 'the transport shows nothing unusual: the time was spent in the server', frames: [] };
    }
    const from = t.call.firstFrame;
    const to = t.reply!.frame;
    const serverDir = directionFrom(tl.conn, t.server);
    const eps = tl.during(from, to);
    const pick = (kind: TransportEpisode['kind'], dir: number | undefined): TransportEpisode | undefined =>
      eps.filter((e) => e.kind === kind && (dir === undefined || e.dir === dir)).sort((a, b) => secondsFrom(b.start, b.end) - secondsFrom(a.start, a.end))[0];
    const frames = (ep: TransportEpisode, first: string, last: string): { at: FrameRef; what: string }[] => {
      const f = ep.frames.frames();
      return f.length === 1 ? [{ at: f[0]!, what: first }] : [{ at: f[0]!, what: first }, { at: f[f.length - 1]!, what: last }];
    };
    if (serverDir !== undefined) {
      const clientDir = serverDir ^ 1;
      const stall = pick('retransmission-stall', serverDir);
      if (stall !== undefined) {
        const resends = tl.resendsDuring(serverDir, from, to);
        const seconds = secondsFrom(stall.start, stall.end);
        return {
          cause: 'server-stall',
          text: `the server's reply segments went unacknowledged for ${secondsText(seconds)} (${resends.atLeast ? 'at least ' : ''}${plural(resends.count, 'retransmission')}): the delay was in the network path, not the server`,
          frames: frames(stall, 'server retransmission, not acknowledged (stall starts)', `server retransmission (stall, +${secondsText(seconds)})`),
        };
      }
      const callStall = pick('retransmission-stall', clientDir);
      if (callStall !== undefined) {
        const seconds = secondsFrom(callStall.start, callStall.end);
        return {
          cause: 'client-stall',
          text: `the client resent its segments for ${secondsText(seconds)} without an ACK: the server did not receive the call until then`,
          frames: frames(callStall, 'client retransmission, not acknowledged (stall starts)', `client retransmission (stall, +${secondsText(seconds)})`),
        };
      }
      const zw = pick('zero-window', undefined);
      if (zw !== undefined) {
        const serverSide = zw.dir === serverDir;
        const seconds = secondsFrom(zw.start, zw.end);
        return {
          cause: serverSide ? 'server-zero-window' : 'client-zero-window',
          text: serverSide
            ? `the server advertised a zero window for ${secondsText(seconds)}: it stopped reading calls (nfsd busy, storage slow)`
            : `the client advertised a zero window for ${secondsText(seconds)}: it stopped reading replies`,
          frames: frames(zw, `${serverSide ? 'server' : 'client'} zero window`, `${serverSide ? 'server' : 'client'} window open again`),
        };
      }
    }
    if (serverDir !== undefined) {
      const fromServer = tl.resendsDuring(serverDir, from, to);
      const fromClient = tl.resendsDuring((serverDir ^ 1) as Direction, from, to);
      if (fromServer.count + fromClient.count > 0) {
        const who = fromServer.count >= fromClient.count ? 'server' : 'client';
        const n = Math.max(fromServer.count, fromClient.count);
        return {
          cause: 'retransmissions',
          text: `TCP resent ${plural(n, `${who === 'server' ? 'reply' : 'call'} segment`)}: each lost packet cost a retransmission timeout`,
          frames: [],
        };
      }
    }
    const gap = pick('capture-gap', undefined);
    if (gap !== undefined) {
      return {
        cause: 'capture-gap',
        text: 'bytes are missing from the capture during it: an earlier reply may have been lost with them, so the latency is uncertain',
        frames: frames(gap, 'bytes missing from the capture', 'bytes missing from the capture (last)'),
      };
    }
    return { cause: 'server', text: 'TCP shows no loss, stall or zero window: the time was spent in the server (its threads, locks or storage)', frames: [] };
  }

  /** Calls to servers beyond the MAX_SERVERS followed per operation: in the operation's figures, not in its per-server breakdown. */
  notReported(): NotReportedCounts {
    return positiveCounts({ callsOfServersNotFollowed: this.callsOfServersNotFollowed });
  }

  finish(): Finding[] {
    const out: Finding[] = [];
    for (const s of this.otherOps === undefined ? this.ops.rows.values() : [...this.ops.rows.values(), this.otherOps]) {
      const median = s.hist.quantile(0.5) ?? 0;
      const p99 = s.hist.quantile(0.99) ?? 0;
      const floor = s.data ? this.dataFloor : this.metadataFloor;
      const relative = Math.max(median * this.factor, this.relativeFloor);
      const threshold = Math.min(floor, relative);
      const slow = s.heap.items.filter((c) => c.latency >= threshold);
      const groups = new Map<string, Candidate[]>();
      for (const c of slow) {
        const key = `${c.client}|${c.server}`;
        const list = groups.get(key) ?? [];
        list.push(c);
        groups.set(key, list);
      }
      const medianHigh = !s.other && s.hist.count >= this.medianMinCalls && median >= (s.data ? this.medianData : this.medianMetadata);
      for (const list of groups.values()) {
        // An operation slow as a rule is one finding of its own; single calls are reported only when far above it.
        const calls = medianHigh ? list.filter((c) => c.latency >= relative) : list;
        if (calls.length > 0) out.push(this.slowCallsFinding(s, calls, median, p99, threshold));
      }
      if (medianHigh) out.push(this.medianFinding(s, median, p99));
    }
    return out;
  }

  private slowCallsFinding(s: OpStats, list: Candidate[], median: number, p99: number, threshold: number): Finding {
    const byLatency = [...list].sort((a, b) => b.latency - a.latency || frameCompare(a.call, b.call));
    const worst = byLatency[0]!;
    const shown = byLatency.slice(0, SHOWN);
    const causes = new Map<SlowCause, number>();
    for (const c of list) causes.set(c.why.cause, (causes.get(c.why.cause) ?? 0) + 1);
    const items: { at: FrameRef; what: string }[] = [];
    for (const c of shown) {
      items.push({ at: c.call, what: `${c.op ?? s.op} call xid ${xidText(c.xid)}${c.file ? ` ${c.file}` : ''}` });
      items.push({ at: c.reply, what: `${c.op ?? s.op} reply after ${secondsText(c.latency)}` });
    }
    // A pause's frames are often the call and the reply themselves: each frame is listed once.
    for (const x of worst.why.frames) if (!items.some((i) => frameCompare(i.at, x.at) === 0)) items.push(x);
    items.sort((a, b) => frameCompare(a.at, b.at));
    const byTime = [...list].sort((a, b) => frameCompare(a.call, b.call));
    const n = list.length;
    const times = median > 0 ? Math.round(worst.latency / median) : 0;
    const more = n >= CANDIDATES ? ' (at least: only the slowest are kept)' : '';
    const title =
      n === 1
        ? `${worst.op ?? s.op} xid ${xidText(worst.xid)} took ${secondsText(worst.latency)} (frame ${worst.call.number}): ${CAUSE_NAMES[worst.why.cause]}`
        : `${n} slow ${callsOf(s)}, the worst xid ${xidText(worst.xid)} ${secondsText(worst.latency)} (frame ${worst.call.number}): ${CAUSE_NAMES[worst.why.cause]}`;
    const floor = s.data ? this.dataFloor : this.metadataFloor;
    const f: Finding = {
      kind: this.kind,
      // Above the absolute floor, users felt it; an outlier below it is worth a note only. A
      // latency made by a pause of the capture is not evidence of an error.
      severity: worst.latency >= this.errorSeconds && worst.why.cause !== 'capture-pause' ? 'error' : worst.latency >= floor ? 'warning' : 'info',
      title,
      explanation: sentences(
        `${n === 1 ? 'the call' : `${n}${more} of ${s.hist.count} ${callsOf(s)}`} from ${worst.client} took ${n === 1 ? secondsText(worst.latency) : `up to ${secondsText(worst.latency)}`}` +
          (times >= 2 ? `, ${times}× the median of ${secondsText(median)}` : `; the median is ${secondsText(median)}`),
        `while the worst waited, ${worst.why.text}`,
      ),
      client: worst.client,
      server: worst.server,
      start: formatFrameTime(byTime[0]!.call),
      end: formatFrameTime(byTime[byTime.length - 1]!.reply),
      durationSeconds: round(worst.latency),
      count: n,
      evidence: items.slice(0, MAX_EVIDENCE).map((x) => evidence(this.ctx, x.at, x.what, formatFrameTime)),
      metrics: cleanMetrics({
        op: s.label,
        calls: s.hist.count,
        slowCalls: n,
        medianSeconds: round(median),
        p99Seconds: round(p99),
        thresholdSeconds: round(threshold),
        worstSeconds: round(worst.latency),
        worstXid: xidText(worst.xid),
        worstFrame: worst.call.number,
        worstCause: worst.why.cause,
        causes: [...causes].sort((a, b) => b[1] - a[1]).map(([c, k]) => `${c} ×${k}`),
        latencies: shown.map((c) => round(c.latency)),
        xids: shown.map((c) => xidText(c.xid)),
      }),
      impact: { blockedSeconds: round(worst.latency), calls: n },
    };
    const files = [...new Set(list.map((c) => c.file).filter((x): x is string => x !== undefined))];
    if (files.length === 1) f.file = files[0]!;
    if (worst.why.cause === 'capture-gap') {
      f.confidence = 'low';
      f.caveat = 'Bytes are missing from the capture during the slowest call: its first reply may be among them, and its latency less than shown.';
    } else if (worst.why.cause === 'capture-pause') {
      f.confidence = 'low';
      f.caveat = 'The capture holds no frame at all for most of the slowest call: the capture paused or its clock stepped forward, so its latency is probably not real. Check the capturing host’s clock (NTP steps) and the capture’s gaps.';
    }
    return f;
  }

  private medianFinding(s: OpStats, median: number, p99: number): Finding {
    const servers = [...s.servers.numbers.keys()];
    const slowCalls = s.servers.slowCalls;
    const ranked = [...s.servers.causes()].sort((a, b) => b[1] - a[1]);
    const top = ranked[0];
    const transport = top !== undefined && top[0] !== 'server' ? top : undefined;
    const first = s.servers.first!;
    const last = s.servers.last();
    const examples = [...s.heap.items].sort((a, b) => b.latency - a.latency).slice(0, 3).sort((a, b) => frameCompare(a.call, b.call));
    const f: Finding = {
      kind: this.kind,
      severity: 'warning',
      title: `${s.op} is slow${servers.length === 1 ? ` on ${servers[0]}` : ''}: median ${secondsText(median)} over ${plural(s.hist.count, 'call')}`,
      explanation: sentences(
        `half the ${s.op} calls took ${secondsText(median)} or more (p99 ${secondsText(p99)}): the server is slow as a rule, not in one incident`,
        transport !== undefined
          ? `${capitalize(CAUSE_NAMES[transport[0]])} during ${transport[1]} of the ${slowCalls} slow ones: look at the transport first`
          : 'TCP shows no stall or zero window during them: check the server’s load, its nfsd threads and its storage latency',
      ),
      start: formatFrameTime(first),
      end: formatFrameTime(last),
      durationSeconds: round(Math.max(0, secondsFrom(first, last))),
      count: s.hist.count,
      evidence: examples.flatMap((c) => [
        evidence(this.ctx, c.call, `${s.op} call xid ${xidText(c.xid)}`, formatFrameTime),
        evidence(this.ctx, c.reply, `${s.op} reply after ${secondsText(c.latency)}`, formatFrameTime),
      ]),
      metrics: cleanMetrics({
        op: s.label,
        calls: s.hist.count,
        medianSeconds: round(median),
        p99Seconds: round(p99),
        slowCalls,
        causes: ranked.map(([c, k]) => `${c} ×${k}`),
        servers,
      }),
      impact: { blockedSeconds: round(median), calls: s.hist.count },
    };
    if (servers.length === 1) f.server = servers[0]!;
    return f;
  }
}
