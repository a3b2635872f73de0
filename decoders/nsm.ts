/**
 * NSM, the Network Status Monitor (program 100024 "STAT", version 1; X/Open
 * XNFS chapter 11, Wireshark's packet-stat.c): STAT, MON, UNMON, UNMON_ALL,
 * SIMU_CRASH, NOTIFY.
 *
 * STAT and MON answer with an sm_stat_res: its res_stat names the status
 * (STAT_SUCC / STAT_FAIL; others read as `res_stat(N)`) and `results.state`
 * holds the monitor's state number. UNMON and UNMON_ALL answer with a bare
 * sm_stat (the state): status "OK", statusCode 0, `results.state`. Void
 * replies (NULL, SIMU_CRASH, NOTIFY) are "OK", 0 too. A reply cut before
 * its status reports "UNKNOWN", -1, with `stop`.
 */
import type { DecodedCall, DecodedReply, ProgramDecoder } from './decoded.js';
import { PROG_NSM, programName, procedureName } from './programs.js';
import type { XdrReader } from './xdr.js';
import { type Obj, put, statuslessReply, stopOf } from './decode-util.js';

/** XNFS SM_MAXSTRLEN; priv is opaque[16]. */
const SM_MAXSTRLEN = 1024;
const PRIV_SIZE = 16;

const SM_NULL = 0;
const SM_STAT = 1;
const SM_MON = 2;
const SM_UNMON = 3;
const SM_UNMON_ALL = 4;
const SM_SIMU_CRASH = 5;
const SM_NOTIFY = 6;

export const RES_STAT = ['STAT_SUCC', 'STAT_FAIL'] as const;

export function resStatName(code: number): string {
  return RES_STAT[code] ?? `res_stat(${code})`;
}

/** my_id: the host to call back and the RPC procedure to call there. */
function myId(r: XdrReader): Obj {
  const o: Obj = {};
  put(r, o, 'name', r.string(SM_MAXSTRLEN));
  const prog = r.u32();
  put(r, o, 'prog', prog);
  put(r, o, 'programName', programName(prog));
  put(r, o, 'vers', r.u32());
  put(r, o, 'proc', r.u32());
  return o;
}

/** mon_id: the monitored host and my_id. */
function monId(r: XdrReader, o: Obj): void {
  put(r, o, 'monName', r.string(SM_MAXSTRLEN));
  if (r.ok) o.myId = myId(r);
}

export const nsmDecoder: ProgramDecoder = {
  program: PROG_NSM,
  versions: [1],

  decodeCall(r, version, procedure) {
    const name = procedureName(PROG_NSM, version, procedure);
    const c: DecodedCall = { ops: [name], mainOp: name, args: {} };
    const a: Obj = {};
    c.args = a;
    switch (procedure) {
      case SM_STAT:
        put(r, a, 'monName', r.string(SM_MAXSTRLEN));
        break;
      case SM_MON:
        monId(r, a);
        put(r, a, 'priv', r.opaqueFixed(PRIV_SIZE).toString('hex'));
        break;
      case SM_UNMON:
        monId(r, a);
        break;
      case SM_UNMON_ALL:
        c.args = myId(r);
        break;
      case SM_NOTIFY:
        put(r, a, 'monName', r.string(SM_MAXSTRLEN));
        put(r, a, 'state', r.i32());
        break;
      case SM_NULL:
      case SM_SIMU_CRASH:
        break;
      default:
        r.markMalformed();
    }
    const stop = stopOf(r);
    if (stop !== undefined) c.stop = stop;
    return c;
  },

  decodeReply(r, _version, procedure) {
    const results: Obj = {};
    // Only STAT and MON answer with a status (sm_res); UNMON's sm_stat is the state alone.
    const d: DecodedReply = statuslessReply(results);
    switch (procedure) {
      case SM_STAT:
      case SM_MON: {
        const code = r.u32();
        if (!r.ok) return { status: 'UNKNOWN', statusCode: -1, results, stop: stopOf(r)! };
        d.status = resStatName(code);
        d.statusCode = code;
        put(r, results, 'state', r.i32());
        break;
      }
      case SM_UNMON:
      case SM_UNMON_ALL:
        put(r, results, 'state', r.i32());
        break;
      case SM_NULL:
      case SM_SIMU_CRASH:
      case SM_NOTIFY:
        break;
      default:
        r.markMalformed();
        return { status: 'UNKNOWN', statusCode: -1, results, stop: stopOf(r)! };
    }
    const stop = stopOf(r);
    if (stop !== undefined) d.stop = stop;
    return d;
  },
};
