/**
 * The calls listing (`nfsight calls`): one row per RPC call, answered or
 * not, with its reply, status, latency and file; the filters a user selects
 * rows with; and the renderers (jsonl, csv, json, table).
 *
 * Order: analyze() hands over transactions as their replies complete, and
 * the unanswered ones at the end. The streaming formats (jsonl, csv) write
 * each row as it comes, in that order, and keep nothing: memory does not
 * grow with the size of the capture, and `| head` shows rows at once. The
 * whole-document formats (json, table) keep the rows and sort them by
 * (input file, call frame) before writing.
 */
import Table from 'cli-table3';
import { fhHashHex } from '../../decoders/fh.js';
import { procedureName, programName, PROG_NFS4_CB_DEFAULT } from '../../decoders/programs.js';
import { acceptStatName, authStatName, rejectStatName } from '../../decoders/rpc.js';
import type { RpcTransport } from '../rpc/message.js';
import type { Transaction, TransactionContext } from '../rpc/transaction.js';
import { formatEndpoint } from '../transport/stream.js';
import { formatFrameTime } from './time.js';


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
  /** SUCCESS … SYSTEM_ERR (accepted), RPC_MISMATCH / AUTH_ERROR (denied); null when unanswered. */
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
  'unfinishedReplyFrame', 'decodeStop',
];

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

function isCallback(t: Transaction, ctx: TransactionContext | undefined): boolean {
  if (t.program === PROG_NFS4_CB_DEFAULT) return true;
  if (ctx?.isCallbackProgram !== undefined) return ctx.isCallbackProgram(t.program);
  // Without analyze()'s knowledge: the callback decoder decoded it (its ops are CB_ ops).
  const ops = t.decoded?.call?.ops;
  return ops !== undefined && ops.length > 0 && ops.every((o) => o.startsWith('CB_'));
}

/** The row of a transaction. `fileName` is the name of its input file. */
export function callRow(t: Transaction, fileName: string, ctx?: TransactionContext): CallRow {
  const callback = isCallback(t, ctx);
  const procName = procedureName(t.program, t.version, t.procedure, callback);
  const call = t.decoded?.call;
  const reply = t.decoded?.reply;
  const compound = procName === 'COMPOUND' || procName === 'CB_COMPOUND';

  let rpcStatus: string | null = null;
  let authStatus: string | null = null;
  const h = t.reply?.header;
  if (h !== undefined) {
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
    path = ops.find((o) => o.op === call.mainOp)?.path ?? (fh !== undefined ? ops.find((o) => o.fh === fh && o.path !== undefined)?.path : undefined);
  }
  if (path === undefined && fh !== undefined) path = ctx?.pathOf?.(fh);

  const stops: string[] = [];
  if (call?.stop) stops.push(`call:${call.stop.reason}`);
  if (reply?.stop) stops.push(`reply:${reply.stop.reason}`);

  return {
    file: fileName,
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

/** Takes rows as they come and writes them; `end` once after the last. */
export interface CallsRenderer {
  row(r: CallRow, fileIndex: number): void;
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

function sortRows(rows: { r: CallRow; i: number }[]): CallRow[] {
  return rows.sort((a, b) => a.i - b.i || a.r.frame - b.r.frame || a.r.firstFrame - b.r.firstFrame).map((x) => x.r);
}

/** The procedure column of the table: `NFS v4.1 COMPOUND: SEQUENCE PUTFH READ`, `MOUNT v3 MNT`. */
export function procedureLabel(r: CallRow): string {
  const v = r.minorVersion !== null ? `v${r.version}.${r.minorVersion}` : `v${r.version}`;
  const base = `${r.programName} ${v} ${r.procName}`;
  return r.ops.length > 0 && (r.ops.length !== 1 || r.ops[0] !== r.procName) ? `${base}: ${r.ops.join(' ')}` : base;
}

function statusLabel(r: CallRow): string {
  if (r.replyFrame === null) return r.unfinishedReplyFrame !== null ? 'no reply (unfinished)' : 'no reply';
  if (r.rpcStatus !== 'SUCCESS') return r.authStatus ?? r.rpcStatus ?? '?';
  return r.status ?? '—';
}

function renderTable(rows: CallRow[], color: boolean, multiFile: boolean): string {
  const head = ['frame', 'time', 'xid', 'client', 'server', 'procedure / ops', 'status', 'latency ms', 'reply frame'];
  const t = new Table({ head: multiFile ? ['file', ...head] : head, style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
    // One line per call: no rule between rows.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rows) {
    const cells = [
      String(r.frame),
      r.time,
      r.xid,
      r.client,
      r.server,
      procedureLabel(r),
      statusLabel(r),
      r.latency === null ? '—' : (r.latency * 1000).toFixed(3),
      r.replyFrame === null ? (r.unfinishedReplyFrame !== null ? `(${r.unfinishedReplyFrame})` : '—') : String(r.replyFrame),
    ];
    t.push(multiFile ? [r.file, ...cells] : cells);
  }
  return t.toString() + '\n';
}

/**
 * A renderer writing through `write`. jsonl and csv stream (nothing kept);
 * json and table keep the rows and write them sorted by (file, call frame) at `end`.
 */
export function callsRenderer(format: CallsFormat, write: (s: string) => void, options: { color?: boolean; multiFile?: boolean } = {}): CallsRenderer {
  switch (format) {
    case 'jsonl': {
      const out = chunked(write);
      return { row: (r) => out.push(JSON.stringify(r) + '\n'), end: () => out.flush() };
    }
    case 'csv': {
      const out = chunked(write);
      out.push(csvLine(CALL_COLUMNS));
      return { row: (r) => out.push(csvLine(CALL_COLUMNS.map((k) => r[k]))), end: () => out.flush() };
    }
    case 'json':
    case 'table': {
      const kept: { r: CallRow; i: number }[] = [];
      return {
        row: (r, i) => {
          kept.push({ r, i });
        },
        end: () => {
          const rows = sortRows(kept);
          if (format === 'json') write(JSON.stringify(rows, null, 2) + '\n');
          else if (rows.length === 0) write('no calls\n');
          else write(renderTable(rows, options.color ?? false, options.multiFile ?? false));
        },
      };
    }
  }
}
