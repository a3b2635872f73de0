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
  /** COMPOUND minor version (default 0). */
  minor?: number;
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

describe('NFSv4 ops, every field as RFC 7531, 8881, 7863 and 8276 lay it out', () => {
  for (const t of [...CASES, ...CASES_41]) {
    it(t.name, () => {
      const c = decodeCall(compoundArgs('t', t.minor ?? 0, [putfhArgs(FH), rawOp(t.op, t.args), getattrArgs([4])]));
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

const SESSION = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const SESSION_HEX = SESSION.toString('hex');
const DEV = Buffer.alloc(16, 0x5d);
/** callback_sec_parms4: AUTH_NONE, AUTH_SYS, RPCSEC_GSS. */
const secParms = (x: XdrWriter): XdrWriter =>
  x.u32(3).u32(0).u32(1).u32(77).string('host').u32(1000).u32(100).u32(2).u32(4).u32(27).u32(6).u32(2).opaque(Buffer.from([1, 2])).opaque(Buffer.from([3]));
const SEC_PARMS = [
  { flavor: 0 },
  { flavor: 1, stamp: 77, machine: 'host', uid: 1000, gid: 100, gids: [4, 27] },
  { flavor: 6, service: 2, handleFromServer: '0102', handleFromClient: '03' },
];
/** state_protect_ops4: must_enforce {3, 40}, must_allow {53}. */
const spOps = (x: XdrWriter): XdrWriter => x.u32(2).u32(1 << 3).u32(1 << 8).u32(2).u32(0).u32(1 << 21);
const SP_OPS = { mustEnforce: [3, 40], mustAllow: [53] };
const implId = (x: XdrWriter): XdrWriter => x.u32(1).string('example.org').string('server 1').u64(1600000000).u32(9);
const IMPL_ID = { domain: 'example.org', name: 'server 1', date: { seconds: 1600000000, nseconds: 9 } };
/** OPEN4args up to the claim: seqid 1, share access BOTH with WANT_READ_DELEG (0x100), deny NONE, owner. */
const openHead = (x: XdrWriter): XdrWriter => x.u32(1).u32(0x103).u32(0).u64(5n).opaque(Buffer.from('ow'));
const OPEN_HEAD = { seqid: 1, shareAccess: 'BOTH', shareAccessWant: 0x100, shareDeny: 0, owner: { clientid: '0000000000000005', owner: '6f77' } };
/** OPEN4resok up to the delegation. */
const openResHead = (x: XdrWriter): XdrWriter => sid(x.u32(0), 1, 0x0e).bool(true).u64(1).u64(2).u32(4).u32(0);
const OPEN_RES_HEAD = { stateid: sidOf(1, 0x0e), cinfo: { atomic: true, before: 1, after: 2 }, rflags: 4, attrset: [] };
const ACE = (x: XdrWriter): XdrWriter => x.u32(0).u32(0).u32(0x1f).string('EVERYONE@');
const ACE_V = { type: 0, flag: 0, accessMask: 0x1f, who: 'EVERYONE@' };

/** NFSv4.1, 4.2 and xattr ops, and the arms of the v4.0 unions the first table leaves out. */
const CASES_41: Case[] = [
  {
    op: 40, minor: 1, name: 'BACKCHANNEL_CTL', args: secParms(w().u32(0x40000001)).bytes(), expectArgs: { cbProgram: 0x40000001, secParms: SEC_PARMS },
    res: w().u32(0).bytes(), status: 'NFS4_OK', expectRes: undefined,
  },
  {
    op: 41, minor: 1, name: 'BIND_CONN_TO_SESSION', args: w().fixed(SESSION).u32(3).bool(true).bytes(), expectArgs: { sessionid: SESSION_HEX, dir: 3, useConnInRdmaMode: true },
    res: w().u32(0).fixed(SESSION).u32(2).bool(false).bytes(), status: 'NFS4_OK', expectRes: { sessionid: SESSION_HEX, dir: 2, useConnInRdmaMode: false },
  },
  {
    op: 42, minor: 1, name: 'EXCHANGE_ID (SP4_MACH_CRED)',
    args: implId(spOps(w().fixed(Buffer.from('0807060504030201', 'hex')).opaque(Buffer.from([0x00, 0x41])).u32(3).u32(1))).bytes(),
    expectArgs: { verifier: '0807060504030201', owner: '0041', ownerHex: '0041', flags: 3, stateProtect: { how: 1, ...SP_OPS }, implId: IMPL_ID },
    res: implId(spOps(w().u32(0).u64(0x0102030405060708n).u32(4).u32(0x10003).u32(1)).u64(11).opaque(Buffer.from('major')).opaque(Buffer.from([0xff]))).bytes(), status: 'NFS4_OK',
    expectRes: { clientid: '0102030405060708', sequenceid: 4, flags: 0x10003, stateProtect: { how: 1, ...SP_OPS }, serverOwner: { minorId: 11, majorId: 'major' }, serverScope: 'ff', implId: IMPL_ID },
  },
  {
    op: 42, minor: 1, name: 'EXCHANGE_ID (SP4_SSV)',
    args: spOps(w().fixed(Buffer.alloc(8, 1)).opaque(Buffer.from('me')).u32(0).u32(2)).u32(1).opaque(Buffer.from([0x2b, 6])).u32(2).opaque(Buffer.from([7])).opaque(Buffer.from([8, 9])).u32(64).u32(2).u32(0).bytes(),
    expectArgs: { verifier: '0101010101010101', owner: 'me', ownerHex: '6d65', flags: 0, stateProtect: { how: 2, ...SP_OPS, hashAlgs: ['2b06'], encrAlgs: ['07', '0809'], window: 64, numGssHandles: 2 } },
    res: spOps(w().u32(0).u64(1n).u32(1).u32(0).u32(2)).u32(1).u32(2).u32(32).u32(16).u32(2).opaque(Buffer.alloc(5)).opaque(Buffer.alloc(0)).u64(0).opaque(Buffer.alloc(0)).opaque(Buffer.from('s')).u32(0).bytes(), status: 'NFS4_OK',
    expectRes: { clientid: '0000000000000001', sequenceid: 1, flags: 0, stateProtect: { how: 2, ...SP_OPS, hashAlg: 1, encrAlg: 2, ssvLen: 32, window: 16, handles: [5, 0] }, serverOwner: { minorId: 0, majorId: '' }, serverScope: 's' },
  },
  { op: 44, minor: 1, name: 'DESTROY_SESSION', args: w().fixed(SESSION).bytes(), expectArgs: { sessionid: SESSION_HEX }, res: w().u32(10052).bytes(), status: 'NFS4ERR_BADSESSION', expectRes: undefined },
  { op: 45, minor: 1, name: 'FREE_STATEID', args: sid(w(), 8, 0x45).bytes(), expectArgs: { stateid: sidOf(8, 0x45) }, res: w().u32(10025).bytes(), status: 'NFS4ERR_BAD_STATEID', expectRes: undefined },
  {
    op: 46, minor: 1, name: 'GET_DIR_DELEGATION',
    args: w().bool(true).u32(1).u32(0x6).u64(1).u32(2).u64(3).u32(4).u32(1).u32(1 << 4).u32(1).u32(1 << 3).bytes(),
    expectArgs: { signalDelegAvail: true, notificationTypes: [1, 2], childAttrDelay: { seconds: 1, nseconds: 2 }, dirAttrDelay: { seconds: 3, nseconds: 4 }, childAttributes: [4], dirAttributes: [3] },
    res: sid(w().u32(0).u32(0).fixed(Buffer.alloc(8, 0xcc)), 2, 0x46).u32(1).u32(0x2).u32(1).u32(1 << 4).u32(1).u32(1 << 3).bytes(), status: 'NFS4_OK',
    expectRes: { granted: true, cookieverf: 'cccccccccccccccc', stateid: sidOf(2, 0x46), notification: [1], childAttributes: [4], dirAttributes: [3] },
  },
  {
    op: 46, minor: 1, name: 'GET_DIR_DELEGATION (unavailable)',
    args: w().bool(false).u32(0).u64(0).u32(0).u64(0).u32(0).u32(0).u32(0).bytes(),
    expectArgs: { signalDelegAvail: false, notificationTypes: [], childAttrDelay: { seconds: 0, nseconds: 0 }, dirAttrDelay: { seconds: 0, nseconds: 0 }, childAttributes: [], dirAttributes: [] },
    res: w().u32(0).u32(1).bool(true).bytes(), status: 'NFS4_OK', expectRes: { granted: false, willSignal: true },
  },
  { op: 47, minor: 1, name: 'GETDEVICEINFO (too small)', args: w().fixed(DEV).u32(1).u32(10).u32(0).bytes(), expectArgs: { deviceid: DEV.toString('hex'), layoutType: 1, maxcount: 10, notifyTypes: [] }, res: w().u32(10005).u32(300).bytes(), status: 'NFS4ERR_TOOSMALL', expectRes: { mincount: 300 } },
  {
    op: 48, minor: 1, name: 'GETDEVICELIST',
    args: w().u32(1).u32(16).u64(3).fixed(Buffer.alloc(8, 0xab)).bytes(), expectArgs: { layoutType: 1, maxdevices: 16, cookie: 3, cookieverf: 'abababababababab' },
    res: w().u32(0).u64(4).fixed(Buffer.alloc(8, 0xba)).u32(2).fixed(DEV).fixed(Buffer.alloc(16, 1)).bool(true).bytes(), status: 'NFS4_OK',
    expectRes: { cookie: 4, cookieverf: 'babababababababa', deviceids: [DEV.toString('hex'), '01'.repeat(16)], eof: true },
  },
  {
    op: 49, minor: 1, name: 'LAYOUTCOMMIT',
    args: sid(w().u64(0).u64(100).bool(true), 3, 0x49).bool(false).bool(true).u64(5).u32(6).u32(1).opaque(Buffer.alloc(7)).bytes(),
    expectArgs: { offset: 0, length: 100, reclaim: true, stateid: sidOf(3, 0x49), lastWriteOffset: undefined, timeModify: { seconds: 5, nseconds: 6 }, layoutupdate: { type: 1, bodyLength: 7 } },
    res: w().u32(0).bool(false).bytes(), status: 'NFS4_OK', expectRes: { newSize: undefined },
  },
  {
    op: 50, minor: 1, name: 'LAYOUTGET (try later)',
    args: sid(w().bool(true).u32(1).u32(2).u64(0).u64(4096).u64(512), 1, 0x50).u32(9000).bytes(),
    expectArgs: { signalLayoutAvail: true, layoutType: 1, iomode: 2, offset: 0, length: 4096, minlength: 512, stateid: sidOf(1, 0x50), maxcount: 9000 },
    res: w().u32(10058).bool(true).bytes(), status: 'NFS4ERR_LAYOUTTRYLATER', expectRes: { willSignal: true },
  },
  { op: 51, minor: 1, name: 'LAYOUTRETURN (FSID)', args: w().bool(false).u32(1).u32(3).u32(2).bytes(), expectArgs: { reclaim: false, layoutType: 1, iomode: 3, returnType: 'FSID' }, res: w().u32(0).bool(false).bytes(), status: 'NFS4_OK', expectRes: {} },
  { op: 51, minor: 1, name: 'LAYOUTRETURN (ALL)', args: w().bool(true).u32(4).u32(1).u32(3).bytes(), expectArgs: { reclaim: true, layoutType: 4, iomode: 1, returnType: 'ALL' }, res: w().u32(10011).bytes(), status: 'NFS4ERR_EXPIRED', expectRes: undefined },
  { op: 52, minor: 1, name: 'SECINFO_NO_NAME', args: w().u32(1).bytes(), expectArgs: { style: 1 }, res: w().u32(0).u32(1).u32(1).bytes(), status: 'NFS4_OK', expectRes: { flavors: [{ flavor: 1 }] } },
  {
    op: 53, minor: 1, name: 'SEQUENCE', args: w().fixed(SESSION).u32(17).u32(2).u32(9).bool(false).bytes(), expectArgs: { sessionid: SESSION_HEX, sequenceid: 17, slotid: 2, highestSlotid: 9, cachethis: false },
    res: w().u32(0).fixed(SESSION).u32(17).u32(2).u32(9).u32(8).u32(0x40).bytes(), status: 'NFS4_OK',
    expectRes: { sessionid: SESSION_HEX, sequenceid: 17, slotid: 2, highestSlotid: 9, targetHighestSlotid: 8, statusFlags: 0x40 },
  },
  { op: 54, minor: 1, name: 'SET_SSV', args: w().opaque(Buffer.alloc(32)).opaque(Buffer.alloc(20)).bytes(), expectArgs: { ssvLength: 32, digestLength: 20 }, res: w().u32(0).opaque(Buffer.alloc(12)).bytes(), status: 'NFS4_OK', expectRes: { digestLength: 12 } },
  {
    op: 56, minor: 1, name: 'WANT_DELEGATION (CLAIM_PREVIOUS, a WRITE delegation with a size limit)',
    args: w().u32(0x100).u32(1).u32(2).bytes(), expectArgs: { want: 0x100, claim: 'CLAIM_PREVIOUS', delegateType: 2 },
    res: ACE(sid(w().u32(0).u32(2), 3, 0x56).bool(true).u32(1).u64(1 << 20)).bytes(), status: 'NFS4_OK',
    expectRes: { delegation: { type: 'WRITE', stateid: sidOf(3, 0x56), recall: true, spaceLimit: { filesize: 1 << 20 }, permissions: ACE_V } },
  },
  {
    op: 56, minor: 1, name: 'WANT_DELEGATION (CLAIM_FH, a WRITE delegation with a block limit)',
    args: w().u32(0x200).u32(4).bytes(), expectArgs: { want: 0x200, claim: 'CLAIM_FH' },
    res: ACE(sid(w().u32(0).u32(2), 4, 0x57).bool(false).u32(2).u32(10).u32(512)).bytes(), status: 'NFS4_OK',
    expectRes: { delegation: { type: 'WRITE', stateid: sidOf(4, 0x57), recall: false, spaceLimit: { numBlocks: 10, bytesPerBlock: 512 }, permissions: ACE_V } },
  },
  {
    op: 56, minor: 1, name: 'WANT_DELEGATION (CLAIM_DELEG_PREV_FH, none: contention)',
    args: w().u32(0).u32(6).bytes(), expectArgs: { want: 0, claim: 'CLAIM_DELEG_PREV_FH' },
    res: w().u32(0).u32(3).u32(7).bool(true).bytes(), status: 'NFS4_OK', expectRes: { delegation: { type: 'NONE_EXT', why: 7, signal: true } },
  },
  {
    op: 56, minor: 1, name: 'WANT_DELEGATION (none: resource, then not wanted)',
    args: w().u32(0).u32(4).bytes(), expectArgs: { want: 0, claim: 'CLAIM_FH' },
    res: w().u32(0).u32(3).u32(8).bool(false).bytes(), status: 'NFS4_OK', expectRes: { delegation: { type: 'NONE_EXT', why: 8, signal: false } },
  },
  { op: 56, minor: 1, name: 'WANT_DELEGATION (none, not wanted)', args: w().u32(0).u32(4).bytes(), expectArgs: { want: 0, claim: 'CLAIM_FH' }, res: w().u32(0).u32(3).u32(0).bytes(), status: 'NFS4_OK', expectRes: { delegation: { type: 'NONE_EXT', why: 0 } } },
  { op: 57, minor: 1, name: 'DESTROY_CLIENTID', args: w().u64(0xfedcba9876543210n).bytes(), expectArgs: { clientid: 'fedcba9876543210' }, res: w().u32(10074).bytes(), status: 'NFS4ERR_CLIENTID_BUSY', expectRes: undefined },
  { op: 58, minor: 1, name: 'RECLAIM_COMPLETE', args: w().bool(true).bytes(), expectArgs: { oneFs: true }, res: w().u32(0).bytes(), status: 'NFS4_OK', expectRes: undefined },
  {
    op: 60, minor: 2, name: 'COPY (requirements not met)',
    args: sid(sid(w(), 1, 0x61), 2, 0x62).u64(10).u64(20).u64(30).bool(true).bool(false).u32(1).u32(1).string('srv').bytes(),
    expectArgs: { srcStateid: sidOf(1, 0x61), dstStateid: sidOf(2, 0x62), srcOffset: 10, dstOffset: 20, count: 30, consecutive: true, synchronous: false, srcServers: [{ name: 'srv' }] },
    res: w().u32(10094).bool(false).bool(true).bytes(), status: 'NFS4ERR_OFFLOAD_NO_REQS', expectRes: { requirements: { consecutive: false, synchronous: true } },
  },
  {
    op: 61, minor: 2, name: 'COPY_NOTIFY (destination by URL)', args: sid(w(), 1, 0x63).u32(2).string('nfs://dst/').bytes(), expectArgs: { srcStateid: sidOf(1, 0x63), destination: { url: 'nfs://dst/' } },
    res: sid(w().u32(0).u64(90).u32(5), 2, 0x64).u32(0).bytes(), status: 'NFS4_OK', expectRes: { leaseTime: { seconds: 90, nseconds: 5 }, stateid: sidOf(2, 0x64), sourceServers: [] },
  },
  { op: 66, minor: 2, name: 'OFFLOAD_CANCEL', args: sid(w(), 6, 0x66).bytes(), expectArgs: { stateid: sidOf(6, 0x66) }, res: w().u32(0).bytes(), status: 'NFS4_OK', expectRes: undefined },
  { op: 67, minor: 2, name: 'OFFLOAD_STATUS (in progress)', args: sid(w(), 7, 0x67).bytes(), expectArgs: { stateid: sidOf(7, 0x67) }, res: w().u32(0).u64(1234).u32(0).bytes(), status: 'NFS4_OK', expectRes: { count: 1234 } },
  { op: 69, minor: 2, name: 'SEEK (a hole)', args: sid(w(), 1, 0x69).u64(7).u32(1).bytes(), expectArgs: { stateid: sidOf(1, 0x69), offset: 7, what: 'HOLE' }, res: w().u32(0).bool(true).u64(8).bytes(), status: 'NFS4_OK', expectRes: { eof: true, offset: 8 } },
  {
    op: 70, minor: 2, name: 'WRITE_SAME',
    args: sid(w(), 1, 0x70).u32(2).u64(4096).u64(512).u64(8).u64(1).u32(3).u64(2).opaque(Buffer.alloc(6)).bytes(),
    expectArgs: { stateid: sidOf(1, 0x70), stable: 2, block: { offset: 4096, blockSize: 512, blockCount: 8, reloffBlocknum: 1, blockNum: 3, reloffPattern: 2, patternLength: 6 } },
    res: sid(w().u32(0).u32(1), 9, 0x71).u64(4096).u32(1).fixed(Buffer.alloc(8, 0x72)).bytes(), status: 'NFS4_OK',
    expectRes: { response: { callbackId: [sidOf(9, 0x71)], count: 4096, committed: 1, verifier: '7272727272727272' } },
  },
  { op: 73, minor: 2, name: 'SETXATTR', args: w().u32(1).string('user.x').opaque(Buffer.alloc(9)).bytes(), expectArgs: { option: 1, name: 'user.x', valueLength: 9 }, res: cinfo(w().u32(0), true, 60, 61).bytes(), status: 'NFS4_OK', expectRes: { cinfo: { atomic: true, before: 60, after: 61 } } },
  { op: 75, minor: 2, name: 'REMOVEXATTR', args: w().string('user.y').bytes(), expectArgs: { name: 'user.y' }, res: cinfo(w().u32(0), false, 70, 72).bytes(), status: 'NFS4_OK', expectRes: { cinfo: { atomic: false, before: 70, after: 72 } } },
  {
    op: 18, name: 'OPEN (GUARDED4, CLAIM_DELEGATE_CUR; a READ delegation)',
    args: sid(modeOwner(openHead(w()).u32(1).u32(1)).u32(2), 3, 0x18).string('f1').bytes(),
    expectArgs: { ...OPEN_HEAD, opentype: 'OPEN4_CREATE', how: { createmode: 'GUARDED4', attrs: { attrs: { mode: 0o644, owner: 'alice' } } }, claim: { type: 'CLAIM_DELEGATE_CUR', delegateStateid: sidOf(3, 0x18), name: 'f1' }, name: 'f1' },
    res: ACE(sid(openResHead(w()).u32(1), 5, 0x19).bool(false)).bytes(), status: 'NFS4_OK',
    expectRes: { ...OPEN_RES_HEAD, delegation: { type: 'READ', stateid: sidOf(5, 0x19), recall: false, permissions: ACE_V } },
  },
  {
    op: 18, name: 'OPEN (EXCLUSIVE4, CLAIM_DELEGATE_PREV)',
    args: openHead(w()).u32(1).u32(2).fixed(Buffer.from('a1a2a3a4a5a6a7a8', 'hex')).u32(3).string('f2').bytes(),
    expectArgs: { ...OPEN_HEAD, opentype: 'OPEN4_CREATE', how: { createmode: 'EXCLUSIVE4', verifier: 'a1a2a3a4a5a6a7a8' }, claim: { type: 'CLAIM_DELEGATE_PREV', name: 'f2' }, name: 'f2' },
    res: openResHead(w()).u32(0).bytes(), status: 'NFS4_OK', expectRes: { ...OPEN_RES_HEAD, delegation: { type: 'NONE' } },
  },
  {
    op: 18, minor: 1, name: 'OPEN (EXCLUSIVE4_1, CLAIM_FH)',
    args: modeOwner(openHead(w()).u32(1).u32(3).fixed(Buffer.from('b1b2b3b4b5b6b7b8', 'hex'))).u32(4).bytes(),
    expectArgs: { ...OPEN_HEAD, opentype: 'OPEN4_CREATE', how: { createmode: 'EXCLUSIVE4_1', verifier: 'b1b2b3b4b5b6b7b8', attrs: { attrs: { mode: 0o644, owner: 'alice' } } }, claim: { type: 'CLAIM_FH' } },
    res: w().u32(10011).bytes(), status: 'NFS4ERR_EXPIRED', expectRes: undefined,
  },
  {
    op: 18, minor: 1, name: 'OPEN (CLAIM_DELEG_CUR_FH, share access WRITE)',
    args: sid(w().u32(1).u32(2).u32(1).u64(5n).opaque(Buffer.from('ow')).u32(0).u32(5), 6, 0x1a).bytes(),
    expectArgs: { seqid: 1, shareAccess: 'WRITE', shareAccessWant: 0, shareDeny: 1, owner: { clientid: '0000000000000005', owner: '6f77' }, opentype: 'OPEN4_NOCREATE', claim: { type: 'CLAIM_DELEG_CUR_FH', delegateStateid: sidOf(6, 0x1a) } },
    res: w().u32(10013).bytes(), status: 'NFS4ERR_GRACE', expectRes: undefined,
  },
  {
    op: 18, minor: 1, name: 'OPEN (CLAIM_DELEG_PREV_FH)',
    args: openHead(w()).u32(0).u32(6).bytes(),
    expectArgs: { ...OPEN_HEAD, opentype: 'OPEN4_NOCREATE', claim: { type: 'CLAIM_DELEG_PREV_FH' } },
    res: w().u32(10013).bytes(), status: 'NFS4ERR_GRACE', expectRes: undefined,
  },
];

/**
 * fattr4 attribute values by type (RFC 8881 §5.6-5.8, RFC 7862 §12.2): one
 * attribute of each XDR type, named as the RFC names them.
 */
describe('fattr4: one attribute of each type, in bitmap order', () => {
  it('decodes each value and names it as the RFC does', () => {
    const attrs: [number, (x: XdrWriter) => XdrWriter, string, unknown][] = [
      [0, (x) => x.u32(1).u32(0x13), 'supported_attrs', [0, 1, 4]],
      [1, (x) => x.u32(2), 'type', 'NF4DIR'],
      [2, (x) => x.u32(3), 'fh_expire_type', 3],
      [3, (x) => x.u64(0x0123456789n), 'change', 0x0123456789],
      [5, (x) => x.bool(true), 'link_support', true],
      [8, (x) => x.u64(7).u64(8), 'fsid', { major: 7, minor: 8 }],
      [12, (x) => ACE(x.u32(1)), 'acl', [ACE_V]],
      [19, (x) => x.opaque(Buffer.from([0xfe, 0xed])), 'filehandle', 'feed'],
      [32, (x) => x.string('text/plain'), 'mimetype', 'text/plain'],
      [33, (x) => x.u32(0o104755), 'mode', 0o4755],
      [35, (x) => x.u32(3), 'numlinks', 3],
      [37, (x) => x.string('staff'), 'owner_group', 'staff'],
      [41, (x) => x.u32(8).u32(1), 'rawdev', { major: 8, minor: 1 }],
      [47, (x) => x.u64(10).u32(11), 'time_access', { seconds: 10, nseconds: 11 }],
      [48, (x) => x.u32(1).u64(12).u32(13), 'time_access_set', { seconds: 12, nseconds: 13 }],
      [54, (x) => x.u32(0), 'time_modify_set', 'SET_TO_SERVER_TIME'],
      [62, (x) => x.u32(2).u32(1).u32(4), 'fs_layout_type', [1, 4]],
      [75, (x) => x.u32(1).u32(1 << 2), 'suppattr_exclcreat', [2]],
      [81, (x) => x.u32(0o644).u32(0o22), 'mode_umask', { mode: 0o644, umask: 0o22 }],
      [82, (x) => x.bool(false), 'xattr_support', false],
    ];
    const words = [0, 0, 0];
    for (const [n] of attrs) words[n >> 5] = (words[n >> 5]! | (1 << (n & 31))) >>> 0;
    const values = w();
    for (const [, enc] of attrs) enc(values);
    const body = w().u32(3).u32(words[0]!).u32(words[1]!).u32(words[2]!).opaque(values.bytes()).bytes();
    const r = decodeReply(compoundRes(0, '', [statusRes(OP.PUTFH, 0), rawOp(OP.GETATTR, Buffer.concat([w().u32(0).bytes(), body])), getattrRes({ size: 9 })]));
    expect(r.stop).toBeUndefined();
    const results = (r.results as Ops).ops;
    expect(results[1]!.result).toEqual({ attrs: Object.fromEntries(attrs.map(([, , name, v]) => [name, v])) });
    expect(results[2]!.result).toEqual({ attrs: { size: 9 } });
  });

  it('an attribute nfsight does not decode (fs_locations) ends the values: it and the rest are listed as skipped', () => {
    const body = w().u32(1).u32((1 << 4) | (1 << 24) | (1 << 25)).opaque(w().u64(5).u32(0).u32(0).bool(true).bytes()).bytes();
    const r = decodeReply(compoundRes(0, '', [statusRes(OP.PUTFH, 0), rawOp(OP.GETATTR, Buffer.concat([w().u32(0).bytes(), body])), getattrRes({ size: 9 })]));
    expect((r.results as Ops).ops[1]!.result).toEqual({ attrs: { size: 5 }, skipped: ['fs_locations', 'hidden'] });
    expect((r.results as Ops).ops[2]!.result).toEqual({ attrs: { size: 9 } });
  });

  it('GETATTR arguments and SETATTR results name the attributes as the RFC does', () => {
    const c = decodeCall(compoundArgs('', 2, [putfhArgs(FH), getattrArgs([0, 19, 55, 82, 90])]));
    expect((c.args as Ops).ops[1]!.args).toEqual({ attrRequest: ['supported_attrs', 'filehandle', 'mounted_on_fileid', 'xattr_support', 'attr90'] });
    const r = decodeReply(compoundRes(1, '', [statusRes(OP.PUTFH, 0), rawOp(34, w().u32(1).u32(2).u32(1 << 4).u32(1 << 22).bytes())]));
    expect((r.results as Ops).ops[1]!.result).toEqual({ attrsset: ['size', 'time_modify_set'] });
  });
});

describe('attribute names (GETATTR arguments)', () => {
  /** tshark 4.0.17's names of fattr4 attributes 0-82 (`tshark -G values`, field nfs.attr), in order; it has no name for 57. */
  const TSHARK_ATTRS = 'Supported_Attrs Type FH_Expire_Type Change Size Link_Support Symlink_Support Named_Attr FSID Unique_Handles Lease_Time RDAttr_Error ACL ACLSupport Archive CanSetTime Case_Insensitive Case_Preserving Chown_Restricted Filehandle FileId Files_Avail Files_Free Files_Total FS_Locations Hidden Homogeneous MaxFileSize MaxLink MaxName MaxRead MaxWrite MimeType Mode No_Trunc NumLinks Owner Owner_Group Quota_Avail_Hard Quota_Avail_Soft Quota_Used RawDev Space_Avail Space_Free Space_Total Space_Used System Time_Access Time_Access_Set Time_Backup Time_Create Time_Delta Time_Metadata Time_Modify Time_Modify_Set Mounted_on_FileId Dir_Notif_Delay DACL SACL Change_Policy FS_Status FS_Layout_Type Layout_hint Layout_type Layout_blksize Layout_alignment FS_Locations_info MDS_Threshold Retention_Get Retention_Set RetentEvt_Get RetentEvt_Set Retention_Hold Mode_Set_Masked Suppattr_ExclCreat FS_Charset_Cap Clone_Block_Size Space_Freed Change_Attr_Type Security_Label Mode_Umask Xattr_Support'.split(' ');
  /** Where tshark's name is not the RFC's: 57 dirent_notif_delay (RFC 8881 §5.11), 68 mdsthreshold (RFC 8881 §5.12), 77 clone_blksize and 80 sec_label (RFC 7862 §12.2). */
  const RFC_DIFFERS: Record<number, string> = { 57: 'dirent_notif_delay', 68: 'mdsthreshold', 77: 'clone_blksize', 80: 'sec_label' };

  it('names every attribute 0-82 as the RFCs do (tshark’s names, lowercase, but for four)', () => {
    const expected: string[] = [];
    let t = 0;
    for (let n = 0; n <= 82; n++) {
      if (n === 57) expected.push(RFC_DIFFERS[57]!);
      else {
        const name = TSHARK_ATTRS[t++]!.toLowerCase();
        expected.push(RFC_DIFFERS[n] ?? name);
      }
    }
    expect(t).toBe(TSHARK_ATTRS.length);
    const c = decodeCall(compoundArgs('', 2, [putfhArgs(FH), getattrArgs([...Array(83).keys()])]));
    expect((c.args as Ops).ops[1]!.args).toEqual({ attrRequest: expected });
  });
});
