/**
 * Summary-only decoding (decoders/xdr.ts `summaryOnly`, used by analyze()
 * without a listener): a reply decoded for its summary must give the same
 * status, byte counts, handles, ops and stop as the full decoding, on every
 * reply of every bundled capture and of a generated metadata mix, and on
 * each of those replies cut short at every word (truncated: bytes the
 * capture missed) and ended early (malformed: a message shorter than its
 * fields). Only `results` may differ.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCapture } from '../bench/generate.js';
import type { MessageBytes } from '../decoders/bytes.js';
import type { DecodedCall, DecodedReply } from '../decoders/decoded.js';
import { decoderFor } from '../decoders/registry.js';
import { XdrReader } from '../decoders/xdr.js';
import { analyze } from '../src/analyze.js';
import { DecodeStage } from '../src/nfs/decode-stage.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { bundledCaptures, CAPTURES, tempDir } from './helpers.js';

const EMPTY = Buffer.alloc(0);

function summaryOf(d: DecodedReply): Omit<DecodedReply, 'results'> {
  const { results: _results, ...rest } = d;
  return rest;
}

function decodeReply(t: Transaction, body: MessageBytes, call: DecodedCall | undefined, summaryOnly: boolean): DecodedReply {
  const r = new XdrReader(body, t.reply!.bodyOffset);
  r.summaryOnly = summaryOnly;
  return decoderFor(t.program, t.version, false)!.decodeReply(r, t.version, t.procedure, call);
}

/** The reply bytes with only the first `keep` bytes captured (the rest missed: truncated). */
function cut(body: MessageBytes, keep: number): MessageBytes {
  return { length: body.length, head: body.head.subarray(0, keep), tail: EMPTY, tailOffset: body.length, missing: body.length - keep };
}

/** The reply bytes as a message that ends after `length` bytes (reads beyond: malformed). */
function ended(body: MessageBytes, length: number): MessageBytes {
  return { length, head: body.head.subarray(0, length), tail: EMPTY, tailOffset: length, missing: 0 };
}

interface Checked {
  replies: number;
  cuts: number;
  withHandles: number;
  withoutAttributes: number;
}

/** Compares summary and full decoding of every NFS reply of a capture (and of the cut copies of `cutProcs` replies). */
async function check(file: string, cutEvery: number): Promise<Checked> {
  const out: Checked = { replies: 0, cuts: 0, withHandles: 0, withoutAttributes: 0 };
  const mismatches: string[] = [];
  let n = 0;
  await analyze(file, {
    onTransaction: (t) => {
      if (t.reply === undefined || t.reply.bodyOffset < 0 || t.program !== 100003 || decoderFor(t.program, t.version, false) === undefined) return;
      const call = t.decoded?.call;
      const body = t.reply.body;
      const full = decodeReply(t, body, call, false);
      const summary = decodeReply(t, body, call, true);
      out.replies++;
      if (full.handles !== undefined) out.withHandles++;
      if (JSON.stringify(full.results).includes('"attributes"') && !JSON.stringify(summary.results).includes('"attributes"')) out.withoutAttributes++;
      if (JSON.stringify(summaryOf(full)) !== JSON.stringify(summaryOf(summary))) mismatches.push(`${file} frame ${t.reply.frame.number}: ${JSON.stringify(summaryOf(summary))} vs ${JSON.stringify(summaryOf(full))}`);
      // Cut copies of every cutEvery-th reply that has bytes beyond its status (all of them in the bundled captures).
      // NFSv4 decoders read no summaryOnly: their replies are compared whole only.
      if (t.version !== 3 || body.head.length < body.length || n++ % cutEvery !== 0) return;
      for (let keep = t.reply.bodyOffset; keep < body.length; keep += 4) {
        for (const b of [cut(body, keep), ended(body, keep), ended(body, keep + 2)]) {
          const f = summaryOf(decodeReply(t, b, call, false));
          const s = summaryOf(decodeReply(t, b, call, true));
          out.cuts++;
          if (JSON.stringify(f) !== JSON.stringify(s)) mismatches.push(`${file} frame ${t.reply.frame.number} cut at ${keep}: ${JSON.stringify(s)} vs ${JSON.stringify(f)}`);
        }
      }
    },
  });
  expect(mismatches.slice(0, 5)).toEqual([]);
  return out;
}

describe('summary-only reply decoding', () => {
  it('gives the same summary and stop as the full decoding on every NFS reply of the bundled captures, whole and cut at every word', async () => {
    let replies = 0;
    let cuts = 0;
    for (const name of bundledCaptures()) {
      const c = await check(join(CAPTURES, name), 3);
      replies += c.replies;
      cuts += c.cuts;
    }
    expect(replies).toBeGreaterThan(1000);
    expect(cuts).toBeGreaterThan(4_000);
  });

  it('on a generated metadata mix: READDIRPLUS handles kept, attributes left out of the results', async () => {
    const file = join(tempDir(), 'meta.pcap');
    generateCapture(file, 1 << 20, 'meta');
    const c = await check(file, 25);
    expect(c.replies).toBeGreaterThan(500);
    expect(c.withHandles).toBeGreaterThan(50);
    expect(c.withoutAttributes).toBeGreaterThan(100);
    expect(c.cuts).toBeGreaterThan(1000);
  });

  it('a listener gets the full results; a summary-only decode stage leaves the attributes out', async () => {
    const file = join(tempDir(), 'meta-listener.pcap');
    generateCapture(file, 200_000, 'meta');
    const stage = new DecodeStage(undefined, undefined, undefined, true);
    let full = 0;
    let summary = 0;
    await analyze(file, {
      onTransaction: (t) => {
        if (t.version !== 3) return;
        const decoded = t.decoded;
        if (JSON.stringify(decoded?.reply?.results ?? {}).includes('"attributes"')) full++;
        stage.transaction(t);
        if (JSON.stringify(t.decoded?.reply?.results ?? {}).includes('"attributes"')) summary++;
        expect(t.decoded?.reply?.status).toBe(decoded?.reply?.status);
        t.decoded = decoded;
      },
    });
    expect(full).toBeGreaterThan(10);
    expect(summary).toBe(0);
  });
});
