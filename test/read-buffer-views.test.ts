/**
 * A short RPC message complete in the bytes at hand is handed on as a view
 * of the reader's buffer, not a copy (src/rpc/record-stream.ts), and the
 * reader overwrites that buffer once it reads on. So nothing may keep a
 * message's bytes, or a view of them, past the message's delivery.
 *
 * Read in chunks of 600 bytes, a capture's buffers are overwritten every
 * few messages: every transaction handed out must still read the same at
 * the end of the run as when it was handed out, and the report must be the
 * one read in 1 MiB chunks (where a small capture is never overwritten).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCapture } from '../bench/generate.js';
import { analyze } from '../src/analyze.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { tempDir } from './helpers.js';

const CAPTURES = join(__dirname, '..', 'captures');
const SMALL_CHUNK = 600;

/** A transaction as JSON, without its message bytes (valid during delivery only, and let go after). */
function snapshot(t: Transaction): string {
  return JSON.stringify(t, (k, v: unknown) => (k === 'body' ? undefined : typeof v === 'bigint' ? v.toString() : v));
}

interface Run {
  report: string;
  /** Transactions as they were when handed out, and as they are at the end of the run. */
  atDelivery: string[];
  atEnd: string[];
  /** Replies handed out with their bytes in a buffer of `chunkSize` bytes: a view of the reader's buffer. */
  repliesInPlace: number;
}

async function run(file: string, chunkSize?: number): Promise<Run> {
  const kept: Transaction[] = [];
  const atDelivery: string[] = [];
  let repliesInPlace = 0;
  const report = await analyze(file, {
    ...(chunkSize !== undefined ? { chunkSize } : {}),
    onTransaction: (t) => {
      kept.push(t);
      atDelivery.push(snapshot(t));
      const head = t.reply?.body.head;
      if (head !== undefined && head.length > 0 && head.buffer.byteLength === chunkSize) repliesInPlace++;
    },
  });
  return { report: JSON.stringify(report), atDelivery, atEnd: kept.map(snapshot), repliesInPlace };
}

const files = readdirSync(CAPTURES)
  .filter((f) => /\.pcap(ng)?$/.test(f))
  .map((f) => join(CAPTURES, f));

describe('message bytes are not kept past their delivery', () => {
  it('finds the bundled captures', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  for (const file of files) {
    it(`${file.split('/').pop()}: read in ${SMALL_CHUNK}-byte chunks, the same transactions at the end and the same report`, async () => {
      const small = await run(file, SMALL_CHUNK);
      expect(small.atEnd).toEqual(small.atDelivery);
      const whole = await run(file);
      expect(small.report).toBe(whole.report);
      expect(small.atDelivery).toEqual(whole.atDelivery);
    });
  }

  it('a generated metadata mix: most replies are handed on in place', async () => {
    const file = join(tempDir(), 'meta.pcap');
    generateCapture(file, 2 << 20, 'meta');
    const small = await run(file, SMALL_CHUNK);
    expect(small.atEnd).toEqual(small.atDelivery);
    expect(small.atDelivery.length).toBeGreaterThan(1000);
    // Nearly every reply of this mix is short and complete in its segment;
    // those that straddle two chunks are gathered from both and so copied.
    expect(small.repliesInPlace).toBeGreaterThan(small.atDelivery.length * 0.5);
    const whole = await run(file);
    expect(small.report).toBe(whole.report);
  });
});
