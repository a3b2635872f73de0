/**
 * The time series of a capture, in one pass: per interval, the frames and
 * bytes on the wire, RPC calls, answers, errors, unanswered calls, bytes
 * read and written, latency (a compact mergeable histogram, with its
 * percentiles) overall and per operation, and the TCP events; plus each
 * finding's episode (its evidence frames on the time axis).
 *
 * When each thing counts (each at the frame where the wire shows it):
 * - calls, unanswered, rpcRetransmits and writeBytes: in the interval of
 *   the call's frame (Wireshark's frame for the call);
 * - answered, errors, latency and readBytes: in the interval of the reply's
 *   frame, as tshark's `-z io,stat` places rpc.time;
 * - frames and wireBytes: every frame read (before any filter);
 * - TCP events: at the frame tshark flags.
 *
 * An operation is a procedure, or an NFSv4 COMPOUND by its main op (the
 * `COMPOUND(<op>)` rows of the report's operations table), keyed
 * `<program> v<version> <name>`: `NFS v3 READ`, `NFS v4 OPEN`.
 *
 * Memory is bounded: the interval length is chosen automatically (about
 * 200-500 intervals over the capture) or given; when the capture spans more
 * intervals than the cap, the length grows to a multiple and the intervals
 * are joined (exactly: lengths are multiples, aligned on the epoch). Each
 * cell's histogram holds at most COMPACT_MAX_BUCKETS buckets. The first
 * `maxOperations` (MAX_TIMELINE_SERIES) operations seen have series of their
 * own; the calls of later ones are counted in one series, OTHER
 * (operation-cap.ts): a capture calling 100,000 made as many series, with
 * a cell in every interval each was called in. Fewer series than the
 * report's operations table has rows (MAX_OPERATIONS, 1,000): a series costs a
 * cell per interval, and 1,000 operations called in every interval made
 * 285,000 cells (310 MB); real captures call a few dozen (57 in 1 GB of
 * the bundled captures replayed).
 */
import { procedureName, programName } from '../../decoders/programs.js';
import type { Frame } from '../capture/frame.js';
import type { Finding } from '../detectors/finding.js';
import type { Transaction } from '../rpc/transaction.js';
import type { Endpoint, TcpConnection, TcpEvent } from '../transport/stream.js';
import { byCodeUnits } from '../string-order.js';
import { CompactHistogram, type CompactHistogramData } from './histogram.js';
import { AccountingSink, replyErrorName } from './op-stats.js';
import { capOf, CappedRows, isOther, OTHER, type OperationCap } from './operation-cap.js';
import { NO_NAME, ProcedureKeyed } from './procedure-keyed.js';
import {
  commonInterval,
  intervalIndex,
  isValidInterval,
  LADDER_NS,
  nextInterval,
  NS_PER_SECOND,
} from './timeline-interval.js';

/** Intervals kept at most while reading with an automatic length (before the final choice). */
export const AUTO_MAX_INTERVALS = 1000;
/** Intervals kept at most with a given length: beyond, the length grows (and the report says what was asked). */
export const MAX_INTERVALS = 4000;
/** The automatic choice aims at this many intervals over the capture. */
export const TARGET_INTERVALS: readonly [number, number] = [200, 500];

/** Selects what the series count (`nfsight timeline --op/--client/--server`); every filter given must hold. */
export interface TimelineFilter {
  /** Procedure name, or any op of a COMPOUND (case-insensitive). */
  op?: string;
  /** The caller's address (lowercase, IPv6 without brackets) and optionally port. */
  client?: { addr: string; port?: number };
  server?: { addr: string; port?: number };
}

export interface TimelineOptions {
  /** Interval length in nanoseconds (see timeline-interval.ts); automatic when absent. */
  intervalNs?: number;
  filter?: TimelineFilter;
  /** Whether a program number is an NFSv4 callback program (for names). */
  isCallbackProgram?: (program: number) => boolean;
  /** Series of their own at most (MAX_TIMELINE_SERIES); the calls of later operations go to the OTHER series. */
  maxOperations?: number;
}

/** Operations with a time series of their own, at most (a series costs a cell per interval). */
export const MAX_TIMELINE_SERIES = 100;

/** Latency of a cell in ms (rounded to the nanosecond), and the histogram (seconds) it comes from. */
export interface TimelineLatency {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  histogram: CompactHistogramData;
}

/** One operation in one interval. */
export interface TimelineOpPoint {
  /** The operation's key (TimelineSeries.key). */
  op: string;
  calls: number;
  answered: number;
  errors: number;
  unanswered: number;
  readBytes: number;
  writeBytes: number;
  latency: TimelineLatency;
}

/** One interval that saw anything (intervals that saw nothing are left out). */
export interface TimelineInterval {
  /** Position from the section's start: the interval is [start + index·intervalSeconds, + intervalSeconds). */
  index: number;
  /** Its start, seconds since the epoch. */
  start: number;
  frames: number;
  wireBytes: number;
  calls: number;
  answered: number;
  errors: number;
  unanswered: number;
  /** Calls sent again with the same xid (RPC-level retransmissions), counted at the call. */
  rpcRetransmits: number;
  readBytes: number;
  writeBytes: number;
  /** Every operation's latency together. */
  latency: TimelineLatency;
  /** TCP events by kind (as `tcp.events` of the report); only the kinds seen. */
  tcp: Record<string, number>;
  /** Per operation, in the order of the section's operations. */
  ops: TimelineOpPoint[];
}

/** An operation of the series, with its totals over the capture. */
export interface TimelineSeries {
  key: string;
  program: number;
  programName: string;
  version: number;
  procedure: number;
  /** The procedure's name, or the COMPOUND's main op. */
  name: string;
  calls: number;
  errors: number;
}

/** A frame of a finding's episode on the time axis. */
export interface TimelineMark {
  /** Seconds since the epoch. */
  seconds: number;
  file: string;
  frame: number;
  what: string;
}

/** A finding's episode: its span and its evidence frames, in seconds since the epoch. */
export interface TimelineEpisode {
  /** Index of the finding in the report's findings. */
  finding: number;
  kind: string;
  severity: string;
  title: string;
  start: number;
  end: number;
  marks: TimelineMark[];
}

export interface TimelineSection {
  /** Interval length, seconds. */
  intervalSeconds: number;
  /** Whether the length was chosen automatically. */
  auto: boolean;
  /** The length asked for (`--interval`) when the capture needed more than MAX_INTERVALS of them and it grew; else null. */
  requestedSeconds: number | null;
  /** Start of the first interval, seconds since the epoch (a multiple of intervalSeconds); null for an empty capture. */
  start: number | null;
  /** Intervals from the first through the last (those that saw nothing included). */
  count: number;
  /** The filter the series were made with (`nfsight timeline`), or null. */
  filter: TimelineFilter | null;
  /** The operations, most calls first (then most errors, then by key); the OTHER series (key `OTHER`) last. */
  operations: TimelineSeries[];
  /** The series' cap: series of their own at most, and the calls the OTHER series counts (`folded`). */
  operationsCap: OperationCap;
  intervals: TimelineInterval[];
  /** Each finding's episode, in the order of the findings. */
  episodes: TimelineEpisode[];
}

const round6 = (x: number): number => Number(x.toFixed(6));
const round9 = (x: number): number => Number(x.toFixed(9));

function latencyOf(h: CompactHistogram): TimelineLatency {
  const ms = (s: number | null): number | null => (s === null ? null : round6(s * 1000));
  return {
    p50: ms(h.quantile(0.5)),
    p90: ms(h.quantile(0.9)),
    p99: ms(h.quantile(0.99)),
    max: ms(h.count > 0 ? h.max : null),
    histogram: h.toJSON(),
  };
}

/** What one operation (or all together) counted in one interval. */
class Cell {
  calls = 0;
  answered = 0;
  errors = 0;
  unanswered = 0;
  readBytes = 0;
  writeBytes = 0;
  hist = new CompactHistogram();

  merge(o: Cell): void {
    this.calls += o.calls;
    this.answered += o.answered;
    this.errors += o.errors;
    this.unanswered += o.unanswered;
    this.readBytes += o.readBytes;
    this.writeBytes += o.writeBytes;
    this.hist.merge(o.hist);
  }
}

class Bucket {
  frames = 0;
  wireBytes = 0;
  rpcRetransmits = 0;
  readonly all = new Cell();
  readonly tcp = new Map<string, number>();
  readonly ops = new Map<string, Cell>();

  op(key: string): Cell {
    let c = this.ops.get(key);
    if (c === undefined) {
      c = new Cell();
      this.ops.set(key, c);
    }
    return c;
  }

  /** Counts the cells of some operations under other keys (`from` → `to`), joining those that meet. */
  rename(keys: ReadonlyMap<string, string>): void {
    for (const [from, to] of keys) {
      const c = this.ops.get(from);
      if (c === undefined) continue;
      this.ops.delete(from);
      this.op(to).merge(c);
    }
  }

  merge(o: Bucket): void {
    this.frames += o.frames;
    this.wireBytes += o.wireBytes;
    this.rpcRetransmits += o.rpcRetransmits;
    this.all.merge(o.all);
    for (const [k, v] of o.tcp) this.tcp.set(k, (this.tcp.get(k) ?? 0) + v);
    // forEach: no iterator result and entry pair per op (coarsening merges every bucket).
    o.ops.forEach((c, k) => this.op(k).merge(c));
  }
}


function endpointMatches(f: { addr: string; port?: number } | undefined, e: Endpoint): boolean {
  return f === undefined || (e.addr.toLowerCase() === f.addr && (f.port === undefined || e.port === f.port));
}

/** Seconds since the epoch of an ISO 8601 UTC time as the report writes them (to the nanosecond). */
export function isoSeconds(iso: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (m === null) return NaN;
  return Date.parse(`${m[1]}Z`) / 1000 + (m[2] ? Number(m[2]) / 10 ** m[2].length : 0);
}

/** How far an interval count is from TARGET_INTERVALS, by ratio (0 within it, and for none). */
function targetDistance(n: number): number {
  const [lo, hi] = TARGET_INTERVALS;
  return n > hi ? Math.log(n / hi) : n < lo && n > 0 ? Math.log(lo / n) : 0;
}

function countCall(c: Cell, writeBytes: number, answered: boolean): void {
  c.calls++;
  c.writeBytes += writeBytes;
  if (!answered) c.unanswered++;
}

function countAnswer(c: Cell, failed: boolean, readBytes: number, latency: number): void {
  c.answered++;
  if (failed) c.errors++;
  c.readBytes += readBytes;
  c.hist.record(latency);
}

export class Timeline extends AccountingSink {
  private intervalNs: number;
  private auto: boolean;
  private requestedNs: number | null;
  private get cap(): number {
    return this.auto ? AUTO_MAX_INTERVALS : MAX_INTERVALS;
  }
  private buckets = new Map<number, Bucket>();
  private minIdx = Infinity;
  private maxIdx = -Infinity;
  private lastIdx = NaN;
  private lastBucket: Bucket | undefined;
  private readonly series: CappedRows<TimelineSeries>;
  /** The calls of the operations beyond the cap. */
  private otherSeries: TimelineSeries | undefined;
  /** The series by procedure, whether of a callback program, and main op (found without their key string). */
  private readonly seriesCache = new ProcedureKeyed<TimelineSeries>();
  private readonly filter: TimelineFilter | undefined;
  private readonly opFilter: string | undefined;
  private readonly isCallbackProgram: (p: number) => boolean;
  private episodes: TimelineEpisode[] = [];

  constructor(options: TimelineOptions = {}) {
    super();
    if (options.intervalNs !== undefined && !isValidInterval(options.intervalNs)) throw new Error(`not a usable interval: ${options.intervalNs} ns`);
    this.auto = options.intervalNs === undefined;
    this.intervalNs = options.intervalNs ?? LADDER_NS[0]!;
    this.requestedNs = null;
    this.filter = options.filter;
    this.opFilter = options.filter?.op?.toUpperCase();
    this.isCallbackProgram = options.isCallbackProgram ?? (() => false);
    this.series = new CappedRows(options.maxOperations ?? MAX_TIMELINE_SERIES);
  }

  /** The interval length now, in nanoseconds. */
  get interval(): number {
    return this.intervalNs;
  }

  /** Intervals holding counts now (the time series' memory). */
  get heldIntervals(): number {
    return this.buckets.size;
  }

  /** The bucket of a time, making room (longer intervals) when the capture has grown past the cap. */
  private bucketAt(tsSec: number, tsNsec: number): Bucket {
    let idx = intervalIndex(this.intervalNs, tsSec, tsNsec);
    if (idx === this.lastIdx) return this.lastBucket!;
    if (idx < this.minIdx || idx > this.maxIdx) {
      while (Math.max(this.maxIdx, idx) - Math.min(this.minIdx, idx) + 1 > this.cap) {
        this.coarsen(nextInterval(this.intervalNs));
        idx = intervalIndex(this.intervalNs, tsSec, tsNsec);
      }
      if (idx < this.minIdx) this.minIdx = idx;
      if (idx > this.maxIdx) this.maxIdx = idx;
      // The automatic length climbs as soon as the final choice would climb (settle()): the
      // span only grows, and once a longer length is nearer the target it stays nearer, so
      // the intervals held while reading are about TARGET_INTERVALS, not up to the cap.
      if (this.auto) {
        while (this.climbs()) this.coarsen(nextInterval(this.intervalNs));
        idx = intervalIndex(this.intervalNs, tsSec, tsNsec);
      }
    }
    let b = this.buckets.get(idx);
    if (b === undefined) {
      b = new Bucket();
      this.buckets.set(idx, b);
    }
    this.lastIdx = idx;
    this.lastBucket = b;
    return b;
  }

  /** Joins the intervals into intervals of `ns` (a multiple of the current length). */
  private coarsen(ns: number): void {
    const r = ns / this.intervalNs;
    if (!this.auto && this.requestedNs === null) this.requestedNs = this.intervalNs;
    const joined = new Map<number, Bucket>();
    for (const [idx, b] of [...this.buckets.entries()].sort((x, y) => x[0] - y[0])) {
      const j = Math.floor(idx / r);
      const into = joined.get(j);
      if (into === undefined) joined.set(j, b);
      else into.merge(b);
    }
    this.buckets = joined;
    this.intervalNs = ns;
    if (this.minIdx !== Infinity) {
      this.minIdx = Math.floor(this.minIdx / r);
      this.maxIdx = Math.floor(this.maxIdx / r);
    }
    this.lastIdx = NaN;
    this.lastBucket = undefined;
  }

  /** Every frame read, before decoding. */
  frame(f: Frame): void {
    const b = this.bucketAt(f.tsSec, f.tsNsec);
    b.frames++;
    b.wireBytes += f.origLen;
  }

  tcpEvent(e: TcpEvent): void {
    if (!this.connectionKept(e.conn)) return;
    const b = this.bucketAt(e.at.tsSec, e.at.tsNsec);
    b.tcp.set(e.kind, (b.tcp.get(e.kind) ?? 0) + 1);
  }

  private connectionKept(c: TcpConnection): boolean {
    const f = this.filter;
    if (f === undefined || (f.client === undefined && f.server === undefined)) return true;
    return (endpointMatches(f.client, c.a) && endpointMatches(f.server, c.b)) || (endpointMatches(f.client, c.b) && endpointMatches(f.server, c.a));
  }

  protected account(t: Transaction, answered: boolean): void {
    const cb = this.isCallbackProgram(t.program);
    const call = t.decoded?.call;
    const f = this.filter;
    if (f !== undefined) {
      if (!endpointMatches(f.client, t.client) || !endpointMatches(f.server, t.server)) return;
      if (this.opFilter !== undefined) {
        const proc = procedureName(t.program, t.version, t.procedure, cb).toUpperCase();
        if (proc !== this.opFilter && !(call?.ops ?? []).some((o) => o.toUpperCase() === this.opFilter)) return;
      }
    }
    const s = this.seriesOf(t, call?.mainOp, cb);
    const key = s.key;
    s.calls++;

    const reply = answered ? t.decoded?.reply : undefined;
    const writeBytes = reply?.writeBytes ?? 0;
    const atCall = this.bucketAt(t.call.frame.tsSec, t.call.frame.tsNsec);
    atCall.rpcRetransmits += t.retransmits;
    countCall(atCall.all, writeBytes, answered);
    countCall(atCall.op(key), writeBytes, answered);
    if (!answered) return;

    const failed = replyErrorName(t.reply!) !== undefined || (reply?.statusCode ?? 0) > 0;
    if (failed) s.errors++;
    const readBytes = reply?.readBytes ?? 0;
    const atReply = this.bucketAt(t.reply!.frame.tsSec, t.reply!.frame.tsNsec);
    countAnswer(atReply.all, failed, readBytes, t.latency);
    countAnswer(atReply.op(key), failed, readBytes, t.latency);
  }

  /** The series of a call (by its procedure, or its COMPOUND's main op), found without its key string. */
  private seriesOf(t: Transaction, mainOp: string | undefined, cb: boolean): TimelineSeries {
    const { program, version, procedure } = t;
    const hit = this.seriesCache.find(program, version, procedure, cb ? 1 : 0, mainOp ?? NO_NAME);
    if (hit !== undefined) return hit;
    const name = mainOp ?? procedureName(program, version, procedure, cb);
    const pname = programName(program, cb);
    const key = `${pname} v${version} ${name}`;
    const s = this.series.get(key, () => ({ key, program, programName: pname, version, procedure, name, calls: 0, errors: 0 }));
    if (s === undefined) return this.other();
    this.seriesCache.names(program, version, procedure, cb ? 1 : 0)?.set(mainOp ?? NO_NAME, s);
    return s;
  }

  /** The OTHER series: the calls of the operations beyond the cap. */
  private other(): TimelineSeries {
    return (this.otherSeries ??= { key: OTHER, program: 0, programName: OTHER, version: 0, procedure: 0, name: OTHER, calls: 0, errors: 0 });
  }

  /**
   * The series a series of another timeline (merged, or read from a report)
   * is counted in here: its own, made while there is room, or OTHER.
   */
  private adopt(s: TimelineSeries): TimelineSeries {
    const into = isOther(s) ? this.other() : (this.series.get(s.key, () => ({ ...s, calls: 0, errors: 0 })) ?? this.other());
    into.calls += s.calls;
    into.errors += s.errors;
    return into;
  }

  /** Places each finding's evidence on the time axis (called once the findings are known). */
  setFindings(findings: readonly Finding[]): void {
    this.episodes = findings.map((f, i) => ({
      finding: i,
      kind: f.kind,
      severity: f.severity,
      title: f.title,
      start: round9(isoSeconds(f.start)),
      end: round9(isoSeconds(f.end)),
      marks: f.evidence.map((e) => ({ seconds: round9(isoSeconds(e.time)), file: e.file, frame: e.frame, what: e.what })),
    }));
  }

  /** Seconds since the epoch of an interval's start, as the nearest number to its exact decimal value. */
  private startOf(idx: number): number {
    const ns = this.intervalNs;
    if (ns >= NS_PER_SECOND) return idx * (ns / NS_PER_SECOND);
    const perSecond = NS_PER_SECOND / ns;
    const sec = Math.floor(idx / perSecond);
    const nsec = (idx - sec * perSecond) * ns;
    return sec >= 0 ? Number(`${sec}.${String(nsec).padStart(9, '0')}`) : sec + nsec / NS_PER_SECOND;
  }

  /** Intervals from the first through the last at `ns`. */
  private spanAt(ns: number): number {
    if (this.minIdx === Infinity) return 0;
    const r = ns / this.intervalNs;
    return Math.floor(this.maxIdx / r) - Math.floor(this.minIdx / r) + 1;
  }

  /**
   * The automatic length's last step: the length whose interval count is
   * nearest (by ratio) to TARGET_INTERVALS, climbing from the length reached.
   */
  private settle(): void {
    if (!this.auto) {
      while (this.spanAt(this.intervalNs) > this.cap) this.coarsen(nextInterval(this.intervalNs));
      return;
    }
    while (this.climbs()) this.coarsen(nextInterval(this.intervalNs));
  }

  /** Whether the automatic length's next step is nearer (by ratio) to TARGET_INTERVALS than the length now, or the span is past the cap. */
  private climbs(): boolean {
    const n = this.spanAt(this.intervalNs);
    return n > this.cap || targetDistance(this.spanAt(nextInterval(this.intervalNs))) < targetDistance(n);
  }

  /**
   * Adds another capture's series to this one (a merged report). The
   * episodes are left as they are: the merged report ranks its findings
   * again, and gives them to setFindings.
   */
  merge(other: Timeline): void {
    this.auto &&= other.auto;
    const ns = commonInterval(this.intervalNs, other.intervalNs);
    if (ns !== this.intervalNs) this.coarsen(ns);
    if (ns !== other.intervalNs) other.coarsen(ns);
    // The other's series beyond this one's cap are folded into OTHER, their cells too.
    const folded = new Map<string, string>();
    for (const s of [...other.series.rows.values(), ...(other.otherSeries ? [other.otherSeries] : [])]) {
      const into = this.adopt(s);
      if (into.key !== s.key) folded.set(s.key, into.key);
    }
    for (const [idx, b] of other.buckets) {
      if (folded.size > 0) b.rename(folded);
      const mine = this.buckets.get(idx);
      if (mine === undefined) this.buckets.set(idx, b);
      else mine.merge(b);
    }
    this.minIdx = Math.min(this.minIdx, other.minIdx);
    this.maxIdx = Math.max(this.maxIdx, other.maxIdx);
    this.requestedNs ??= other.requestedNs;
    this.lastIdx = NaN;
    this.lastBucket = undefined;
  }

  toJSON(): TimelineSection {
    this.settle();
    const seconds = this.intervalNs / NS_PER_SECOND;
    const order = [...this.series.rows.values()].sort((a, b) => b.calls - a.calls || b.errors - a.errors || byCodeUnits(a.key, b.key));
    if (this.otherSeries !== undefined) order.push(this.otherSeries);
    const rank = new Map(order.map((s, i) => [s.key, i]));
    const intervals: TimelineInterval[] = [...this.buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([idx, b]) => {
        const a = b.all;
        return {
          index: idx - this.minIdx,
          start: this.startOf(idx),
          frames: b.frames,
          wireBytes: b.wireBytes,
          calls: a.calls,
          answered: a.answered,
          errors: a.errors,
          unanswered: a.unanswered,
          rpcRetransmits: b.rpcRetransmits,
          readBytes: a.readBytes,
          writeBytes: a.writeBytes,
          latency: latencyOf(a.hist),
          tcp: Object.fromEntries([...b.tcp.entries()].sort((x, y) => byCodeUnits(x[0], y[0]))),
          ops: [...b.ops.entries()]
            .sort((x, y) => rank.get(x[0])! - rank.get(y[0])!)
            .map(([op, c]) => ({
              op,
              calls: c.calls,
              answered: c.answered,
              errors: c.errors,
              unanswered: c.unanswered,
              readBytes: c.readBytes,
              writeBytes: c.writeBytes,
              latency: latencyOf(c.hist),
            })),
        };
      });
    const f = this.filter;
    return {
      intervalSeconds: seconds,
      auto: this.auto,
      requestedSeconds: this.requestedNs === null ? null : this.requestedNs / NS_PER_SECOND,
      start: this.minIdx === Infinity ? null : this.startOf(this.minIdx),
      count: this.spanAt(this.intervalNs),
      filter: f === undefined ? null : { ...(f.op ? { op: f.op } : {}), ...(f.client ? { client: { ...f.client } } : {}), ...(f.server ? { server: { ...f.server } } : {}) },
      operations: order.map((s) => ({ ...s })),
      operationsCap: { maxRows: this.series.maxRows, folded: this.otherSeries?.calls ?? 0 },
      intervals,
      episodes: this.episodes.map((e) => ({ ...e, marks: e.marks.map((m) => ({ ...m })) })),
    };
  }

  /**
   * Rebuilds a timeline from a report's section (for merging), with the
   * section's cap of series unless `maxOperations` is given (series beyond
   * it are folded into OTHER); throws an Error naming what is wrong.
   */
  static fromJSON(data: TimelineSection, maxOperations?: number): Timeline {
    if (typeof data !== 'object' || data === null) throw new Error('timeline missing');
    const ns = Math.round(data.intervalSeconds * NS_PER_SECOND);
    if (!isValidInterval(ns)) throw new Error(`timeline.intervalSeconds ${JSON.stringify(data.intervalSeconds)} is not a usable interval`);
    if (typeof data.auto !== 'boolean') throw new Error('timeline.auto is not true or false');
    const cap = capOf(data.operationsCap, 'timeline.operationsCap', MAX_TIMELINE_SERIES);
    const max = maxOperations ?? cap.maxRows;
    const t = new Timeline(data.auto ? { maxOperations: max } : { intervalNs: ns, maxOperations: max });
    t.intervalNs = ns;
    if (data.requestedSeconds !== null && data.requestedSeconds !== undefined) {
      const r = Math.round(Number(data.requestedSeconds) * NS_PER_SECOND);
      if (!isValidInterval(r)) throw new Error('timeline.requestedSeconds is not a usable interval');
      t.requestedNs = r;
    }
    for (const k of ['operations', 'intervals', 'episodes'] as const) {
      if (!Array.isArray(data[k])) throw new Error(`timeline.${k} is not a list`);
    }
    /** Each series' key → the key of the series it is counted in here. */
    const seriesKey = new Map<string, string>();
    data.operations.forEach((s, i) => {
      if (typeof s?.key !== 'string' || !Number.isInteger(s.calls) || !Number.isInteger(s.errors)) throw new Error(`timeline.operations[${i}] is not an operation (key, calls, errors)`);
      seriesKey.set(s.key, t.adopt({ key: s.key, program: s.program, programName: s.programName, version: s.version, procedure: s.procedure, name: s.name, calls: s.calls, errors: s.errors }).key);
    });
    const startIdx = data.start === null ? 0 : Math.round(data.start / data.intervalSeconds);
    if (data.intervals.length > 0 && (typeof data.start !== 'number' || !Number.isInteger(data.count))) throw new Error('timeline.start or count missing');
    const cell = (c: TimelineOpPoint | TimelineInterval, into: Cell, what: string): void => {
      for (const k of ['calls', 'answered', 'errors', 'unanswered', 'readBytes', 'writeBytes'] as const) {
        if (typeof c[k] !== 'number' || !(c[k] >= 0)) throw new Error(`${what}.${k} is not a count`);
        into[k] = c[k];
      }
      try {
        into.hist = CompactHistogram.fromJSON(c.latency?.histogram);
      } catch (e) {
        throw new Error(`${what}.latency: ${(e as Error).message}`);
      }
      if (into.hist.count !== into.answered) throw new Error(`${what}: histogram holds ${into.hist.count} latencies for ${into.answered} answered calls`);
    };
    data.intervals.forEach((iv, i) => {
      const what = `timeline.intervals[${i}]`;
      if (typeof iv !== 'object' || iv === null || !Number.isInteger(iv.index) || iv.index < 0 || iv.index >= data.count) throw new Error(`${what}.index is not within the timeline`);
      const idx = startIdx + iv.index;
      if (t.buckets.has(idx)) throw new Error(`${what}: interval ${iv.index} listed twice`);
      const b = new Bucket();
      for (const k of ['frames', 'wireBytes', 'rpcRetransmits'] as const) {
        if (typeof iv[k] !== 'number' || !(iv[k] >= 0)) throw new Error(`${what}.${k} is not a count`);
        b[k] = iv[k];
      }
      cell(iv, b.all, what);
      if (typeof iv.tcp !== 'object' || iv.tcp === null || !Array.isArray(iv.ops)) throw new Error(`${what}: tcp or ops missing`);
      for (const [k, v] of Object.entries(iv.tcp)) {
        if (typeof v !== 'number' || !(v >= 0)) throw new Error(`${what}.tcp.${k} is not a count`);
        b.tcp.set(k, v);
      }
      iv.ops.forEach((o, j) => {
        const key = typeof o?.op === 'string' ? seriesKey.get(o.op) : undefined;
        if (key === undefined) throw new Error(`${what}.ops[${j}]: operation ${JSON.stringify(o?.op)} not in timeline.operations`);
        const c = new Cell();
        cell(o, c, `${what}.ops[${j}]`);
        // Taken as it is, merged only where series were folded together.
        const mine = b.ops.get(key);
        if (mine === undefined) b.ops.set(key, c);
        else mine.merge(c);
      });
      t.buckets.set(idx, b);
    });
    if (data.start !== null && data.count > 0) {
      t.minIdx = startIdx;
      t.maxIdx = startIdx + data.count - 1;
    }
    data.episodes.forEach((e, i) => {
      if (typeof e !== 'object' || e === null || !Number.isInteger(e.finding) || !Array.isArray(e.marks)) throw new Error(`timeline.episodes[${i}] is not an episode (finding, marks)`);
    });
    t.episodes = data.episodes.map((e) => ({ ...e, marks: e.marks.map((m) => ({ ...m })) }));
    return t;
  }
}
