/**
 * gunzipChunks: every byte zlib decompressed before it failed is handed
 * over, and the failure says where in the compressed file it happened.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GUNZIP_OUTPUT_CHUNK, GunzipError, gunzipChunks } from '../src/capture/gunzip.js';
import { CAPTURES } from './helpers.js';

/** Decompresses `gz` handed over in pieces of `piece` bytes: the bytes out, and the error at the end. */
async function run(gz: Buffer, piece = 4096): Promise<{ out: Buffer; err: unknown }> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < gz.length; i += piece) pieces.push(gz.subarray(i, i + piece));
  const got: Buffer[] = [];
  try {
    for await (const c of gunzipChunks(Readable.from(pieces))) got.push(c);
    return { out: Buffer.concat(got), err: undefined };
  } catch (err) {
    return { out: Buffer.concat(got), err };
  }
}

/** What zlib can decompress of a cut stream, flushing what it has (the most a reader could get). */
function decodablePrefix(gz: Buffer): Buffer {
  return gunzipSync(gz, { finishFlush: constants.Z_SYNC_FLUSH });
}

/** Compressible captures (metadata: about 6:1), several output chunks long. */
const PLAIN = Buffer.concat([readFileSync(join(CAPTURES, 'nfsv41-pynfs-mid.pcap')), readFileSync(join(CAPTURES, 'nfsv40-pynfs-state-errors-cut.pcap'))]);
const GZ = gzipSync(PLAIN);

describe('gunzipChunks', () => {
  it('decompresses a whole file, in pieces of any size', async () => {
    expect(PLAIN.length).toBeGreaterThan(4 * GUNZIP_OUTPUT_CHUNK);
    for (const piece of [1, 4096, GZ.length]) {
      const { out, err } = await run(GZ.subarray(0, piece === 1 ? 2000 : GZ.length), piece);
      if (piece === 1) {
        // Byte by byte (the first 2000): what zlib can make of them, then "cut".
        expect(out.equals(decodablePrefix(GZ.subarray(0, 2000)))).toBe(true);
        expect(err).toBeInstanceOf(GunzipError);
        continue;
      }
      expect(err).toBeUndefined();
      expect(out.equals(PLAIN)).toBe(true);
    }
  });

  it('reads several gzip members one after the other (cat a.gz b.gz)', async () => {
    const half = Math.floor(PLAIN.length / 2);
    const { out, err } = await run(Buffer.concat([gzipSync(PLAIN.subarray(0, half)), gzipSync(PLAIN.subarray(half))]));
    expect(err).toBeUndefined();
    expect(out.equals(PLAIN)).toBe(true);
  });

  it('hands over every byte when only the trailer is damaged (CRC, length), then says so', async () => {
    for (const at of [GZ.length - 8, GZ.length - 5, GZ.length - 4, GZ.length - 1]) {
      const bad = Buffer.from(GZ);
      bad[at] = bad[at]! ^ 0x55;
      const { out, err } = await run(bad);
      expect(out.equals(PLAIN)).toBe(true);
      expect(err).toBeInstanceOf(GunzipError);
      const e = err as GunzipError;
      expect(e.trailerMismatch).toBe(true);
      expect(e.cut).toBe(false);
      expect(e.zlibMessage).toBe(at < GZ.length - 4 ? 'incorrect data check' : 'incorrect length check');
      // zlib had taken everything before the trailer when it found the mismatch.
      expect(e.goodBytes).toBe(GZ.length - 8);
      expect(e.fedBytes).toBe(GZ.length);
    }
  });

  it('hands over what a cut file holds, as far as zlib can decode it', async () => {
    for (const cut of [11, 100, 1000, Math.floor(GZ.length / 3), GZ.length - 9, GZ.length - 3]) {
      const { out, err } = await run(GZ.subarray(0, cut));
      expect(out.equals(decodablePrefix(GZ.subarray(0, cut)))).toBe(true);
      expect(PLAIN.subarray(0, out.length).equals(out)).toBe(true);
      expect((err as GunzipError).cut).toBe(true);
      expect((err as GunzipError).fedBytes).toBe(cut);
    }
  });

  it('stops at damage inside the data with at most one output chunk lost, and says after which byte', async () => {
    let checked = 0;
    for (let at = 2000; at < GZ.length - 100 && checked < 3; at += 211) {
      const bad = Buffer.from(GZ);
      bad[at] = bad[at]! ^ 0x5a;
      bad[at + 1] = bad[at + 1]! ^ 0xa5;
      const { out, err } = await run(bad, 65536);
      expect(err).toBeInstanceOf(GunzipError);
      const e = err as GunzipError;
      // Most damage decodes as other data, found by the CRC only; some breaks the stream.
      if (e.trailerMismatch) continue;
      checked++;
      // The damage is past the bytes zlib took in the steps that worked, and before what it was given.
      expect(e.goodBytes).toBeLessThanOrEqual(at);
      expect(e.fedBytes).toBeGreaterThan(at);
      // What came out is the capture's start (corrupt data decoded as other bytes may come before zlib notices).
      const before = decodablePrefix(bad.subarray(0, at)).length;
      const sure = Math.max(0, before - GUNZIP_OUTPUT_CHUNK);
      expect(out.length).toBeGreaterThanOrEqual(sure);
      expect(out.subarray(0, sure).equals(PLAIN.subarray(0, sure))).toBe(true);
    }
    expect(checked).toBe(3);
  });

  it('passes a read error of the compressed input on, after the output before it', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield GZ.subarray(0, 20_000);
      throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    }
    const got: Buffer[] = [];
    let err: unknown;
    try {
      for await (const c of gunzipChunks(failing())) got.push(c);
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe('EIO');
    const out = Buffer.concat(got);
    expect(PLAIN.subarray(0, out.length).equals(out)).toBe(true);
  });

  it('decompresses only a few chunks ahead of a consumer that waits', async () => {
    // 32 MiB of one byte: a 32 KiB file that zlib would turn into 512 chunks at once.
    const gz = gzipSync(Buffer.alloc(32 * 1024 * 1024, 0x61));
    const it = gunzipChunks(Readable.from([gz]))[Symbol.asyncIterator]();
    await it.next();
    const before = process.memoryUsage().arrayBuffers;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(16 * GUNZIP_OUTPUT_CHUNK);
    let n = GUNZIP_OUTPUT_CHUNK;
    for (let r = await it.next(); !r.done; r = await it.next()) n += r.value.length;
    expect(n).toBe(32 * 1024 * 1024);
  });

  it('lets go when the consumer stops early', async () => {
    let n = 0;
    for await (const c of gunzipChunks(Readable.from([GZ]))) {
      n += c.length;
      break;
    }
    expect(n).toBe(GUNZIP_OUTPUT_CHUNK);
  });
});
