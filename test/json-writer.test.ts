/**
 * The JSON report written in chunks (src/report/json-writer.ts): the same
 * bytes as the one-string `JSON.stringify(value, null, 2) + '\n'` it
 * replaces, on reports of real and generated captures and on the corners
 * of JSON.stringify; never the whole text in one chunk; and the writer
 * waits for a stream that asks it to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { CHUNK, jsonChunks, MAX_PIECE, writeJson } from '../src/report/json-writer.js';
import { CAPTURES, tempDir } from './helpers.js';
import { writeWideFile } from './gen/wide.js';

const oneString = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';
const chunked = (v: unknown): string => [...jsonChunks(v)].join('');

describe('jsonChunks: the bytes of JSON.stringify(value, null, 2)', () => {
  it('on the corners of JSON.stringify: toJSON with its key, undefined, functions, symbols, non-finite numbers, boxed primitives, empty containers, escapes', () => {
    const keys: string[] = [];
    const withKey = { toJSON: (k: string) => (keys.push(k), `key ${k}`) };
    const value = {
      a: 1,
      'quoted "key"\n': 'line\nbreak \u2028 é \u0000',
      nested: { deeper: { deepest: { leaf: [1, [2, [3, { x: null }]]], empty: {}, none: [] } } },
      skipped: undefined,
      fn: () => 1,
      sym: Symbol('s'),
      arr: [undefined, () => 1, Symbol('t'), NaN, Infinity, -0, 1e21, 5e-7],
      boxed: [new Number(3), new String('s'), new Boolean(false)],
      date: new Date(0),
      map: new Map([[1, 2]]),
      withKey,
      list: [withKey, { inner: withKey }],
      emptyTop: {},
      allSkipped: { u: undefined, f: () => 0 },
    };
    expect(chunked(value)).toBe(oneString(value));
    // The walk passes each property's key to toJSON, as JSON.stringify does.
    expect(keys).toContain('withKey');
    expect(keys).toContain('0');
    for (const v of [null, 0, 'x', true, [], {}, [[[]]], { a: { b: { c: { d: { e: {} } } } } }]) expect(chunked(v)).toBe(oneString(v));
    // What JSON.stringify makes undefined gives nothing at all.
    expect([...jsonChunks(undefined)]).toEqual([]);
    expect([...jsonChunks(() => 1)]).toEqual([]);
  });

  it('throws on a cycle and on a BigInt, as JSON.stringify does', () => {
    const cyclic: Record<string, unknown> = { a: { b: {} } };
    (cyclic.a as Record<string, unknown>).b = cyclic;
    expect(() => chunked(cyclic)).toThrow(TypeError);
    expect(() => chunked({ n: 1n })).toThrow(TypeError);
    // Shared (not cyclic) objects are fine.
    const shared = { s: 1 };
    expect(chunked({ a: shared, b: [shared, shared] })).toBe(oneString({ a: shared, b: [shared, shared] }));
  });

  it('walks a value too long for one piece below the split depth', () => {
    const big = { a: { b: { c: { rows: Array.from({ length: 20_000 }, (_, i) => ({ i, s: 'x'.repeat(i % 7) })) } } } };
    const chunks = [...jsonChunks(big)];
    expect(chunks.join('')).toBe(oneString(big));
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(CHUNK + 200);
  });

  it('on the reports of the bundled captures', async () => {
    for (const name of ['linux-v3-basic-head.pcap', 'linux-v42-basic-head.pcap', 'lossy-read-cut.pcap', 'nfs-rdma-v3.pcap']) {
      const report = await analyze(join(CAPTURES, name));
      expect({ name, same: chunked(report) === oneString(report) }).toEqual({ name, same: true });
    }
  });

  it('on the report of a wide capture, in chunks of at most CHUNK + MAX_PIECE characters, far smaller than the text', async () => {
    const file = join(tempDir(), 'wide.pcap');
    // 300 connections to 200 servers: about 3,100 calls, tables of hundreds to 2,000 rows, each with a histogram.
    writeWideFile(file, { connections: 300, servers: 200, filesPerServer: 1000, targetBytes: 3e6 });
    const report = await analyze(file);
    expect(report.files.rows.length).toBeGreaterThan(1000);
    const chunks = [...jsonChunks(report)];
    const text = oneString(report);
    expect(chunks.join('')).toBe(text);
    const largest = Math.max(...chunks.map((c) => c.length));
    expect(largest).toBeLessThanOrEqual(CHUNK + MAX_PIECE);
    expect(text.length).toBeGreaterThan(20 * largest);
  });
});

describe('writeJson: backpressure', () => {
  it('writes nothing more until a stream that asks to wait has drained, and the bytes are the same', async () => {
    const value = { rows: Array.from({ length: 5000 }, (_, i) => ({ i, name: `row ${i}`, values: [i, i * 2, i * 3] })) };
    const got: string[] = [];
    const bufferedBefore: number[] = [];
    // A slow stream that asks the writer to wait after every write (highWaterMark 1 byte).
    const slow = new Writable({
      highWaterMark: 1,
      decodeStrings: false,
      write(chunk: string, _enc, done) {
        got.push(chunk);
        setImmediate(done);
      },
    });
    const write = slow.write.bind(slow);
    slow.write = ((chunk: string) => {
      bufferedBefore.push(slow.writableLength);
      return write(chunk);
    }) as typeof slow.write;
    await writeJson(value, slow);
    expect(got.join('')).toBe(oneString(value));
    expect(got.length).toBeGreaterThan(3);
    // Each chunk was written only once the stream had drained the one before.
    expect(bufferedBefore.every((n) => n === 0)).toBe(true);
  });

  it('rejects when the stream fails while the writer waits', async () => {
    const failing = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, done) {
        setImmediate(() => done(new Error('disk full')));
      },
    });
    failing.on('error', () => undefined);
    await expect(writeJson({ rows: Array.from({ length: 20_000 }, (_, i) => i) }, failing)).rejects.toThrow(/disk full|closed/);
  });
});

describe('report --format json -o: the file holds the one-string text', () => {
  it('matches JSON.stringify of analyze()', async () => {
    const { writeOutput } = await import('../src/cli/output.js');
    const capture = join(CAPTURES, 'linux-v42-basic-head.pcap');
    const report = await analyze(capture);
    const out = join(tempDir(), 'r.json');
    expect(await writeOutput(jsonChunks(report), out)).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(oneString(report));
    const errs: string[] = [];
    expect(await writeOutput(jsonChunks(report), join(tempDir(), 'no', 'such', 'r.json'), (s) => errs.push(s))).toBe(2);
    expect(errs).toEqual([expect.stringMatching(/cannot write: no such folder/)]);
  });
});
