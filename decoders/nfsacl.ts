/**
 * NFS_ACL (program 100227), the side protocol Solaris and Linux use for
 * POSIX-draft ACLs over NFSv2/v3; layouts as Wireshark's packet-nfsacl.c and
 * Linux's nfs2acl/nfs3acl dissect them. Version 2: NULL, GETACL, SETACL,
 * GETATTR, ACCESS, GETXATTRDIR; version 3: NULL, GETACL, SETACL,
 * GETXATTRDIR.
 *
 * Statuses are nfsstat3 names in version 3 (NFS3_OK, NFS3ERR_…) and nfsstat
 * names (RFC 1094: NFS_OK, NFSERR_…) in version 2; unknown numbers read as
 * `nfsstat3(N)` / `nfsstat(N)`. NULL replies report status "OK",
 * statusCode 0; a reply cut before its status "UNKNOWN", -1, with `stop`.
 *
 * An ACL (secattr) is reported as its mask, `aclCount` / `defaultAclCount`
 * (the counts the message states) and the entries decoded.
 */
import type { DecodedCall, DecodedReply, ProgramDecoder } from './decoded.js';
import { PROG_NFS_ACL, procedureName } from './programs.js';
import type { XdrReader } from './xdr.js';
import { type Obj, hyper, put, statuslessReply, stopOf, undecodableReply } from './decode-util.js';

const NFS3_FHSIZE = 64;
const NFS2_FHSIZE = 32;
/** NFS_ACL_MAX_ENTRIES (Linux): larger counts are garbage. */
const MAX_ACL_ENTRIES = 1024;
/** fattr (RFC 1094): 17 words; fattr3 (RFC 1813): 84 bytes. */
const FATTR2_SIZE = 68;
const FATTR3_SIZE = 84;

const ACLPROC_NULL = 0;
const ACLPROC_GETACL = 1;
const ACLPROC_SETACL = 2;
/** Version 2 GETATTR (3): a handle, answered with attributes. */
const ACLPROC2_ACCESS = 4;
const ACLPROC2_GETXATTRDIR = 5;
const ACLPROC3_GETXATTRDIR = 3;

const NFSSTAT_NAMES: readonly [number, string][] = [
  [0, 'OK'],
  [1, 'PERM'],
  [2, 'NOENT'],
  [5, 'IO'],
  [6, 'NXIO'],
  [13, 'ACCES'],
  [17, 'EXIST'],
  [18, 'XDEV'],
  [19, 'NODEV'],
  [20, 'NOTDIR'],
  [21, 'ISDIR'],
  [22, 'INVAL'],
  [27, 'FBIG'],
  [28, 'NOSPC'],
  [30, 'ROFS'],
  [31, 'MLINK'],
  [63, 'NAMETOOLONG'],
  [66, 'NOTEMPTY'],
  [69, 'DQUOT'],
  [70, 'STALE'],
  [71, 'REMOTE'],
  [99, 'WFLUSH'],
  [10001, 'BADHANDLE'],
  [10002, 'NOT_SYNC'],
  [10003, 'BAD_COOKIE'],
  [10004, 'NOTSUPP'],
  [10005, 'TOOSMALL'],
  [10006, 'SERVERFAULT'],
  [10007, 'BADTYPE'],
  [10008, 'JUKEBOX'],
];
/** Codes of RFC 1094's nfsstat (version 2); version 3 takes the rest but WFLUSH. */
const NFS2_CODES = new Set([0, 1, 2, 5, 6, 13, 17, 19, 20, 21, 27, 28, 30, 63, 66, 69, 70, 99]);

/** The status name: nfsstat3 for version 3, nfsstat for version 2. */
export function aclStatusName(version: number, code: number): string {
  const base = NFSSTAT_NAMES.find(([c]) => c === code)?.[1];
  if (version === 2) {
    if (base === undefined || !NFS2_CODES.has(code)) return `nfsstat(${code})`;
    return code === 0 ? 'NFS_OK' : `NFSERR_${base}`;
  }
  if (base === undefined || code === 99) return `nfsstat3(${code})`;
  return code === 0 ? 'NFS3_OK' : `NFS3ERR_${base}`;
}

/** ACL entry types (packet-nfsacl.c names). */
const ACL_TYPES: ReadonlyMap<number, string> = new Map([
  [0x1, 'NA_USER_OBJ'],
  [0x2, 'NA_USER'],
  [0x4, 'NA_GROUP_OBJ'],
  [0x8, 'NA_GROUP'],
  [0x10, 'NA_CLASS_OBJ'],
  [0x20, 'NA_OTHER_OBJ'],
  [0x1000, 'NA_ACL_DEFAULT'],
]);

function aclTypeName(t: number): string {
  const base = ACL_TYPES.get(t & ~0x1000);
  if (base !== undefined) return t & 0x1000 ? `Default ${base}` : base;
  return ACL_TYPES.get(t) ?? String(t);
}

/** GETACL mask bits. */
const MASK_BITS: readonly [number, string][] = [
  [0x1, 'ACL'],
  [0x2, 'ACLCNT'],
  [0x4, 'DFACL'],
  [0x8, 'DFACLCNT'],
];

function fh(r: XdrReader, version: number): string {
  return (version === 2 ? r.opaqueFixed(NFS2_FHSIZE) : r.opaque(NFS3_FHSIZE)).toString('hex');
}

function mask(r: XdrReader, o: Obj): void {
  const m = r.u32();
  put(r, o, 'mask', m);
  put(
    r,
    o,
    'maskBits',
    MASK_BITS.filter(([b]) => m & b).map(([, n]) => n),
  );
}

/** Reads (not skips) `n` words: a cut inside them must stop the reader where it is. */
function words(r: XdrReader, n: number): void {
  for (let i = 0; i < n && r.ok; i++) r.u32();
}

/** A few fields of fattr3 / fattr (type, mode, uid, gid, size, fileid); the rest is stepped over. */
function fattr(r: XdrReader, version: number): Obj {
  const o: Obj = {};
  const start = r.pos;
  put(r, o, 'type', r.u32());
  put(r, o, 'mode', r.u32());
  r.u32(); // nlink
  put(r, o, 'uid', r.u32());
  put(r, o, 'gid', r.u32());
  if (version === 3) {
    put(r, o, 'size', hyper(r));
    words(r, 6); // used, rdev, fsid
    put(r, o, 'fileid', hyper(r));
    words(r, (start + FATTR3_SIZE - r.pos) / 4); // times
  } else {
    put(r, o, 'size', r.u32());
    words(r, 4); // blocksize, rdev, blocks, fsid
    put(r, o, 'fileid', r.u32());
    words(r, (start + FATTR2_SIZE - r.pos) / 4); // times
  }
  return o;
}

function postOpAttr(r: XdrReader, o: Obj): void {
  const present = r.bool();
  if (r.ok && present) o.attr = fattr(r, 3);
}

function aclEntries(r: XdrReader): Obj[] {
  return r.array(MAX_ACL_ENTRIES, (x) => {
    const e: Obj = {};
    const t = x.u32();
    put(x, e, 'type', aclTypeName(t));
    put(x, e, 'id', x.u32());
    put(x, e, 'perm', x.u32());
    return e;
  });
}

/** secattr: mask, aclcnt, aclent<>, dfaclcnt, dfaclent<>. */
function secattr(r: XdrReader, o: Obj): void {
  mask(r, o);
  put(r, o, 'aclCount', r.u32());
  const acl = aclEntries(r);
  put(r, o, 'acl', acl);
  put(r, o, 'defaultAclCount', r.u32());
  const dfacl = aclEntries(r);
  put(r, o, 'defaultAcl', dfacl);
}

function known(version: number, procedure: number): boolean {
  return procedure >= 0 && procedure <= (version === 2 ? ACLPROC2_GETXATTRDIR : ACLPROC3_GETXATTRDIR);
}

export const nfsAclDecoder: ProgramDecoder = {
  program: PROG_NFS_ACL,
  versions: [2, 3],

  decodeCall(r, version, procedure) {
    const name = procedureName(PROG_NFS_ACL, version, procedure);
    const c: DecodedCall = { ops: [name], mainOp: name, args: {} };
    const a: Obj = {};
    c.args = a;
    if (!known(version, procedure)) {
      r.markMalformed();
    } else if (procedure !== ACLPROC_NULL) {
      const h = fh(r, version);
      if (r.ok) {
        a.fh = h;
        c.fh = h;
      }
      const getxattrdir = version === 2 ? ACLPROC2_GETXATTRDIR : ACLPROC3_GETXATTRDIR;
      if (procedure === ACLPROC_GETACL) mask(r, a);
      else if (procedure === ACLPROC_SETACL) secattr(r, a);
      else if (procedure === getxattrdir) put(r, a, 'create', r.bool());
      else if (version === 2 && procedure === ACLPROC2_ACCESS) put(r, a, 'access', r.u32());
      // v2 GETATTR (ACLPROC2_GETATTR): the handle only.
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
    if (procedure === ACLPROC_NULL) return statuslessReply();
    const code = r.u32();
    if (!r.ok) return undecodableReply(r);
    const results: Obj = {};
    const d: DecodedReply = { status: aclStatusName(version, code), statusCode: code, results };
    const ok = code === 0;
    if (version === 3) {
      if (procedure === ACLPROC3_GETXATTRDIR) {
        if (ok) {
          const h = fh(r, 3);
          if (r.ok) {
            results.fh = h;
            d.handles = [{ fh: h }];
          }
        }
        postOpAttr(r, results);
      } else {
        // GETACL3res and SETACL3res: post_op_attr on either arm; GETACL's ACL when OK.
        postOpAttr(r, results);
        if (ok && procedure === ACLPROC_GETACL) secattr(r, results);
      }
    } else if (ok) {
      if (procedure === ACLPROC2_GETXATTRDIR) {
        const h = fh(r, 2);
        if (r.ok) {
          results.fh = h;
          d.handles = [{ fh: h }];
        }
      }
      // GETATTR (ACLPROC2_GETATTR) answers with the attributes alone.
      results.attr = fattr(r, 2);
      if (procedure === ACLPROC_GETACL) secattr(r, results);
      else if (procedure === ACLPROC2_ACCESS) put(r, results, 'access', r.u32());
    }
    const stop = stopOf(r);
    if (stop !== undefined) d.stop = stop;
    return d;
  },
};
