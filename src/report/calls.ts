/**
 * The calls listing (`nfsight calls`): one row per RPC call, answered or
 * not, with its reply, status, latency, file and arguments (offset/count,
 * names); the filters a user selects rows with; and the renderers (table,
 * json, csv, jsonl).
 *
 * Order: analyze() hands over transactions as their replies complete, and
 * the unanswered ones at the end. jsonl and csv write each row as it comes,
 * in that order. table and json put the rows back into call-frame order
 * (input file, then call frame) with bounded buffering (CallOrder), and
 * write them as they are released. No renderer keeps the listing: memory
 * does not grow with the size of the capture, and `| head` shows rows at once.
 * The table has fixed column widths chosen from the terminal's width, one
 * line per call, like tshark's one line per packet.
 */
import { fhHashHex } from '../../decoders/fh.js';
import { procedureName, programName, PROG_MOUNT, PROG_NFS4_CB_DEFAULT } from '../../decoders/programs.js';
import { acceptStatName, authStatName, rejectStatName } from '../../decoders/rpc.js';
import type { RpcTransport } from '../rpc/message.js';
import type { Transaction, TransactionContext } from '../rpc/transaction.js';
import { formatEndpoint } from '../transport/stream.js';
import { formatFrameTime } from './time.js';
import { baseName, DEFAULT_WIDTH, displayWidth, pad, shortenEnd, shortenMiddle, shortenStart } from './terminal.js';
import { indentedText } from './json-writer.js';


/** One call of the listing. Keys are the jsonl / json contract; csv columns follow CALL_COLUMNS. */
export interface CallRow {
  file: string;
  /** Frame in which the call's record was complete (Wireshark's frame for the call). */
  frame: number;
  /** Frame in which the reply's record was complete; null when unanswered. */
  replyFrame: number | null;
  /** Frame of the call's first segment. */
  firstFrame: number;
  /** The call frame's time, ISO 8601 UTC with the capture's precision. */
  time: string;
  /** `0x` + 8 hex digits. */
  xid: string;
  client: string;
  server: string;
  transport: RpcTransport;
  program: number;
  programName: string;
  version: number;
  /** NFSv4 COMPOUND (and CB_COMPOUND): the minor version; else null. */
  minorVersion: number | null;
  procedure: number;
  procName: string;
  /** The op the call is about (decoders' mainOp): the procedure, or a COMPOUND's main op. */
  mainOp: string;
  /** A COMPOUND's ops; else [procName]. */
  ops: string[];
  /** SUCCESS … SYSTEM_ERR (accepted), RPC_MISMATCH / AUTH_ERROR (denied), ERR_VERS / ERR_CHUNK (RDMA_ERROR: the transport answered); null when unanswered. */
  rpcStatus: string | null;
  /** AUTH_ERROR: the auth_stat name; else null. */
  authStatus: string | null;
  /** The procedure's status (for NFSv4 the COMPOUND's); null for void results, unanswered or undecoded. */
  status: string | null;
  statusCode: number | null;
  /** NFSv4: each op's status in the reply (it ends at the first failing op); else null. */
  opStatus: string[] | null;
  /** Seconds from call frame to reply frame (rpc.time, to the nanosecond); null when unanswered. */
  latency: number | null;
  retransmits: number;
  callBytes: number;
  replyBytes: number | null;
  /** The call's file handle as Wireshark's nfs.fh.hash (`0x%08x`), and in full. */
  fh: string | null;
  fhHex: string | null;
  path: string | null;
  readBytes: number | null;
  writeBytes: number | null;
  /** READ / WRITE / COMMIT / READ_PLUS (v3, and the main op of a v4 COMPOUND): the byte range the call asked for; else null. */
  offset: number | null;
  count: number | null;
  /** Names the call carries: LOOKUP / CREATE / REMOVE / MKDIR / LINK… the name in the directory, RENAME from and to, MNT the export path; else null. */
  names: string[] | null;
  /** The reply's input file when it is not the call's (a rotated set cut between them); else null. */
  replyFile: string | null;
  /** An unanswered call whose reply began in this frame but never completed. */
  unfinishedReplyFrame: number | null;
  /** Where decoding stopped early: `call:<reason>` / `reply:<reason>` (truncated, not-kept, …), `;`-joined; null when whole. */
  decodeStop: string | null;
}

/** CSV columns, in order. */
export const CALL_COLUMNS: readonly (keyof CallRow)[] = [
  'file', 'frame', 'replyFrame', 'firstFrame', 'time', 'xid', 'client', 'server', 'transport',
  'program', 'programName', 'version', 'minorVersion', 'procedure', 'procName', 'mainOp', 'ops',
  'rpcStatus', 'authStatus', 'status', 'statusCode', 'opStatus', 'latency', 'retransmits',
  'callBytes', 'replyBytes', 'fh', 'fhHex', 'path', 'readBytes', 'writeBytes',
  'offset', 'count', 'names', 'replyFile', 'unfinishedReplyFrame', 'decodeStop',
];

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

function isCallback(t: Transaction, ctx: TransactionContext | undefined): boolean {
  if (t.program === PROG_NFS4_CB_DEFAULT) return true;
  if (ctx?.isCallbackProgram !== undefined) return ctx.isCallbackProgram(t.program);
  // Without analyze()'s knowledge: the callback decoder decoded it (its ops are CB_ ops).
  const ops = t.decoded?.call?.ops;
  return ops !== undefined && ops.length > 0 && ops.every((o) => o.startsWith('CB_'));
}

/** Operations whose calls carry a byte range (offset, count). */
const RANGE_OPS = new Set(['READ', 'WRITE', 'COMMIT', 'READ_PLUS']);

/**
 * The row of a transaction. `fileName` names an input file by its index in
 * the run (a plain string: every frame is in that file).
 */
export function callRow(t: Transaction, fileName: string | ((fileIndex: number) => string), ctx?: TransactionContext): CallRow {
  const nameOf = typeof fileName === 'string' ? () => fileName : fileName;
  const callback = isCallback(t, ctx);
  const procName = procedureName(t.program, t.version, t.procedure, callback);
  const call = t.decoded?.call;
  const reply = t.decoded?.reply;
  const compound = procName === 'COMPOUND' || procName === 'CB_COMPOUND';

  let rpcStatus: string | null = null;
  let authStatus: string | null = null;
  const h = t.reply?.header;
  // Answered by the transport (RDMA_ERROR): its error is the call's RPC status.
  if (t.reply?.transportError !== undefined) rpcStatus = t.reply.transportError.name;
  else if (h !== undefined) {
    if (h.replyStat === 0) rpcStatus = h.acceptStat === undefined ? null : acceptStatName(h.acceptStat);
    else if (h.replyStat === 1) {
      rpcStatus = h.rejectStat === undefined ? null : rejectStatName(h.rejectStat);
      if (h.rejectStat === 1 && h.authStat !== undefined) authStatus = authStatName(h.authStat);
    }
  }

  // Results without a status field decode as null, undecodable ones as "UNKNOWN"/-1: neither is a status.
  const hasStatus = reply !== undefined && reply.status !== null && reply.statusCode !== -1;

  const fh = call?.fh;
  let path: string | undefined;
  if (t.nfs4 !== undefined && call !== undefined) {
    const ops = t.nfs4.ops;
    // The last op of the main kind with a path: after LOOKUP a, LOOKUP b, the object b.
    let last: string | undefined;
    for (const o of ops) if (o.op === call.mainOp && o.path !== undefined) last = o.path;
    path = last ?? (fh !== undefined ? ops.find((o) => o.fh === fh && o.path !== undefined)?.path : undefined);
  }
  if (path === undefined && fh !== undefined) path = ctx?.pathOf?.(fh);
  // MOUNT's MNT / UMNT name the export by its path.
  if (path === undefined && t.program === PROG_MOUNT && (procName === 'MNT' || procName === 'UMNT')) path = call?.names?.[0];
  const replyFileIndex = t.reply?.frame.fileIndex;
  // The byte range belongs to the call when it is about reading or writing (a COMPOUND's READ, not its LOOKUP).
  const rangeOp = call !== undefined && RANGE_OPS.has(call.mainOp);

  const stops: string[] = [];
  if (call?.stop) stops.push(`call:${call.stop.reason}`);
  if (reply?.stop) stops.push(`reply:${reply.stop.reason}`);

  return {
    file: nameOf(t.call.frame.fileIndex),
    frame: t.call.frame.number,
    replyFrame: t.reply?.frame.number ?? null,
    firstFrame: t.call.firstFrame.number,
    time: formatFrameTime(t.call.frame),
    xid: hex8(t.xid),
    client: formatEndpoint(t.client),
    server: formatEndpoint(t.server),
    transport: t.transport,
    program: t.program,
    programName: programName(t.program, callback),
    version: t.version,
    minorVersion: call?.minorVersion ?? null,
    procedure: t.procedure,
    procName,
    mainOp: call?.mainOp ?? procName,
    ops: compound && call !== undefined ? [...call.ops] : [procName],
    rpcStatus,
    authStatus,
    status: hasStatus ? reply.status : null,
    statusCode: hasStatus ? reply.statusCode : null,
    opStatus: reply?.opStatus ? [...reply.opStatus] : null,
    // Negative where the capture's timestamps go backwards (merged captures), as rpc.time is.
    latency: t.reply !== undefined ? Number(t.latency.toFixed(9)) : null,
    retransmits: t.retransmits,
    callBytes: t.call.bytes,
    replyBytes: t.reply?.bytes ?? null,
    fh: fh !== undefined ? fhHashHex(fh) : null,
    fhHex: fh ?? null,
    path: path ?? null,
    readBytes: reply?.readBytes ?? null,
    writeBytes: reply?.writeBytes ?? null,
    offset: rangeOp ? (call?.offset ?? null) : null,
    count: rangeOp && call?.offset !== undefined ? (call.count ?? null) : null,
    names: call?.names !== undefined && call.names.length > 0 ? [...call.names] : null,
    replyFile: replyFileIndex !== undefined && replyFileIndex !== t.call.frame.fileIndex ? nameOf(replyFileIndex) : null,
    unfinishedReplyFrame: t.unfinishedReply?.firstFrame.number ?? null,
    decodeStop: stops.length > 0 ? stops.join(';') : null,
  };
}

// ---- filters ----------------------------------------------------------------

export interface EndpointFilter {
  /** Lowercase address (IPv6 without brackets). */
  addr: string;
  port?: number;
}

/** What a user selects rows by; every filter given must hold. */
export interface CallFilterOptions {
  client?: EndpointFilter;
  server?: EndpointFilter;
  /** Procedure name, or any op of a COMPOUND (case-insensitive). */
  op?: string;
  /** status, any opStatus, rpcStatus or authStatus (case-insensitive). */
  status?: string;
  /** Seconds; unanswered calls never pass. */
  minLatency?: number;
  xid?: number;
  /** Call frame within [from, to] (inclusive). */
  frames?: { from: number; to: number };
  unanswered?: boolean;
}

/** Thrown by the option parsers for a value they cannot read. */
export class FilterSyntaxError extends Error {}

/** `ADDR`, `ADDR:PORT`, `[V6ADDR]:PORT`, `[V6ADDR]` or a bare IPv6 address. */
export function parseEndpointFilter(s: string): EndpointFilter {
  const v = s.trim();
  let addr: string;
  let port: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (bracket) {
    addr = bracket[1]!;
    port = bracket[2];
  } else if ((v.match(/:/g) ?? []).length === 1) {
    [addr, port] = v.split(':') as [string, string];
  } else {
    addr = v;
  }
  if (addr === '') throw new FilterSyntaxError(`not an address: ${s}`);
  const out: EndpointFilter = { addr: addr.toLowerCase() };
  if (port !== undefined) {
    const p = Number(port);
    if (!/^\d+$/.test(port) || p < 0 || p > 65535) throw new FilterSyntaxError(`not a port number in ${s}`);
    out.port = p;
  }
  return out;
}

/** `0.5`, `2s`, `5ms`, `100us` (or `µs`), `250ns`: seconds. */
export function parseSeconds(s: string): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|ms|us|µs|ns)?\s*$/i.exec(s);
  if (!m) throw new FilterSyntaxError(`not a duration: ${s} (use seconds, or a unit: 2s, 5ms, 100us)`);
  const unit = (m[2] ?? 's').toLowerCase();
  const scale = unit === 'ms' ? 1e-3 : unit === 'us' || unit === 'µs' ? 1e-6 : unit === 'ns' ? 1e-9 : 1;
  return Number(m[1]) * scale;
}

/** An xid in hex, `0x213f7437` (the `0x` may be left out: xids are always shown in hex). */
export function parseXid(s: string): number {
  const m = /^\s*(?:0x)?([0-9a-f]{1,8})\s*$/i.exec(s);
  if (!m) throw new FilterSyntaxError(`not an xid: ${s} (hex, e.g. 0x213f7437)`);
  return parseInt(m[1]!, 16);
}

/** `A-B`, `A-` (from A on), `-B` (up to B) or `A` (that frame). */
export function parseFrameRange(s: string): { from: number; to: number } {
  const m = /^\s*(\d*)\s*(-)?\s*(\d*)\s*$/.exec(s);
  if (!m || (m[1] === '' && m[3] === '') || (m[2] === undefined && m[3] !== '')) throw new FilterSyntaxError(`not a frame range: ${s} (A-B)`);
  const from = m[1] === '' ? 1 : Number(m[1]);
  const to = m[2] === undefined ? from : m[3] === '' ? Infinity : Number(m[3]);
  if (to < from) throw new FilterSyntaxError(`empty frame range: ${s}`);
  return { from, to };
}

function splitEndpoint(s: string): EndpointFilter & { port: number } {
  const i = s.lastIndexOf(':');
  let addr = s.slice(0, i);
  if (addr.startsWith('[') && addr.endsWith(']')) addr = addr.slice(1, -1);
  return { addr: addr.toLowerCase(), port: Number(s.slice(i + 1)) };
}

function endpointMatches(f: EndpointFilter, formatted: string): boolean {
  const e = splitEndpoint(formatted);
  return e.addr === f.addr && (f.port === undefined || e.port === f.port);
}

/** The filters as a predicate on rows. */
export function callFilter(o: CallFilterOptions): (row: CallRow) => boolean {
  const op = o.op?.toUpperCase();
  const status = o.status?.toUpperCase();
  return (r) => {
    if (o.unanswered && r.replyFrame !== null) return false;
    if (o.xid !== undefined && parseInt(r.xid, 16) !== o.xid) return false;
    if (o.frames !== undefined && (r.frame < o.frames.from || r.frame > o.frames.to)) return false;
    if (o.minLatency !== undefined && (r.latency === null || r.latency < o.minLatency)) return false;
    if (o.client !== undefined && !endpointMatches(o.client, r.client)) return false;
    if (o.server !== undefined && !endpointMatches(o.server, r.server)) return false;
    if (op !== undefined && r.procName.toUpperCase() !== op && !r.ops.some((x) => x.toUpperCase() === op)) return false;
    if (status !== undefined) {
      const names = [r.status, r.rpcStatus, r.authStatus, ...(r.opStatus ?? [])];
      if (!names.some((x) => x !== null && x.toUpperCase() === status)) return false;
    }
    return true;
  };
}

// ---- renderers ----------------------------------------------------------------

export type CallsFormat = 'table' | 'json' | 'csv' | 'jsonl';
export const CALLS_FORMATS: readonly CallsFormat[] = ['table', 'json', 'csv', 'jsonl'];

/**
 * A row made into its text before it waits for older calls (CallOrder): a
 * row object is ten times the size of its line, and the rows held live long
 * enough to reach the old generation (a listing of a 256 MB capture of
 * thousands of hosts held 10,000). What depends on the rows before it (a
 * heading, a separator, a comma) is added when it is written.
 */
export interface HeldRow {
  readonly file: string;
  readonly time: string;
  /** Its text; or, while the text's form is not settled yet (the table's columns, by the first row written), the row. */
  readonly text?: string;
  readonly row?: CallRow;
}

/** Takes rows as they come and writes them; `end` once after the last. */
export interface CallsRenderer {
  /** Whether the rows must reach it in call-frame order (through CallOrder). */
  readonly ordered: boolean;
  /** A row; `late` when it comes after rows of later calls (see CallOrder). */
  row(r: CallRow, late?: boolean): void;
  /** An ordered renderer's row as it waits for older calls, written by `held` as `row` would write it in its place. */
  hold?(r: CallRow): HeldRow;
  held?(h: HeldRow): void;
  end(): void;
}

/** Output is gathered into chunks of about this size before each write (fewer writes for big listings). */
const CHUNK = 64 * 1024;

function chunked(write: (s: string) => void): { push: (s: string) => void; flush: () => void } {
  let buf = '';
  return {
    push: (s) => {
      buf += s;
      if (buf.length >= CHUNK) {
        write(buf);
        buf = '';
      }
    },
    flush: () => {
      if (buf !== '') write(buf);
      buf = '';
    },
  };
}

/** RFC 4180 field: quoted when it holds a comma, quote, CR or LF; arrays joined by `;`; null empty. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = Array.isArray(v) ? v.join(';') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: readonly unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

/** The procedure with its program, compactly: `v3 READ`, `v4.1 OPEN` (NFS), `MOUNT3 MNT`, `NLM4 LOCK`, `PMAP2 GETPORT`. */
export function opLabel(r: CallRow): string {
  if (r.programName === 'NFS') return `v${r.version}${r.minorVersion !== null ? `.${r.minorVersion}` : ''} ${r.mainOp}`;
  return `${PROGRAM_SHORT[r.programName] ?? r.programName}${r.version} ${r.mainOp}`;
}

/** Program names short enough for the op column. */
const PROGRAM_SHORT: Record<string, string> = { portmapper: 'PMAP' };

/**
 * Milliseconds in at most 8 characters: 3 decimals below a second, fewer
 * above; whole seconds with an `s` from about 3 hours. A reply stamped
 * before its call (the capture clock stepped back) shows its minus sign
 * with the digits of its size.
 */
export function msLabel(latency: number | null): string {
  if (latency === null) return '-';
  const ms = latency * 1000;
  const size = Math.abs(ms);
  if (size >= 10_000_000) return `${Math.round(latency)}s`;
  return ms.toFixed(size < 1000 ? 3 : size < 100_000 ? 1 : 0);
}

/** `no reply`, the RPC-level error, the status, or `—` for a reply without a status. */
export function statusLabel(r: CallRow): string {
  if (r.replyFrame === null) return 'no reply';
  if (r.rpcStatus !== 'SUCCESS') return r.authStatus ?? r.rpcStatus ?? '?';
  return r.status ?? '—';
}

/**
 * What the call is about, in two parts: its object (the path, or the file
 * handle) and its arguments: the names it carries (quoted; RENAME's
 * "from" → "to"), the byte range of READ / WRITE / COMMIT (`@offset
 * +count`), and where the reply is when not in the call's file.
 */
export function detailParts(r: CallRow): { object: string; args: string } {
  const object = r.path ?? (r.fh !== null ? `fh ${r.fh}` : '');
  const args: string[] = [];
  // Names the path already holds (an NFSv4 COMPOUND's LOOKUPs down to the object) are not repeated.
  const components = new Set((r.path ?? '').split('/'));
  const names = r.names === null || r.path === r.names[0] ? [] : r.mainOp === 'RENAME' ? r.names.slice(-2) : r.names.filter((n) => !components.has(n));
  if (names.length > 0) {
    const q = (n: string): string => JSON.stringify(n);
    args.push(r.mainOp === 'RENAME' && names.length === 2 ? `${q(names[0]!)} → ${q(names[1]!)}` : names.map(q).join(' '));
  }
  if (r.offset !== null) args.push(`@${r.offset}${r.count !== null ? ` +${r.count}` : ''}`);
  if (r.replyFile !== null && r.replyFrame !== null) args.push(`(reply: ${baseName(r.replyFile)} #${r.replyFrame})`);
  return { object, args: args.join(' ') };
}

/** The object and arguments in one line. */
export function detailLabel(r: CallRow): string {
  const { object, args } = detailParts(r);
  return [object, args].filter((x) => x !== '').join(' ');
}

/**
 * The detail in `width` columns: the arguments whole when they leave room,
 * the path shortened from its start (`…/dir/file` keeps the file's name).
 */
function fitDetail(r: CallRow, width: number): string {
  const { object, args } = detailParts(r);
  const argsWidth = displayWidth(args);
  if (displayWidth(object) + (args === '' ? 0 : 1 + argsWidth) <= width) return [object, args].filter((x) => x !== '').join(' ');
  if (args === '') return shortenStart(object, width);
  if (object === '') return shortenMiddle(args, width);
  // The arguments whole when the path keeps a few columns, else a third of the room for the path.
  const room = width - 1 - argsWidth >= 5 ? width - 1 - argsWidth : Math.ceil(width / 3);
  const obj = shortenStart(object, room);
  return `${obj} ${shortenMiddle(args, width - 1 - displayWidth(obj))}`;
}

interface TableColumn {
  head: string;
  width: number;
  align: 'left' | 'right';
  cell: (r: CallRow) => string;
  /** How a cell too long for the column is shortened (default: in the middle). */
  shorten?: (s: string, width: number) => string;
}

/** A status too long for its column without its `NFS4ERR_`-style prefix (`STALE_CLIENTID`), then in the middle. */
function shortenStatus(s: string, width: number): string {
  const m = /^[A-Z0-9]+ERR_(.+)$/.exec(s);
  return shortenMiddle(m ? m[1]! : s, width);
}

/** Cut at the end: extra digits of a time, the end of a long operation name. */
const cutEnd = (s: string, width: number): string => (s.length <= width ? s : shortenEnd(s, width));

/**
 * The table's columns for a terminal of `width` columns: frame, time (to
 * the millisecond below 90 columns), op, status and latency always; the reply frame from 90 columns, the client
 * from 110, the server from 140, the xid from 160; the rest of the line for
 * the path and arguments.
 */
export function callsTableColumns(width: number, timeWidth = 15): { columns: TableColumn[]; detailWidth: number } {
  // Below 90 columns the time is shown to the millisecond (the frame number finds the packet).
  if (width < 90) timeWidth = 12;
  const columns: TableColumn[] = [
    { head: 'frame', width: 7, align: 'right', cell: (r) => String(r.frame) },
    { head: 'time (UTC)', width: timeWidth, align: 'left', cell: (r) => r.time.slice(11, -1), shorten: (s, w) => s.slice(0, w) },
    { head: 'op', width: width >= 100 ? 20 : 16, align: 'left', cell: opLabel, shorten: cutEnd },
    { head: 'status', width: width >= 100 ? 16 : 13, align: 'left', cell: statusLabel, shorten: shortenStatus },
    { head: 'ms', width: 8, align: 'right', cell: (r) => msLabel(r.latency) },
  ];
  if (width >= 110) {
    columns.push({
      head: 'reply',
      width: 7,
      align: 'right',
      cell: (r) => (r.replyFrame !== null ? String(r.replyFrame) : r.unfinishedReplyFrame !== null ? `(${r.unfinishedReplyFrame})` : '-'),
    });
  }
  if (width >= 130) columns.push({ head: 'client', width: 21, align: 'left', cell: (r) => r.client });
  if (width >= 160) columns.push({ head: 'server', width: 21, align: 'left', cell: (r) => r.server });
  if (width >= 180) columns.push({ head: 'xid', width: 10, align: 'left', cell: (r) => r.xid });
  const used = columns.reduce((n, c) => n + c.width + 1, 0);
  return { columns, detailWidth: Math.max(8, width - used) };
}

/**
 * The table, streamed: a heading, then one line per call with fixed column
 * widths as rows come (they come in call-frame order). A line marks each new
 * input file of a rotated set and each new day.
 */
function tableRenderer(write: (s: string) => void, width: number, color: boolean): CallsRenderer {
  const out = chunked(write);
  const paint = (s: string, code: number): string => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  let layout: ReturnType<typeof callsTableColumns> | undefined;
  let headed = false;
  let file: string | undefined;
  let day: string | undefined;
  let rows = 0;
  let late = 0;
  const fit = (s: string, w: number, align: 'left' | 'right', shorten: (s: string, w: number) => string = shortenMiddle): string =>
    pad(displayWidth(s) <= w ? s : shorten(s, w), w, align);
  // The time column holds the capture's precision (micro- or nanoseconds): set by the first row written.
  const layoutFor = (r: CallRow): NonNullable<typeof layout> => (layout ??= callsTableColumns(width, r.time.length - 12));
  const line = (r: CallRow, isLate: boolean): string => {
    const l = layoutFor(r);
    const cells = l.columns.map((c) => fit(c.cell(r), c.width, c.align, c.shorten));
    const status = l.columns.findIndex((c) => c.head === 'status');
    if (color && r.replyFrame !== null && r.statusCode !== null && r.statusCode > 0) cells[status] = paint(cells[status]!, 31);
    if (color && r.replyFrame === null) cells[status] = paint(cells[status]!, 33);
    const detail = isLate ? `(late) ${fitDetail(r, l.detailWidth - 7)}` : fitDetail(r, l.detailWidth);
    return `${cells.join(' ')} ${detail}`.trimEnd() + '\n';
  };
  const writeRow = (rowFile: string, time: string, text: string): void => {
    if (!headed) {
      headed = true;
      const l = layout!;
      const head = [...l.columns.map((c) => fit(c.head, c.width, c.align)), 'path / arguments'].join(' ');
      out.push(`${paint(head, 36)}\n`);
    }
    const rowDay = time.slice(0, 10);
    if (rowFile !== file || rowDay !== day) {
      const what = [rowFile !== file ? baseName(rowFile) : '', rowDay !== day ? rowDay : ''].filter((x) => x !== '').join(', ');
      out.push(`${shortenMiddle(`── ${what} ──`, width)}\n`);
      file = rowFile;
      day = rowDay;
    }
    rows++;
    out.push(text);
  };
  return {
    ordered: true,
    row(r, isLate = false) {
      if (isLate) late++;
      writeRow(r.file, r.time, line(r, isLate));
    },
    // Before the first row is written its layout is not settled: a row waiting then waits whole.
    hold: (r) => (headed ? { file: r.file, time: r.time, text: line(r, false) } : { file: r.file, time: r.time, row: r }),
    held: (h) => writeRow(h.file, h.time, h.text ?? line(h.row!, false)),
    end() {
      if (rows === 0) out.push('no calls\n');
      else if (late > 0) {
        out.push(`${late} call(s) marked (late) are listed after later calls: they waited for a reply while more calls than nfsight holds in order completed.\n`);
      }
      out.flush();
    },
  };
}

/** A JSON array written row by row (`JSON.stringify(rows, null, 2)` without holding the rows). */
function jsonRenderer(write: (s: string) => void): CallsRenderer {
  const out = chunked(write);
  let n = 0;
  const writeRow = (text: string): void => out.push(`${n++ === 0 ? '[\n' : ',\n'}  ${text}`);
  return {
    ordered: true,
    row: (r) => writeRow(indentedText(r, '  ')),
    hold: (r) => ({ file: r.file, time: r.time, text: indentedText(r, '  ') }),
    held: (h) => writeRow(h.text ?? indentedText(h.row!, '  ')),
    end() {
      out.push(n === 0 ? '[]\n' : '\n]\n');
      out.flush();
    },
  };
}

/**
 * A renderer writing through `write`. jsonl and csv take rows in the order
 * they complete; table and json in call-frame order (`ordered`: the caller
 * puts them in order with CallOrder). None keeps the rows.
 */
export function callsRenderer(format: CallsFormat, write: (s: string) => void, options: { color?: boolean; width?: number } = {}): CallsRenderer {
  switch (format) {
    case 'jsonl': {
      const out = chunked(write);
      return { ordered: false, row: (r) => out.push(JSON.stringify(r) + '\n'), end: () => out.flush() };
    }
    case 'csv': {
      const out = chunked(write);
      out.push(csvLine(CALL_COLUMNS));
      return { ordered: false, row: (r) => out.push(csvLine(CALL_COLUMNS.map((k) => r[k]))), end: () => out.flush() };
    }
    case 'json':
      return jsonRenderer(write);
    case 'table':
      return tableRenderer(write, options.width ?? DEFAULT_WIDTH, options.color ?? false);
  }
}
