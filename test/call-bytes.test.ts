/**
 * The ring of compact waiting calls' bytes (src/rpc/call-bytes.ts) and the
 * store that uses it (src/rpc/waiting-calls.ts): whatever the order calls
 * are answered in, and however long one waits, a call's bytes read back as
 * they were given: from the ring while it has not gone round, from the
 * string the call took when it was about to.
 */
import { describe, expect, it } from 'vitest';
import { CallBytesRing } from '../src/rpc/call-bytes.js';
import { NONE, T_TCP, WaitingCalls, type CompactCall } from '../src/rpc/waiting-calls.js';
import type { Endpoint } from '../src/transport/stream.js';
import { randInt, rng } from './gen/random.js';

const A: Endpoint = { addr: '10.0.0.1', port: 801 };
const B: Endpoint = { addr: '10.0.0.2', port: 2049 };

function bytesOf(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = randInt(r, 0, 256);
  return b;
}

describe('CallBytesRing', () => {
  it('tells an owner before its bytes are written over, with the bytes still there; others read back as put (random model, 20,000 puts)', () => {
    const r = rng(11);
    // Owner → its offset and bytes while it cares (a waiting call); spilled owners keep the text.
    const live = new Map<number, { off: number; bytes: Buffer; putBefore: number }>();
    const spilled = new Map<number, string>();
    let putSoFar = 0;
    let ring!: CallBytesRing;
    ring = new CallBytesRing((owner, off, len) => {
      const l = live.get(owner);
      if (l === undefined || l.off !== off) return;
      expect(len).toBe(l.bytes.length);
      // Only once the ring went round: all of it but this call, an end skipped and the call being put (putMax each at most).
      expect(putSoFar - l.putBefore).toBeGreaterThanOrEqual(4096 - len - 2 * ring.putMax);
      const text = ring.text(off, len);
      expect(text).toBe(l.bytes.toString('latin1'));
      spilled.set(owner, text);
      live.delete(owner);
    }, 4096);
    expect(ring.putMax).toBe(256);
    let spills = 0;
    for (let owner = 0; owner < 20_000; owner++) {
      const bytes = bytesOf(r, randInt(r, 1, ring.putMax + 1));
      const putBefore = putSoFar;
      const off = ring.put(owner, bytes);
      putSoFar += bytes.length;
      expect(off + bytes.length).toBeLessThanOrEqual(4096);
      live.set(owner, { off, bytes, putBefore: putBefore + bytes.length });
      // Answered: most soon, a few never.
      for (const [o] of live) {
        if (o !== owner && r() < 0.3 && o % 50 !== 0) live.delete(o);
      }
      if (owner % 97 === 0) {
        for (const [, l] of live) expect(ring.view(l.off, l.bytes.length).equals(l.bytes)).toBe(true);
      }
      spills = spilled.size;
    }
    for (const [, l] of live) expect(ring.view(l.off, l.bytes.length).equals(l.bytes)).toBe(true);
    // The calls never answered went round and were spilled, each once (and a few answered late).
    expect(spills).toBeGreaterThan(300);
    expect([...spilled.keys()].filter((o) => o % 50 === 0).length).toBeGreaterThanOrEqual(390);
    expect(ring.regions).toBeLessThanOrEqual(4096 / 32);
  });
});

describe('waiting calls keep compact calls\' bytes in the ring', () => {
  const compact = (xid: number, length: number): CompactCall => ({
    xid,
    prog: 100003,
    vers: 3,
    proc: 1,
    fileIndex: 0,
    number: xid,
    tsSec: 0,
    tsNsec: 0,
    length,
    bodyOffset: 40,
  });

  it('a call answered at once, late (after the ring went round) or never reads back its bytes; records are reused', () => {
    const r = rng(5);
    const w = new WaitingCalls();
    const d = w.makeDir(T_TCP, 2, undefined, 1, A, B);
    const given = new Map<number, Buffer>();
    let checked = 0;
    // 6,000 calls of 100-400 bytes (1.5 MB: the 256 KB ring goes round several times), and some of 20 KB (kept as strings).
    for (let xid = 1; xid <= 6000; xid++) {
      const n = xid % 500 === 0 ? 20_000 : randInt(r, 100, 401);
      const bytes = bytesOf(r, n);
      given.set(xid, Buffer.from(bytes));
      w.addCall(d, xid, compact(xid, n), bytes, undefined, undefined, 90 + n);
      bytes.fill(0); // the store copied them
      // Answer some at random: most recent ones, and now and then an old one.
      if (r() < 0.8) {
        const pick = r() < 0.9 ? xid - randInt(r, 0, 5) : randInt(r, 1, xid + 1);
        const c = w.findCall(d, pick);
        if (c !== NONE) {
          expect(w.callHead(c).equals(given.get(pick)!), `xid ${pick}`).toBe(true);
          w.removeCall(c);
          given.delete(pick);
          checked++;
        }
      }
    }
    // The rest: unanswered at the end, oldest first.
    for (let c = w.oldestCall(d); c !== NONE; c = w.oldestCall(d)) {
      const xid = w.callXid(c);
      expect(w.callHead(c).equals(given.get(xid)!), `xid ${xid}`).toBe(true);
      w.removeCall(c);
      given.delete(xid);
      checked++;
    }
    expect(given.size).toBe(0);
    expect(checked).toBeGreaterThan(5000);
  });
});
