/** Builders of NFSv3 (RFC 1813) arguments and results, for decoder tests. */
import { XdrWriter } from './rpc.js';

export const NF3REG = 1;
export const NF3DIR = 2;

/** A recognisable file handle of `n` bytes. */
export function makeFh(seed: number, n = 28): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

export function fattr3(w: XdrWriter, type = NF3REG, size = 1000, fileid = 42): XdrWriter {
  w.u32(type).u32(0o644).u32(1).u32(0).u32(0).u64(size).u64(4096).u32(0).u32(0).u64(7).u64(fileid);
  w.u32(1700000000).u32(1).u32(1700000001).u32(2).u32(1700000002).u32(3);
  return w;
}

export function postOpAttr(w: XdrWriter, present = true, type = NF3REG): XdrWriter {
  w.bool(present);
  return present ? fattr3(w, type) : w;
}

export function wcc(w: XdrWriter): XdrWriter {
  w.bool(true).u64(10).u32(5).u32(6).u32(7).u32(8);
  return postOpAttr(w, true, NF3DIR);
}

export function dirop(w: XdrWriter, dir: Buffer, name: string): XdrWriter {
  return w.opaque(dir).string(name);
}

/** sattr3 setting the mode only (the rest: don't change). */
export function sattrMode(w: XdrWriter, mode = 0o644): XdrWriter {
  return w.bool(true).u32(mode).bool(false).bool(false).bool(false).u32(0).u32(0);
}

export function postOpFh(w: XdrWriter, fh: Buffer): XdrWriter {
  return w.bool(true).opaque(fh);
}

/** READDIRPLUS OK results with the given entries (name, handle). */
export function readdirplusOk(dirAttr: boolean, entries: [string, Buffer][], eof = true): Buffer {
  const w = new XdrWriter().u32(0);
  postOpAttr(w, dirAttr, NF3DIR);
  w.fixed(Buffer.alloc(8, 9));
  entries.forEach(([name, fh], i) => {
    w.bool(true).u64(100 + i).string(name).u64(i + 1);
    postOpAttr(w, true);
    postOpFh(w, fh);
  });
  return w.bool(false).bool(eof).bytes();
}
