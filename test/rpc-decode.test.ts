import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wholeMessage, type MessageBytes } from '../decoders/bytes.js';
import {
  AUTH_ERROR,
  AUTH_SYS,
  CALL,
  GARBAGE_ARGS,
  MAX_AUTH_BYTES,
  MSG_ACCEPTED,
  MSG_DENIED,
  PROC_UNAVAIL,
  PROG_MISMATCH,
  PROG_UNAVAIL,
  REPLY,
  RPC_GSS_SVC_INTEGRITY,
  RPC_GSS_SVC_NONE,
  RPC_GSS_SVC_PRIVACY,
  RPC_MISMATCH,
  RPCSEC_GSS,
  RPCSEC_GSS_CREDPROBLEM,
  RPCSEC_GSS_CTXPROBLEM,
  RPCSEC_GSS_CONTINUE_INIT,
  RPCSEC_GSS_DATA,
  RPCSEC_GSS_DESTROY,
  RPCSEC_GSS_INIT,
  SUCCESS,
  SYSTEM_ERR,
  acceptStatName,
  authStatName,
  AuthSysMemo,
  decodeRpcHeader,
  flavorName,
  gssIntegrityBodyOffset,
  gssProcName,
  gssServiceName,
  msgTypeName,
  rejectStatName,
  replyStatName,
  type RpcCallHeader,
  type RpcHeader,
  type RpcInvalidHeader,
  type RpcReplyHeader,
} from '../decoders/rpc.js';
import { XdrReader } from '../decoders/xdr.js';
import {
  AUTH_NONE,
  XdrWriter,
  authSysBody,
  gssCredBody,
  gssIntegrityBody,
  rpcAcceptedReply,
  rpcAcceptedReplyVerf,
  rpcAuthErrorReply,
  rpcCall,
  rpcCallRaw,
  rpcProgMismatchReply,
  rpcRpcMismatchReply,
} from './gen/rpc.js';
import { randInt, rng } from './gen/random.js';
import { CAPTURES } from './helpers.js';

const EMPTY = Buffer.alloc(0);

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function decode(buf: Buffer): RpcHeader {
  return decodeRpcHeader(XdrReader.over(buf));
}

function asCall(h: RpcHeader): RpcCallHeader {
  expect(h.kind).toBe('call');
  return h as RpcCallHeader;
}

function asReply(h: RpcHeader): RpcReplyHeader {
  expect(h.kind).toBe('reply');
  return h as RpcReplyHeader;
}

function asInvalid(h: RpcHeader): RpcInvalidHeader {
  expect(h.kind).toBe('invalid');
  return h as RpcInvalidHeader;
}

/** The first `cut` bytes of `buf` kept; the rest was on the wire but not captured (or, with `missing0`, not kept). */
function cutMessage(buf: Buffer, cut: number, notKept = false): MessageBytes {
  return { length: buf.length, head: buf.subarray(0, cut), tail: EMPTY, tailOffset: buf.length, missing: notKept ? 0 : buf.length - cut };
}

/** Head and tail of `buf` kept, the bytes between skipped on purpose (or missing, when `missing` > 0). */
function headTail(buf: Buffer, headLen: number, tailOffset: number, missing = 0): MessageBytes {
  return { length: buf.length, head: buf.subarray(0, headLen), tail: buf.subarray(tailOffset), tailOffset, missing };
}

function words(...v: number[]): Buffer {
  const w = new XdrWriter();
  for (const x of v) w.u32(x);
  return w.bytes();
}

// ---------------------------------------------------------------------------

describe('XdrReader over a whole buffer', () => {
  it('reads the XDR primitives', () => {
    const buf = new XdrWriter()
      .u32(0xdeadbeef)
      .u32(0xfffffffe) // -2 as i32
      .u64(0x0102030405060708n)
      .u64(2n ** 63n + 1n)
      .bool(true)
      .bool(false)
      .opaque(Buffer.from('abcde'))
      .string('héllo')
      .fixed(Buffer.from([1, 2, 3]))
      .u32(3).u32(10).u32(20).u32(30)
      .bytes();
    const r = XdrReader.over(buf);
    expect(r.u32()).toBe(0xdeadbeef);
    expect(r.i32()).toBe(-2);
    expect(r.u64()).toBe(0x0102030405060708n);
    expect(r.u64n()).toBe(Number(2n ** 63n)); // rounded above 2^53
    expect(r.bool()).toBe(true);
    expect(r.bool()).toBe(false);
    expect(r.opaque(16).toString()).toBe('abcde');
    expect(r.pos).toBe(4 + 4 + 8 + 8 + 4 + 4 + 4 + 8);
    expect(r.string(16)).toBe('héllo');
    expect([...r.opaqueFixed(3)]).toEqual([1, 2, 3]);
    expect(r.array(8, (x) => x.u32())).toEqual([10, 20, 30]);
    expect(r.remaining).toBe(0);
    expect(r.status).toBe('ok');
    expect(r.ok).toBe(true);
    expect(r.errorAt).toBe(-1);
  });

  it('words of every bit pattern read as Buffer reads them (unsigned, signed, hyper)', () => {
    const r0 = rng(7);
    const buf = Buffer.alloc(4096);
    for (let i = 0; i < buf.length; i++) buf[i] = r0() < 0.3 ? 0xff : r0() < 0.3 ? 0 : randInt(r0, 0, 256);
    for (let o = 0; o + 8 <= buf.length; o += 8) {
      const r = XdrReader.over(buf.subarray(o, o + 8));
      expect(r.u32()).toBe(buf.readUInt32BE(o));
      expect(r.i32()).toBe(buf.readInt32BE(o + 4));
      const h = XdrReader.over(buf.subarray(o, o + 8));
      const big = buf.readBigUInt64BE(o);
      expect(h.u64Value()).toBe(big < 2n ** 53n ? Number(big) : big.toString());
      const s = XdrReader.over(buf.subarray(o, o + 8));
      const signed = buf.readBigInt64BE(o);
      expect(s.i64Value()).toBe(signed < 2n ** 53n && signed > -(2n ** 53n) ? Number(signed) : signed.toString());
    }
  });

  it('u64n is exact below 2^53', () => {
    const r = XdrReader.over(new XdrWriter().u64(2 ** 53 - 1).u64(0x1_0000_0001).bytes());
    expect(r.u64n()).toBe(2 ** 53 - 1);
    expect(r.u64n()).toBe(0x1_0000_0001);
  });

  it('returns opaques as views into the message, without copying', () => {
    const buf = new XdrWriter().opaque(Buffer.from('view')).bytes();
    const v = XdrReader.over(buf).opaque();
    buf[4] = 0x56; // 'V'
    expect(v.toString()).toBe('View');
  });

  it('a read beyond the message end is malformed, sticky, and never throws', () => {
    const r = XdrReader.over(words(1, 2));
    r.u32();
    expect(r.u64()).toBe(0n);
    expect(r.status).toBe('malformed');
    expect(r.errorAt).toBe(4);
    // Sticky: nothing more is read, the position stays where decoding stopped.
    expect(r.u32()).toBe(0);
    expect(r.opaque().length).toBe(0);
    expect(r.string()).toBe('');
    expect(r.array(4, (x) => x.u32())).toEqual([]);
    r.skipBytes(0);
    expect(r.pos).toBe(4);
    expect(r.errorAt).toBe(4);
  });

  it('an opaque longer than its bound or than the message is malformed at its length word', () => {
    const long = XdrReader.over(new XdrWriter().u32(7).opaque(Buffer.alloc(20)).bytes());
    long.u32();
    expect(long.opaque(16).length).toBe(0);
    expect(long.status).toBe('malformed');
    expect(long.errorAt).toBe(4);

    const absurd = XdrReader.over(words(0xfffffff0, 1, 2));
    expect(absurd.opaque().length).toBe(0);
    expect(absurd.status).toBe('malformed');

    const skip = XdrReader.over(words(0xfffffff0, 1, 2));
    expect(skip.skipOpaque()).toBe(0);
    expect(skip.status).toBe('malformed');
    expect(skip.errorAt).toBe(0);
  });

  it('an opaque whose padding runs past the end is malformed', () => {
    // Length 3 with only 3 data bytes: XDR wants the fourth (padding) byte.
    const buf = Buffer.concat([words(3), Buffer.from([1, 2, 3])]);
    const r = XdrReader.over(buf);
    expect(r.opaque().length).toBe(0);
    expect(r.status).toBe('malformed');
  });

  it('a bool other than 0 or 1 is malformed', () => {
    const r = XdrReader.over(words(1, 2));
    expect(r.bool()).toBe(true);
    expect(r.bool()).toBe(false);
    expect(r.status).toBe('malformed');
    expect(r.errorAt).toBe(4);
  });

  it('an array count above its bound, or above what the message could hold, is malformed', () => {
    const over = XdrReader.over(words(3, 1, 2, 3));
    expect(over.array(2, (x) => x.u32())).toEqual([]);
    expect(over.status).toBe('malformed');
    const huge = XdrReader.over(words(1_000_000, 1, 2, 3));
    let calls = 0;
    expect(huge.array(0xffffffff, (x) => (calls++, x.u32()))).toEqual([]);
    expect(calls).toBe(0);
    expect(huge.status).toBe('malformed');
  });

  it('an array stops at the element that stops the reader', () => {
    // Two hypers announced, one and a half present.
    const r = XdrReader.over(words(2, 0, 7, 8));
    expect(r.array(10, (x) => x.u64n())).toEqual([7]);
    expect(r.status).toBe('malformed');
    expect(r.errorAt).toBe(12);
  });

  it('a sub-reader is bounded by its range; the parent moves past it', () => {
    const r = XdrReader.over(words(1, 2, 3, 4));
    r.u32();
    const s = r.sub(8);
    expect(r.pos).toBe(12);
    expect(s.pos).toBe(4);
    expect(s.end).toBe(12);
    expect(s.u32()).toBe(2);
    expect(s.u32()).toBe(3);
    expect(s.u32()).toBe(0);
    expect(s.status).toBe('malformed');
    expect(r.status).toBe('ok');
    expect(r.u32()).toBe(4);
    // A sub-range beyond the message stops both.
    const bad = XdrReader.over(words(1)).sub(8);
    expect(bad.status).toBe('malformed');
  });

  it('seek and markMalformed', () => {
    const r = XdrReader.over(words(1, 2, 3));
    r.seek(8);
    expect(r.u32()).toBe(3);
    r.seek(0);
    expect(r.u32()).toBe(1);
    r.markMalformed(2);
    r.markMalformed(6); // the first error stands
    expect(r.status).toBe('malformed');
    expect(r.errorAt).toBe(2);
    const s = XdrReader.over(words(1));
    s.seek(8);
    expect(s.status).toBe('malformed');
  });

  it('a reader starting beyond the message is malformed at once', () => {
    const r = new XdrReader(wholeMessage(words(1)), 8);
    expect(r.status).toBe('malformed');
    expect(r.u32()).toBe(0);
  });
});

describe('XdrReader over head and tail', () => {
  // 64 bytes: words 0..15, value i*0x01010101 + 0x100 (distinct bytes).
  const msg = words(...Array.from({ length: 16 }, (_, i) => (0x100 + i * 0x01010101) >>> 0));
  const w = (i: number) => (0x100 + i * 0x01010101) >>> 0;

  it('reads in the head and in the tail, and stops in the gap as not-kept', () => {
    const m = headTail(msg, 16, 48);
    const r = new XdrReader(m);
    expect([r.u32(), r.u32(), r.u32(), r.u32()]).toEqual([w(0), w(1), w(2), w(3)]);
    expect(r.u32()).toBe(0);
    expect(r.status).toBe('not-kept');
    expect(r.errorAt).toBe(16);

    const t = new XdrReader(m, 48);
    expect([t.u32(), t.u32(), t.u32(), t.u32()]).toEqual([w(12), w(13), w(14), w(15)]);
    expect(t.ok).toBe(true);
    expect(t.remaining).toBe(0);
  });

  it('the same gap with bytes missing from the capture is truncated', () => {
    const r = new XdrReader(headTail(msg, 16, 48, 32), 20);
    expect(r.u32()).toBe(0);
    expect(r.status).toBe('truncated');
    expect(r.errorAt).toBe(20);
  });

  it('a value straddling the end of the head and the gap is not read', () => {
    const r = new XdrReader(headTail(msg, 18, 48), 16);
    expect(r.u32()).toBe(0);
    expect(r.status).toBe('not-kept');
    const o = new XdrReader(headTail(msg, 18, 48), 16);
    expect(o.opaqueFixed(2).length).toBe(2); // the two kept bytes are enough
    expect(o.pos).toBe(20);
    expect(o.u32()).toBe(0);
    expect(o.status).toBe('not-kept');
  });

  it('a value straddling the start of the tail is not read', () => {
    const r = new XdrReader(headTail(msg, 16, 46), 44);
    expect(r.u32()).toBe(0);
    expect(r.status).toBe('not-kept');
    expect(r.errorAt).toBe(44);
  });

  it('skipOpaque steps over bytes not kept and decoding goes on in the tail', () => {
    // A WRITE-like body: a word, an opaque of 1000 bytes (not kept), then two words.
    const body = new XdrWriter().u32(42).opaque(Buffer.alloc(1000, 0xaa)).u32(7).u64(9n).bytes();
    const m = headTail(body, 12, body.length - 8);
    const r = new XdrReader(m);
    expect(r.u32()).toBe(42);
    expect(r.skipOpaque(4096)).toBe(1000);
    expect(r.pos).toBe(1008);
    // Still in the gap: the kept tail starts 4 bytes further.
    expect(r.u32()).toBe(0);
    expect(r.status).toBe('not-kept');

    const r2 = new XdrReader(headTail(body, 12, body.length - 12));
    r2.u32();
    r2.skipOpaque();
    expect(r2.u32()).toBe(7);
    expect(r2.u64()).toBe(9n);
    expect(r2.ok).toBe(true);
  });

  it('an opaque whose data is kept and padding is not is read', () => {
    const body = new XdrWriter().opaque(Buffer.from('abcde')).u32(1).bytes(); // 4 + 5 + 3 pad + 4
    const r = new XdrReader(headTail(body, 9, 12));
    expect(r.opaque().toString()).toBe('abcde');
    expect(r.u32()).toBe(1);
    expect(r.ok).toBe(true);
  });

  it('a value straddling adjacent head and tail is read whole', () => {
    const m = headTail(msg, 18, 18);
    const r = new XdrReader(m, 16);
    expect(r.u32()).toBe(w(4));
    expect(r.ok).toBe(true);
    const o = new XdrReader(m, 12);
    expect(o.opaqueFixed(12).equals(msg.subarray(12, 24))).toBe(true);
    const b = new XdrReader(m, 8);
    expect(b.u64()).toBe(msg.readBigUInt64BE(8));
    const s = new XdrReader(m, 16);
    expect(s.u64()).toBe(msg.readBigUInt64BE(16));
  });

  it('overlapping head and tail read consistently', () => {
    const m = headTail(msg, 30, 20);
    const r = new XdrReader(m);
    const got: number[] = [];
    for (let i = 0; i < 16; i++) got.push(r.u32());
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => w(i)));
    expect(r.ok).toBe(true);
  });

  it('a message cut by the capture: truncated inside, malformed past the end', () => {
    const m = cutMessage(msg, 10);
    const r = new XdrReader(m, 8);
    expect(r.u32()).toBe(0);
    expect(r.status).toBe('truncated');
    const past = new XdrReader(m, 60);
    expect(past.u64()).toBe(0n);
    expect(past.status).toBe('malformed');
    // Skipping needs no bytes: a cut message can be skipped through to its end.
    const s = new XdrReader(m);
    s.skipBytes(64);
    expect(s.ok).toBe(true);
    expect(s.remaining).toBe(0);
  });

  it('every read over a kept-or-not layout agrees with the whole buffer or stops', () => {
    const rand = rng(7);
    for (let n = 0; n < 2000; n++) {
      const headLen = randInt(rand, 0, 65);
      const tailOffset = randInt(rand, 0, 65);
      const m = headTail(msg, headLen, tailOffset, randInt(rand, 0, 2) * 8);
      const at = randInt(rand, 0, 64);
      const size = [4, 8][randInt(rand, 0, 2)]!;
      const r = new XdrReader(m, at);
      const v = size === 4 ? r.u32() : r.u64n();
      const kept = (i: number) => i < headLen || i >= tailOffset;
      let all = at + size <= 64;
      for (let i = at; i < at + size && all; i++) all = kept(i);
      if (all) {
        expect(r.ok).toBe(true);
        expect(v).toBe(size === 4 ? msg.readUInt32BE(at) : msg.readUInt32BE(at) * 2 ** 32 + msg.readUInt32BE(at + 4));
      } else {
        expect(r.ok).toBe(false);
        expect(v).toBe(0);
        expect(r.status).toBe(at + size > 64 ? 'malformed' : m.missing > 0 ? 'truncated' : 'not-kept');
        expect(r.errorAt).toBe(at);
      }
    }
  });
});

// ---------------------------------------------------------------------------

describe('names', () => {
  it('names RFC values and prints unknown numbers as numbers', () => {
    expect(msgTypeName(CALL)).toBe('CALL');
    expect(msgTypeName(REPLY)).toBe('REPLY');
    expect(msgTypeName(2)).toBe('2');
    expect(replyStatName(MSG_DENIED)).toBe('MSG_DENIED');
    expect(rejectStatName(AUTH_ERROR)).toBe('AUTH_ERROR');
    expect(rejectStatName(9)).toBe('9');
    expect(acceptStatName(SYSTEM_ERR)).toBe('SYSTEM_ERR');
    expect(acceptStatName(99)).toBe('99');
    expect(authStatName(RPCSEC_GSS_CREDPROBLEM)).toBe('RPCSEC_GSS_CREDPROBLEM');
    expect(authStatName(15)).toBe('15');
    expect(flavorName(AUTH_SYS)).toBe('AUTH_SYS');
    expect(flavorName(RPCSEC_GSS)).toBe('RPCSEC_GSS');
    expect(flavorName(7)).toBe('AUTH_TLS');
    expect(flavorName(390004)).toBe('RPCSEC_GSS_KRB5I');
    expect(flavorName(8)).toBe('8');
    expect(gssProcName(RPCSEC_GSS_CONTINUE_INIT)).toBe('RPCSEC_GSS_CONTINUE_INIT');
    expect(gssProcName(4)).toBe('4');
    expect(gssServiceName(RPC_GSS_SVC_INTEGRITY)).toBe('rpc_gss_svc_integrity');
    expect(gssServiceName(0)).toBe('0');
  });
});

describe('RPC calls', () => {
  it('AUTH_NONE', () => {
    const buf = rpcCall({ xid: 0x11223344, prog: 100003, vers: 3, proc: 6 }, words(1, 2));
    const h = asCall(decode(buf));
    expect(h).toMatchObject({ xid: 0x11223344, rpcvers: 2, prog: 100003, vers: 3, proc: 6, truncated: false, malformed: false, errorAt: -1 });
    expect(h.cred).toEqual({ flavor: AUTH_NONE, length: 0, status: 'ok', sys: undefined, gss: undefined });
    expect(h.verf).toEqual({ flavor: AUTH_NONE, length: 0 });
    expect(h.wireBodyOffset).toBe(40);
    expect(h.bodyOffset).toBe(40);
    expect(h.bodyEnd).toBe(48);
    expect(h.bodyEncrypted).toBe(false);
  });

  it('AUTH_SYS with groups', () => {
    const cred = { stamp: 0x1234, machine: 'client1', uid: 1000, gid: 100, gids: [100, 200, 300] };
    const buf = rpcCall({ xid: 1, prog: 100003, vers: 3, proc: 1, cred }, words(9));
    const h = asCall(decode(buf));
    expect(h.cred.flavor).toBe(AUTH_SYS);
    expect(h.cred.length).toBe(40);
    expect(h.cred.status).toBe('ok');
    expect(h.cred.sys).toEqual(cred);
    expect(h.bodyOffset).toBe(80);
    expect(h.truncated || h.malformed).toBe(false);
  });

  it('AUTH_SYS with a memo: a body seen before is not decoded again, and reads the same', () => {
    const memo = new AuthSysMemo();
    const cred = { stamp: 0, machine: '(none)', uid: 1000, gid: 100, gids: [100, 200, 300] };
    const call = (xid: number, c: typeof cred): Buffer => rpcCall({ xid, prog: 100003, vers: 3, proc: 1, cred: c }, words(9));
    const a = asCall(decodeRpcHeader(XdrReader.over(call(1, cred)), memo));
    const b = asCall(decodeRpcHeader(XdrReader.over(call(2, cred)), memo));
    expect([memo.misses, memo.hits]).toEqual([1, 1]);
    expect(b.cred.sys).toBe(a.cred.sys);
    // Everything as decoded without the memo.
    expect(b).toEqual(asCall(decode(call(2, cred))));
    // The same length, first and last words (so the same slot), another group in the middle: decoded.
    const other = { ...cred, gids: [100, 201, 300] };
    const c = asCall(decodeRpcHeader(XdrReader.over(call(3, other)), memo));
    expect(c.cred.sys).toEqual(other);
    expect([memo.misses, memo.hits]).toEqual([2, 1]);
    // That one is remembered in turn (the slot's), and the first decoded again.
    expect(asCall(decodeRpcHeader(XdrReader.over(call(4, other)), memo)).cred.sys).toBe(c.cred.sys);
    expect(asCall(decodeRpcHeader(XdrReader.over(call(5, cred)), memo)).cred.sys).toEqual(cred);
    expect([memo.misses, memo.hits]).toEqual([3, 2]);
    // Another uid, another body: its own value.
    expect(asCall(decodeRpcHeader(XdrReader.over(call(6, { ...cred, uid: 0 })), memo)).cred.sys?.uid).toBe(0);
  });

  it('AUTH_SYS with a memo: a malformed body is never remembered, a body not in hand is decoded as without', () => {
    const memo = new AuthSysMemo();
    const gids = Array.from({ length: 17 }, (_, i) => i + 1);
    const body = authSysBody({ gids });
    const bad = (xid: number): Buffer => rpcCallRaw({ xid, prog: 100003, vers: 3, proc: 1, cred: { flavor: AUTH_SYS, body } }, words(5));
    for (const xid of [1, 2]) {
      const h = asCall(decodeRpcHeader(XdrReader.over(bad(xid)), memo));
      expect(h).toEqual(asCall(decode(bad(xid))));
      expect(h.cred.status).toBe('malformed');
    }
    expect(memo.hits).toBe(0);
    // The credential cut by the capture (a head of 40 bytes, the rest missing), after one seen whole.
    const cred = { machine: 'client7', uid: 7, gids: [7] };
    const whole = rpcCall({ xid: 3, prog: 100003, vers: 3, proc: 1, cred }, words(9));
    decodeRpcHeader(XdrReader.over(whole), memo);
    const cut: MessageBytes = { length: whole.length, head: whole.subarray(0, 40), tail: EMPTY, tailOffset: whole.length, missing: whole.length - 40 };
    const h = asCall(decodeRpcHeader(new XdrReader(cut), memo));
    expect(h).toEqual(asCall(decodeRpcHeader(new XdrReader(cut))));
    expect(h.cred.sys).toBeUndefined();
    expect(h.truncated).toBe(true);
  });

  it('AUTH_SYS with the most groups the RFC allows, and one too many', () => {
    const gids = Array.from({ length: 16 }, (_, i) => i + 1);
    const ok = asCall(decode(rpcCall({ xid: 1, prog: 100003, vers: 3, proc: 1, cred: { gids } }, EMPTY)));
    expect(ok.cred.sys?.gids).toEqual(gids);
    const body = authSysBody({ gids: [...gids, 17] });
    const bad = asCall(decode(rpcCallRaw({ xid: 1, prog: 100003, vers: 3, proc: 1, cred: { flavor: AUTH_SYS, body } }, words(5))));
    expect(bad.cred.status).toBe('malformed');
    expect(bad.cred.sys).toBeUndefined();
    expect(bad.malformed).toBe(true);
    // The credential's length still frames the header: the body is found.
    expect(bad.bodyOffset).toBe(32 + body.length + 8);
    expect(bad.verf).toEqual({ flavor: AUTH_NONE, length: 0 });
  });

  it('AUTH_SYS with a machine name above 255 bytes, or bytes left over, is malformed', () => {
    const body = new XdrWriter().u32(0).string('m'.repeat(256)).u32(0).u32(0).u32(0).bytes();
    // 4 + 4 + 256 + 12 = 276 bytes: within MAX_AUTH_BYTES, so only the body is bad.
    const h = asCall(decode(rpcCallRaw({ xid: 1, prog: 1, vers: 1, proc: 0, cred: { flavor: AUTH_SYS, body } }, EMPTY)));
    expect(h.cred.status).toBe('malformed');
    expect(h.bodyOffset).toBe(32 + body.length + 8);

    const extra = Buffer.concat([authSysBody({}), words(0)]);
    const e = asCall(decode(rpcCallRaw({ xid: 1, prog: 1, vers: 1, proc: 0, cred: { flavor: AUTH_SYS, body: extra } }, EMPTY)));
    expect(e.cred.status).toBe('malformed');
    expect(e.cred.sys).toBeUndefined();
  });

  it('other flavors: flavor and length, body skipped', () => {
    const h = asCall(
      decode(rpcCallRaw({ xid: 5, prog: 100003, vers: 4, proc: 0, cred: { flavor: 7, body: EMPTY }, verf: { flavor: 0, body: Buffer.from('STARTTLS') } }, EMPTY)),
    );
    expect(h.cred).toMatchObject({ flavor: 7, length: 0, status: 'ok' });
    expect(h.verf).toEqual({ flavor: 0, length: 8 });
    expect(h.bodyOffset).toBe(48);
    const dh = asCall(decode(rpcCallRaw({ xid: 5, prog: 1, vers: 1, proc: 0, cred: { flavor: 3, body: Buffer.alloc(13, 1) } }, EMPTY)));
    expect(dh.cred).toMatchObject({ flavor: 3, length: 13, status: 'ok', sys: undefined, gss: undefined });
    expect(dh.bodyOffset).toBe(32 + 16 + 8);
  });

  it('decodes from the reader position (after a record mark)', () => {
    const buf = rpcCall({ xid: 77, prog: 100005, vers: 3, proc: 1 }, words(1));
    const rm = Buffer.concat([words((0x80000000 | buf.length) >>> 0), buf]);
    const r = new XdrReader(wholeMessage(rm), 4);
    const h = asCall(decodeRpcHeader(r));
    expect(h.xid).toBe(77);
    expect(h.bodyOffset).toBe(44);
    expect(r.pos).toBe(44);
  });
});

describe('RPCSEC_GSS calls', () => {
  const handle = Buffer.from('ctx-handle-0001');
  const gssCall = (proc: number, service: number, body: Buffer, seq = 5) =>
    rpcCallRaw(
      {
        xid: 0x99,
        prog: 100003,
        vers: 4,
        proc: proc === RPCSEC_GSS_DATA || proc === RPCSEC_GSS_DESTROY ? 1 : 0,
        cred: { flavor: RPCSEC_GSS, body: gssCredBody({ proc, seq, service, handle }) },
        verf: { flavor: RPCSEC_GSS, body: Buffer.alloc(28, 0xcc) },
      },
      body,
    );
  // cred: 24 + 8 + (16 + 4 + 16) = 68; verf: 8 + 28 = 104.
  const WIRE_BODY = 104;

  it('INIT: the body is the context token, as it is', () => {
    const h = asCall(decode(gssCall(RPCSEC_GSS_INIT, RPC_GSS_SVC_NONE, new XdrWriter().opaque(Buffer.alloc(50)).bytes(), 0)));
    expect(h.cred.gss).toMatchObject({ version: 1, proc: RPCSEC_GSS_INIT, seq: 0, service: 1, serviceName: 'none' });
    expect(h.cred.gss!.context.equals(handle)).toBe(true);
    expect(h.verf).toEqual({ flavor: RPCSEC_GSS, length: 28 });
    expect(h.bodyOffset).toBe(WIRE_BODY);
    expect(h.bodyEncrypted).toBe(false);
  });

  it('INIT with integrity requested still carries the token unwrapped', () => {
    const h = asCall(decode(gssCall(RPCSEC_GSS_CONTINUE_INIT, RPC_GSS_SVC_INTEGRITY, new XdrWriter().opaque(Buffer.alloc(8)).bytes())));
    expect(h.cred.gss!.serviceName).toBe('integrity');
    expect(h.bodyOffset).toBe(WIRE_BODY);
  });

  it('DATA, service none: the arguments as usual', () => {
    const h = asCall(decode(gssCall(RPCSEC_GSS_DATA, RPC_GSS_SVC_NONE, words(1, 2, 3))));
    expect(h.cred.gss).toMatchObject({ proc: RPCSEC_GSS_DATA, seq: 5, serviceName: 'none' });
    expect(h.wireBodyOffset).toBe(WIRE_BODY);
    expect(h.bodyOffset).toBe(WIRE_BODY);
    expect(h.bodyEnd).toBe(WIRE_BODY + 12);
  });

  it('DATA, integrity: the arguments inside databody_integ', () => {
    const args = words(0xa, 0xb, 0xc);
    const buf = gssCall(RPCSEC_GSS_DATA, RPC_GSS_SVC_INTEGRITY, gssIntegrityBody(5, args, Buffer.alloc(28, 0xee)));
    const h = asCall(decode(buf));
    expect(h.cred.gss!.serviceName).toBe('integrity');
    expect(h.wireBodyOffset).toBe(WIRE_BODY);
    expect(h.bodyOffset).toBe(WIRE_BODY + 8);
    expect(h.bodyEnd).toBe(WIRE_BODY + 4 + 4 + args.length);
    expect(h.bodyEncrypted).toBe(false);
    const r = new XdrReader(wholeMessage(buf), h.bodyOffset, h.bodyEnd);
    expect([r.u32(), r.u32(), r.u32()]).toEqual([0xa, 0xb, 0xc]);
    expect(r.remaining).toBe(0);
  });

  it('DATA, integrity with an impossible databody length is malformed', () => {
    const buf = gssCall(RPCSEC_GSS_DATA, RPC_GSS_SVC_INTEGRITY, words(0x7fffffff, 1));
    const h = asCall(decode(buf));
    expect(h.malformed).toBe(true);
    expect(h.errorAt).toBe(WIRE_BODY);
    expect(h.bodyOffset).toBe(-1);
    const short = asCall(decode(gssCall(RPCSEC_GSS_DATA, RPC_GSS_SVC_INTEGRITY, words(2, 1))));
    expect(short.malformed).toBe(true);
  });

  it('DATA, privacy: the body is encrypted', () => {
    const h = asCall(decode(gssCall(RPCSEC_GSS_DATA, RPC_GSS_SVC_PRIVACY, new XdrWriter().opaque(Buffer.alloc(64, 0x5a)).bytes())));
    expect(h.cred.gss!.serviceName).toBe('privacy');
    expect(h.bodyEncrypted).toBe(true);
    expect(h.bodyOffset).toBe(-1);
    expect(h.bodyEnd).toBe(-1);
    expect(h.wireBodyOffset).toBe(WIRE_BODY);
    expect(h.truncated || h.malformed).toBe(false);
  });

  it('DESTROY is wrapped like DATA', () => {
    const h = asCall(decode(gssCall(RPCSEC_GSS_DESTROY, RPC_GSS_SVC_INTEGRITY, gssIntegrityBody(5, EMPTY, Buffer.alloc(4)))));
    expect(h.cred.gss!.proc).toBe(RPCSEC_GSS_DESTROY);
    expect(h.bodyOffset).toBe(WIRE_BODY + 8);
    expect(h.bodyEnd).toBe(WIRE_BODY + 8);
  });

  it('a GSS credential of another version, service or proc is malformed', () => {
    for (const c of [
      { proc: 0, seq: 1, service: 1, handle, version: 2 },
      { proc: 0, seq: 1, service: 4, handle },
      { proc: 0, seq: 1, service: 0, handle },
      { proc: 4, seq: 1, service: 1, handle },
    ]) {
      const h = asCall(decode(rpcCallRaw({ xid: 1, prog: 100003, vers: 4, proc: 1, cred: { flavor: RPCSEC_GSS, body: gssCredBody(c) } }, words(1))));
      expect(h.cred.status).toBe('malformed');
      expect(h.cred.gss).toBeUndefined();
      expect(h.malformed).toBe(true);
      // Unknown wrapping: no argument offset, but the header is framed.
      expect(h.bodyOffset).toBe(-1);
      expect(h.wireBodyOffset).toBeGreaterThan(0);
    }
  });
});

describe('RPC replies', () => {
  it('every accept_stat', () => {
    for (const stat of [SUCCESS, PROG_UNAVAIL, PROC_UNAVAIL, GARBAGE_ARGS, SYSTEM_ERR]) {
      const h = asReply(decode(rpcAcceptedReply(0x42, stat === SUCCESS ? words(0) : EMPTY, stat)));
      expect(h).toMatchObject({ xid: 0x42, replyStat: MSG_ACCEPTED, acceptStat: stat, truncated: false, malformed: false, errorAt: -1 });
      expect(h.verf).toEqual({ flavor: AUTH_NONE, length: 0 });
      expect(h.bodyOffset).toBe(stat === SUCCESS ? 24 : -1);
      expect(h.mismatch).toBeUndefined();
      expect(h.rejectStat).toBeUndefined();
      expect(h.authStat).toBeUndefined();
    }
    expect([0, 1, 2, 3, 4, 5].map(acceptStatName)).toEqual(['SUCCESS', 'PROG_UNAVAIL', 'PROG_MISMATCH', 'PROC_UNAVAIL', 'GARBAGE_ARGS', 'SYSTEM_ERR']);
  });

  it('PROG_MISMATCH with low and high', () => {
    const h = asReply(decode(rpcProgMismatchReply(7, 2, 3)));
    expect(h.acceptStat).toBe(PROG_MISMATCH);
    expect(h.mismatch).toEqual({ low: 2, high: 3 });
    expect(h.bodyOffset).toBe(-1);
    expect(h.malformed).toBe(false);
  });

  it('PROG_MISMATCH without its versions is malformed (message too short)', () => {
    const h = asReply(decode(rpcAcceptedReply(7, EMPTY, PROG_MISMATCH)));
    expect(h.acceptStat).toBe(PROG_MISMATCH);
    expect(h.mismatch).toBeUndefined();
    expect(h.malformed).toBe(true);
    expect(h.errorAt).toBe(24);
  });

  it('an accept_stat out of range is malformed', () => {
    const h = asReply(decode(rpcAcceptedReply(7, EMPTY, 6)));
    expect(h.acceptStat).toBe(6);
    expect(h.malformed).toBe(true);
    expect(h.errorAt).toBe(20);
    expect(h.bodyOffset).toBe(-1);
  });

  it('a verifier is skipped by its length', () => {
    const h = asReply(decode(rpcAcceptedReplyVerf(9, { flavor: RPCSEC_GSS, body: Buffer.alloc(37) }, words(0))));
    expect(h.verf).toEqual({ flavor: RPCSEC_GSS, length: 37 });
    expect(h.bodyOffset).toBe(20 + 40 + 4); // 37 bytes padded to 40
  });

  it('MSG_DENIED / RPC_MISMATCH', () => {
    const h = asReply(decode(rpcRpcMismatchReply(8, 2, 2)));
    expect(h).toMatchObject({ replyStat: MSG_DENIED, rejectStat: RPC_MISMATCH, mismatch: { low: 2, high: 2 }, malformed: false, truncated: false });
    expect(h.verf).toBeUndefined();
    expect(h.acceptStat).toBeUndefined();
    expect(h.authStat).toBeUndefined();
    expect(h.bodyOffset).toBe(-1);
  });

  it('MSG_DENIED / AUTH_ERROR with every auth_stat', () => {
    const names = [
      'AUTH_OK', 'AUTH_BADCRED', 'AUTH_REJECTEDCRED', 'AUTH_BADVERF', 'AUTH_REJECTEDVERF', 'AUTH_TOOWEAK',
      'AUTH_INVALIDRESP', 'AUTH_FAILED', 'AUTH_KERB_GENERIC', 'AUTH_TIMEEXPIRE', 'AUTH_TKT_FILE', 'AUTH_DECODE',
      'AUTH_NET_ADDR', 'RPCSEC_GSS_CREDPROBLEM', 'RPCSEC_GSS_CTXPROBLEM',
    ];
    for (let stat = 0; stat <= 15; stat++) {
      const h = asReply(decode(rpcAuthErrorReply(0x10 + stat, stat)));
      expect(h).toMatchObject({ xid: 0x10 + stat, replyStat: MSG_DENIED, rejectStat: AUTH_ERROR, authStat: stat, malformed: false, truncated: false });
      expect(h.mismatch).toBeUndefined();
      expect(authStatName(stat)).toBe(names[stat] ?? String(stat));
    }
    expect(RPCSEC_GSS_CREDPROBLEM).toBe(13);
    expect(RPCSEC_GSS_CTXPROBLEM).toBe(14);
  });

  it('a reject_stat out of range is malformed', () => {
    const h = asReply(decode(words(1, REPLY, MSG_DENIED, 2)));
    expect(h.rejectStat).toBe(2);
    expect(h.malformed).toBe(true);
  });

  it('RPCSEC_GSS integrity results: gssIntegrityBodyOffset', () => {
    const results = words(0, 1, 2);
    const buf = rpcAcceptedReplyVerf(3, { flavor: RPCSEC_GSS, body: Buffer.alloc(28) }, gssIntegrityBody(11, results, Buffer.alloc(28)));
    const h = asReply(decode(buf));
    const r = new XdrReader(wholeMessage(buf), h.bodyOffset);
    const off = gssIntegrityBodyOffset(r);
    expect(off).toBe(h.bodyOffset + 8);
    expect(r.pos).toBe(off);
    expect([r.u32(), r.u32(), r.u32()]).toEqual([0, 1, 2]);
    // Cut inside the wrapping: -1, and the reader says why.
    const cut = new XdrReader(cutMessage(buf, h.bodyOffset + 6), h.bodyOffset);
    expect(gssIntegrityBodyOffset(cut)).toBe(-1);
    expect(cut.status).toBe('truncated');
    const bad = XdrReader.over(words(0xffff, 1));
    expect(gssIntegrityBodyOffset(bad)).toBe(-1);
    expect(bad.status).toBe('malformed');
  });
});

describe('invalid and malformed headers', () => {
  it('rpcvers 3 is invalid', () => {
    const buf = rpcCallRaw({ xid: 3, prog: 100003, vers: 3, proc: 0, rpcvers: 3, cred: { flavor: 0, body: EMPTY } }, EMPTY);
    expect(asInvalid(decode(buf))).toEqual({ kind: 'invalid', xid: 3, msgType: CALL, reason: 'rpc-version', at: 8, truncated: false });
  });

  it('a msg_type other than CALL or REPLY is invalid', () => {
    expect(asInvalid(decode(words(5, 2, 2, 100003, 3, 0, 0, 0, 0, 0)))).toMatchObject({ xid: 5, msgType: 2, reason: 'msg-type', at: 4 });
  });

  it('a reply_stat other than MSG_ACCEPTED or MSG_DENIED is invalid', () => {
    expect(asInvalid(decode(words(5, REPLY, 2, 0, 0, 0)))).toMatchObject({ xid: 5, msgType: REPLY, reason: 'reply-stat', at: 8 });
  });

  it('a message shorter than the fixed header is too short', () => {
    expect(asInvalid(decode(words(5, CALL, 2, 100003)))).toMatchObject({ xid: 5, msgType: CALL, reason: 'too-short', at: 16, truncated: false });
    expect(asInvalid(decode(Buffer.from([1, 2])))).toMatchObject({ xid: undefined, reason: 'too-short', at: 0 });
    expect(asInvalid(decode(EMPTY))).toMatchObject({ xid: undefined, reason: 'too-short', at: 0 });
  });

  it('an absurd credential length: the call is malformed', () => {
    const buf = words(1, CALL, 2, 100003, 3, 0, AUTH_SYS, 0xfffffff0, 0, 0);
    const h = asCall(decode(buf));
    expect(h).toMatchObject({ xid: 1, prog: 100003, vers: 3, proc: 0, malformed: true, truncated: false, errorAt: 28, bodyOffset: -1 });
    expect(h.cred).toMatchObject({ flavor: AUTH_SYS, length: -1, status: 'malformed' });
  });

  it('a credential above MAX_AUTH_BYTES is malformed, even if the message holds it', () => {
    const body = Buffer.alloc(MAX_AUTH_BYTES + 4);
    const h = asCall(decode(rpcCallRaw({ xid: 1, prog: 1, vers: 1, proc: 0, cred: { flavor: 9, body } }, EMPTY)));
    expect(h.malformed).toBe(true);
    expect(h.cred.status).toBe('malformed');
    const max = asCall(decode(rpcCallRaw({ xid: 1, prog: 1, vers: 1, proc: 0, cred: { flavor: 9, body: Buffer.alloc(MAX_AUTH_BYTES) } }, EMPTY)));
    expect(max.malformed).toBe(false);
  });

  it('a verifier above MAX_AUTH_BYTES is malformed', () => {
    const h = asCall(decode(rpcCallRaw({ xid: 1, prog: 1, vers: 1, proc: 0, cred: { flavor: 0, body: EMPTY }, verf: { flavor: 0, body: Buffer.alloc(404) } }, EMPTY)));
    expect(h.malformed).toBe(true);
    expect(h.errorAt).toBe(36);
    expect(h.verf).toEqual({ flavor: 0, length: -1 });
    const r = asReply(decode(rpcAcceptedReplyVerf(1, { flavor: 6, body: Buffer.alloc(404) }, EMPTY)));
    expect(r.malformed).toBe(true);
    expect(r.acceptStat).toBeUndefined();
  });

  it('fuzz: random bytes and mutated headers never throw, and decode as a call, a reply or invalid', () => {
    const rand = rng(1234);
    const base = [
      rpcCall({ xid: 1, prog: 100003, vers: 3, proc: 1, cred: { machine: 'abc', gids: [1, 2] } }, words(1, 2)),
      rpcCallRaw({ xid: 2, prog: 100003, vers: 4, proc: 1, cred: { flavor: RPCSEC_GSS, body: gssCredBody({ proc: 0, seq: 1, service: 2, handle: Buffer.alloc(8) }) } }, gssIntegrityBody(1, words(3), Buffer.alloc(8))),
      rpcAuthErrorReply(3, 13),
      rpcProgMismatchReply(4, 2, 4),
    ];
    for (let n = 0; n < 3000; n++) {
      const src = base[n % base.length]!;
      const buf = Buffer.from(src);
      const flips = randInt(rand, 1, 4);
      for (let i = 0; i < flips; i++) buf[randInt(rand, 0, buf.length)] = randInt(rand, 0, 256);
      const len = randInt(rand, 0, buf.length + 1);
      const cut = randInt(rand, 0, len + 1);
      const m = cutMessage(buf.subarray(0, len), cut, rand() < 0.5);
      const h = decodeRpcHeader(new XdrReader(m));
      expect(['call', 'reply', 'invalid']).toContain(h.kind);
    }
  });
});

describe('truncation at every byte of a header', () => {
  // AUTH_SYS call: fixed part 0..24, cred flavor 24, length 28, body 32..72
  // (stamp 32, machine length 36, 'client1' 40..47 + pad, uid 48, gid 52,
  // gids count 56, gids 60 64 68), verf 72/76, arguments 80..88.
  const cred = { stamp: 9, machine: 'client1', uid: 1000, gid: 100, gids: [100, 200, 300] };
  const call = rpcCall({ xid: 0xabcd, prog: 100003, vers: 3, proc: 4, cred }, words(1, 2));
  const fields: [number, number][] = [
    [0, 4], [4, 4], [8, 4], [12, 4], [16, 4], [20, 4], [24, 4], [28, 4],
    [32, 4], [36, 4], [40, 7], [48, 4], [52, 4], [56, 4], [60, 4], [64, 4], [68, 4], [72, 4], [76, 4],
  ];
  const firstMissing = (cut: number) => fields.find(([at, n]) => at + n > cut)?.[0] ?? -1;

  for (const notKept of [false, true]) {
    it(`a call cut at every offset (${notKept ? 'not kept' : 'not captured'})`, () => {
      expect(call.length).toBe(88);
      const status = notKept ? 'not-kept' : 'truncated';
      for (let cut = 0; cut <= call.length; cut++) {
        const r = new XdrReader(cutMessage(call, cut, notKept));
        const h = decodeRpcHeader(r);
        const stop = firstMissing(cut);
        if (cut < 24) {
          const inv = asInvalid(h);
          expect(inv.reason).toBe('truncated');
          expect(inv.truncated).toBe(true);
          expect(inv.at).toBe(stop);
          expect(inv.xid).toBe(cut >= 4 ? 0xabcd : undefined);
          expect(inv.msgType).toBe(cut >= 8 ? CALL : undefined);
          expect(r.status).toBe(status);
          continue;
        }
        const c = asCall(h);
        expect([c.xid, c.prog, c.vers, c.proc]).toEqual([0xabcd, 100003, 3, 4]);
        if (cut >= 80) {
          expect(c.truncated).toBe(false);
          expect(c.errorAt).toBe(-1);
          expect(c.bodyOffset).toBe(80);
          expect(c.cred.sys).toEqual(cred);
          continue;
        }
        expect(c.truncated).toBe(true);
        expect(c.malformed).toBe(false);
        expect(c.errorAt).toBe(stop);
        expect(c.bodyOffset).toBe(-1);
        expect(c.wireBodyOffset).toBe(-1);
        expect(c.cred.flavor).toBe(cut >= 28 ? AUTH_SYS : -1);
        expect(c.cred.length).toBe(cut >= 32 ? 40 : -1);
        expect(c.cred.status).toBe(cut >= 72 ? 'ok' : status);
        expect(c.cred.sys).toEqual(cut >= 72 ? cred : undefined);
        expect(c.verf).toEqual(cut >= 80 ? { flavor: 0, length: 0 } : cut >= 76 ? { flavor: 0, length: -1 } : { flavor: -1, length: -1 });
      }
    });
  }

  it('a reply cut at every offset', () => {
    const reply = rpcAcceptedReplyVerf(0x55, { flavor: RPCSEC_GSS, body: Buffer.alloc(8, 1) }, words(0));
    // xid 0, msg_type 4, reply_stat 8, verf flavor 12, length 16, body 20..28, accept_stat 28, results 32.
    for (let cut = 0; cut <= reply.length; cut++) {
      const h = decodeRpcHeader(new XdrReader(cutMessage(reply, cut)));
      if (cut < 12) {
        expect(asInvalid(h)).toMatchObject({ reason: 'truncated', truncated: true, at: Math.floor(cut / 4) * 4 });
        continue;
      }
      const r = asReply(h);
      expect([r.xid, r.replyStat]).toEqual([0x55, MSG_ACCEPTED]);
      expect(r.truncated).toBe(cut < 32);
      expect(r.verf).toEqual(cut >= 20 ? { flavor: RPCSEC_GSS, length: 8 } : cut >= 16 ? { flavor: RPCSEC_GSS, length: -1 } : { flavor: -1, length: -1 });
      // The verifier body need not be captured to be skipped.
      expect(r.acceptStat).toBe(cut >= 32 ? SUCCESS : undefined);
      expect(r.bodyOffset).toBe(cut >= 32 ? 32 : -1);
      expect(r.errorAt).toBe(cut >= 32 ? -1 : cut >= 20 ? 28 : Math.floor(cut / 4) * 4);
    }
  });

  it('denied replies cut at every offset', () => {
    for (const reply of [rpcAuthErrorReply(1, RPCSEC_GSS_CTXPROBLEM), rpcRpcMismatchReply(1, 2, 2)]) {
      for (let cut = 0; cut <= reply.length; cut++) {
        const h = decodeRpcHeader(new XdrReader(cutMessage(reply, cut)));
        if (cut < 12) {
          expect(asInvalid(h).reason).toBe('truncated');
          continue;
        }
        const r = asReply(h);
        expect(r.replyStat).toBe(MSG_DENIED);
        expect(r.truncated).toBe(cut < reply.length);
        expect(r.rejectStat).toBe(cut >= 16 ? reply.readUInt32BE(12) : undefined);
        if (cut < reply.length) {
          expect(r.authStat).toBeUndefined();
          expect(r.mismatch).toBeUndefined();
        }
      }
    }
  });

  it('a header in the head of a message whose bulk was not kept decodes whole', () => {
    // A WRITE-like call: header, then 8 KB of data of which only head and tail are kept.
    const args = new XdrWriter().opaque(Buffer.alloc(32)).u64(0).u32(8192).u32(2).opaque(Buffer.alloc(8192, 0x61)).bytes();
    const buf = rpcCall({ xid: 0x77, prog: 100003, vers: 3, proc: 7, cred: { uid: 1 } }, args);
    const h = asCall(decodeRpcHeader(new XdrReader(headTail(buf, 512, buf.length - 64))));
    expect(h.truncated).toBe(false);
    expect(h.bodyOffset).toBe(buf.length - args.length);
    expect(h.cred.sys?.uid).toBe(1);
  });
});

// ---------------------------------------------------------------------------
// Real messages from captures/nfsv3-errors.pcap (libnfs 4.0.0 client ->
// nfs-ganesha). The hex is each frame's TCP payload, record mark included,
// as printed by
//   tshark -r captures/nfsv3-errors.pcap -Y 'frame.number==N' -T fields -e tcp.payload
// Frame 16: NFSv3 NULL call, AUTH_SYS uid 0, machine "libnfs".
// Frame 18: its reply (accepted, SUCCESS, no results).
// Frame 54: MOUNTv3 MNT call for "/export", AUTH_SYS uid/gid 1000.
// Frame 55: its reply: MNT3_OK, a file handle, one auth flavor (AUTH_SYS).

const FRAME16 = hex(`80000044213f74340000000000000002000186a30000000300000000000000010000001c0008743100000006
  6c69626e667300000000000000000000000000000000000000000000`);
const FRAME18 = hex('80000018213f74340000000100000000000000000000000000000000');
const FRAME54 = hex(`800000502148744a0000000000000002000186a50000000300000001000000010000001c0008744900000006
  6c69626e66730000000003e8000003e8000000000000000000000000000000072f6578706f727400`);
const FRAME55 = hex(`800000402148744a00000001000000000000000000000000000000000000000000000018430000011244ceee
  f57cd50464260156c120009586add8000000000100000001`);

describe('real messages (captures/nfsv3-errors.pcap)', () => {
  const at4 = (b: Buffer) => decodeRpcHeader(new XdrReader(wholeMessage(b), 4));

  it('frame 16: NFSv3 NULL call with AUTH_SYS', () => {
    expect(FRAME16.readUInt32BE(0)).toBe((0x80000000 | (FRAME16.length - 4)) >>> 0);
    const h = asCall(at4(FRAME16));
    expect(h).toMatchObject({ xid: 0x213f7434, rpcvers: 2, prog: 100003, vers: 3, proc: 0, truncated: false, malformed: false });
    expect(h.cred).toEqual({
      flavor: AUTH_SYS,
      length: 28,
      status: 'ok',
      sys: { stamp: 0x00087431, machine: 'libnfs', uid: 0, gid: 0, gids: [] },
      gss: undefined,
    });
    expect(h.verf).toEqual({ flavor: AUTH_NONE, length: 0 });
    expect(h.bodyOffset).toBe(FRAME16.length); // NULL: no arguments
    expect(h.bodyEnd).toBe(FRAME16.length);
  });

  it('frame 18: the NULL reply', () => {
    const h = asReply(at4(FRAME18));
    expect(h).toMatchObject({ xid: 0x213f7434, replyStat: MSG_ACCEPTED, acceptStat: SUCCESS, bodyOffset: FRAME18.length, truncated: false, malformed: false });
  });

  it('frame 54: MNT call; frame 55: its reply', () => {
    const c = asCall(at4(FRAME54));
    expect(c).toMatchObject({ xid: 0x2148744a, prog: 100005, vers: 3, proc: 1 });
    expect(c.cred.sys).toEqual({ stamp: 0x00087449, machine: 'libnfs', uid: 1000, gid: 1000, gids: [] });
    const args = new XdrReader(wholeMessage(FRAME54), c.bodyOffset);
    expect(args.string(1024)).toBe('/export');
    expect(args.remaining).toBe(0);

    const r = asReply(at4(FRAME55));
    expect(r).toMatchObject({ xid: 0x2148744a, acceptStat: SUCCESS });
    const res = new XdrReader(wholeMessage(FRAME55), r.bodyOffset);
    expect(res.u32()).toBe(0); // MNT3_OK
    expect(res.opaque(64).length).toBe(24); // fhandle3
    expect(res.array(16, (x) => x.u32())).toEqual([AUTH_SYS]);
    expect(res.remaining).toBe(0);
    expect(res.ok).toBe(true);
  });

  it('frame 54 cut by a snaplen at every offset keeps xid/prog/vers/proc', () => {
    const msg = FRAME54.subarray(4);
    for (let cut = 24; cut < msg.length; cut++) {
      const h = asCall(decodeRpcHeader(new XdrReader(cutMessage(msg, cut))));
      expect([h.xid, h.prog, h.vers, h.proc]).toEqual([0x2148744a, 100005, 3, 1]);
      expect(h.truncated).toBe(cut < 68); // the header ends at 68; the rest is arguments
    }
  });

  it('every RPC message of the capture decodes, calls and replies pairing up', () => {
    // A minimal walk of the classic pcap: Ethernet, IPv4, TCP; each RPC
    // message of this capture is one record in one segment (tshark agrees:
    // 79 calls, 79 replies, all accepted SUCCESS).
    const pcap = readFileSync(join(CAPTURES, 'nfsv3-errors.pcap'));
    expect(pcap.readUInt32LE(0)).toBe(0xa1b2c3d4);
    const calls = new Map<number, RpcCallHeader>();
    let replies = 0;
    for (let off = 24; off + 16 <= pcap.length; ) {
      const incl = pcap.readUInt32LE(off + 8);
      const frame = pcap.subarray(off + 16, off + 16 + incl);
      off += 16 + incl;
      if (frame.readUInt16BE(12) !== 0x0800) continue;
      const ip = frame.subarray(14);
      const ihl = (ip[0]! & 0x0f) * 4;
      if (ip[9] !== 6) continue;
      const tcp = ip.subarray(ihl, ip.readUInt16BE(2));
      const payload = tcp.subarray((tcp[12]! >> 4) * 4);
      if (payload.length === 0) continue;
      const mark = payload.readUInt32BE(0);
      expect(mark >>> 31).toBe(1);
      expect((mark & 0x7fffffff) + 4).toBe(payload.length);
      const h = decodeRpcHeader(new XdrReader(wholeMessage(payload), 4));
      expect(h.kind).not.toBe('invalid');
      if (h.kind === 'call') {
        expect(h.truncated || h.malformed).toBe(false);
        expect(h.cred.flavor).toBe(AUTH_SYS);
        expect(h.cred.sys?.machine).toBe('libnfs');
        expect([0, 1000]).toContain(h.cred.sys?.uid);
        expect(h.bodyOffset).toBe(4 + 24 + 8 + 28 + 8);
        calls.set(h.xid, h);
      } else if (h.kind === 'reply') {
        replies++;
        expect(h).toMatchObject({ replyStat: MSG_ACCEPTED, acceptStat: SUCCESS, truncated: false, malformed: false, bodyOffset: 28 });
        expect(calls.has(h.xid)).toBe(true);
      }
    }
    expect(calls.size).toBe(79);
    expect(replies).toBe(79);
  });
});
