/**
 * MOUNT versions 1, 2 (RFC 1094 appendix A) and 3 (RFC 1813 appendix I).
 *
 * MNT hands out the root file handle of an export: the reply reports it in
 * `handles` with the mounted path as its name (and as `results.fh`). Version
 * 3 answers with a mountstat3 and the auth flavors the server accepts;
 * versions 1 and 2 with an fhstatus (a UNIX errno and a 32-byte handle),
 * whose numbers are those of mountstat3 (the errnos it was made of): they
 * are named with the mountstat3 names. Numbers without a name read as
 * `mountstat3(N)`.
 *
 * Procedures without a status (NULL, DUMP, UMNT, UMNTALL, EXPORT,
 * EXPORTALL, PATHCONF) report status "OK", statusCode 0. A reply cut
 * before its status reports "UNKNOWN", -1, with `stop`.
 *
 * Decoding follows the reader's sticky-stop model (xdr.ts): fields are
 * stored only while the reader is fine, so a cut body yields the fields
 * before the cut plus `stop`.
 */
import type { DecodedCall, DecodedReply, ProgramDecoder } from './decoded.js';
import { PROG_MOUNT, procedureName } from './programs.js';
import { type Obj, linkedList, put, statuslessReply, stopOf, undecodableReply } from './decode-util.js';

/** RFC 1813 appendix I: MNTPATHLEN, MNTNAMLEN, FHSIZE3; RFC 1094: FHSIZE. */
const MNTPATHLEN = 1024;
const MNTNAMLEN = 255;
const FHSIZE3 = 64;
const FHSIZE = 32;
/** Auth flavors a server lists: a few in practice; a bound tells garbage from a list. */
const MAX_FLAVORS = 64;

const MOUNTPROC_NULL = 0;
const MOUNTPROC_MNT = 1;
const MOUNTPROC_DUMP = 2;
const MOUNTPROC_UMNT = 3;
const MOUNTPROC_UMNTALL = 4;
const MOUNTPROC_EXPORT = 5;
const MOUNTPROC_EXPORTALL = 6;
const MOUNTPROC_PATHCONF = 7;

/** RFC 1813 appendix I mountstat3. */
const MOUNTSTAT3: ReadonlyMap<number, string> = new Map([
  [0, 'MNT3_OK'],
  [1, 'MNT3ERR_PERM'],
  [2, 'MNT3ERR_NOENT'],
  [5, 'MNT3ERR_IO'],
  [13, 'MNT3ERR_ACCES'],
  [20, 'MNT3ERR_NOTDIR'],
  [22, 'MNT3ERR_INVAL'],
  [63, 'MNT3ERR_NAMETOOLONG'],
  [10004, 'MNT3ERR_NOTSUPP'],
  [10006, 'MNT3ERR_SERVERFAULT'],
]);

/** The mountstat3 name of a status number; unknown numbers read as `mountstat3(N)`. */
export function mountstat3Name(code: number): string {
  return MOUNTSTAT3.get(code) ?? `mountstat3(${code})`;
}

/** Every mountstat3, for tests and reports. */
export const MOUNTSTAT3_CODES: readonly number[] = [...MOUNTSTAT3.keys()];

/** RPC auth flavors (RFC 5531, RFC 2623 pseudo-flavors) as Wireshark names them. */
const AUTH_FLAVORS: ReadonlyMap<number, string> = new Map([
  [0, 'AUTH_NONE'],
  [1, 'AUTH_SYS'],
  [2, 'AUTH_SHORT'],
  [3, 'AUTH_DH'],
  [4, 'AUTH_KERB'],
  [5, 'AUTH_RSA'],
  [6, 'RPCSEC_GSS'],
  [390003, 'RPCSEC_GSS_KRB5'],
  [390004, 'RPCSEC_GSS_KRB5I'],
  [390005, 'RPCSEC_GSS_KRB5P'],
]);

export function authFlavorName(flavor: number): string {
  return AUTH_FLAVORS.get(flavor) ?? String(flavor);
}

function procName(version: number, procedure: number): string {
  return procedureName(PROG_MOUNT, version, procedure);
}

/** Whether the procedure exists in the version (EXPORTALL and PATHCONF: versions 1 and 2 only). */
function exists(version: number, procedure: number): boolean {
  return procedure >= 0 && procedure <= (version === 3 ? MOUNTPROC_EXPORT : MOUNTPROC_PATHCONF);
}

export const mountDecoder: ProgramDecoder = {
  program: PROG_MOUNT,
  versions: [1, 2, 3],

  decodeCall(r, version, procedure) {
    const name = procName(version, procedure);
    const c: DecodedCall = { ops: [name], mainOp: name, args: {} };
    const args: Obj = {};
    c.args = args;
    if (!exists(version, procedure)) {
      r.markMalformed();
    } else if (procedure === MOUNTPROC_MNT || procedure === MOUNTPROC_UMNT || procedure === MOUNTPROC_PATHCONF) {
      const path = r.string(MNTPATHLEN);
      if (r.ok) {
        args.path = path;
        c.names = [path];
      }
    }
    // NULL, DUMP, UMNTALL, EXPORT, EXPORTALL: void arguments.
    const stop = stopOf(r);
    if (stop !== undefined) c.stop = stop;
    return c;
  },

  decodeReply(r, version, procedure, call) {
    if (!exists(version, procedure)) {
      r.markMalformed();
      return undecodableReply(r);
    }
    const results: Obj = {};
    // Only MNT's results have a status (mountstat3); the others are void or lists.
    const d: DecodedReply = statuslessReply(results);
    switch (procedure) {
      case MOUNTPROC_MNT: {
        const code = r.u32();
        if (!r.ok) return { status: 'UNKNOWN', statusCode: -1, results, stop: stopOf(r)! };
        d.status = mountstat3Name(code);
        d.statusCode = code;
        if (code === 0) {
          const fh = (version === 3 ? r.opaque(FHSIZE3) : r.opaqueFixed(FHSIZE)).toString('hex');
          if (r.ok) {
            results.fh = fh;
            const path = call?.names?.[0];
            d.handles = [path === undefined ? { fh } : { fh, name: path }];
          }
          if (version === 3) {
            const flavors = r.array(MAX_FLAVORS, (x) => x.u32());
            put(r, results, 'authFlavors', flavors.map(authFlavorName));
          }
        }
        break;
      }
      case MOUNTPROC_DUMP: {
        const mounts = linkedList(r, (x) => ({ hostname: x.string(MNTNAMLEN), directory: x.string(MNTPATHLEN) }));
        results.mounts = mounts;
        break;
      }
      case MOUNTPROC_EXPORT:
      case MOUNTPROC_EXPORTALL: {
        const exports = linkedList(r, (x) => {
          const dir = x.string(MNTPATHLEN);
          const groups = linkedList(x, (y) => y.string(MNTNAMLEN));
          return { dir, groups };
        });
        results.exports = exports;
        break;
      }
      case MOUNTPROC_PATHCONF: {
        // RFC 1094 era ppathcnf: an int, five shorts, two chars, short[2]; each an XDR word.
        const fields = ['linkMax', 'maxCanon', 'maxInput', 'nameMax', 'pathMax', 'pipeBuf', 'vdisable', 'xxx', 'mask0', 'mask1'];
        for (const f of fields) {
          const v = f === 'linkMax' ? r.i32() : r.u32();
          put(r, results, f, v);
        }
        break;
      }
      case MOUNTPROC_NULL:
      case MOUNTPROC_UMNT:
      case MOUNTPROC_UMNTALL:
      default:
        // void results
        break;
    }
    const stop = stopOf(r);
    if (stop !== undefined) d.stop = stop;
    return d;
  },
};
