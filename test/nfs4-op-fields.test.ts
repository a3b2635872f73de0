/**
 * NFSv4.0 operations field by field: for every op of RFC 7530 the
 * arguments and results are written here by hand from the XDR of RFC 7531
 * (each field a distinct value), decoded inside a COMPOUND between PUTFH
 * and GETATTR (so a layout error shows in the op after it), and every
 * decoded field compared with the value written. Names (file types,
 * attributes, share access) are the RFC's, written here, never taken from
 * the decoder's tables.
 */
import { describe, expect, it } from 'vitest';
import type { DecodedCall, DecodedReply } from '../decoders/decoded.js';
import { nfs4Decoder } from '../decoders/nfs4.js';
import { XdrReader } from '../decoders/xdr.js';
import { XdrWriter } from './gen/rpc.js';
import { OP, compoundArgs, compoundRes, getattrArgs, getattrRes, putfhArgs, rawOp, statusRes } from './gen/nfs4.js';

const FH = Buffer.from('01000601a1b2c3d4e5f60718', 'hex');
const w = (): XdrWriter => new XdrWriter();
/** stateid4: seqid, then 12 bytes of `fill`. */
const sid = (x: XdrWriter, seqid: number, fill: number): XdrWriter => x.u32(seqid).fixed(Buffer.alloc(12, fill));
const sidOf = (seqid: number, fill: number): { seqid: number; other: string } => ({ seqid, other: fill.toString(16).padStart(2, '0').repeat(12) });
/** change_info4: atomic, before, after. */
const cinfo = (x: XdrWriter, atomic: boolean, before: number, after: number): XdrWriter => x.bool(atomic).u64(before).u64(after);
/** lock_owner4: clientid4 (uint64), opaque owner. */
const owner = (x: XdrWriter, clientid: bigint, o: Buffer): XdrWriter => x.u64(clientid).opaque(o);
/** fattr4 with mode (33) = 0o644 and owner (36) = 'alice'. */
const modeOwner = (x: XdrWriter): XdrWriter => x.u32(2).u32(0).u32((1 << 1) | (1 << 4)).opaque(w().u32(0o100644).string('alice').bytes());

const decodeCall = (args: Buffer): DecodedCall => nfs4Decoder.decodeCall(XdrReader.over(args), 4, 1);
const decodeReply = (res: Buffer, c?: DecodedCall): DecodedReply => nfs4Decoder.decodeReply(XdrReader.over(res), 4, 1, c);
type Ops = { ops: { op: string; status?: string; args?: unknown; result?: unknown }[] };

interface Case {
  op: number;
  name: string;
  args: Buffer;
  expectArgs: Record<string, unknown>;
  /** Result bytes after the opcode: status, then the body. */
  res: Buffer;
  status: string;
  /** undefined: no result body. */
  expectRes: Record<string, unknown> | undefined;
}

const CASES: Case[] = [
  { op: 3, name: 'ACCESS', args: w().u32(0x1f).bytes(), expectArgs: { access: 0x1f }, res: w().u32(0).u32(0x3f).u32(0x0d).bytes(), status: 'NFS4_OK', expectRes: { supported: 0x3f, access: 0x0d } },
  { op: 4, name: 'CLOSE', args: sid(w().u32(9), 3, 0xa1).bytes(), expectArgs: { seqid: 9, stateid: sidOf(3, 0xa1) }, res: sid(w().u32(0), 4, 0xa2).bytes(), status: 'NFS4_OK', expectRes: { stateid: sidOf(4, 0xa2) } },
  { op: 5, name: 'COMMIT', args: w().u64(65536).u32(8192).bytes(), expectArgs: { offset: 65536, count: 8192 }, res: w().u32(0).fixed(Buffer.from('0102030405060708', 'hex')).bytes(), status: 'NFS4_OK', expectRes: { verifier: '0102030405060708' } },
  {
    op: 6, name: 'CREATE (NF4LNK)',
    args: modeOwner(w().u32(5).string('target/of/link').string('lnk')).bytes(),
    expectArgs: { type: 'NF4LNK', linkdata: 'target/of/link', name: 'lnk', attrs: { attrs: { mode: 0o644, owner: 'alice' } } },
    res: w().u32(0).bool(true).u64(10).u64(11).u32(2).u32(0).u32(1 << 1).bytes(), status: 'NFS4_OK',
    expectRes: { cinfo: { atomic: true, before: 10, after: 11 }, attrset: [33] },
  },
  {
    op: 6, name: 'CREATE (NF4CHR)',
    args: w().u32(4).u32(136).u32(7).string('tty7').u32(0).u32(0).bytes(),
    expectArgs: { type: 'NF4CHR', devdata: { major: 136, minor: 7 }, name: 'tty7', attrs: { attrs: {} } },
    res: w().u32(0).bool(false).u64(1).u64(3).u32(0).bytes(), status: 'NFS4_OK',
    expectRes: { cinfo: { atomic: false, before: 1, after: 3 }, attrset: [] },
  },
  {
    op: 6, name: 'CREATE (NF4BLK)',
    args: w().u32(3).u32(8).u32(1).string('sda1').u32(0).u32(0).bytes(),
    expectArgs: { type: 'NF4BLK', devdata: { major: 8, minor: 1 }, name: 'sda1', attrs: { attrs: {} } },
    res: w().u32(10006).bytes(), status: 'NFS4ERR_SERVERFAULT', expectRes: undefined,
  },
  {
    op: 6, name: 'CREATE (NF4DIR)',
    args: w().u32(2).string('dir').u32(0).u32(0).bytes(),
    expectArgs: { type: 'NF4DIR', name: 'dir', attrs: { attrs: {} } },
    res: w().u32(17).bytes(), status: 'NFS4ERR_EXIST', expectRes: undefined,
  },
  { op: 7, name: 'DELEGPURGE', args: w().u64(0x1122334455667788n).bytes(), expectArgs: { clientid: '1122334455667788' }, res: w().u32(10004).bytes(), status: 'NFS4ERR_NOTSUPP', expectRes: undefined },
  { op: 8, name: 'DELEGRETURN', args: sid(w(), 2, 0xd1).bytes(), expectArgs: { stateid: sidOf(2, 0xd1) }, res: w().u32(0).bytes(), status: 'NFS4_OK', expectRes: undefined },
  { op: 11, name: 'LINK', args: w().string('hardlink').bytes(), expectArgs: { name: 'hardlink' }, res: cinfo(w().u32(0), true, 20, 21).bytes(), status: 'NFS4_OK', expectRes: { cinfo: { atomic: true, before: 20, after: 21 } } },
  {
    op: 12, name: 'LOCK (new lock owner)',
    args: owner(sid(w().u32(2).bool(false).u64(100).u64(200).bool(true).u32(5), 6, 0xb1).u32(7), 0xaabbccdd00112233n, Buffer.from('lockowner')).bytes(),
    expectArgs: {
      locktype: 2, reclaim: false, offset: 100, length: 200, newLockOwner: true,
      locker: { openSeqid: 5, openStateid: sidOf(6, 0xb1), lockSeqid: 7, lockOwner: { clientid: 'aabbccdd00112233', owner: Buffer.from('lockowner').toString('hex') } },
    },
    res: sid(w().u32(0), 1, 0xb2).bytes(), status: 'NFS4_OK', expectRes: { stateid: sidOf(1, 0xb2) },
  },
  {
    op: 12, name: 'LOCK (existing lock owner, reclaim)',
    args: sid(w().u32(1).bool(true).u64(0).u64(0xffffffffffffffffn).bool(false), 3, 0xb3).u32(4).bytes(),
    expectArgs: { locktype: 1, reclaim: true, offset: 0, length: '18446744073709551615', newLockOwner: false, locker: { lockStateid: sidOf(3, 0xb3), lockSeqid: 4 } },
    res: w().u32(10012).bytes(), status: 'NFS4ERR_LOCKED', expectRes: undefined,
  },
  {
    op: 13, name: 'LOCKT',
    args: owner(w().u32(4).u64(10).u64(20), 0x0102n, Buffer.from('o2')).bytes(),
    expectArgs: { locktype: 4, offset: 10, length: 20, owner: { clientid: '0000000000000102', owner: '6f32' } },
    res: owner(w().u32(10010).u64(5).u64(6).u32(2), 0x0203n, Buffer.from('o3')).bytes(), status: 'NFS4ERR_DENIED',
    expectRes: { denied: { offset: 5, length: 6, locktype: 2, owner: { clientid: '0000000000000203', owner: '6f33' } } },
  },
  { op: 13, name: 'LOCKT (no conflict)', args: owner(w().u32(1).u64(0).u64(1), 1n, Buffer.alloc(0)).bytes(), expectArgs: { locktype: 1, offset: 0, length: 1, owner: { clientid: '0000000000000001', owner: '' } }, res: w().u32(0).bytes(), status: 'NFS4_OK', expectRes: undefined },
  {
    op: 14, name: 'LOCKU',
    args: w().u32(2).u32(8).u32(9).fixed(Buffer.alloc(12, 0xc1)).u64(300).u64(400).bytes(),
    expectArgs: { locktype: 2, seqid: 8, stateid: sidOf(9, 0xc1), offset: 300, length: 400 },
    res: sid(w().u32(0), 10, 0xc2).bytes(), status: 'NFS4_OK', expectRes: { stateid: sidOf(10, 0xc2) },
  },
  { op: 16, name: 'LOOKUPP', args: Buffer.alloc(0), expectArgs: {}, res: w().u32(2).bytes(), status: 'NFS4ERR_NOENT', expectRes: undefined },
  { op: 17, name: 'NVERIFY', args: modeOwner(w()).bytes(), expectArgs: { attrs: { mode: 0o644, owner: 'alice' } }, res: w().u32(10009).bytes(), status: 'NFS4ERR_SAME', expectRes: undefined },
  { op: 19, name: 'OPENATTR', args: w().bool(true).bytes(), expectArgs: { createdir: true }, res: w().u32(10004).bytes(), status: 'NFS4ERR_NOTSUPP', expectRes: undefined },
  { op: 20, name: 'OPEN_CONFIRM', args: sid(w(), 1, 0xe1).u32(2).bytes(), expectArgs: { stateid: sidOf(1, 0xe1), seqid: 2 }, res: sid(w().u32(0), 2, 0xe1).bytes(), status: 'NFS4_OK', expectRes: { stateid: sidOf(2, 0xe1) } },
  {
    op: 21, name: 'OPEN_DOWNGRADE',
    args: sid(w(), 3, 0xe2).u32(4).u32(1).u32(2).bytes(),
    expectArgs: { stateid: sidOf(3, 0xe2), seqid: 4, shareAccess: 'READ', shareDeny: 2 },
    res: sid(w().u32(0), 4, 0xe2).bytes(), status: 'NFS4_OK', expectRes: { stateid: sidOf(4, 0xe2) },
  },
  { op: 23, name: 'PUTPUBFH', args: Buffer.alloc(0), expectArgs: {}, res: w().u32(0).bytes(), status: 'NFS4_OK', expectRes: undefined },
  {
    op: 26, name: 'READDIR',
    args: w().u64(77).fixed(Buffer.from('a1a2a3a4a5a6a7a8', 'hex')).u32(4096).u32(32768).u32(1).u32((1 << 1) | (1 << 4)).bytes(),
    expectArgs: { cookie: 77, cookieverf: 'a1a2a3a4a5a6a7a8', dircount: 4096, maxcount: 32768, attrRequest: [1, 4] },
    // Two entries: 'a' (type NF4REG), 'bb' (size 5); eof.
    res: w().u32(0).fixed(Buffer.from('b1b2b3b4b5b6b7b8', 'hex'))
      .bool(true).u64(3).string('a').u32(1).u32(1 << 1).opaque(w().u32(1).bytes())
      .bool(true).u64(4).string('bb').u32(1).u32(1 << 4).opaque(w().u64(5).bytes())
      .bool(false).bool(true).bytes(),
    status: 'NFS4_OK',
    expectRes: { cookieverf: 'b1b2b3b4b5b6b7b8', entries: [{ cookie: 3, name: 'a', attrs: { type: 'NF4REG' } }, { cookie: 4, name: 'bb', attrs: { size: 5 } }], eof: true },
  },
  {
    op: 26, name: 'READDIR (empty, not eof)',
    args: w().u64(0).fixed(Buffer.alloc(8)).u32(1).u32(2).u32(0).bytes(),
    expectArgs: { cookie: 0, cookieverf: '0000000000000000', dircount: 1, maxcount: 2, attrRequest: [] },
    res: w().u32(0).fixed(Buffer.alloc(8, 0xff)).bool(false).bool(false).bytes(), status: 'NFS4_OK',
    expectRes: { cookieverf: 'ffffffffffffffff', entries: [], eof: false },
  },
  { op: 27, name: 'READLINK', args: Buffer.alloc(0), expectArgs: {}, res: w().u32(0).string('../x/y').bytes(), status: 'NFS4_OK', expectRes: { link: '../x/y' } },
  { op: 28, name: 'REMOVE', args: w().string('gone').bytes(), expectArgs: { name: 'gone' }, res: cinfo(w().u32(0), false, 30, 31).bytes(), status: 'NFS4_OK', expectRes: { cinfo: { atomic: false, before: 30, after: 31 } } },
  {
    op: 29, name: 'RENAME',
    args: w().string('old').string('new').bytes(), expectArgs: { oldname: 'old', newname: 'new' },
    res: cinfo(cinfo(w().u32(0), true, 40, 41), false, 50, 52).bytes(), status: 'NFS4_OK',
    expectRes: { sourceCinfo: { atomic: true, before: 40, after: 41 }, targetCinfo: { atomic: false, before: 50, after: 52 } },
  },
  { op: 30, name: 'RENEW', args: w().u64(0x0a0b0c0d0e0f1011n).bytes(), expectArgs: { clientid: '0a0b0c0d0e0f1011' }, res: w().u32(10022).bytes(), status: 'NFS4ERR_STALE_CLIENTID', expectRes: undefined },
  {
    op: 33, name: 'SECINFO',
    args: w().string('export').bytes(), expectArgs: { name: 'export' },
    res: w().u32(0).u32(3).u32(6).opaque(Buffer.from('2a864886f712010202', 'hex')).u32(0).u32(2).u32(1).u32(0).bytes(), status: 'NFS4_OK',
    expectRes: { flavors: [{ flavor: 6, oid: '2a864886f712010202', qop: 0, service: 2 }, { flavor: 1 }, { flavor: 0 }] },
  },
  {
    op: 34, name: 'SETATTR',
    args: modeOwner(sid(w(), 5, 0xf1)).bytes(),
    expectArgs: { stateid: sidOf(5, 0xf1), attrs: { mode: 0o644, owner: 'alice' } },
    res: w().u32(1).u32(2).u32(0).u32(1 << 1).bytes(), status: 'NFS4ERR_PERM', expectRes: { attrsset: ['mode'] },
  },
  {
    op: 35, name: 'SETCLIENTID',
    args: w().fixed(Buffer.from('1112131415161718', 'hex')).opaque(Buffer.from('Linux NFSv4.0 host')).u32(0x40000000).string('tcp').string('10.0.0.1.3.200').u32(1).bytes(),
    expectArgs: { verifier: '1112131415161718', id: 'Linux NFSv4.0 host', cbProgram: 0x40000000, netid: 'tcp', addr: '10.0.0.1.3.200', callbackIdent: 1 },
    res: w().u32(0).u64(0x2122232425262728n).fixed(Buffer.from('3132333435363738', 'hex')).bytes(), status: 'NFS4_OK',
    expectRes: { clientid: '2122232425262728', confirm: '3132333435363738' },
  },
  {
    op: 35, name: 'SETCLIENTID (in use)',
    args: w().fixed(Buffer.alloc(8)).opaque(Buffer.from([0, 1, 0xff])).u32(1).string('tcp6').string('::1.3.201').u32(2).bytes(),
    expectArgs: { verifier: '0000000000000000', id: '0001ff', cbProgram: 1, netid: 'tcp6', addr: '::1.3.201', callbackIdent: 2 },
    res: w().u32(10017).string('tcp').string('10.0.0.9.3.202').bytes(), status: 'NFS4ERR_CLID_INUSE',
    expectRes: { clientUsing: { netid: 'tcp', addr: '10.0.0.9.3.202' } },
  },
  {
    op: 36, name: 'SETCLIENTID_CONFIRM',
    args: w().u64(0x2122232425262728n).fixed(Buffer.from('3132333435363738', 'hex')).bytes(),
    expectArgs: { clientid: '2122232425262728', confirm: '3132333435363738' },
    res: w().u32(0).bytes(), status: 'NFS4_OK', expectRes: undefined,
  },
  { op: 37, name: 'VERIFY', args: modeOwner(w()).bytes(), expectArgs: { attrs: { mode: 0o644, owner: 'alice' } }, res: w().u32(10027).bytes(), status: 'NFS4ERR_NOT_SAME', expectRes: undefined },
  {
    op: 39, name: 'RELEASE_LOCKOWNER',
    args: owner(w(), 0x99n, Buffer.from('lo')).bytes(), expectArgs: { owner: { clientid: '0000000000000099', owner: '6c6f' } },
    res: w().u32(10037).bytes(), status: 'NFS4ERR_LOCKS_HELD', expectRes: undefined,
  },
];

describe('NFSv4.0 ops, every field as RFC 7531 lays it out', () => {
  for (const t of CASES) {
    it(t.name, () => {
      const c = decodeCall(compoundArgs('t', 0, [putfhArgs(FH), rawOp(t.op, t.args), getattrArgs([4])]));
      expect(c.stop).toBeUndefined();
      expect(c.ops).toEqual(['PUTFH', t.name.split(' ')[0], 'GETATTR']);
      const ops = (c.args as Ops).ops;
      expect(ops[1]!.args).toEqual(t.expectArgs);
      expect(ops[2]!.args).toEqual({ attrRequest: ['size'] });
      const ok = t.status === 'NFS4_OK';
      const r = decodeReply(compoundRes(t.res.readUInt32BE(0), 't', [statusRes(OP.PUTFH, 0), rawOp(t.op, t.res), ...(ok ? [getattrRes({ size: 9 })] : [])]), c);
      expect(r.stop).toBeUndefined();
      expect(r.status).toBe(t.status);
      const results = (r.results as Ops).ops;
      expect(results.length).toBe(ok ? 3 : 2);
      expect(results[1]).toEqual(t.expectRes === undefined ? { op: t.name.split(' ')[0], status: t.status } : { op: t.name.split(' ')[0], status: t.status, result: t.expectRes });
      if (ok) expect(results[2]).toEqual({ op: 'GETATTR', status: 'NFS4_OK', result: { attrs: { size: 9 } } });
    });
  }
});
