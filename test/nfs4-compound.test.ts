/**
 * The NFSv4 COMPOUND layer (decoders/nfs4.ts) and the callback program a
 * client announces (decoders/nfs4-callback.ts), case by case: op counts at
 * their bound, headers cut short, what a call says of itself (main op and
 * its file handle through SAVEFH/RESTOREFH, names, offset and count), the
 * names GETFH's handles get, bytes read, procedures other than NULL and
 * COMPOUND, and names and numbers of ops and statuses parsed back. Op and
 * status numbers come from the RFC tables in test/reference/rfc-names.ts.
 */
import { describe, expect, it } from 'vitest';
import type { DecodedCall, DecodedReply } from '../decoders/decoded.js';
import { mainOpIndex, nfs4Decoder, nfs4OpNumber } from '../decoders/nfs4.js';
import { announcedCallbackProgram } from '../decoders/nfs4-callback.js';
import { nfs4CbDecoder } from '../decoders/nfs4-cb.js';
import { nfs4StatusCode } from '../decoders/nfs4-status.js';
import { XdrReader } from '../decoders/xdr.js';
import { XdrWriter } from './gen/rpc.js';
import { NFSSTAT4, NFS_OPNUM4 } from './reference/rfc-names.js';
import { OP, compoundArgs, compoundRes, getattrArgs, getfhArgs, getfhRes, lookupArgs, putfhArgs, putrootfhArgs, rawOp, readArgs, readRes, savefhArgs, stateid4, statusRes, writeArgs } from './gen/nfs4.js';

const w = (): XdrWriter => new XdrWriter();
const call = (b: Buffer, proc = 1): DecodedCall => nfs4Decoder.decodeCall(XdrReader.over(b), 4, proc);
const reply = (b: Buffer, c?: DecodedCall, proc = 1): DecodedReply => nfs4Decoder.decodeReply(XdrReader.over(b), 4, proc, c);
const A = Buffer.from('aa01', 'hex');
const B = Buffer.from('bb02', 'hex');
const S = stateid4(1, 7);
const named = (op: number, name: string): Buffer => rawOp(op, w().string(name).bytes());

describe('op and status names parsed back to numbers', () => {
  it('every RFC op name and status name gives its number; OP_n and nfsstat4(n) give n; anything else nothing', () => {
    for (const [n, name] of Object.entries(NFS_OPNUM4)) expect([name, nfs4OpNumber(name)]).toEqual([name, Number(n)]);
    for (const [n, name] of Object.entries(NFSSTAT4)) expect([name, nfs4StatusCode(name)]).toEqual([name, Number(n)]);
    expect([nfs4OpNumber('OP_2'), nfs4OpNumber('OP_123'), nfs4StatusCode('nfsstat4(19)'), nfs4StatusCode('nfsstat4(10097)')]).toEqual([2, 123, 19, 10097]);
    for (const bad of ['xOP_5', 'OP_5x', 'OP_', 'OP_a', 'read', '']) expect([bad, nfs4OpNumber(bad)]).toEqual([bad, undefined]);
    for (const bad of ['xnfsstat4(1)', 'nfsstat4(1)x', 'nfsstat4()', 'nfsstat4(a)', 'NFS4ERR_NOPE']) expect([bad, nfs4StatusCode(bad)]).toEqual([bad, undefined]);
  });

  it('no ops, no main op', () => {
    expect(mainOpIndex([])).toBe(-1);
  });
});

describe('COMPOUND calls', () => {
  it('no ops: the main op is COMPOUND and nothing else is said', () => {
    expect(call(compoundArgs('t', 2, []))).toStrictEqual({ ops: [], mainOp: 'COMPOUND', minorVersion: 2, tag: 't', args: { ops: [] } });
  });

  it('an op count of exactly what the bytes can hold is read; one more is malformed, at the count', () => {
    const two = Buffer.concat([w().string('').u32(0).u32(2).bytes(), putrootfhArgs(), getfhArgs()]);
    expect(call(two)).toStrictEqual({ ops: ['PUTROOTFH', 'GETFH'], mainOp: 'PUTROOTFH', minorVersion: 0, tag: '', args: { ops: [{ op: 'PUTROOTFH', args: {} }, { op: 'GETFH', args: {} }] } });
    const three = Buffer.concat([w().string('').u32(0).u32(3).bytes(), putrootfhArgs(), getfhArgs()]);
    expect(call(three).stop).toEqual({ reason: 'malformed', at: 8 });
    expect(call(three).ops).toEqual([]);
    // A result is at least 8 bytes, but the bound counts 4 a result: 3 results cannot be in 8 bytes.
    const res = Buffer.concat([w().u32(0).string('').u32(3).bytes(), statusRes(OP.PUTROOTFH, 0)]);
    expect(reply(res).stop).toEqual({ reason: 'malformed', at: 8 });
  });

  it('a header cut before the minor version: the tag, no ops', () => {
    const c = call(w().string('cut').bytes());
    expect(c).toStrictEqual({ ops: [], mainOp: 'COMPOUND', tag: 'cut', args: { ops: [] }, stop: { reason: 'malformed', at: 8 } });
  });

  it('names: those of LOOKUP, CREATE, OPEN, LINK, REMOVE, RENAME; not SECINFO’s or the extended attributes’', () => {
    const c = call(compoundArgs('', 2, [
      putfhArgs(A), named(OP.LOOKUP, 'l'), named(33, 'sec'), named(72, 'user.g'), rawOp(73, w().u32(0).string('user.s').opaque(Buffer.alloc(1)).bytes()),
      rawOp(74, w().u64(0).u32(10).bytes()), named(75, 'user.r'), named(11, 'lnk'), named(28, 'rm'), rawOp(OP.RENAME, w().string('old').string('new').bytes()),
      rawOp(OP.CREATE, w().u32(2).string('dir').u32(0).u32(0).bytes()),
    ]));
    expect(c.stop).toBeUndefined();
    expect(c.names).toEqual(['l', 'lnk', 'rm', 'old', 'new', 'dir']);
  });

  it('offset and count: the first READ, WRITE, COMMIT or READ_PLUS; other ops with a count say nothing', () => {
    const rw = call(compoundArgs('', 0, [putfhArgs(A), readArgs(S, 100, 200), writeArgs(S, 300, 2, Buffer.alloc(4))]));
    expect([rw.offset, rw.count]).toEqual([100, 200]);
    const commit = call(compoundArgs('', 0, [putfhArgs(A), rawOp(OP.COMMIT, w().u64(400).u32(500).bytes())]));
    expect([commit.offset, commit.count]).toEqual([400, 500]);
    const plus = call(compoundArgs('', 2, [putfhArgs(A), rawOp(68, w().u32(1).fixed(Buffer.alloc(12)).u64(600).u32(700).bytes())]));
    expect([plus.offset, plus.count]).toEqual([600, 700]);
    const advise = call(compoundArgs('', 2, [putfhArgs(A), rawOp(63, w().u32(1).fixed(Buffer.alloc(12)).u64(10).u64(20).u32(0).bytes())]));
    expect(advise.stop).toBeUndefined();
    expect('offset' in advise || 'count' in advise).toBe(false);
    // An offset beyond 2^53 is not a number: the call says its count only.
    const far = call(compoundArgs('', 0, [putfhArgs(A), rawOp(OP.READ, w().u32(1).fixed(Buffer.alloc(12)).u64(2n ** 60n).u32(4096).bytes())]));
    expect('offset' in far).toBe(false);
    expect(far.count).toBe(4096);
  });

  it('the main op’s file handle follows SAVEFH and RESTOREFH', () => {
    const c = call(compoundArgs('', 0, [putfhArgs(A), savefhArgs(), putfhArgs(B), rawOp(OP.RESTOREFH), getattrArgs([4])]));
    expect([c.mainOp, c.fh]).toEqual(['GETATTR', 'aa01']);
    const d = call(compoundArgs('', 0, [putfhArgs(A), savefhArgs(), putfhArgs(B), getattrArgs([4])]));
    expect([d.mainOp, d.fh]).toEqual(['GETATTR', 'bb02']);
  });

  it('procedures other than NULL and COMPOUND are malformed', () => {
    expect(call(Buffer.alloc(8), 5)).toStrictEqual({ ops: [], mainOp: 'PROC_5', args: {}, stop: { reason: 'malformed', at: 0 } });
    expect(reply(Buffer.alloc(8), undefined, 5)).toStrictEqual({ status: 'UNKNOWN', statusCode: -1, results: {}, stop: { reason: 'malformed', at: 0 } });
    expect(reply(Buffer.alloc(0), undefined, 0)).toStrictEqual({ status: null, statusCode: null, results: {} });
  });
});

describe('COMPOUND replies', () => {
  it('a reply cut after its status: the status and tag, no ops', () => {
    expect(reply(w().u32(2).bytes())).toStrictEqual({ status: 'NFS4ERR_NOENT', statusCode: 2, ops: [], opStatus: [], results: { tag: '', ops: [] }, stop: { reason: 'malformed', at: 4 } });
  });

  it('a reply cut after an op number: the op is listed without a status', () => {
    const r = reply(Buffer.concat([w().u32(0).string('').u32(2).bytes(), statusRes(OP.PUTFH, 0), w().u32(OP.GETATTR).bytes()]));
    expect([r.ops, r.opStatus, r.stop]).toEqual([['PUTFH', 'GETATTR'], ['NFS4_OK'], { reason: 'malformed', at: 24 }]);
  });

  it('ops without results carry no result key; nothing unsaid is set', () => {
    const r = reply(compoundRes(5, '', [statusRes(OP.PUTFH, 0), statusRes(OP.READ, 5)]));
    expect(r).toStrictEqual({
      status: 'NFS4ERR_IO', statusCode: 5, ops: ['PUTFH', 'READ'], opStatus: ['NFS4_OK', 'NFS4ERR_IO'],
      results: { tag: '', ops: [{ op: 'PUTFH', status: 'NFS4_OK' }, { op: 'READ', status: 'NFS4ERR_IO' }] },
    });
  });

  it('bytes read add up over READ and READ_PLUS results', () => {
    const plus = (n: number): Buffer => rawOp(68, w().u32(0).bool(false).u32(1).u32(0).u64(0).opaque(Buffer.alloc(n)).bytes());
    expect(reply(compoundRes(0, '', [statusRes(OP.PUTFH, 0), plus(5)])).readBytes).toBe(5);
    expect(reply(compoundRes(0, '', [statusRes(OP.PUTFH, 0), plus(5), readRes(true, Buffer.alloc(7)), plus(3)])).readBytes).toBe(15);
  });

  it('GETFH’s handle is named by the LOOKUP, CREATE or OPEN before it, unless an op since changed the current handle', () => {
    const fh = (): Buffer => getfhRes(B);
    const handles = (ops: Buffer[], res: Buffer[]): unknown => reply(compoundRes(0, '', res), call(compoundArgs('', 1, ops))).handles;
    const st = (op: number): Buffer => statusRes(op, 0);
    expect(handles([putfhArgs(A), lookupArgs('a'), getfhArgs(), putfhArgs(A), getfhArgs()], [st(OP.PUTFH), st(OP.LOOKUP), fh(), st(OP.PUTFH), fh()])).toStrictEqual([{ fh: 'bb02', name: 'a' }, { fh: 'bb02' }]);
    expect(handles([putfhArgs(A), rawOp(OP.CREATE, w().u32(2).string('c').u32(0).u32(0).bytes()), getfhArgs()], [st(OP.PUTFH), rawOp(OP.CREATE, w().u32(0).bool(true).u64(1).u64(2).u32(0).bytes()), fh()])).toStrictEqual([{ fh: 'bb02', name: 'c' }]);
    for (const [op, args] of [[OP.PUTROOTFH, Buffer.alloc(0)], [23, Buffer.alloc(0)], [16, Buffer.alloc(0)], [OP.RESTOREFH, Buffer.alloc(0)], [19, w().bool(false).bytes()]] as const) {
      expect([op, handles([putfhArgs(A), lookupArgs('a'), rawOp(op, args), getfhArgs()], [st(OP.PUTFH), st(OP.LOOKUP), st(op), fh()])]).toStrictEqual([op, [{ fh: 'bb02' }]]);
    }
    // A LOOKUP after the GETFH does not name it.
    expect(handles([putfhArgs(A), getfhArgs(), lookupArgs('z')], [st(OP.PUTFH), fh(), st(OP.LOOKUP)])).toStrictEqual([{ fh: 'bb02' }]);
    // A reply longer than the call decoded (the call stopped at an unknown op): no name, no failure.
    expect(reply(compoundRes(0, '', [st(OP.PUTFH), st(OP.LOOKUP), fh()]), call(compoundArgs('', 1, [putfhArgs(A), rawOp(99)]))).handles).toStrictEqual([{ fh: 'bb02' }]);
  });

  it('OPEN names the handle too', () => {
    const open = rawOp(OP.OPEN, w().u32(0).u32(1).u32(0).u64(1).opaque(Buffer.alloc(0)).u32(0).u32(0).string('o').bytes());
    const c = call(compoundArgs('', 1, [putfhArgs(A), open, getfhArgs()]));
    expect(c.names).toEqual(['o']);
    const openRes = rawOp(OP.OPEN, w().u32(0).u32(1).fixed(Buffer.alloc(12)).bool(true).u64(1).u64(2).u32(0).u32(0).u32(0).bytes());
    expect(reply(compoundRes(0, '', [statusRes(OP.PUTFH, 0), openRes, getfhRes(B)]), c).handles).toStrictEqual([{ fh: 'bb02', name: 'o' }]);
  });
});

describe('the callback program a client announces', () => {
  const setclientid = (prog: number): Buffer => rawOp(35, w().fixed(Buffer.alloc(8)).opaque(Buffer.from('id')).u32(prog).string('tcp').string('10.0.0.1.3.1').u32(1).bytes());
  const announced = (b: Buffer): number | undefined => announcedCallbackProgram(XdrReader.over(b));

  it('SETCLIENTID’s, among the first four ops', () => {
    expect(announced(compoundArgs('', 0, [setclientid(0x40000002)]))).toBe(0x40000002);
    expect(announced(compoundArgs('', 0, [putrootfhArgs(), putrootfhArgs(), putrootfhArgs(), setclientid(0x40000003)]))).toBe(0x40000003);
    expect(announced(compoundArgs('', 0, [putrootfhArgs(), putrootfhArgs(), putrootfhArgs(), putrootfhArgs(), setclientid(0x40000004)]))).toBeUndefined();
  });

  it('none past the op count, after an unknown op, or in a SETCLIENTID cut short', () => {
    const counted1 = Buffer.concat([w().string('').u32(0).u32(1).bytes(), putrootfhArgs(), setclientid(0x40000005)]);
    expect(announced(counted1)).toBeUndefined();
    expect(announced(compoundArgs('', 0, [rawOp(99), setclientid(0x40000006)]))).toBeUndefined();
    const cut = compoundArgs('', 0, [setclientid(0x40000007)]);
    expect(announced(cut.subarray(0, cut.length - 8))).toBeUndefined();
  });
});

describe('callback ops (RFC 8881 §20, RFC 7862 §16), every field', () => {
  const cb = (ops: Buffer[], ident = 9): Buffer => Buffer.concat([w().string('cbt').u32(1).u32(ident).u32(ops.length).bytes(), ...ops]);
  const cbCall = (b: Buffer, proc = 1): DecodedCall => nfs4CbDecoder.decodeCall(XdrReader.over(b), 1, proc);
  const cbReply = (b: Buffer, proc = 1): DecodedReply => nfs4CbDecoder.decodeReply(XdrReader.over(b), 1, proc, undefined);
  const SESSION = Buffer.alloc(16, 0x5e);
  const cbSeq = rawOp(11, w().fixed(SESSION).u32(4).u32(0).u32(0).bool(false).u32(1).fixed(Buffer.alloc(16, 0x6f)).u32(1).u32(7).u32(2).bytes());
  const sidW = (x: XdrWriter, seqid: number, fill: number): XdrWriter => x.u32(seqid).fixed(Buffer.alloc(12, fill));
  const sidV = (seqid: number, fill: number): { seqid: number; other: string } => ({ seqid, other: fill.toString(16).padStart(2, '0').repeat(12) });
  const notify4 = (x: XdrWriter): XdrWriter => x.u32(1).u32(1).u32(1 << 2).opaque(Buffer.alloc(6));
  const cases: [string, Buffer, Record<string, unknown>][] = [
    ['CB_GETATTR', rawOp(3, w().opaque(A).u32(1).u32((1 << 3) | (1 << 4)).bytes()), { fh: 'aa01', attrRequest: [3, 4] }],
    ['CB_LAYOUTRECALL', rawOp(5, sidW(w().u32(1).u32(3).bool(true).u32(1).opaque(A).u64(10).u64(20), 2, 0x33).bytes()), { layoutType: 1, iomode: 3, changed: true, recall: 'FILE', fh: 'aa01', offset: 10, length: 20, stateid: sidV(2, 0x33) }],
    ['CB_LAYOUTRECALL', rawOp(5, w().u32(4).u32(1).bool(false).u32(2).u64(5).u64(6).bytes()), { layoutType: 4, iomode: 1, changed: false, recall: 'FSID', fsid: { major: 5, minor: 6 } }],
    ['CB_LAYOUTRECALL', rawOp(5, w().u32(1).u32(2).bool(false).u32(3).bytes()), { layoutType: 1, iomode: 2, changed: false, recall: 'ALL' }],
    ['CB_NOTIFY', rawOp(6, notify4(sidW(w(), 3, 0x44).opaque(B)).bytes()), { stateid: sidV(3, 0x44), fh: 'bb02', changes: [{ mask: [4], valuesLength: 6 }] }],
    ['CB_PUSH_DELEG', rawOp(7, w().opaque(A).u32(0).bytes()), { fh: 'aa01', delegation: { type: 'NONE' } }],
    ['CB_RECALL_ANY', rawOp(8, w().u32(5).u32(1).u32(0x3).bytes()), { objectsToKeep: 5, typeMask: [0, 1] }],
    ['CB_RECALLABLE_OBJ_AVAIL', rawOp(9, w().u32(6).u32(1).u32(0x4).bytes()), { objectsToKeep: 6, typeMask: [2] }],
    ['CB_RECALL_SLOT', rawOp(10, w().u32(12).bytes()), { targetHighestSlotid: 12 }],
    ['CB_WANTS_CANCELLED', rawOp(12, w().bool(true).bool(false).bytes()), { contended: true, resourced: false }],
    ['CB_NOTIFY_LOCK', rawOp(13, w().opaque(B).u64(3n).opaque(Buffer.from('lk')).bytes()), { fh: 'bb02', owner: { clientid: '0000000000000003', owner: '6c6b' } }],
    ['CB_NOTIFY_DEVICEID', rawOp(14, notify4(w()).bytes()), { changes: [{ mask: [4], valuesLength: 6 }] }],
    ['CB_OFFLOAD', rawOp(15, sidW(w().opaque(A), 4, 0x55).u32(0).u32(0).u64(8192).u32(2).fixed(Buffer.alloc(8, 0x66)).bytes()), { fh: 'aa01', stateid: sidV(4, 0x55), status: 'NFS4_OK', response: { callbackId: [], count: 8192, committed: 2, verifier: '6666666666666666' } }],
    ['CB_OFFLOAD', rawOp(15, sidW(w().opaque(B), 5, 0x77).u32(10091).u64(100).bytes()), { fh: 'bb02', stateid: sidV(5, 0x77), status: 'NFS4ERR_OFFLOAD_DENIED', bytesCopied: 100 }],
  ];

  for (const [name, op, args] of cases) {
    it(`${name} ${JSON.stringify(args).slice(0, 40)}`, () => {
      const c = cbCall(cb([cbSeq, op, rawOp(10, w().u32(1).bytes())]));
      expect(c.stop).toBeUndefined();
      expect(c.ops).toEqual(['CB_SEQUENCE', name, 'CB_RECALL_SLOT']);
      expect(c.mainOp).toBe(name);
      const ops = (c.args as { callbackIdent: number; ops: { op: string; args: unknown }[] });
      expect(ops.callbackIdent).toBe(9);
      expect(ops.ops[0]!.args).toEqual({ sessionid: '5e'.repeat(16), sequenceid: 4, slotid: 0, highestSlotid: 0, cachethis: false, referringCallLists: [{ sessionid: '6f'.repeat(16), calls: [{ sequenceid: 7, slotid: 2 }] }] });
      expect(ops.ops[1]!.args).toEqual(args);
      expect(ops.ops[2]!.args).toEqual({ targetHighestSlotid: 1 });
      if (typeof (args as { fh?: unknown }).fh === 'string') expect(c.fh).toBe((args as { fh: string }).fh);
      else expect('fh' in c).toBe(false);
    });
  }

  it('the main op: the first other than CB_SEQUENCE; CB_SEQUENCE alone, or nothing', () => {
    expect(cbCall(cb([cbSeq])).mainOp).toBe('CB_SEQUENCE');
    expect(cbCall(cb([]))).toStrictEqual({ ops: [], mainOp: 'CB_COMPOUND', minorVersion: 1, tag: 'cbt', args: { callbackIdent: 9, ops: [] } });
    expect(cbCall(cb([rawOp(10, w().u32(1).bytes()), cbSeq])).mainOp).toBe('CB_RECALL_SLOT');
  });

  it('CB_NULL, other procedures, and a header cut short', () => {
    expect(cbCall(Buffer.alloc(0), 0)).toStrictEqual({ ops: ['CB_NULL'], mainOp: 'CB_NULL', args: {} });
    expect(cbCall(Buffer.alloc(4), 3)).toStrictEqual({ ops: [], mainOp: 'PROC_3', args: {}, stop: { reason: 'malformed', at: 0 } });
    expect(cbCall(w().string('ab').u32(1).bytes())).toStrictEqual({ ops: [], mainOp: 'CB_COMPOUND', tag: 'ab', args: { ops: [] }, stop: { reason: 'malformed', at: 12 } });
    expect(cbReply(Buffer.alloc(0), 0)).toStrictEqual({ status: null, statusCode: null, results: {} });
    expect(cbReply(Buffer.alloc(4), 2)).toStrictEqual({ status: 'UNKNOWN', statusCode: -1, results: {}, stop: { reason: 'malformed', at: 0 } });
    expect(cbReply(w().u32(10008).bytes())).toStrictEqual({ status: 'NFS4ERR_DELAY', statusCode: 10008, ops: [], opStatus: [], results: { tag: '', ops: [] }, stop: { reason: 'malformed', at: 4 } });
  });

  it('replies: CB_GETATTR’s attributes, CB_SEQUENCE’s slots, results only where there are some', () => {
    const res = Buffer.concat([
      w().u32(0).string('r').u32(3).bytes(),
      rawOp(11, w().u32(0).fixed(SESSION).u32(4).u32(0).u32(3).u32(2).bytes()),
      rawOp(3, w().u32(0).u32(1).u32(1 << 4).opaque(w().u64(77).bytes()).bytes()),
      rawOp(4, w().u32(0).bytes()),
    ]);
    expect(cbReply(res)).toStrictEqual({
      status: 'NFS4_OK', statusCode: 0, ops: ['CB_SEQUENCE', 'CB_GETATTR', 'CB_RECALL'], opStatus: ['NFS4_OK', 'NFS4_OK', 'NFS4_OK'],
      results: { tag: 'r', ops: [
        { op: 'CB_SEQUENCE', status: 'NFS4_OK', result: { sessionid: '5e'.repeat(16), sequenceid: 4, slotid: 0, highestSlotid: 3, targetHighestSlotid: 2 } },
        { op: 'CB_GETATTR', status: 'NFS4_OK', result: { attrs: { size: 77 } } },
        { op: 'CB_RECALL', status: 'NFS4_OK' },
      ] },
    });
    const failed = cbReply(Buffer.concat([w().u32(10052).string('').u32(2).bytes(), rawOp(11, w().u32(10052).bytes()), rawOp(3, w().u32(0).bytes())]));
    expect(failed.results).toStrictEqual({ tag: '', ops: [{ op: 'CB_SEQUENCE', status: 'NFS4ERR_BADSESSION' }, { op: 'CB_GETATTR', status: 'NFS4_OK', result: { attrs: {} } }] });
    expect(failed.stop).toEqual({ reason: 'malformed', at: 28 });
    const getattrFailed = cbReply(Buffer.concat([w().u32(2).string('').u32(1).bytes(), rawOp(3, w().u32(2).bytes())]));
    expect(getattrFailed.results).toStrictEqual({ tag: '', ops: [{ op: 'CB_GETATTR', status: 'NFS4ERR_NOENT' }] });
    expect('stop' in getattrFailed).toBe(false);
  });
});
