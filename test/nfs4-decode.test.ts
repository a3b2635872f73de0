/**
 * The NFSv4 decoder on generated COMPOUNDs: field values of the session,
 * open and I/O ops, bulk data not kept (head + tail), replies that end at
 * the first failing op, unknown ops, truncation at every offset, and the
 * callback program.
 */
import { describe, expect, it } from 'vitest';
import type { MessageBytes } from '../decoders/bytes.js';
import type { DecodedCall, DecodedReply } from '../decoders/decoded.js';
import { nfs4Decoder } from '../decoders/nfs4.js';
import { announcedCallbackProgram } from '../decoders/nfs4-callback.js';
import { nfs4CbDecoder } from '../decoders/nfs4-cb.js';
import { nfs4StatusName } from '../decoders/nfs4-status.js';
import { nfs4CallbackDecoder, v4Decoders } from '../decoders/registry-v4.js';
import { XdrReader } from '../decoders/xdr.js';
import { bitsOf } from '../decoders/nfs4-ops.js';
import { XdrWriter } from './gen/rpc.js';
import { randInt, rng } from './gen/random.js';
import {
  OP,
  cbCompoundArgs,
  cbRecallArgs,
  cbSequenceArgs,
  cbSequenceRes,
  compoundArgs,
  compoundRes,
  createSessionArgs,
  createSessionRes,
  exchangeIdArgs,
  exchangeIdRes,
  getattrArgs,
  getattrRes,
  getfhArgs,
  getfhRes,
  lockDeniedRes,
  lookupArgs,
  openArgs,
  openRes,
  putfhArgs,
  putrootfhArgs,
  rawOp,
  readArgs,
  readRes,
  savefhArgs,
  sequenceArgs,
  sequenceRes,
  stateid4,
  statusRes,
  writeArgs,
  writeRes,
} from './gen/nfs4.js';

const SESSION = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const FH = Buffer.from('01000601a1b2c3d4e5f60718', 'hex');
const VERF = Buffer.from('0102030405060708', 'hex');

const call = (args: Buffer, r = XdrReader.over(args)): DecodedCall => nfs4Decoder.decodeCall(r, 4, 1);
const reply = (res: Buffer, c?: DecodedCall, r = XdrReader.over(res)): DecodedReply => nfs4Decoder.decodeReply(r, 4, 1, c);
type OpsOf = { ops: { op: string; args?: Record<string, unknown>; result?: Record<string, unknown>; status?: string }[] };
const argsOf = (c: DecodedCall, i: number): Record<string, unknown> => (c.args as OpsOf).ops[i]!.args!;
const resultOf = (r: DecodedReply, i: number): Record<string, unknown> | undefined => (r.results as OpsOf).ops[i]!.result;

/** A message of `buf` kept as head (`headLen` bytes) and tail (from `tailOffset`), the middle skipped on purpose. */
function headTail(buf: Buffer, headLen: number, tailOffset: number): MessageBytes {
  return { length: buf.length, head: buf.subarray(0, headLen), tail: buf.subarray(tailOffset), tailOffset, missing: 0 };
}

/** A message the capture cut after `k` bytes. */
function cut(buf: Buffer, k: number): MessageBytes {
  return { length: buf.length, head: buf.subarray(0, k), tail: Buffer.alloc(0), tailOffset: buf.length, missing: buf.length - k };
}

describe('bitsOf', () => {
  it('lists the set bits of attribute bitmap words, lowest first, as a bit-by-bit walk does', () => {
    const r = rng(11);
    for (let n = 0; n < 200; n++) {
      const words = Array.from({ length: randInt(r, 0, 4) }, () => (r() < 0.2 ? 0xffffffff : r() < 0.2 ? 0 : randInt(r, 0, 2 ** 32)));
      const naive: number[] = [];
      words.forEach((w, i) => {
        for (let b = 0; b < 32; b++) if ((w >>> b) & 1) naive.push(i * 32 + b);
      });
      expect(bitsOf(words)).toEqual(naive);
    }
  });
});

describe('registry', () => {
  it('exports the NFSv4 and callback decoders', () => {
    expect(v4Decoders.map((d) => [d.program, d.versions])).toEqual([[100003, [4]]]);
    expect(nfs4CallbackDecoder).toBe(nfs4CbDecoder);
  });
});

describe('NFSv4 COMPOUND calls', () => {
  it('NULL', () => {
    expect(nfs4Decoder.decodeCall(XdrReader.over(Buffer.alloc(0)), 4, 0)).toMatchObject({ ops: ['NULL'], mainOp: 'NULL' });
  });

  it('SEQUENCE, PUTFH, GETATTR: session fields, main op and its file handle', () => {
    const c = call(compoundArgs('getattr', 1, [sequenceArgs(SESSION, 42, 3, 7, true), putfhArgs(FH), getattrArgs([1, 3, 4])]));
    expect(c.ops).toEqual(['SEQUENCE', 'PUTFH', 'GETATTR']);
    expect(c.mainOp).toBe('GETATTR');
    expect(c.minorVersion).toBe(1);
    expect(c.tag).toBe('getattr');
    expect(c.fh).toBe(FH.toString('hex'));
    expect(c.stop).toBeUndefined();
    expect(argsOf(c, 0)).toEqual({ sessionid: SESSION.toString('hex'), sequenceid: 42, slotid: 3, highestSlotid: 7, cachethis: true });
    expect(argsOf(c, 2)).toEqual({ attrRequest: ['type', 'change', 'size'] });
  });

  it('SEQUENCE and PUTFH alone: SEQUENCE is the main op (same tier as PUTFH, as tshark has it)', () => {
    expect(call(compoundArgs('', 1, [sequenceArgs(SESSION, 1, 0, 0, false), putfhArgs(FH)])).mainOp).toBe('SEQUENCE');
  });

  it('EXCHANGE_ID', () => {
    const c = call(compoundArgs('', 1, [exchangeIdArgs(VERF, 'Linux NFSv4.1 client', 0x101)]));
    expect(c.mainOp).toBe('EXCHANGE_ID');
    expect(argsOf(c, 0)).toMatchObject({
      verifier: VERF.toString('hex'),
      owner: 'Linux NFSv4.1 client',
      flags: 0x101,
      stateProtect: { how: 0 },
      implId: { domain: 'kernel.org', name: 'Linux 6.1', date: { seconds: 1700000000, nseconds: 5 } },
    });
  });

  it('CREATE_SESSION: channel attributes (slots) and callback program', () => {
    const c = call(compoundArgs('', 1, [createSessionArgs(0x1122334455667788n, 1, 3, { maxRequestSize: 1049620, maxResponseSize: 1049480, maxRequests: 64 }, { maxRequestSize: 4096, maxResponseSize: 4096, maxRequests: 1 }, 0x40000000)]));
    expect(argsOf(c, 0)).toMatchObject({
      clientid: '1122334455667788',
      sequence: 1,
      flags: 3,
      foreChannel: { maxRequestSize: 1049620, maxResponseSize: 1049480, maxRequests: 64, rdmaIrd: [] },
      backChannel: { maxRequests: 1 },
      cbProgram: 0x40000000,
      secParms: [{ flavor: 1, stamp: 7, machine: 'client', uid: 0, gid: 0, gids: [] }],
    });
  });

  it('OPEN CLAIM_NULL with create: owner, share access, createmode, name', () => {
    const c = call(compoundArgs('', 1, [sequenceArgs(SESSION, 1, 0, 0, false), putfhArgs(FH), openArgs(0, 2, 0, 5n, Buffer.from('open id:1'), 'new.txt', 0o644), getfhArgs()]));
    expect(c.mainOp).toBe('OPEN');
    expect(c.fh).toBe(FH.toString('hex'));
    expect(c.names).toEqual(['new.txt']);
    expect(argsOf(c, 2)).toMatchObject({
      seqid: 0,
      shareAccess: 'WRITE',
      shareDeny: 0,
      owner: { clientid: '0000000000000005', owner: Buffer.from('open id:1').toString('hex') },
      opentype: 'OPEN4_CREATE',
      how: { createmode: 'UNCHECKED4', attrs: { attrs: { mode: 0o644 } } },
      claim: { type: 'CLAIM_NULL', name: 'new.txt' },
    });
  });

  it('OPEN CLAIM_PREVIOUS (reclaim after a server restart)', () => {
    const c = call(compoundArgs('', 0, [putfhArgs(FH), openArgs(3, 1, 0, 5n, Buffer.from('o'), undefined)]));
    expect(argsOf(c, 1)).toMatchObject({ shareAccess: 'READ', opentype: 'OPEN4_NOCREATE', claim: { type: 'CLAIM_PREVIOUS', delegateType: 1 } });
    expect(c.names).toBeUndefined();
  });

  it('READ: stateid, offset, count', () => {
    const c = call(compoundArgs('', 1, [sequenceArgs(SESSION, 1, 0, 0, false), putfhArgs(FH), readArgs(stateid4(1, 0xab), 8192, 4096)]));
    expect(c.mainOp).toBe('READ');
    expect([c.offset, c.count]).toEqual([8192, 4096]);
    expect(argsOf(c, 2)).toEqual({ stateid: { seqid: 1, other: 'ab'.repeat(12) }, offset: 8192, count: 4096 });
  });

  it('WRITE whose data was not kept: the GETATTR after it is decoded from the tail', () => {
    const data = Buffer.alloc(100000, 0x5a);
    const buf = compoundArgs('', 1, [sequenceArgs(SESSION, 1, 0, 0, false), putfhArgs(FH), writeArgs(stateid4(1, 1), 65536, 2, data), getattrArgs([3, 4])]);
    const c = call(buf, new XdrReader(headTail(buf, 4096, buf.length - 4096)));
    expect(c.stop).toBeUndefined();
    expect(c.ops).toEqual(['SEQUENCE', 'PUTFH', 'WRITE', 'GETATTR']);
    expect(c.mainOp).toBe('WRITE');
    expect([c.offset, c.count]).toEqual([65536, 100000]);
    expect(argsOf(c, 2)).toMatchObject({ offset: 65536, stable: 2, count: 100000 });
    expect(argsOf(c, 3)).toEqual({ attrRequest: ['change', 'size'] });
  });

  it('an unknown op stops the decoding: stop unknown-op, the ops before it kept', () => {
    const buf = compoundArgs('', 1, [sequenceArgs(SESSION, 1, 0, 0, false), rawOp(99, Buffer.alloc(8)), putfhArgs(FH)]);
    const c = call(buf);
    expect(c.ops).toEqual(['SEQUENCE', 'OP_99']);
    expect(c.stop).toEqual({ reason: 'unknown-op', at: 12 + 36 });
    expect(c.mainOp).toBe('SEQUENCE');
  });

  it('OP_ILLEGAL is an op like the others', () => {
    const c = call(compoundArgs('', 1, [sequenceArgs(SESSION, 1, 0, 0, false), rawOp(OP.ILLEGAL)]));
    expect(c).toMatchObject({ ops: ['SEQUENCE', 'ILLEGAL'], mainOp: 'ILLEGAL' });
    expect(c.stop).toBeUndefined();
  });

  it('a minor version nfsight does not know: ops decoded with the latest layouts, and said so', () => {
    const c = call(compoundArgs('', 50, [exchangeIdArgs(VERF, 'x', 0)]));
    expect(c).toMatchObject({ ops: ['EXCHANGE_ID'], minorVersion: 50, args: { unknownMinorVersion: true } });
  });

  it('an absurd op count is malformed', () => {
    const c = call(Buffer.concat([compoundArgs('', 1, []).subarray(0, 8), Buffer.from([0xff, 0xff, 0xff, 0xff])]));
    expect(c.stop?.reason).toBe('malformed');
  });
});

describe('NFSv4 COMPOUND replies', () => {
  it('SEQUENCE result fields', () => {
    const r = reply(compoundRes(0, '', [sequenceRes(SESSION, 42, 3, 63, 31, 0x40)]));
    expect(r).toMatchObject({ status: 'NFS4_OK', statusCode: 0, ops: ['SEQUENCE'], opStatus: ['NFS4_OK'] });
    expect(resultOf(r, 0)).toEqual({ sessionid: SESSION.toString('hex'), sequenceid: 42, slotid: 3, highestSlotid: 63, targetHighestSlotid: 31, statusFlags: 0x40 });
  });

  it('EXCHANGE_ID and CREATE_SESSION results', () => {
    const e = reply(compoundRes(0, '', [exchangeIdRes(0xabcdef0123456789n, 1, 0x10001, 'ganesha', 'scope-1')]));
    expect(resultOf(e, 0)).toMatchObject({ clientid: 'abcdef0123456789', sequenceid: 1, flags: 0x10001, serverOwner: { minorId: 7, majorId: 'ganesha' }, serverScope: 'scope-1' });
    const c = reply(compoundRes(0, '', [createSessionRes(SESSION, 1, 2, { maxRequestSize: 8192, maxResponseSize: 8192, maxRequests: 16 }, { maxRequestSize: 4096, maxResponseSize: 4096, maxRequests: 2 })]));
    expect(resultOf(c, 0)).toMatchObject({ sessionid: SESSION.toString('hex'), sequence: 1, flags: 2, foreChannel: { maxRequests: 16 }, backChannel: { maxRequests: 2 } });
  });

  it('OPEN result: stateid, rflags, delegation', () => {
    const r = reply(compoundRes(0, '', [statusRes(OP.PUTFH, 0), openRes(stateid4(1, 0x11), 4, stateid4(2, 0x22))]));
    expect(resultOf(r, 1)).toMatchObject({
      stateid: { seqid: 1, other: '11'.repeat(12) },
      cinfo: { atomic: true, before: 1, after: 2 },
      rflags: 4,
      delegation: { type: 'READ', stateid: { seqid: 2, other: '22'.repeat(12) }, recall: false, permissions: { who: 'EVERYONE@' } },
    });
  });

  it('READ: eof, bytes returned, and the GETATTR after the data not kept', () => {
    const data = Buffer.alloc(70000, 1);
    const buf = compoundRes(0, '', [sequenceRes(SESSION, 1, 0, 0, 0, 0), statusRes(OP.PUTFH, 0), readRes(true, data), getattrRes({ size: 70000, change: 9n })]);
    const r = reply(buf, undefined, new XdrReader(headTail(buf, 4096, buf.length - 4096)));
    expect(r.stop).toBeUndefined();
    expect(r.readBytes).toBe(70000);
    expect(resultOf(r, 2)).toEqual({ eof: true, count: 70000 });
    expect(resultOf(r, 3)).toEqual({ attrs: { change: 9, size: 70000 } });
  });

  it('WRITE: bytes written, committed, verifier', () => {
    const r = reply(compoundRes(0, '', [statusRes(OP.PUTFH, 0), writeRes(4096, 2, VERF)]));
    expect(r.writeBytes).toBe(4096);
    expect(resultOf(r, 1)).toEqual({ count: 4096, committed: 2, verifier: VERF.toString('hex') });
  });

  it('GETATTR: common attributes decoded from the bitmap', () => {
    const r = reply(compoundRes(0, '', [getattrRes({ type: 1, change: 5n, size: 123, fileid: 77, mode: 0o100644, owner: 'alice@x', ownerGroup: 'staff@x', timeModify: [1700000000, 9] })]));
    expect(resultOf(r, 0)).toEqual({
      attrs: { type: 'NF4REG', change: 5, size: 123, fileid: 77, mode: 0o644, owner: 'alice@x', owner_group: 'staff@x', time_modify: { seconds: 1700000000, nseconds: 9 } },
    });
  });

  it('ends at the first failing op: COMPOUND status is that op’s', () => {
    const r = reply(compoundRes(2, '', [sequenceRes(SESSION, 1, 0, 0, 0, 0), statusRes(OP.PUTFH, 0), statusRes(OP.LOOKUP, 2)]));
    expect(r).toMatchObject({ status: 'NFS4ERR_NOENT', statusCode: 2, ops: ['SEQUENCE', 'PUTFH', 'LOOKUP'], opStatus: ['NFS4_OK', 'NFS4_OK', 'NFS4ERR_NOENT'] });
    expect(r.stop).toBeUndefined();
  });

  it('LOCK denied: the conflicting lock', () => {
    const r = reply(compoundRes(10010, '', [statusRes(OP.PUTFH, 0), lockDeniedRes(0, 100, 2, 9n, Buffer.from('lo'))]));
    expect(r.opStatus).toEqual(['NFS4_OK', 'NFS4ERR_DENIED']);
    expect(resultOf(r, 1)).toEqual({ denied: { offset: 0, length: 100, locktype: 2, owner: { clientid: '0000000000000009', owner: '6c6f' } } });
  });

  it('GETFH hands out the handle with the name it was looked up by', () => {
    const c = call(compoundArgs('', 1, [sequenceArgs(SESSION, 1, 0, 0, false), putfhArgs(FH), lookupArgs('docs'), getfhArgs(), savefhArgs()]));
    expect(c.names).toEqual(['docs']);
    expect(c.mainOp).toBe('LOOKUP');
    const fh2 = Buffer.from('beef0001', 'hex');
    const r = reply(compoundRes(0, '', [sequenceRes(SESSION, 1, 0, 0, 0, 0), statusRes(OP.PUTFH, 0), statusRes(OP.LOOKUP, 0), getfhRes(fh2), statusRes(OP.SAVEFH, 0)]), c);
    expect(r.handles).toEqual([{ fh: 'beef0001', name: 'docs' }]);
    const root = reply(compoundRes(0, '', [statusRes(OP.PUTROOTFH, 0), getfhRes(fh2)]), call(compoundArgs('', 0, [putrootfhArgs(), getfhArgs()])));
    expect(root.handles).toEqual([{ fh: 'beef0001' }]);
  });

  it('minor version mismatch: no ops', () => {
    const r = reply(compoundRes(10021, '', []));
    expect(r).toMatchObject({ status: 'NFS4ERR_MINOR_VERS_MISMATCH', ops: [], opStatus: [] });
  });

  it('an unknown op in a reply stops it', () => {
    const r = reply(compoundRes(0, '', [statusRes(OP.PUTFH, 0), statusRes(99, 0)]));
    expect(r.ops).toEqual(['PUTFH', 'OP_99']);
    expect(r.opStatus).toEqual(['NFS4_OK']);
    expect(r.stop?.reason).toBe('unknown-op');
  });

  it('status names follow the RFCs', () => {
    expect(nfs4StatusName(10030)).toBe('NFS4ERR_RESTOREFH');
    expect(nfs4StatusName(10057)).toBe('NFS4ERR_BACK_CHAN_BUSY');
    expect(nfs4StatusName(10013)).toBe('NFS4ERR_GRACE');
    expect(nfs4StatusName(19)).toBe('nfsstat4(19)');
    expect(nfs4StatusName(10073)).toBe('nfsstat4(10073)');
    expect(nfs4StatusName(10096)).toBe('NFS4ERR_XATTR2BIG');
  });
});

describe('NFSv4.1 / 4.2 op layouts: the op after each is decoded at the right offset', () => {
  const w = (): XdrWriter => new XdrWriter();
  const sidW = (x: XdrWriter, fill: number): XdrWriter => x.u32(1).fixed(Buffer.alloc(12, fill));
  const netloc = (x: XdrWriter): XdrWriter => x.u32(3).string('tcp').string('10.0.0.1.8.1');
  const writeResponse = (x: XdrWriter): XdrWriter => sidW(x.u32(1), 9).u64(4096).u32(2).fixed(VERF);
  const cases: [string, Buffer, Buffer, Record<string, unknown>][] = [
    ['COPY', rawOp(60, netloc(sidW(sidW(w(), 1), 2).u64(0).u64(8192).u64(4096).bool(false).bool(true).u32(1)).bytes()),
      rawOp(60, writeResponse(w().u32(0)).bool(true).bool(true).bytes()), { response: { count: 4096, committed: 2 }, requirements: { consecutive: true, synchronous: true } }],
    ['COPY_NOTIFY', rawOp(61, netloc(sidW(w(), 1)).bytes()), rawOp(61, netloc(sidW(w().u32(0).u64(30).u32(0), 3).u32(1)).bytes()), { leaseTime: { seconds: 30, nseconds: 0 }, sourceServers: [{ addr: { netid: 'tcp', addr: '10.0.0.1.8.1' } }] }],
    ['SEEK', rawOp(69, sidW(w(), 1).u64(100).u32(1).bytes()), rawOp(69, w().u32(0).bool(false).u64(4096).bytes()), { eof: false, offset: 4096 }],
    ['READ_PLUS', rawOp(68, sidW(w(), 1).u64(0).u32(8192).bytes()),
      rawOp(68, w().u32(0).bool(true).u32(2).u32(0).u64(0).opaque(Buffer.alloc(5, 1)).u32(1).u64(5).u64(100).bytes()), { eof: true, dataBytes: 5 }],
    ['ALLOCATE', rawOp(59, sidW(w(), 1).u64(0).u64(1 << 20).bytes()), statusRes(59, 0), {}],
    ['DEALLOCATE', rawOp(62, sidW(w(), 1).u64(0).u64(1 << 20).bytes()), statusRes(62, 0), {}],
    ['CLONE', rawOp(71, sidW(sidW(w(), 1), 2).u64(0).u64(0).u64(4096).bytes()), statusRes(71, 0), {}],
    ['OFFLOAD_STATUS', rawOp(67, sidW(w(), 1).bytes()), rawOp(67, w().u32(0).u64(77).u32(1).u32(0).bytes()), { count: 77, complete: 0 }],
    ['IO_ADVISE', rawOp(63, bitmap4ish(sidW(w(), 1).u64(0).u64(10)).bytes()), rawOp(63, bitmap4ish(w().u32(0)).bytes()), { hints: [1] }],
    ['LAYOUTGET', rawOp(50, sidW(w().bool(false).u32(1).u32(1).u64(0).u64(4096).u64(0), 1).u32(4096).bytes()),
      rawOp(50, sidW(w().u32(0).bool(true), 4).u32(1).u64(0).u64(4096).u32(1).u32(1).opaque(Buffer.alloc(24, 7)).bytes()), { returnOnClose: true, layouts: [{ offset: 0, length: 4096, iomode: 1, content: { type: 1, bodyLength: 24 } }] }],
    ['LAYOUTCOMMIT', rawOp(49, sidW(w().u64(0).u64(4096).bool(false), 1).bool(true).u64(4095).bool(false).u32(1).opaque(Buffer.alloc(3)).bytes()),
      rawOp(49, w().u32(0).bool(true).u64(4096).bytes()), { newSize: 4096 }],
    ['LAYOUTRETURN', rawOp(51, sidW(w().bool(false).u32(1).u32(3).u32(1).u64(0).u64(4096), 1).opaque(Buffer.alloc(6)).bytes()),
      rawOp(51, sidW(w().u32(0).bool(true), 5).bytes()), { stateid: { seqid: 1, other: '05'.repeat(12) } }],
    ['GETDEVICEINFO', rawOp(47, bitmap4ish(w().fixed(Buffer.alloc(16, 1)).u32(1).u32(4096)).bytes()),
      rawOp(47, bitmap4ish(w().u32(0).u32(1).opaque(Buffer.alloc(10))).bytes()), { deviceAddr: { type: 1, bodyLength: 10 }, notification: [1] }],
    ['LAYOUTERROR', rawOp(64, sidW(w().u64(0).u64(10), 1).u32(1).fixed(Buffer.alloc(16, 2)).u32(5).u32(25).bytes()), statusRes(64, 0), {}],
    ['LAYOUTSTATS', rawOp(65, sidW(w().u64(0).u64(10), 1).u64(1).u64(2).u64(3).u64(4).fixed(Buffer.alloc(16)).u32(1).opaque(Buffer.alloc(0)).bytes()), statusRes(65, 0), {}],
    ['TEST_STATEID', rawOp(55, sidW(sidW(w().u32(2), 1), 2).bytes()), rawOp(55, w().u32(0).u32(2).u32(0).u32(10025).bytes()), { statusCodes: [0, 10025] }],
    ['SECINFO_NO_NAME', rawOp(52, w().u32(0).bytes()), rawOp(52, w().u32(0).u32(2).u32(6).opaque(Buffer.alloc(9, 1)).u32(0).u32(1).u32(1).bytes()), { flavors: [{ flavor: 6, oid: '01'.repeat(9), qop: 0, service: 1 }, { flavor: 1 }] }],
    ['GETXATTR', rawOp(72, w().string('user.a').bytes()), rawOp(72, w().u32(0).opaque(Buffer.alloc(3)).bytes()), { valueLength: 3 }],
    ['LISTXATTRS', rawOp(74, w().u64(0).u32(100).bytes()), rawOp(74, w().u32(0).u64(1).u32(2).string('user.a').string('user.b').bool(true).bytes()), { names: ['user.a', 'user.b'], eof: true }],
  ];
  for (const [name, args, res, fields] of cases) {
    it(name, () => {
      const c = call(compoundArgs('', 2, [putfhArgs(FH), args, getattrArgs([4])]));
      expect(c.stop).toBeUndefined();
      expect(c.ops).toEqual(['PUTFH', name, 'GETATTR']);
      expect(argsOf(c, 2)).toEqual({ attrRequest: ['size'] });
      const r = reply(compoundRes(0, '', [statusRes(OP.PUTFH, 0), res, getattrRes({ size: 1 })]), c);
      expect(r.stop).toBeUndefined();
      expect(r.ops).toEqual(['PUTFH', name, 'GETATTR']);
      expect(resultOf(r, 2)).toEqual({ attrs: { size: 1 } });
      if (Object.keys(fields).length > 0) expect(resultOf(r, 1)).toMatchObject(fields);
    });
  }
});

/** A bitmap4 with bit 1 set, appended. */
function bitmap4ish(x: XdrWriter): XdrWriter {
  return x.u32(1).u32(2);
}

describe('fuzz (asserts only that nothing throws): random bytes after every known op', () => {
  it('calls and replies', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (const n of [...Array(76).keys()].slice(3).concat([10044])) {
      for (let i = 0; i < 20; i++) {
        const body = Buffer.from(Array.from({ length: 64 }, rnd));
        call(compoundArgs('', 1, [rawOp(n, body)]));
        reply(compoundRes(0, '', [rawOp(n, body)]));
        nfs4CbDecoder.decodeCall(XdrReader.over(cbCompoundArgs('', 1, 0, [rawOp(n % 16, body)])), 1, 1);
      }
    }
  });
});

describe('truncation at every offset never throws', () => {
  const calls = [
    compoundArgs('t', 1, [sequenceArgs(SESSION, 1, 0, 0, false), putfhArgs(FH), openArgs(0, 3, 0, 5n, Buffer.from('owner'), 'f', 0o600), getfhArgs(), getattrArgs([1, 3])]),
    compoundArgs('t', 1, [exchangeIdArgs(VERF, 'client', 1)]),
    compoundArgs('t', 1, [createSessionArgs(1n, 1, 0, { maxRequestSize: 1, maxResponseSize: 1, maxRequests: 1 }, { maxRequestSize: 1, maxResponseSize: 1, maxRequests: 1 }, 7)]),
    compoundArgs('t', 1, [putfhArgs(FH), writeArgs(stateid4(1, 1), 0, 0, Buffer.alloc(10, 1)), getattrArgs([4])]),
  ];
  const replies = [
    compoundRes(0, 't', [sequenceRes(SESSION, 1, 0, 0, 0, 0), statusRes(OP.PUTFH, 0), openRes(stateid4(1, 1), 0, stateid4(2, 2)), getfhRes(FH), getattrRes({ type: 1, size: 3, owner: 'o' })]),
    compoundRes(0, 't', [exchangeIdRes(1n, 1, 0, 'maj', 'sc')]),
    compoundRes(0, 't', [statusRes(OP.PUTFH, 0), readRes(false, Buffer.alloc(9, 2)), getattrRes({ size: 1 })]),
    compoundRes(10010, 't', [statusRes(OP.PUTFH, 0), lockDeniedRes(1, 2, 1, 3n, Buffer.from('x'))]),
  ];
  it('calls', () => {
    for (const buf of calls) {
      for (let k = 0; k < buf.length; k++) {
        const c = call(buf, new XdrReader(cut(buf, k)));
        // Only the padding of the last opaque may be missing without harm.
        if (k <= buf.length - 4) expect(c.stop?.reason).toBe('truncated');
      }
      expect(call(buf).stop).toBeUndefined();
    }
  });
  it('replies', () => {
    for (const buf of replies) {
      for (let k = 0; k < buf.length; k++) {
        const r = reply(buf, undefined, new XdrReader(cut(buf, k)));
        if (k <= buf.length - 4) expect([k, buf.length, r.stop?.reason]).toEqual([k, buf.length, 'truncated']);
      }
      expect(reply(buf).stop).toBeUndefined();
    }
  });
  it('callbacks', () => {
    const buf = cbCompoundArgs('cb', 1, 0, [cbSequenceArgs(SESSION, 1, 0, 0, false), cbRecallArgs(stateid4(1, 1), false, FH)]);
    for (let k = 0; k < buf.length; k++) {
      const c = nfs4CbDecoder.decodeCall(new XdrReader(cut(buf, k)), 1, 1);
      if (k <= buf.length - 4) expect(c.stop?.reason).toBe('truncated');
    }
  });
});

describe('NFSv4 callbacks', () => {
  it('the callback program a client announces: CREATE_SESSION, BACKCHANNEL_CTL after SEQUENCE', () => {
    const ch = { maxRequestSize: 1, maxResponseSize: 1, maxRequests: 1 };
    expect(announcedCallbackProgram(XdrReader.over(compoundArgs('', 1, [createSessionArgs(1n, 1, 0, ch, ch, 0x40000001)])))).toBe(0x40000001);
    const bc = rawOp(40, new XdrWriter().u32(0x40000002).u32(1).u32(0).bytes());
    expect(announcedCallbackProgram(XdrReader.over(compoundArgs('', 1, [sequenceArgs(SESSION, 1, 0, 0, false), bc])))).toBe(0x40000002);
    expect(call(compoundArgs('', 1, [bc])).ops).toEqual(['BACKCHANNEL_CTL']);
    expect(announcedCallbackProgram(XdrReader.over(compoundArgs('', 1, [sequenceArgs(SESSION, 1, 0, 0, false), putfhArgs(FH)])))).toBeUndefined();
  });

  it('CB_NULL', () => {
    expect(nfs4CbDecoder.decodeCall(XdrReader.over(Buffer.alloc(0)), 1, 0)).toMatchObject({ ops: ['CB_NULL'], mainOp: 'CB_NULL' });
  });

  it('CB_COMPOUND with CB_SEQUENCE and CB_RECALL, and its reply', () => {
    const c = nfs4CbDecoder.decodeCall(XdrReader.over(cbCompoundArgs('', 1, 0, [cbSequenceArgs(SESSION, 5, 0, 0, false), cbRecallArgs(stateid4(1, 0x33), true, FH)])), 1, 1);
    expect(c).toMatchObject({ ops: ['CB_SEQUENCE', 'CB_RECALL'], mainOp: 'CB_RECALL', minorVersion: 1, fh: FH.toString('hex') });
    expect(c.stop).toBeUndefined();
    expect((c.args as OpsOf).ops[0]!.args).toEqual({ sessionid: SESSION.toString('hex'), sequenceid: 5, slotid: 0, highestSlotid: 0, cachethis: false, referringCallLists: [] });
    expect((c.args as OpsOf).ops[1]!.args).toEqual({ stateid: { seqid: 1, other: '33'.repeat(12) }, truncate: true, fh: FH.toString('hex') });
    const r = nfs4CbDecoder.decodeReply(XdrReader.over(compoundRes(0, '', [cbSequenceRes(SESSION, 5, 0, 0, 0), statusRes(4, 0)])), 1, 1, c);
    expect(r).toMatchObject({ status: 'NFS4_OK', ops: ['CB_SEQUENCE', 'CB_RECALL'], opStatus: ['NFS4_OK', 'NFS4_OK'] });
    expect(resultOf(r, 0)).toEqual({ sessionid: SESSION.toString('hex'), sequenceid: 5, slotid: 0, highestSlotid: 0, targetHighestSlotid: 0 });
  });

  it('an unknown callback op stops the decoding', () => {
    const c = nfs4CbDecoder.decodeCall(XdrReader.over(cbCompoundArgs('', 0, 1, [rawOp(99)])), 1, 1);
    expect(c.ops).toEqual(['CB_OP_99']);
    expect(c.stop?.reason).toBe('unknown-op');
  });
});
