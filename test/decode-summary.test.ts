/**
 * Summary-only decoding (decoders/xdr.ts `summaryOnly`, used by analyze()
 * without a listener): a reply decoded for its summary must give the same
 * status, byte counts, handles, ops and stop as the full decoding, on every
 * reply of every bundled capture and of a generated metadata mix, and on
 * each of those replies cut short at every word (truncated: bytes the
 * capture missed) and ended early (malformed: a message shorter than its
 * fields). Only `results` may differ: for NFSv3 in full; for NFSv4 only in
 * the fattr4 attribute lists (all but `filehandle` left out), since the
 * NFSv4 state walk reads the other results.
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

/** What a summary-only decoding keeps of an NFSv4 reply's results: fattr4 lists with their filehandle only. */
function keptOfResults(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(keptOfResults);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    if (k === 'skipped' && 'attrs' in o) continue;
    if (k === 'attrs' && x !== null && typeof x === 'object' && !Array.isArray(x)) {
      const fh = (x as { filehandle?: unknown }).filehandle;
      out[k] = fh === undefined ? {} : { filehandle: fh };
    } else out[k] = keptOfResults(x);
  }
  return out;
}

/** The fields a summary-only decoding must give as the full one does: all but NFSv3 `results`; NFSv4 results but their attributes. */
function summaryOf(d: DecodedReply, version: number): Omit<DecodedReply, 'results'> & { kept?: unknown } {
  const { results, ...rest } = d;
  return version === 4 ? { ...rest, kept: keptOfResults(results) } : rest;
}

/** Whether a decoded NFSv4 reply holds a fattr4 attribute other than filehandle. */
function hasV4Attributes(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasV4Attributes);
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  const attrs = o.attrs;
  if (attrs !== null && typeof attrs === 'object' && Object.keys(attrs).some((k) => k !== 'filehandle')) return true;
  return Object.values(o).some(hasV4Attributes);
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
  /** NFSv4 replies, those with attributes (fattr4) the summary left out, and the cut copies of NFSv4 replies. */
  v4Replies: number;
  v4WithoutAttributes: number;
  v4Cuts: number;
}

/** Compares summary and full decoding of every NFS reply of a capture (and of the cut copies of `cutProcs` replies). */
async function check(file: string, cutEvery: number): Promise<Checked> {
  const out: Checked = { replies: 0, cuts: 0, withHandles: 0, withoutAttributes: 0, v4Replies: 0, v4WithoutAttributes: 0, v4Cuts: 0 };
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
      if (t.version === 4) {
        out.v4Replies++;
        if (hasV4Attributes(full.results) && !hasV4Attributes(summary.results)) out.v4WithoutAttributes++;
      }
      const v = t.version;
      if (JSON.stringify(summaryOf(full, v)) !== JSON.stringify(summaryOf(summary, v))) mismatches.push(`${file} frame ${t.reply.frame.number}: ${JSON.stringify(summaryOf(summary, v))} vs ${JSON.stringify(summaryOf(full, v))}`);
      // Cut copies of every cutEvery-th reply that has bytes beyond its status (all of them in the bundled captures).
      if (body.head.length < body.length || n++ % cutEvery !== 0) return;
      for (let keep = t.reply.bodyOffset; keep < body.length; keep += 4) {
        for (const b of [cut(body, keep), ended(body, keep), ended(body, keep + 2)]) {
          const f = summaryOf(decodeReply(t, b, call, false), v);
          const s = summaryOf(decodeReply(t, b, call, true), v);
          out.cuts++;
          if (v === 4) out.v4Cuts++;
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
    let v4Replies = 0;
    let v4WithoutAttributes = 0;
    let v4Cuts = 0;
    for (const name of bundledCaptures()) {
      const c = await check(join(CAPTURES, name), 3);
      replies += c.replies;
      cuts += c.cuts;
      v4Replies += c.v4Replies;
      v4WithoutAttributes += c.v4WithoutAttributes;
      v4Cuts += c.v4Cuts;
    }
    expect(replies).toBeGreaterThan(1000);
    expect(cuts).toBeGreaterThan(4_000);
    // NFSv4 too (fattr4 left out of the summary): whole and cut.
    expect(v4Replies).toBeGreaterThan(300);
    expect(v4WithoutAttributes).toBeGreaterThan(50);
    expect(v4Cuts).toBeGreaterThan(4_000);
  });

  it('on a generated metadata mix: READDIRPLUS handles kept, attributes left out of the results', async () => {
    const file = join(tempDir(), 'meta.pcap');
    generateCapture(file, 1 << 20, 'meta');
    const c = await check(file, 25);
    expect(c.replies).toBeGreaterThan(500);
    expect(c.withHandles).toBeGreaterThan(50);
    expect(c.withoutAttributes).toBeGreaterThan(100);
    expect(c.cuts).toBeGreaterThan(1000);
    expect(c.v4WithoutAttributes).toBeGreaterThan(50);
    expect(c.v4Cuts).toBeGreaterThan(200);
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
    // A listener that says it reads no results (decodeResults: false, the calls command) gets the summary decoding.
    let withAttributes = 0;
    let v3 = 0;
    await analyze(file, {
      decodeResults: false,
      onTransaction: (t) => {
        if (t.version !== 3 || t.decoded?.reply === undefined) return;
        v3++;
        if (JSON.stringify(t.decoded.reply.results ?? {}).includes('"attributes"')) withAttributes++;
      },
    });
    expect(v3).toBeGreaterThan(10);
    expect(withAttributes).toBe(0);
  });
});
