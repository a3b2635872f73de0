/**
 * Per-operation statistics: for every (program, version, procedure), every
 * NFSv4 COMPOUND by its main op, and every NFSv4 operation — calls, answers,
 * errors, a mergeable latency histogram, bytes read and written and the
 * active time span; an error table (status × operation) with the first
 * frames of each; and the same tallies per client, per server and per file.
 *
 * Definitions (the README documents them for the report):
 * - errors: answered calls whose reply is an RPC-level error (MSG_DENIED or
 *   accepted with a status other than SUCCESS) or whose decoded status is
 *   not OK (statusCode > 0). Unanswered calls are counted apart. An NFSv4 op
 *   is in error when its own status is not NFS4_OK (or the whole reply is an
 *   RPC-level error); ops after the failing one were not executed and are
 *   counted as answered without error.
 * - NFSv4: each op of a COMPOUND is counted under its own name (one call per
 *   occurrence) with the COMPOUND's latency; the COMPOUND is counted under
 *   its procedure and under its main op (kind 'compound').
 * - bytes: READ bytes returned and WRITE bytes written, as the reply says;
 *   for a COMPOUND they go to its READ / WRITE op row.
 * - throughput: (readBytes + writeBytes) / (lastSeconds − firstSeconds),
 *   bytes per second, where firstSeconds is the capture time of the first
 *   call and lastSeconds of the last reply (or unanswered call); null when
 *   no bytes moved or the span is 0. For merged captures the span runs from
 *   the earliest call to the latest reply over all captures.
 * - client: the caller's address without port (ports change per
 *   connection); server: "addr:port". For NFSv4 callbacks the caller is the
 *   NFS server.
 * - files: keyed by file handle (hex), with the path where known (NFSv4 per
 *   op from the COMPOUND's attribution, else the injected `pathOf`). A
 *   transaction counts once per file it touches (`calls`), each op on the
 *   file counts in `ops`.
 *
 * Memory does not grow with the capture: the keyed tables (clients,
 * servers, files) keep at most `maxTracked` rows each (a little more between
 * trims); when over, the least used rows (fewest calls, then key order) are
 * evicted and counted (`evicted`, `evictedCalls`). The operations and the
 * errors keep rows for the first `maxOperations` (MAX_OPERATIONS) seen;
 * the calls of later ones are counted in an OTHER row per kind (the errors
 * table: one), said in `operationsCap` and `errorsCap` (operation-cap.ts).
 * Operations nfsight knows by name have a row in the operations table
 * beyond the cap too (a few hundred exist).
 * Histograms are fixed-size.
 */
import { procedureName, programName } from '../../decoders/programs.js';
import type { RpcReplyHeader } from '../../decoders/rpc.js';
import type { FrameRef } from '../capture/frame.js';
import type { RpcReplySide, Transaction, TransactionSink } from '../rpc/transaction.js';
import { formatEndpoint } from '../transport/stream.js';
import { byCodeUnits } from '../string-order.js';
import type { MemoryBudget } from '../memory/budget.js';
import { LruMap } from '../memory/lru.js';
import { BoundedTable } from './bounded-table.js';
import { LatencyHistogram, type HistogramData } from './histogram.js';
import { capOf, CappedRows, isNamedOperation, isOther, MAX_OPERATIONS, OTHER, type OperationCap } from './operation-cap.js';
import { NO_NAME, ProcedureKeyed } from './procedure-keyed.js';

/** Default cap of each keyed table (files, clients, servers): each row holds a ~16 KiB histogram. */
export const DEFAULT_MAX_TRACKED = 2_000;
/** Frames listed per error table row. */
export const ERROR_FRAMES = 5;

export type OperationKind = 'procedure' | 'compound' | 'op';
const KIND_ORDER: Record<OperationKind, number> = { procedure: 0, compound: 1, op: 2 };

/** Latencies in milliseconds (rounded to the nanosecond), and the histogram (seconds) they come from. */
export interface LatencySummary {
  min: number | null;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  histogram: HistogramData;
}

/** What every row counts. */
export interface TallyData {
  calls: number;
  answered: number;
  unanswered: number;
  errors: number;
  latency: LatencySummary;
  readBytes: number;
  writeBytes: number;
  /** Capture time (seconds since the epoch) of the first call and of the last reply or unanswered call; null when none. */
  firstSeconds: number | null;
  lastSeconds: number | null;
  /** (readBytes + writeBytes) / (lastSeconds − firstSeconds), bytes per second; null when no bytes or no span. */
  throughput: number | null;
}

export interface OperationRow extends TallyData {
  kind: OperationKind;
  program: number;
  programName: string;
  version: number;
  procedure: number;
  /** NFSv4: the op (kind 'op') or the COMPOUND's main op (kind 'compound'); null for procedures. */
  op: string | null;
  /** The procedure name, the op name, or `COMPOUND(<main op>)`. */
  name: string;
}

export interface ErrorFrame {
  file: string;
  /** The reply's frame. */
  frame: number;
  xid: string;
}

export interface ErrorRow {
  program: number;
  programName: string;
  version: number;
  /** Status name (nfsstat3, nfsstat4, … or the RPC-level error: PROG_UNAVAIL, AUTH_ERROR:AUTH_BADCRED, …). */
  status: string;
  /** The op or procedure that failed. */
  op: string;
  count: number;
  /** The first few replies with that status. */
  first: ErrorFrame[];
}

export interface PeerRow extends TallyData {
  /** Client: "addr"; server: "addr:port". */
  address: string;
}

export interface FileRow extends TallyData {
  fh: string;
  path: string | null;
  /** Operations on the file (NFSv4: each op of a COMPOUND on it; otherwise one per call). */
  ops: number;
}

export interface TrackedSection<R> {
  /** Rows kept at most. */
  maxTracked: number;
  /** Rows dropped (least used) to keep memory bounded, and the calls they had. */
  evicted: number;
  evictedCalls: number;
  rows: R[];
}

export interface OperationStatsData {
  operations: OperationRow[];
  /** The operations table's cap: rows of their own at most, and the calls counted in its OTHER rows (NFSv4 ops one by one). */
  operationsCap: OperationCap;
  errors: ErrorRow[];
  /** The errors table's cap, and the error replies counted in its OTHER row. */
  errorsCap: OperationCap;
  clients: TrackedSection<PeerRow>;
  servers: TrackedSection<PeerRow>;
  files: TrackedSection<FileRow>;
}

export interface OperationStatsOptions {
  /** The path of a file handle, where known (FileHandlePaths.pathOf). */
  pathOf?: (fh: string) => string | undefined;
  /** Input file name by index (for the error table's frames). */
  fileName?: (fileIndex: number) => string;
  /** Whether a program number is an NFSv4 callback program (for names). */
  isCallbackProgram?: (program: number) => boolean;
  /** Cap of each keyed table. */
  maxTracked?: number;
  /** Rows of their own in the operations table, and in the errors table, at most (MAX_OPERATIONS). */
  maxOperations?: number;
  /** The memory budget the keyed tables are accounted in (the budget may ask the least used rows to go: counted `tableRows`). */
  budget?: MemoryBudget;
}

const round9 = (x: number): number => Number(x.toFixed(9));
const round6 = (x: number): number => Number(x.toFixed(6));
const seconds = (f: FrameRef): number => f.tsSec + f.tsNsec / 1e9;
const hex = (xid: number): string => `0x${xid.toString(16).padStart(8, '0')}`;

class Tally {
  calls = 0;
  answered = 0;
  unanswered = 0;
  errors = 0;
  hist = new LatencyHistogram();
  readBytes = 0;
  writeBytes = 0;
  first = Infinity;
  last = -Infinity;

  answer(t: Transaction, error: boolean, readBytes: number, writeBytes: number): void {
    this.calls++;
    this.answered++;
    if (error) this.errors++;
    this.hist.record(t.latency);
    this.readBytes += readBytes;
    this.writeBytes += writeBytes;
    this.span(seconds(t.call.frame), seconds(t.reply!.frame));
  }

  noAnswer(t: Transaction): void {
    this.calls++;
    this.unanswered++;
    const s = seconds(t.call.frame);
    this.span(s, s);
  }

  private span(first: number, last: number): void {
    if (first < this.first) this.first = first;
    if (last > this.last) this.last = last;
  }

  merge(o: Tally): void {
    this.calls += o.calls;
    this.answered += o.answered;
    this.unanswered += o.unanswered;
    this.errors += o.errors;
    this.hist.merge(o.hist);
    this.readBytes += o.readBytes;
    this.writeBytes += o.writeBytes;
    this.span(o.first, o.last);
  }

  toJSON(): TallyData {
    const h = this.hist;
    const ms = (s: number | null): number | null => (s === null ? null : round6(s * 1000));
    const hasSpan = this.first !== Infinity;
    const span = hasSpan ? this.last - this.first : 0;
    const bytes = this.readBytes + this.writeBytes;
    return {
      calls: this.calls,
      answered: this.answered,
      unanswered: this.unanswered,
      errors: this.errors,
      latency: {
        min: ms(h.count > 0 ? h.min : null),
        mean: ms(h.mean()),
        p50: ms(h.quantile(0.5)),
        p90: ms(h.quantile(0.9)),
        p99: ms(h.quantile(0.99)),
        max: ms(h.count > 0 ? h.max : null),
        histogram: h.toJSON(),
      },
      readBytes: this.readBytes,
      writeBytes: this.writeBytes,
      firstSeconds: hasSpan ? round9(this.first) : null,
      lastSeconds: hasSpan ? round9(this.last) : null,
      throughput: bytes > 0 && span > 0 ? Number((bytes / span).toFixed(3)) : null,
    };
  }

  static fromJSON(d: TallyData, what: string): Tally {
    const t = new Tally();
    for (const k of ['calls', 'answered', 'unanswered', 'errors', 'readBytes', 'writeBytes'] as const) {
      if (typeof d[k] !== 'number' || !(d[k] >= 0)) throw new Error(`${what}: ${k} is not a count`);
      t[k] = d[k];
    }
    if (typeof d.latency !== 'object' || d.latency === null || typeof d.latency.histogram !== 'object' || d.latency.histogram === null) {
      throw new Error(`${what}: latency.histogram missing`);
    }
    try {
      t.hist = LatencyHistogram.fromJSON(d.latency.histogram);
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message}`);
    }
    if (t.hist.count !== t.answered) throw new Error(`${what}: histogram holds ${t.hist.count} latencies for ${t.answered} answered calls`);
    if (d.firstSeconds !== null && d.lastSeconds !== null && typeof d.firstSeconds === 'number' && typeof d.lastSeconds === 'number') {
      t.first = d.firstSeconds;
      t.last = d.lastSeconds;
    }
    return t;
  }
}

class OpTally extends Tally {
  /** The program's name as a merged report gave it (callback programs are named by the capture that saw them). */
  programName: string | undefined;
  constructor(
    readonly kind: OperationKind,
    readonly program: number,
    readonly version: number,
    readonly procedure: number,
    readonly op: string | null,
  ) {
    super();
  }
}

class FileTally extends Tally {
  ops = 0;
  constructor(public path: string | undefined) {
    super();
  }
}

interface ErrorTally {
  program: number;
  programName?: string;
  version: number;
  status: string;
  op: string;
  count: number;
  first: ErrorFrame[];
}

/** The error a reply failed its call with at the RPC level or below (RDMA_ERROR's ERR_VERS / ERR_CHUNK); undefined for SUCCESS. */
export function replyErrorName(r: RpcReplySide): string | undefined {
  return r.transportError?.name ?? rpcErrorName(r.header);
}

/** The name of an RPC-level error, or undefined for MSG_ACCEPTED / SUCCESS. */
export function rpcErrorName(h: RpcReplyHeader): string | undefined {
  if (h.replyStat === 0) {
    if (h.acceptStat === 0) return undefined;
    const names = ['SUCCESS', 'PROG_UNAVAIL', 'PROG_MISMATCH', 'PROC_UNAVAIL', 'GARBAGE_ARGS', 'SYSTEM_ERR'];
    return names[h.acceptStat ?? -1] ?? `ACCEPT_STAT_${h.acceptStat}`;
  }
  if (h.replyStat === 1) {
    if (h.rejectStat === 0) return 'RPC_MISMATCH';
    const auth = [
      'AUTH_OK', 'AUTH_BADCRED', 'AUTH_REJECTEDCRED', 'AUTH_BADVERF', 'AUTH_REJECTEDVERF', 'AUTH_TOOWEAK', 'AUTH_INVALIDRESP',
      'AUTH_FAILED', 'AUTH_KERB_GENERIC', 'AUTH_TIMEEXPIRE', 'AUTH_TKT_FILE', 'AUTH_DECODE', 'AUTH_NET_ADDR',
      'RPCSEC_GSS_CREDPROBLEM', 'RPCSEC_GSS_CTXPROBLEM',
    ];
    if (h.rejectStat === 1) return `AUTH_ERROR:${auth[h.authStat ?? -1] ?? h.authStat}`;
    return `MSG_DENIED:${h.rejectStat}`;
  }
  return `REPLY_STAT_${h.replyStat}`;
}

/**
 * A transaction sink that counts answered and unanswered calls the same
 * way (`account`), and has no use for replies without a call.
 */
export abstract class AccountingSink implements TransactionSink {
  protected abstract account(t: Transaction, answered: boolean): void;

  transaction(t: Transaction): void {
    this.account(t, true);
  }

  unanswered(t: Transaction): void {
    this.account(t, false);
  }

  orphanReply(): void {}
}

const newTally = (): Tally => new Tally();
const newFileTally = (): FileTally => new FileTally(undefined);

function count(tally: Tally, t: Transaction, answered: boolean, error: boolean, r: number, w: number): void {
  if (answered) tally.answer(t, error, r, w);
  else tally.noAnswer(t);
}

/** Paths whose handle OperationStats remembers (a few hundred KB at most). */
const FH_BY_PATH = 4096;

const opKey = (program: number, version: number, kind: OperationKind, procedure: number, op: string | null): string => `${program}/${version}/${kind}/${procedure}/${op ?? ''}`;
const errorKey = (program: number, version: number, status: string, op: string): string => `${program}/${version}/${status}/${op}`;

/** Adds an error table row's count and first frames to another's. */
function addError(into: ErrorTally, count: number, first: readonly ErrorFrame[]): void {
  into.count += count;
  for (const f of first) if (into.first.length < ERROR_FRAMES) into.first.push({ ...f });
}

export class OperationStats extends AccountingSink {
  private readonly ops: CappedRows<OpTally>;
  /** The OTHER rows by kind (KIND_ORDER), made when first needed. */
  private readonly otherOps: (OpTally | undefined)[] = [];
  /** The rows of `ops` by procedure, kind and op (found without their key string). */
  private readonly rowCache = new ProcedureKeyed<OpTally>();
  private readonly errorTable: CappedRows<ErrorTally>;
  private otherErrors: ErrorTally | undefined;
  private readonly clients: BoundedTable<Tally>;
  private readonly servers: BoundedTable<Tally>;
  private readonly files: BoundedTable<FileTally>;
  /** The handle of each path NFSv4 ops named recently: where an op that failed before having one belongs. */
  private readonly fhByPath = new LruMap<string, string>();
  private readonly pathOf: (fh: string) => string | undefined;
  private readonly fileName: (i: number) => string;
  private readonly isCallbackProgram: (p: number) => boolean;

  constructor(options: OperationStatsOptions = {}) {
    super();
    const max = options.maxTracked ?? DEFAULT_MAX_TRACKED;
    this.ops = new CappedRows(options.maxOperations ?? MAX_OPERATIONS);
    this.errorTable = new CappedRows(options.maxOperations ?? MAX_OPERATIONS);
    const budget = options.budget;
    const account = budget?.account('tables');
    this.clients = new BoundedTable(max, account);
    this.servers = new BoundedTable(max, account);
    this.files = new BoundedTable(max, account);
    if (budget !== undefined && account !== undefined) {
      // Under pressure the biggest table keeps its most used three quarters (the rows dropped are counted as evicted).
      account.evictor = () => {
        const biggest = [this.files, this.clients, this.servers].reduce((a, b) => (b.bytes > a.bytes ? b : a));
        const before = biggest.bytes;
        budget.drop('tableRows', biggest.trimTo(Math.floor((biggest.map.size * 3) / 4)));
        return before - biggest.bytes;
      };
    }
    this.pathOf = options.pathOf ?? (() => undefined);
    this.fileName = options.fileName ?? ((i) => String(i));
    this.isCallbackProgram = options.isCallbackProgram ?? (() => false);
  }

  private op(kind: OperationKind, t: Transaction, op: string | null): OpTally {
    const { program, version, procedure } = t;
    const name = op ?? NO_NAME;
    const hit = this.rowCache.find(program, version, procedure, KIND_ORDER[kind], name);
    if (hit !== undefined) return hit;
    // A call folded into OTHER passes here each time, and leaves nothing behind.
    const o = this.ops.get(
      opKey(program, version, kind, procedure, op),
      () => new OpTally(kind, program, version, procedure, op),
      () => isNamedOperation(program, version, procedure, op, this.isCallbackProgram(program)),
    );
    if (o === undefined) return this.other(kind);
    this.rowCache.names(program, version, procedure, KIND_ORDER[kind])?.set(name, o);
    return o;
  }

  /** The OTHER row of a kind: the calls of the operations beyond the cap. */
  private other(kind: OperationKind): OpTally {
    let o = this.otherOps[KIND_ORDER[kind]];
    if (o === undefined) {
      o = new OpTally(kind, 0, 0, 0, kind === 'procedure' ? null : OTHER);
      o.programName = OTHER;
      this.otherOps[KIND_ORDER[kind]] = o;
    }
    return o;
  }

  /** The errors table's row of a key, or its OTHER row when the table is full. */
  private errorRow(key: string, make: () => ErrorTally): ErrorTally {
    return this.errorTable.get(key, make) ?? this.otherError();
  }

  private otherError(): ErrorTally {
    return (this.otherErrors ??= { program: 0, programName: OTHER, version: 0, status: OTHER, op: OTHER, count: 0, first: [] });
  }

  private error(t: Transaction, status: string, op: string): void {
    const e = this.errorRow(errorKey(t.program, t.version, status, op), () => ({ program: t.program, version: t.version, status, op, count: 0, first: [] }));
    e.count++;
    if (e.first.length < ERROR_FRAMES) {
      const f = t.reply!.frame;
      e.first.push({ file: this.fileName(f.fileIndex), frame: f.number, xid: hex(t.xid) });
    }
  }

  protected account(t: Transaction, answered: boolean): void {
    const call = t.decoded?.call;
    const reply = answered ? t.decoded?.reply : undefined;
    const rpcError = answered ? replyErrorName(t.reply!) : undefined;
    const failed = rpcError !== undefined || (reply !== undefined && reply.statusCode !== null && reply.statusCode > 0);
    const readBytes = reply?.readBytes ?? 0;
    const writeBytes = reply?.writeBytes ?? 0;

    count(this.op('procedure', t, null), t, answered, failed, readBytes, writeBytes);
    count(this.clients.get(t.client.addr, newTally), t, answered, failed, readBytes, writeBytes);
    count(this.servers.get(formatEndpoint(t.server), newTally), t, answered, failed, readBytes, writeBytes);

    const compound = call !== undefined && call.minorVersion !== undefined;
    if (compound) {
      count(this.op('compound', t, call.mainOp), t, answered, failed, readBytes, writeBytes);
      let readDone = false;
      let writeDone = false;
      const ops = call.ops;
      const opFailed: boolean[] = [];
      for (let i = 0; i < ops.length; i++) {
        const name = ops[i]!;
        const s = reply?.opStatus?.[i];
        const bad = rpcError !== undefined || (s !== undefined && s !== 'NFS4_OK');
        opFailed.push(bad);
        const r = name === 'READ' && !readDone ? readBytes : 0;
        const w = name === 'WRITE' && !writeDone ? writeBytes : 0;
        if (name === 'READ') readDone = true;
        if (name === 'WRITE') writeDone = true;
        count(this.op('op', t, name), t, answered, bad, r, w);
        // The error table names the op as the reply does (an unknown op is answered as ILLEGAL).
        if (answered && rpcError === undefined && s !== undefined && s !== 'NFS4_OK') this.error(t, s, reply?.ops?.[i] ?? name);
      }
      if (rpcError !== undefined) this.error(t, rpcError, call.mainOp);
      else if (failed && !(reply?.opStatus ?? []).some((s) => s !== 'NFS4_OK')) this.error(t, reply!.status ?? 'UNKNOWN', call.mainOp);
      // Files: each distinct file handle of the COMPOUND's ops.
      const attributed = t.nfs4?.ops;
      if (attributed === undefined || attributed.length === 0) return;
      const seen = new Map<string, { ops: number; errors: boolean; r: number; w: number; path: string | undefined }>();
      for (let i = 0; i < attributed.length; i++) {
        const a = attributed[i]!;
        // An op that failed before it had a file handle (OPEN refused with NFS4ERR_GRACE)
        // counts against the file its path names, when a handle for that path was seen.
        const fhOf = a.fh ?? (opFailed[i] && a.path !== undefined ? this.fhByPath.get(a.path) : undefined);
        if (fhOf === undefined) continue;
        if (a.fh !== undefined && a.path !== undefined) this.rememberPath(a.path, a.fh);
        let f = seen.get(fhOf);
        if (f === undefined) {
          f = { ops: 0, errors: false, r: 0, w: 0, path: undefined };
          seen.set(fhOf, f);
        }
        f.ops++;
        if (opFailed[i]) f.errors = true;
        if (a.path !== undefined) f.path = a.path;
        if (a.op === 'READ') f.r += readBytes;
        if (a.op === 'WRITE') f.w += writeBytes;
      }
      for (const [fh, f] of seen) this.file(fh, f.path, f.ops, t, answered, f.errors, f.r, f.w);
    } else {
      if (rpcError !== undefined) this.error(t, rpcError, this.procName(t));
      else if (failed) this.error(t, reply!.status ?? 'UNKNOWN', this.procName(t));
      const fh = call?.fh;
      if (fh !== undefined) this.file(fh, undefined, 1, t, answered, failed, readBytes, writeBytes);
    }
  }

  private procName(t: Transaction): string {
    return t.decoded?.call?.mainOp ?? procedureName(t.program, t.version, t.procedure, this.isCallbackProgram(t.program));
  }

  /** Remembers the handle a path was last seen with (the most recent FH_BY_PATH paths). */
  private rememberPath(path: string, fh: string): void {
    if (this.fhByPath.get(path) === fh) return;
    this.fhByPath.delete(path);
    this.fhByPath.set(path, fh);
    if (this.fhByPath.size > FH_BY_PATH) this.fhByPath.shift();
  }

  private file(fh: string, path: string | undefined, ops: number, t: Transaction, answered: boolean, error: boolean, r: number, w: number): void {
    const f = this.files.get(fh, newFileTally);
    const p = path ?? this.pathOf(fh);
    if (p !== undefined) f.path = p;
    f.ops += ops;
    count(f, t, answered, error, r, w);
  }

  /** Adds another's tallies (of another capture) to these. */
  merge(other: OperationStats): void {
    // The other's rows beyond this one's cap are folded into OTHER, as its calls would have been.
    for (const [k, o] of other.ops.rows) {
      const named = (): boolean => isNamedOperation(o.program, o.version, o.procedure, o.op, o.programName === 'NFS_CB');
      const mine = this.ops.get(k, () => new OpTally(o.kind, o.program, o.version, o.procedure, o.op), named) ?? this.other(o.kind);
      mine.programName ??= o.programName;
      mine.merge(o);
    }
    for (const o of other.otherOps) if (o !== undefined) this.other(o.kind).merge(o);
    for (const [k, e] of other.errorTable.rows) addError(this.errorRow(k, () => ({ ...e, count: 0, first: [] })), e.count, e.first);
    if (other.otherErrors !== undefined) addError(this.otherError(), other.otherErrors.count, other.otherErrors.first);
    const mergeTable = <T extends Tally>(mine: BoundedTable<T>, theirs: BoundedTable<T>, make: (o: T) => T): void => {
      for (const [k, o] of theirs.map) mine.get(k, () => make(o)).merge(o);
      mine.evicted += theirs.evicted;
      mine.evictedCalls += theirs.evictedCalls;
      mine.trim();
    };
    mergeTable(this.clients, other.clients, () => new Tally());
    mergeTable(this.servers, other.servers, () => new Tally());
    mergeTable(this.files, other.files, (o) => new FileTally(o.path));
    for (const [k, o] of other.files.map) {
      const mine = this.files.map.get(k);
      if (mine !== undefined) {
        mine.ops += o.ops;
        if (o.path !== undefined) mine.path ??= o.path;
      }
    }
  }

  toJSON(): OperationStatsData {
    const operations = [...this.ops.rows.values()]
      .sort(
        (a, b) =>
          a.program - b.program ||
          a.version - b.version ||
          KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
          a.procedure - b.procedure ||
          byCodeUnits(a.op ?? '', b.op ?? ''),
      )
      .map((o): OperationRow => {
        const cb = this.isCallbackProgram(o.program) || (o.programName !== undefined && o.programName !== programName(o.program, false));
        const proc = procedureName(o.program, o.version, o.procedure, cb);
        return {
          kind: o.kind,
          program: o.program,
          programName: o.programName ?? programName(o.program, cb),
          version: o.version,
          procedure: o.procedure,
          op: o.op,
          name: o.kind === 'procedure' ? proc : o.kind === 'compound' ? `${proc}(${o.op})` : o.op!,
          ...o.toJSON(),
        };
      });
    // The OTHER rows last, by kind.
    let foldedCalls = 0;
    for (const o of this.otherOps) {
      if (o === undefined) continue;
      foldedCalls += o.calls;
      operations.push({ kind: o.kind, program: 0, programName: OTHER, version: 0, procedure: 0, op: o.op, name: OTHER, ...o.toJSON() });
    }
    const errors = [...this.errorTable.rows.values()]
      .sort((a, b) => a.program - b.program || a.version - b.version || byCodeUnits(a.status, b.status) || byCodeUnits(a.op, b.op))
      .map((e): ErrorRow => ({
        program: e.program,
        programName: e.programName ?? programName(e.program, this.isCallbackProgram(e.program)),
        version: e.version,
        status: e.status,
        op: e.op,
        count: e.count,
        first: e.first.map((f) => ({ ...f })),
      }));
    const oe = this.otherErrors;
    if (oe !== undefined) errors.push({ program: 0, programName: OTHER, version: 0, status: OTHER, op: OTHER, count: oe.count, first: oe.first.map((f) => ({ ...f })) });
    // The rows first: sorted() makes the last trim, whose evictions the counts must hold.
    const peers = (b: BoundedTable<Tally>): TrackedSection<PeerRow> => {
      const rows = b.sorted().map(([address, t]) => ({ address, ...t.toJSON() }));
      return { maxTracked: b.max, evicted: b.evicted, evictedCalls: b.evictedCalls, rows };
    };
    const fileRows = this.files.sorted().map(([fh, f]) => {
      const path = f.path ?? this.pathOf(fh) ?? null;
      const { calls, ...rest } = f.toJSON();
      return { fh, path, calls, ops: f.ops, ...rest };
    });
    return {
      operations,
      operationsCap: { maxRows: this.ops.maxRows, folded: foldedCalls },
      errors,
      errorsCap: { maxRows: this.errorTable.maxRows, folded: oe?.count ?? 0 },
      clients: peers(this.clients),
      servers: peers(this.servers),
      files: {
        maxTracked: this.files.max,
        evicted: this.files.evicted,
        evictedCalls: this.files.evictedCalls,
        rows: fileRows,
      },
    };
  }

  /** Rebuilds the tallies of a report's sections; throws an Error naming what is wrong. */
  static fromJSON(data: OperationStatsData, options: OperationStatsOptions = {}): OperationStats {
    const isArr = (x: unknown, what: string): void => {
      if (!Array.isArray(x)) throw new Error(`${what} is not a list`);
    };
    const section = (x: unknown, what: string): TrackedSection<unknown> => {
      const s = x as TrackedSection<unknown>;
      if (typeof s !== 'object' || s === null) throw new Error(`${what} missing`);
      isArr(s.rows, `${what}.rows`);
      for (const k of ['maxTracked', 'evicted', 'evictedCalls'] as const) {
        if (typeof s[k] !== 'number' || !(s[k] >= 0)) throw new Error(`${what}.${k} is not a count`);
      }
      return s;
    };
    isArr(data.operations, 'operations');
    isArr(data.errors, 'errors');
    const cs = section(data.clients, 'clients');
    const ss = section(data.servers, 'servers');
    const fs = section(data.files, 'files');
    // A report made before the cap says nothing of it; its rows beyond the cap are folded here, as a merge's are.
    const opsCap = capOf(data.operationsCap, 'operationsCap', MAX_OPERATIONS);
    const errorsCap = capOf(data.errorsCap, 'errorsCap', MAX_OPERATIONS);
    const s = new OperationStats({
      ...options,
      maxTracked: options.maxTracked ?? Math.max(cs.maxTracked, ss.maxTracked, fs.maxTracked),
      maxOperations: options.maxOperations ?? Math.max(opsCap.maxRows, errorsCap.maxRows),
    });
    const add = (r: OperationRow, tally: Tally, op: string | null, what: string): void => {
      const key = opKey(r.program, r.version, r.kind, r.procedure, op);
      if (s.ops.rows.has(key)) throw new Error(`${what}: duplicate row ${r.name}`);
      const named = (): boolean => isNamedOperation(r.program, r.version, r.procedure, op, r.programName === 'NFS_CB');
      const o = s.ops.get(key, () => new OpTally(r.kind, r.program, r.version, r.procedure, op), named) ?? s.other(r.kind);
      if (typeof r.programName === 'string') o.programName ??= r.programName;
      o.merge(tally);
    };
    const named: { r: OperationRow; tally: Tally; op: string | null; what: string }[] = [];
    data.operations.forEach((r, i) => {
      const what = `operations[${i}]`;
      if (typeof r !== 'object' || r === null) throw new Error(`${what} is not an object`);
      if (!(r.kind in KIND_ORDER)) throw new Error(`${what}: unknown kind ${JSON.stringify(r.kind)}`);
      for (const k of ['program', 'version', 'procedure'] as const) {
        if (!Number.isInteger(r[k])) throw new Error(`${what}: ${k} is not a number`);
      }
      if (r.kind !== 'procedure' && typeof r.op !== 'string') throw new Error(`${what}: op missing`);
      const tally = Tally.fromJSON(r, `${what} (${r.name})`);
      if (isOther(r)) {
        s.other(r.kind).merge(tally);
        return;
      }
      const op = r.kind === 'procedure' ? null : r.op;
      // Named operations after the others: they have rows beyond the cap, so they must not take the room of one that had its row.
      if (isNamedOperation(r.program, r.version, r.procedure, op, r.programName === 'NFS_CB')) named.push({ r, tally, op, what });
      else add(r, tally, op, what);
    });
    for (const n of named) add(n.r, n.tally, n.op, n.what);
    data.errors.forEach((e, i) => {
      const what = `errors[${i}]`;
      if (typeof e !== 'object' || e === null || typeof e.status !== 'string' || typeof e.op !== 'string' || !Number.isInteger(e.count) || !Array.isArray(e.first)) {
        throw new Error(`${what} is not an error row (status, op, count, first)`);
      }
      const into = isOther(e)
        ? s.otherError()
        : s.errorRow(errorKey(e.program, e.version, e.status, e.op), () => ({ program: e.program, ...(typeof e.programName === 'string' ? { programName: e.programName } : {}), version: e.version, status: e.status, op: e.op, count: 0, first: [] }));
      addError(into, e.count, e.first);
    });
    const peers = (sec: TrackedSection<unknown>, b: BoundedTable<Tally>, what: string): void => {
      (sec.rows as PeerRow[]).forEach((r, i) => {
        if (typeof r?.address !== 'string') throw new Error(`${what}.rows[${i}]: address missing`);
        b.map.set(r.address, Tally.fromJSON(r, `${what}.rows[${i}] (${r.address})`));
      });
      b.evicted = sec.evicted;
      b.evictedCalls = sec.evictedCalls;
    };
    peers(cs, s.clients, 'clients');
    peers(ss, s.servers, 'servers');
    (fs.rows as FileRow[]).forEach((r, i) => {
      if (typeof r?.fh !== 'string') throw new Error(`files.rows[${i}]: fh missing`);
      const f = new FileTally(typeof r.path === 'string' ? r.path : undefined);
      f.merge(Tally.fromJSON(r, `files.rows[${i}] (${r.fh})`));
      f.ops = typeof r.ops === 'number' ? r.ops : 0;
      s.files.map.set(r.fh, f);
    });
    s.files.evicted = fs.evicted;
    s.files.evictedCalls = fs.evictedCalls;
    return s;
  }
}
