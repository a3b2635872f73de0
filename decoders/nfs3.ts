/**
 * NFSv3 (RFC 1813): arguments and results of the 22 procedures.
 *
 * Decoding follows the reader's sticky-stop model (xdr.ts): fields are read
 * in order and stored only while the reader is still fine (`put`), so a body
 * cut by the capture yields exactly the fields before the cut, plus `stop`.
 * Bulk data (READ reply data, WRITE call data) is stepped over with
 * skipOpaque: it need not be kept.
 *
 * Values are plain JSON data: file handles and verifiers as lowercase hex,
 * times as "seconds.nanoseconds" strings (exact, unlike a float), 64-bit
 * values as numbers when safe, else decimal strings.
 *
 * NULL has no status: its reply is reported as status "OK", statusCode 0.
 */
import type { DecodedCall, DecodedReply, ProgramDecoder } from './decoded.js';
import { PROG_NFS } from './programs.js';
import type { XdrReader } from './xdr.js';
import { type Obj, hyper, put, statuslessReply, stopOf, undecodableReply } from './decode-util.js';

/** RFC 1813 §2.4: NFS3_FHSIZE, the largest v3 file handle. */
const NFS3_FHSIZE = 64;
/** RFC 1813 §2.4: NFS3_COOKIEVERFSIZE, NFS3_CREATEVERFSIZE, NFS3_WRITEVERFSIZE. */
const VERF_SIZE = 8;
/**
 * filename3 / nfspath3 are unbounded strings in the RFC; a bound well above
 * any real name (NAME_MAX 255, PATH_MAX 4096) tells a garbage length from a
 * long name (the NAMETOOLONG case sends 300 bytes).
 */
const MAX_NAME = 4096;
const MAX_PATH = 65536;
const NFS3_OK = 0;
/** 2^53 / 2^32: a hyper whose high word is below this is a safe integer. */

/** RFC 1813 §2.6 nfsstat3. */
const NFSSTAT3: ReadonlyMap<number, string> = new Map([
  [0, 'NFS3_OK'],
  [1, 'NFS3ERR_PERM'],
  [2, 'NFS3ERR_NOENT'],
  [5, 'NFS3ERR_IO'],
  [6, 'NFS3ERR_NXIO'],
  [13, 'NFS3ERR_ACCES'],
  [17, 'NFS3ERR_EXIST'],
  [18, 'NFS3ERR_XDEV'],
  [19, 'NFS3ERR_NODEV'],
  [20, 'NFS3ERR_NOTDIR'],
  [21, 'NFS3ERR_ISDIR'],
  [22, 'NFS3ERR_INVAL'],
  [27, 'NFS3ERR_FBIG'],
  [28, 'NFS3ERR_NOSPC'],
  [30, 'NFS3ERR_ROFS'],
  [31, 'NFS3ERR_MLINK'],
  [63, 'NFS3ERR_NAMETOOLONG'],
  [66, 'NFS3ERR_NOTEMPTY'],
  [69, 'NFS3ERR_DQUOT'],
  [70, 'NFS3ERR_STALE'],
  [71, 'NFS3ERR_REMOTE'],
  [10001, 'NFS3ERR_BADHANDLE'],
  [10002, 'NFS3ERR_NOT_SYNC'],
  [10003, 'NFS3ERR_BAD_COOKIE'],
  [10004, 'NFS3ERR_NOTSUPP'],
  [10005, 'NFS3ERR_TOOSMALL'],
  [10006, 'NFS3ERR_SERVERFAULT'],
  [10007, 'NFS3ERR_BADTYPE'],
  [10008, 'NFS3ERR_JUKEBOX'],
]);

/** The nfsstat3 name of a status number; numbers the RFC does not define read as `nfsstat3(N)`. */
export function nfsstat3Name(code: number): string {
  return NFSSTAT3.get(code) ?? `nfsstat3(${code})`;
}

/** Every nfsstat3, for tests and reports. */
export const NFSSTAT3_CODES: readonly number[] = [...NFSSTAT3.keys()];

/** RFC 1813 §2.6 ftype3 (index = value). */
const FTYPE3 = ['', 'NF3REG', 'NF3DIR', 'NF3BLK', 'NF3CHR', 'NF3LNK', 'NF3SOCK', 'NF3FIFO'];
const NF3BLK = 3;
const NF3CHR = 4;
const NF3SOCK = 6;
const NF3FIFO = 7;
/** stable_how (WRITE) and the committed field of its reply. */
const STABLE_HOW = ['UNSTABLE', 'DATA_SYNC', 'FILE_SYNC'];
/** createmode3 (CREATE). */
const CREATE_MODE = ['UNCHECKED', 'GUARDED', 'EXCLUSIVE'];
const EXCLUSIVE = 2;
/** time_how (sattr3 atime/mtime). */
const TIME_HOW = ['DONT_CHANGE', 'SET_TO_SERVER_TIME', 'SET_TO_CLIENT_TIME'];
const SET_TO_CLIENT_TIME = 2;
/** ACCESS3_* bits, in bit order (RFC 1813 §3.3.4). */
const ACCESS_BITS = ['READ', 'LOOKUP', 'MODIFY', 'EXTEND', 'DELETE', 'EXECUTE'];
/** FSINFO properties bits (RFC 1813 §3.3.19). */
const FSF_BITS: readonly [number, string][] = [
  [0x1, 'LINK'],
  [0x2, 'SYMLINK'],
  [0x8, 'HOMOGENEOUS'],
  [0x10, 'CANSETTIME'],
];

function enumName(names: readonly string[], v: number): string {
  return names[v] || String(v);
}

/** nfstime3 as "seconds.nanoseconds". */
function time(r: XdrReader): string {
  const s = r.u32();
  const ns = r.u32();
  return `${s}.${String(ns).padStart(9, '0')}`;
}

function fh3(r: XdrReader): string {
  return r.opaqueText(NFS3_FHSIZE, 'hex');
}

function verf(r: XdrReader): string {
  return r.fixedText(VERF_SIZE, 'hex');
}

function accessNames(bits: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < ACCESS_BITS.length; i++) if (bits & (1 << i)) out.push(ACCESS_BITS[i]!);
  return out;
}

/** XDR words of a fattr3 (RFC 1813 §2.6: 5 words, 4 hypers, specdata3, 2 hypers, 3 nfstime3) and of a wcc_attr. */
const FATTR3_WORDS = 21;
const WCC_ATTR_WORDS = 6;

/** Reads `n` words and keeps none (a summary-only reader): the same reads, and so the same stop, as decoding them. */
function skipWords(r: XdrReader, n: number): void {
  for (let i = 0; i < n; i++) r.u32();
}

/** fattr3; undefined when the reader stopped inside it, or when only a summary is wanted. */
function fattr3(r: XdrReader): Obj | undefined {
  if (r.summaryOnly) {
    skipWords(r, FATTR3_WORDS);
    return undefined;
  }
  const o: Obj = {
    type: enumName(FTYPE3, r.u32()),
    mode: r.u32(),
    nlink: r.u32(),
    uid: r.u32(),
    gid: r.u32(),
    size: hyper(r),
    used: hyper(r),
    rdev: [r.u32(), r.u32()],
    fsid: hyper(r),
    fileid: hyper(r),
    atime: time(r),
    mtime: time(r),
    ctime: time(r),
  };
  return r.ok ? o : undefined;
}

/** post_op_attr: the attributes, or undefined when absent (or cut). */
function postOpAttr(r: XdrReader): Obj | undefined {
  return r.bool() ? fattr3(r) : undefined;
}

/** pre_op_attr (wcc_attr: size, mtime, ctime). */
function preOpAttr(r: XdrReader): Obj | undefined {
  if (!r.bool()) return undefined;
  if (r.summaryOnly) {
    skipWords(r, WCC_ATTR_WORDS);
    return undefined;
  }
  const o: Obj = { size: hyper(r), mtime: time(r), ctime: time(r) };
  return r.ok ? o : undefined;
}

function wccData(r: XdrReader): Obj {
  const o: Obj = {};
  const before = preOpAttr(r);
  if (before !== undefined) o.before = before;
  const after = postOpAttr(r);
  if (after !== undefined) o.after = after;
  return o;
}

/** post_op_fh3: the handle's hex, or undefined when the server gave none. */
function postOpFh(r: XdrReader): string | undefined {
  if (!r.bool()) return undefined;
  const fh = fh3(r);
  return r.ok ? fh : undefined;
}

/** sattr3: only the attributes the client sets. */
function sattr3(r: XdrReader): Obj {
  const o: Obj = {};
  if (r.bool()) put(r, o, 'mode', r.u32());
  if (r.bool()) put(r, o, 'uid', r.u32());
  if (r.bool()) put(r, o, 'gid', r.u32());
  if (r.bool()) put(r, o, 'size', hyper(r));
  for (const k of ['atime', 'mtime']) {
    const how = r.u32();
    if (how === SET_TO_CLIENT_TIME) put(r, o, k, time(r));
    else if (how !== 0) put(r, o, k, enumName(TIME_HOW, how));
  }
  return o;
}

/** diropargs3 into `o` (dir, name), and the call's handle and names. */
function dirOpArgs(r: XdrReader, c: DecodedCall, o: Obj, dirKey = 'dir', nameKey = 'name'): void {
  const dir = fh3(r);
  put(r, o, dirKey, dir);
  const name = r.string(MAX_NAME);
  put(r, o, nameKey, name);
  if (c.fh === undefined && r.ok) c.fh = dir;
  if (r.ok) (c.names ??= []).push(name);
}

/** An object handle (GETATTR, READ, ...): the call's fh. */
function objectArg(r: XdrReader, c: DecodedCall, o: Obj, key = 'object'): void {
  const fh = fh3(r);
  if (!r.ok) return;
  o[key] = fh;
  c.fh ??= fh;
}

/** REMOVE3 and RMDIR3: a directory and a name in, the directory's wcc_data out. */
const REMOVE_ARGS_RES = {
  args(r: XdrReader, c: DecodedCall): Obj {
    const o: Obj = {};
    dirOpArgs(r, c, o);
    return o;
  },
  res: (r: XdrReader) => wccRes(r),
};

/** READ3args and COMMIT3args: the file, an offset and a count (the call's byte range). */
function fileRangeArgs(r: XdrReader, c: DecodedCall): Obj {
  const o: Obj = {};
  objectArg(r, c, o, 'file');
  const offset = hyper(r);
  put(r, o, 'offset', offset);
  const count = r.u32();
  put(r, o, 'count', count);
  if (r.ok) {
    c.offset = Number(offset);
    c.count = count;
  }
  return o;
}

/** Results: a new handle for the name of the call (CREATE, MKDIR, SYMLINK, MKNOD). */
function newObjectRes(r: XdrReader, ok: boolean, d: DecodedReply, call: DecodedCall | undefined): Obj {
  const o: Obj = {};
  if (ok) {
    const fh = postOpFh(r);
    if (fh !== undefined) {
      o.object = fh;
      d.handles = [nameHandle(fh, call)];
    }
    const attr = postOpAttr(r);
    if (attr !== undefined) o.attributes = attr;
  }
  o.dirWcc = wccData(r);
  return o;
}

function nameHandle(fh: string, call: DecodedCall | undefined): { fh: string; name?: string } {
  const name = call?.names?.[0];
  return name === undefined ? { fh } : { fh, name };
}

/** Results that are a wcc_data whatever the status (SETATTR, REMOVE, RMDIR). */
function wccRes(r: XdrReader): Obj {
  return { wcc: wccData(r) };
}

/** Results that open with a post_op_attr whatever the status, then `okPart` on success. */
function attrThen(r: XdrReader, ok: boolean, okPart: (r: XdrReader, o: Obj) => void): Obj {
  const o: Obj = {};
  const attr = postOpAttr(r);
  if (attr !== undefined) o.attributes = attr;
  if (ok && r.ok) okPart(r, o);
  return o;
}

interface Proc {
  name: string;
  /** Fills `c` (fh, names, offset, count) and returns the args. */
  args(r: XdrReader, c: DecodedCall): Obj;
  /** Results after the status; fills `d` (readBytes, writeBytes, handles). */
  res(r: XdrReader, ok: boolean, d: DecodedReply, call: DecodedCall | undefined): Obj;
}

const noArgs = (): Obj => ({});

/** The procedures, indexed by number (RFC 1813 §3.3). */
const PROCS: readonly Proc[] = [
  { name: 'NULL', args: noArgs, res: noArgs },
  {
    name: 'GETATTR',
    args(r, c) {
      const o: Obj = {};
      objectArg(r, c, o);
      return o;
    },
    res(r, ok) {
      const o: Obj = {};
      if (ok) {
        const a = fattr3(r);
        if (a !== undefined) o.attributes = a;
      }
      return o;
    },
  },
  {
    name: 'SETATTR',
    args(r, c) {
      const o: Obj = {};
      objectArg(r, c, o);
      o.attributes = sattr3(r);
      // sattrguard3: the ctime the object must still have.
      if (r.bool()) put(r, o, 'guardCtime', time(r));
      return o;
    },
    res: (r) => wccRes(r),
  },
  {
    name: 'LOOKUP',
    args(r, c) {
      const o: Obj = {};
      dirOpArgs(r, c, o);
      return o;
    },
    res(r, ok, d, call) {
      const o: Obj = {};
      if (ok) {
        const fh = fh3(r);
        if (!r.ok) return o;
        o.object = fh;
        d.handles = [nameHandle(fh, call)];
        const attr = postOpAttr(r);
        if (attr !== undefined) o.attributes = attr;
      }
      const dirAttr = postOpAttr(r);
      if (dirAttr !== undefined) o.dirAttributes = dirAttr;
      return o;
    },
  },
  {
    name: 'ACCESS',
    args(r, c) {
      const o: Obj = {};
      objectArg(r, c, o);
      const bits = r.u32();
      if (r.ok) {
        o.access = bits;
        o.accessNames = accessNames(bits);
      }
      return o;
    },
    res: (r, ok) =>
      attrThen(r, ok, (r, o) => {
        const bits = r.u32();
        if (r.ok) {
          o.access = bits;
          o.accessNames = accessNames(bits);
        }
      }),
  },
  {
    name: 'READLINK',
    args(r, c) {
      const o: Obj = {};
      objectArg(r, c, o, 'symlink');
      return o;
    },
    res: (r, ok) =>
      attrThen(r, ok, (r, o) => {
        // Over RDMA the link may have gone into a write chunk (RFC 8267): then only its length is known.
        const link = r.dataItemString(MAX_PATH);
        if (link.text !== undefined) put(r, o, 'data', link.text);
        else put(r, o, 'dataLength', link.length);
      }),
  },
  {
    name: 'READ',
    args: fileRangeArgs,
    res(r, ok, d) {
      return attrThen(r, ok, (r, o) => {
        const count = r.u32();
        put(r, o, 'count', count);
        if (r.ok) d.readBytes = count;
        put(r, o, 'eof', r.bool());
        // The data: only its length word need be kept (over RDMA, the data may be in a write chunk).
        const len = r.skipDataItem();
        put(r, o, 'dataLength', len);
      });
    },
  },
  {
    name: 'WRITE',
    args(r, c) {
      const o: Obj = {};
      objectArg(r, c, o, 'file');
      const offset = hyper(r);
      put(r, o, 'offset', offset);
      const count = r.u32();
      put(r, o, 'count', count);
      if (r.ok) {
        c.offset = Number(offset);
        c.count = count;
      }
      put(r, o, 'stable', enumName(STABLE_HOW, r.u32()));
      const len = r.skipOpaque();
      put(r, o, 'dataLength', len);
      return o;
    },
    res(r, ok, d) {
      const o: Obj = { wcc: wccData(r) };
      if (ok) {
        const count = r.u32();
        put(r, o, 'count', count);
        if (r.ok) d.writeBytes = count;
        put(r, o, 'committed', enumName(STABLE_HOW, r.u32()));
        put(r, o, 'verifier', verf(r));
      }
      return o;
    },
  },
  {
    name: 'CREATE',
    args(r, c) {
      const o: Obj = {};
      dirOpArgs(r, c, o);
      const mode = r.u32();
      put(r, o, 'mode', enumName(CREATE_MODE, mode));
      if (mode === EXCLUSIVE) put(r, o, 'verifier', verf(r));
      else if (r.ok) o.attributes = sattr3(r);
      return o;
    },
    res: newObjectRes,
  },
  {
    name: 'MKDIR',
    args(r, c) {
      const o: Obj = {};
      dirOpArgs(r, c, o);
      if (r.ok) o.attributes = sattr3(r);
      return o;
    },
    res: newObjectRes,
  },
  {
    name: 'SYMLINK',
    args(r, c) {
      const o: Obj = {};
      dirOpArgs(r, c, o);
      if (r.ok) o.attributes = sattr3(r);
      put(r, o, 'target', r.string(MAX_PATH));
      return o;
    },
    res: newObjectRes,
  },
  {
    name: 'MKNOD',
    args(r, c) {
      const o: Obj = {};
      dirOpArgs(r, c, o);
      const type = r.u32();
      put(r, o, 'type', enumName(FTYPE3, type));
      if (type === NF3CHR || type === NF3BLK) {
        if (r.ok) o.attributes = sattr3(r);
        put(r, o, 'spec', [r.u32(), r.u32()]);
      } else if (type === NF3SOCK || type === NF3FIFO) {
        if (r.ok) o.attributes = sattr3(r);
      }
      return o;
    },
    res: newObjectRes,
  },
  { name: 'REMOVE', ...REMOVE_ARGS_RES },
  { name: 'RMDIR', ...REMOVE_ARGS_RES },
  {
    name: 'RENAME',
    args(r, c) {
      const o: Obj = {};
      dirOpArgs(r, c, o, 'fromDir', 'fromName');
      dirOpArgs(r, c, o, 'toDir', 'toName');
      return o;
    },
    res: (r) => ({ fromDirWcc: wccData(r), toDirWcc: wccData(r) }),
  },
  {
    name: 'LINK',
    args(r, c) {
      const o: Obj = {};
      objectArg(r, c, o, 'file');
      dirOpArgs(r, c, o, 'toDir', 'toName');
      return o;
    },
    res(r) {
      const o: Obj = {};
      const attr = postOpAttr(r);
      if (attr !== undefined) o.attributes = attr;
      o.linkDirWcc = wccData(r);
      return o;
    },
  },
  {
    name: 'READDIR',
    args(r, c) {
      const o: Obj = {};
      objectArg(r, c, o, 'dir');
      put(r, o, 'cookie', hyper(r));
      put(r, o, 'cookieVerifier', verf(r));
      const count = r.u32();
      put(r, o, 'count', count);
      if (r.ok) c.count = count;
      return o;
    },
    res: (r, ok) => attrThen(r, ok, (r, o) => readdirEntries(r, o, undefined)),
  },
  {
    name: 'READDIRPLUS',
    args(r, c) {
      const o: Obj = {};
      objectArg(r, c, o, 'dir');
      put(r, o, 'cookie', hyper(r));
      put(r, o, 'cookieVerifier', verf(r));
      put(r, o, 'dirCount', r.u32());
      const max = r.u32();
      put(r, o, 'maxCount', max);
      if (r.ok) c.count = max;
      return o;
    },
    res: (r, ok, d) => attrThen(r, ok, (r, o) => readdirEntries(r, o, d)),
  },
  {
    name: 'FSSTAT',
    args(r, c) {
      const o: Obj = {};
      objectArg(r, c, o, 'fsroot');
      return o;
    },
    res: (r, ok) =>
      attrThen(r, ok, (r, o) => {
        for (const k of ['totalBytes', 'freeBytes', 'availBytes', 'totalFiles', 'freeFiles', 'availFiles']) put(r, o, k, hyper(r));
        put(r, o, 'invarsec', r.u32());
      }),
  },
  {
    name: 'FSINFO',
    args(r, c) {
      const o: Obj = {};
      objectArg(r, c, o, 'fsroot');
      return o;
    },
    res: (r, ok) =>
      attrThen(r, ok, (r, o) => {
        for (const k of ['rtmax', 'rtpref', 'rtmult', 'wtmax', 'wtpref', 'wtmult', 'dtpref']) put(r, o, k, r.u32());
        put(r, o, 'maxFileSize', hyper(r));
        put(r, o, 'timeDelta', time(r));
        const props = r.u32();
        if (r.ok) {
          o.properties = props;
          o.propertyNames = FSF_BITS.filter(([bit]) => props & bit).map(([, n]) => n);
        }
      }),
  },
  {
    name: 'PATHCONF',
    args(r, c) {
      const o: Obj = {};
      objectArg(r, c, o);
      return o;
    },
    res: (r, ok) =>
      attrThen(r, ok, (r, o) => {
        put(r, o, 'linkMax', r.u32());
        put(r, o, 'nameMax', r.u32());
        for (const k of ['noTrunc', 'chownRestricted', 'caseInsensitive', 'casePreserving']) put(r, o, k, r.bool());
      }),
  },
  {
    name: 'COMMIT',
    args: fileRangeArgs,
    res(r, ok) {
      const o: Obj = { wcc: wccData(r) };
      if (ok) put(r, o, 'verifier', verf(r));
      return o;
    },
  },
];

/**
 * READDIR (dirlist3) and READDIRPLUS (dirlistplus3) results after the
 * directory attributes: the verifier, the entries (a linked list: a
 * value_follows bool before each), eof. `d` set for READDIRPLUS, whose
 * entries carry attributes and handles (→ d.handles).
 */
function readdirEntries(r: XdrReader, o: Obj, d: DecodedReply | undefined): void {
  if (r.summaryOnly) {
    readdirHandles(r, d);
    return;
  }
  put(r, o, 'cookieVerifier', verf(r));
  const names: string[] = [];
  const entries: Obj[] = [];
  const handles: { fh: string; name: string }[] = [];
  // Every round consumes bytes or stops the reader: the loop ends.
  while (r.bool()) {
    const fileid = hyper(r);
    const name = r.string(MAX_NAME);
    const cookie = hyper(r);
    if (!r.ok) break;
    const e: Obj = { fileid, name, cookie };
    if (d !== undefined) {
      const attr = postOpAttr(r);
      if (attr !== undefined) e.attributes = attr;
      const fh = postOpFh(r);
      if (!r.ok) break;
      if (fh !== undefined) {
        e.fh = fh;
        handles.push({ fh, name });
      }
    }
    names.push(name);
    entries.push(e);
  }
  o.entryCount = entries.length;
  o.names = names;
  o.entries = entries;
  const eof = r.bool();
  if (r.ok) o.eof = eof;
  if (d !== undefined && handles.length > 0) d.handles = handles;
}

/** readdirEntries for a summary-only reader: the same reads, only the handles (READDIRPLUS) kept. */
function readdirHandles(r: XdrReader, d: DecodedReply | undefined): void {
  verf(r);
  const handles: { fh: string; name: string }[] = [];
  while (r.bool()) {
    skipWords(r, 2);
    const name = r.string(MAX_NAME);
    skipWords(r, 2);
    if (!r.ok) break;
    if (d !== undefined) {
      postOpAttr(r);
      const fh = postOpFh(r);
      if (!r.ok) break;
      if (fh !== undefined) handles.push({ fh, name });
    }
  }
  r.bool();
  if (d !== undefined && handles.length > 0) d.handles = handles;
}

function procName(procedure: number): string {
  return PROCS[procedure]?.name ?? `NFSPROC3_${procedure}`;
}

export const nfs3Decoder: ProgramDecoder = {
  program: PROG_NFS,
  versions: [3],

  decodeCall(r, _version, procedure) {
    const proc = PROCS[procedure];
    const name = procName(procedure);
    const c: DecodedCall = { ops: [name], mainOp: name, args: {} };
    if (proc === undefined) {
      // Not an NFSv3 procedure: the bytes cannot be read.
      r.markMalformed();
    } else {
      c.args = proc.args(r, c);
    }
    const stop = stopOf(r);
    if (stop !== undefined) c.stop = stop;
    return c;
  },

  decodeReply(r, _version, procedure, call) {
    const proc = PROCS[procedure];
    if (proc === undefined) {
      r.markMalformed();
      return undecodableReply(r);
    }
    if (procedure === 0) return statuslessReply();
    const code = r.u32();
    if (!r.ok) return undecodableReply(r);
    const d: DecodedReply = { status: nfsstat3Name(code), statusCode: code, results: {} };
    // Every status other than NFS3_OK selects the union's failure arm (RFC 1813: `default:`).
    d.results = proc.res(r, code === NFS3_OK, d, call);
    const stop = stopOf(r);
    if (stop !== undefined) d.stop = stop;
    return d;
  },
};
