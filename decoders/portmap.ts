/**
 * Portmapper version 2 and rpcbind versions 3 and 4 (RFC 1833; Wireshark's
 * packet-portmap.c), program 100000.
 *
 * Calls report the program they ask about as `args.prog` with its name
 * (`args.program`, programName()) and version; portmap's GETPORT the
 * protocol (`proto`: 6 tcp, 17 udp, as `protocol` name), rpcbind the netid
 * and universal address. Replies report the answer in `results`: `port`
 * (GETPORT; 0 means "not registered"), `uaddr` (GETADDR, GETVERSADDR; "" =
 * not registered) with `port` taken from an IPv4/IPv6 universal address,
 * the registered mappings (DUMP), `success` (SET/UNSET), `time` (GETTIME),
 * the address list (GETADDRLIST) and the statistics (GETSTAT, per version:
 * procedure counters and the lengths of the address and remote-call lists).
 *
 * None of these procedures has a status: every reply is status "OK",
 * statusCode 0, except one cut before its first field ("UNKNOWN", -1, with
 * `stop`). A SET that failed says so in `results.success`.
 */
import type { DecodedCall, DecodedReply, ProgramDecoder } from './decoded.js';
import { PROG_PORTMAP, programName, procedureName } from './programs.js';
import type { XdrReader } from './xdr.js';
import { type Obj, linkedList, put, statuslessReply, stopOf, undecodableReply } from './decode-util.js';

/** Bound of netids, universal addresses, owners: real ones are short. */
const MAX_STR = 1024;
/** RFC 1833: RPCBSTAT_HIGHPROC (counters per procedure), RPCBVERS_STAT (versions counted). */
const RPCBSTAT_HIGHPROC = 13;
const RPCBVERS_STAT = 3;

const PMAPPROC_NULL = 0;
const PMAPPROC_SET = 1;
const PMAPPROC_UNSET = 2;
const PMAPPROC_GETPORT = 3;
const PMAPPROC_DUMP = 4;
const PMAPPROC_CALLIT = 5;
const RPCBPROC_GETTIME = 6;
const RPCBPROC_UADDR2TADDR = 7;
const RPCBPROC_TADDR2UADDR = 8;
const RPCBPROC_GETVERSADDR = 9;
const RPCBPROC_INDIRECT = 10;
const RPCBPROC_GETADDRLIST = 11;
const RPCBPROC_GETSTAT = 12;

const LAST_PROC: Record<number, number> = { 2: PMAPPROC_CALLIT, 3: RPCBPROC_TADDR2UADDR, 4: RPCBPROC_GETSTAT };

export function protocolName(proto: number): string {
  return proto === 6 ? 'tcp' : proto === 17 ? 'udp' : String(proto);
}

/**
 * The port of a universal address (RFC 5665 §5.2.3.3/4: "h1.h2.h3.h4.p1.p2"
 * for IPv4, "x:x::x.p1.p2" for IPv6), or undefined when it has none.
 */
export function uaddrPort(uaddr: string): number | undefined {
  const m = /\.(\d{1,3})\.(\d{1,3})$/.exec(uaddr);
  if (m === null) return undefined;
  const hi = Number(m[1]);
  const lo = Number(m[2]);
  if (hi > 255 || lo > 255) return undefined;
  return hi * 256 + lo;
}

/** Program number with its name, into `o`. */
function prog(r: XdrReader, o: Obj): void {
  const p = r.u32();
  put(r, o, 'prog', p);
  put(r, o, 'program', programName(p));
}

/** pmap (version 2): prog, vers, prot, port. */
function mapping(r: XdrReader): Obj {
  const o: Obj = {};
  prog(r, o);
  put(r, o, 'vers', r.u32());
  const proto = r.u32();
  put(r, o, 'proto', proto);
  put(r, o, 'protocol', protocolName(proto));
  put(r, o, 'port', r.u32());
  return o;
}

/** rpcb (versions 3, 4): prog, vers, netid, uaddr, owner. */
function rpcb(r: XdrReader): Obj {
  const o: Obj = {};
  prog(r, o);
  put(r, o, 'vers', r.u32());
  put(r, o, 'netid', r.string(MAX_STR));
  const uaddr = r.string(MAX_STR);
  put(r, o, 'uaddr', uaddr);
  const port = uaddrPort(uaddr);
  if (port !== undefined) put(r, o, 'port', port);
  put(r, o, 'owner', r.string(MAX_STR));
  return o;
}

/** Remote call arguments (CALLIT, BCAST, INDIRECT): the call's arguments are counted, not decoded. */
function rmtCallArgs(r: XdrReader): Obj {
  const o: Obj = {};
  prog(r, o);
  put(r, o, 'vers', r.u32());
  put(r, o, 'proc', r.u32());
  put(r, o, 'argsLength', r.opaque().length);
  return o;
}

function netbuf(r: XdrReader): Obj {
  const o: Obj = {};
  put(r, o, 'maxlen', r.u32());
  put(r, o, 'buf', r.opaque(MAX_STR).toString('hex'));
  return o;
}

/** rpcb_stat (RFC 1833 §2.2.1): counters, then the lists (their entries kept). */
function rpcbStat(r: XdrReader): Obj {
  const o: Obj = {};
  const info: number[] = [];
  for (let i = 0; i < RPCBSTAT_HIGHPROC && r.ok; i++) {
    const v = r.i32();
    if (r.ok) info.push(v);
  }
  o.info = info;
  put(r, o, 'setinfo', r.i32());
  put(r, o, 'unsetinfo', r.i32());
  const addr = linkedList(r, (x) => {
    const e: Obj = {};
    prog(x, e);
    put(x, e, 'vers', x.u32());
    put(x, e, 'success', x.i32());
    put(x, e, 'failure', x.i32());
    put(x, e, 'netid', x.string(MAX_STR));
    return e;
  });
  o.addrinfo = addr;
  const rmt = linkedList(r, (x) => {
    const e: Obj = {};
    prog(x, e);
    put(x, e, 'vers', x.u32());
    put(x, e, 'proc', x.u32());
    put(x, e, 'success', x.i32());
    put(x, e, 'failure', x.i32());
    put(x, e, 'indirect', x.i32());
    put(x, e, 'netid', x.string(MAX_STR));
    return e;
  });
  o.rmtinfo = rmt;
  return o;
}

function known(version: number, procedure: number): boolean {
  const last = LAST_PROC[version];
  return last !== undefined && procedure >= 0 && procedure <= last;
}

export const portmapDecoder: ProgramDecoder = {
  program: PROG_PORTMAP,
  versions: [2, 3, 4],

  decodeCall(r, version, procedure) {
    const name = procedureName(PROG_PORTMAP, version, procedure);
    const c: DecodedCall = { ops: [name], mainOp: name, args: {} };
    if (!known(version, procedure)) {
      r.markMalformed();
    } else if (version === 2) {
      if (procedure >= PMAPPROC_SET && procedure <= PMAPPROC_GETPORT) c.args = mapping(r);
      else if (procedure === PMAPPROC_CALLIT) c.args = rmtCallArgs(r);
      // NULL, DUMP: void
    } else {
      switch (procedure) {
        case PMAPPROC_SET:
        case PMAPPROC_UNSET:
        case PMAPPROC_GETPORT: // RPCBPROC_GETADDR
        case RPCBPROC_GETVERSADDR:
        case RPCBPROC_GETADDRLIST:
          c.args = rpcb(r);
          break;
        case PMAPPROC_CALLIT: // RPCBPROC_CALLIT (v3), RPCBPROC_BCAST (v4)
        case RPCBPROC_INDIRECT:
          c.args = rmtCallArgs(r);
          break;
        case RPCBPROC_UADDR2TADDR: {
          const a: Obj = {};
          put(r, a, 'uaddr', r.string(MAX_STR));
          c.args = a;
          break;
        }
        case RPCBPROC_TADDR2UADDR:
          c.args = netbuf(r);
          break;
        default: // NULL, DUMP, GETTIME, GETSTAT: void
          break;
      }
    }
    const stop = stopOf(r);
    if (stop !== undefined) c.stop = stop;
    return c;
  },

  decodeReply(r, version, procedure) {
    if (!known(version, procedure)) {
      r.markMalformed();
      return undecodableReply(r);
    }
    let results: Obj = {};
    const start = r.pos;
    switch (procedure) {
      case PMAPPROC_NULL:
        break;
      case PMAPPROC_SET:
      case PMAPPROC_UNSET:
        put(r, results, 'success', r.bool());
        break;
      case PMAPPROC_GETPORT:
        if (version === 2) {
          put(r, results, 'port', r.u32());
        } else {
          const uaddr = r.string(MAX_STR);
          put(r, results, 'uaddr', uaddr);
          const port = uaddrPort(uaddr);
          if (port !== undefined) put(r, results, 'port', port);
        }
        break;
      case RPCBPROC_GETVERSADDR: {
        const uaddr = r.string(MAX_STR);
        put(r, results, 'uaddr', uaddr);
        const port = uaddrPort(uaddr);
        if (port !== undefined) put(r, results, 'port', port);
        break;
      }
      case PMAPPROC_DUMP:
        results.mappings = linkedList(r, version === 2 ? mapping : rpcb);
        break;
      case PMAPPROC_CALLIT:
      case RPCBPROC_INDIRECT:
        if (version === 2) {
          put(r, results, 'port', r.u32());
        } else {
          const uaddr = r.string(MAX_STR);
          put(r, results, 'uaddr', uaddr);
          const port = uaddrPort(uaddr);
          if (port !== undefined) put(r, results, 'port', port);
        }
        put(r, results, 'resultsLength', r.opaque().length);
        break;
      case RPCBPROC_GETTIME:
        put(r, results, 'time', r.u32());
        break;
      case RPCBPROC_UADDR2TADDR:
        results = netbuf(r);
        break;
      case RPCBPROC_TADDR2UADDR:
        put(r, results, 'uaddr', r.string(MAX_STR));
        break;
      case RPCBPROC_GETADDRLIST:
        results.entries = linkedList(r, (x) => {
          const e: Obj = {};
          const maddr = x.string(MAX_STR);
          put(x, e, 'uaddr', maddr);
          const port = uaddrPort(maddr);
          if (port !== undefined) put(x, e, 'port', port);
          put(x, e, 'netid', x.string(MAX_STR));
          put(x, e, 'semantics', x.u32());
          put(x, e, 'protofmly', x.string(MAX_STR));
          put(x, e, 'proto', x.string(MAX_STR));
          return e;
        });
        break;
      case RPCBPROC_GETSTAT: {
        const byVersion: Obj[] = [];
        for (let i = 0; i < RPCBVERS_STAT && r.ok; i++) byVersion.push(rpcbStat(r));
        results.byVersion = byVersion;
        break;
      }
      default:
        break;
    }
    const stop = stopOf(r);
    // Cut before the first field: nothing says the call was answered with anything.
    if (stop !== undefined && stop.at === start && procedure !== PMAPPROC_NULL) return { status: 'UNKNOWN', statusCode: -1, results, stop };
    // Portmap and rpcbind results (ports, booleans, lists, addresses) have no status field.
    const d: DecodedReply = statuslessReply(results);
    if (stop !== undefined) d.stop = stop;
    return d;
  },
};
