import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writePcap } from './gen/capture-writer.js';
import { readCaptureFile } from '../src/capture/source.js';
import { CAPTURES, bundledCaptures, expectedOf, readAll, readOne, tempDir, writeTemp } from './helpers.js';

const ERRORS_PCAP = join(CAPTURES, 'nfsv3-errors.pcap');
const NANO_PCAP = join(CAPTURES, 'nfsv3-nanosec.pcap');

/** Byte offsets of the records of a little-endian classic pcap, read independently of the reader. */
function recordOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  let o = 24;
  while (o + 16 <= bytes.length) {
    offsets.push(o);
    o += 16 + bytes.readUInt32LE(o + 8);
  }
  return offsets;
}

describe('bundled captures are read as tshark reads them', () => {
  for (const name of bundledCaptures()) {
    it(name, async () => {
      const exp = expectedOf(name);
      const { frames, diagnostics, infos } = await readOne(join(CAPTURES, name));
      expect(diagnostics).toEqual([]);
      expect(frames.length).toBe(exp.frames);
      expect(infos[0]!.frames).toBe(exp.frames);
      expect(frames.map((f) => f.number)).toEqual(Array.from({ length: exp.frames }, (_, i) => i + 1));
      expect(frames.reduce((s, f) => s + f.length, 0)).toBe(exp.capturedBytes);
      expect(frames.reduce((s, f) => s + f.origLen, 0)).toBe(exp.wireBytes);
      expect(frames.filter((f) => f.length < f.origLen).length).toBe(exp.framesCutBySnaplen);
      expect({ sec: frames[0]!.tsSec, nsec: frames[0]!.tsNsec }).toEqual({ sec: exp.first.sec, nsec: exp.first.nsec });
      const last = frames[frames.length - 1]!;
      expect({ sec: last.tsSec, nsec: last.tsNsec }).toEqual({ sec: exp.last.sec, nsec: exp.last.nsec });
    });
  }
});

describe('classic pcap', () => {
  it('reads nanosecond timestamps exactly (a1b23c4d magic)', async () => {
    const { frames, infos } = await readOne(NANO_PCAP);
    expect(infos[0]!.timestampPrecision).toBe('nanoseconds');
    // Sub-microsecond digits survive: at least one frame has a non-zero nanosecond remainder.
    expect(frames.some((f) => f.tsNsec % 1000 !== 0)).toBe(true);
  });

  it('gives each record its byte offset in the file', async () => {
    const bytes = readFileSync(ERRORS_PCAP);
    const { frames } = await readOne(ERRORS_PCAP);
    expect(frames.map((f) => f.byteOffset)).toEqual(recordOffsets(bytes));
  });

  it('reads the same frames whatever the chunk size', async () => {
    const whole = await readOne(ERRORS_PCAP);
    for (const chunkSize of [1, 7, 16, 24, 1000, 65536]) {
      const r = await readOne(ERRORS_PCAP, { chunkSize });
      expect(r.frames).toEqual(whole.frames);
      expect(r.diagnostics).toEqual([]);
    }
  });

  it('warns about a file cut inside a record body, naming the record offset, and keeps every earlier frame', async () => {
    const bytes = readFileSync(ERRORS_PCAP);
    const offsets = recordOffsets(bytes);
    const dir = tempDir();
    // Cut 10 bytes into the body of record 101 (its header is complete).
    const cutAt = offsets[100]! + 16 + 10;
    const p = writeTemp(dir, 'cut.pcap', bytes.subarray(0, cutAt));
    const { frames, diagnostics, infos } = await readOne(p);
    expect(frames.length).toBe(100);
    expect(infos[0]!.truncated).toBe(true);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: 'warning', code: 'truncated-file', file: p, offset: offsets[100] });
    expect(diagnostics[0]!.message).toContain('frame 101');
    expect(diagnostics[0]!.message).toContain('has 10 of its');
  });

  it('warns about a file cut inside a record header', async () => {
    const bytes = readFileSync(ERRORS_PCAP);
    const offsets = recordOffsets(bytes);
    const p = writeTemp(tempDir(), 'cut.pcap', bytes.subarray(0, offsets[5]! + 7));
    const { frames, diagnostics } = await readOne(p);
    expect(frames.length).toBe(5);
    expect(diagnostics[0]).toMatchObject({ code: 'truncated-file', offset: offsets[5] });
    expect(diagnostics[0]!.message).toContain('has 7 of its 16 bytes');
  });

  it('reports an absurd record length as an error with its offset and stops without buffering the rest', async () => {
    const bytes = Buffer.from(readFileSync(ERRORS_PCAP));
    const offsets = recordOffsets(bytes);
    bytes.writeUInt32LE(0x7fffffff, offsets[42]! + 8);
    const p = writeTemp(tempDir(), 'corrupt.pcap', bytes);
    const { frames, diagnostics, infos } = await readOne(p);
    expect(frames.length).toBe(42);
    expect(infos[0]!.failed).toBe(true);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: 'error', code: 'bad-record-length', offset: offsets[42] });
    expect(diagnostics[0]!.message).toContain('2147483647');
  });

  it('rejects a file that is not a capture, naming the bytes it found', async () => {
    const p = writeTemp(tempDir(), 'notes.txt', Buffer.from('hello, this is not a capture\n'));
    const { frames, diagnostics, infos } = await readOne(p);
    expect(frames).toEqual([]);
    expect(infos[0]!.failed).toBe(true);
    expect(diagnostics[0]).toMatchObject({ severity: 'error', code: 'not-a-capture', offset: 0 });
    expect(diagnostics[0]!.message).toContain('68656c6c');
  });

  it('reports a short, empty or missing file clearly', async () => {
    const dir = tempDir();
    const short = await readOne(writeTemp(dir, 'short.pcap', readFileSync(ERRORS_PCAP).subarray(0, 10)));
    expect(short.diagnostics[0]).toMatchObject({ code: 'truncated-file' });
    expect(short.diagnostics[0]!.message).toContain('24-byte pcap file header');
    const empty = await readOne(writeTemp(dir, 'empty.pcap', Buffer.alloc(0)));
    expect(empty.diagnostics[0]).toMatchObject({ severity: 'error', code: 'empty-file' });
    const missing = await readOne(join(dir, 'does-not-exist.pcap'));
    expect(missing.diagnostics[0]).toMatchObject({ severity: 'error', code: 'cannot-read' });
    expect(missing.diagnostics[0]!.message).toContain('no such file');
    expect(missing.infos[0]!.failed).toBe(true);
  });
});

describe('compressed, piped and rotated inputs', () => {
  it('reads a gzip-compressed capture, recognised by its magic and not its name', async () => {
    const plain = await readOne(ERRORS_PCAP);
    const p = writeTemp(tempDir(), 'capture.bin', gzipSync(readFileSync(ERRORS_PCAP)));
    const r = await readOne(p);
    expect(r.infos[0]!.gzip).toBe(true);
    expect(r.frames).toEqual(plain.frames);
    expect(r.diagnostics).toEqual([]);
  });

  it('reads a gzip-compressed pcapng', async () => {
    const src = join(CAPTURES, 'nfsv4-dumpcap.pcapng');
    const plain = await readOne(src);
    const r = await readOne(writeTemp(tempDir(), 'x.pcapng.gz', gzipSync(readFileSync(src))));
    expect(r.infos[0]!.format).toBe('pcapng');
    expect(r.frames).toEqual(plain.frames);
  });

  it('warns about a cut gzip stream and keeps the frames before the cut', async () => {
    const gz = gzipSync(readFileSync(ERRORS_PCAP));
    const p = writeTemp(tempDir(), 'cut.pcap.gz', gz.subarray(0, Math.floor(gz.length / 2)));
    const r = await readOne(p);
    expect(r.frames.length).toBeGreaterThan(10);
    expect(r.frames.length).toBeLessThan(290);
    expect(r.infos[0]!.truncated).toBe(true);
    // One line: the gzip data ended, with where in the file, and the frame in progress (the
    // reader's own word that the capture ends inside a record is not repeated).
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ severity: 'warning', code: 'truncated-file', file: p, frame: r.frames.length + 1 });
    expect(r.diagnostics[0]!.message).toContain(`ends early, at byte ${Math.floor(gz.length / 2)} of the file`);
    const plain = await readOne(ERRORS_PCAP);
    expect(r.frames).toEqual(plain.frames.slice(0, r.frames.length));
    // The same bytes on standard input: the same frames, the input named as such.
    const piped = await readOne('-', { stdin: Readable.from([gz.subarray(0, Math.floor(gz.length / 2))]) });
    expect(piped.frames).toEqual(r.frames);
    expect(piped.diagnostics.map((d) => d.message)).toEqual([r.diagnostics[0]!.message.replace('of the file', 'of standard input')]);
  });

  it('analyses every frame of a gzip file whose trailer is damaged, and says the data may be', async () => {
    const plain = await readOne(ERRORS_PCAP);
    const gz = Buffer.from(gzipSync(readFileSync(ERRORS_PCAP)));
    gz[gz.length - 6] = gz[gz.length - 6]! ^ 0xff; // the CRC-32
    const p = writeTemp(tempDir(), 'crc.pcap.gz', gz);
    const r = await readOne(p);
    expect(r.frames).toEqual(plain.frames);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ severity: 'warning', code: 'corrupt-gzip', file: p });
    expect(r.diagnostics[0]!.message).toContain(`the gzip trailer at byte ${gz.length - 8} does not match the data (zlib: incorrect data check)`);
    expect(r.diagnostics[0]!.message).toContain(`all ${plain.frames.length} frames are analysed`);
    // Not read whole: the CLI's exit status says so.
    expect(r.infos[0]!.failed).toBe(true);
  });

  it('names where a gzip file breaks before any capture byte comes out of it', async () => {
    const gz = gzipSync(readFileSync(ERRORS_PCAP));
    const r = await readOne(writeTemp(tempDir(), 'head.pcap.gz', gz.subarray(0, 8)));
    expect(r.frames).toEqual([]);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ severity: 'error', code: 'cannot-read' });
    expect(r.diagnostics[0]!.message).toBe("the gzip data ends at byte 8 of the file, before the capture's first bytes");
    expect(r.infos[0]!.failed).toBe(true);
  });

  it('reads standard input for -', async () => {
    const plain = await readOne(ERRORS_PCAP);
    const bytes = readFileSync(ERRORS_PCAP);
    // Standard input arrives in arbitrary pieces.
    const pieces = [bytes.subarray(0, 3), bytes.subarray(3, 5000), bytes.subarray(5000)];
    const r = await readOne('-', { stdin: Readable.from(pieces) });
    expect(r.frames).toEqual(plain.frames);
    expect(r.infos[0]!.name).toBe('-');
  });

  it('reads a rotated set as one run, numbering frames per file', async () => {
    const bytes = readFileSync(ERRORS_PCAP);
    const offsets = recordOffsets(bytes);
    const header = bytes.subarray(0, 24);
    const dir = tempDir();
    // Split like tcpdump -C: each file gets the global header and a run of records.
    const p0 = writeTemp(dir, 'cap0', bytes.subarray(0, offsets[120]!));
    const p1 = writeTemp(dir, 'cap1', Buffer.concat([header, bytes.subarray(offsets[120]!)]));
    const plain = await readOne(ERRORS_PCAP);
    const r = await readAll([p0, p1]);
    expect(r.frames.length).toBe(plain.frames.length);
    expect(r.frames.filter((f) => f.fileIndex === 0).length).toBe(120);
    expect(r.frames[120]).toMatchObject({ fileIndex: 1, number: 1 });
    expect(r.frames.map((f) => [f.tsSec, f.tsNsec, f.first16])).toEqual(plain.frames.map((f) => [f.tsSec, f.tsNsec, f.first16]));
    expect(r.infos.map((i) => i.frames)).toEqual([120, 170]);
  });
});

describe('classic pcap variants, generated', () => {
  const packets = [
    { tsSec: 1_763_779_858, tsNsec: 123_456_789, data: Buffer.from('00112233445566778899aabbccddeeff0800', 'hex') },
    { tsSec: 1_763_779_859, tsNsec: 999_999_999, data: Buffer.alloc(100, 7), origLen: 1514 },
    { tsSec: 0, tsNsec: 0, data: Buffer.alloc(0) },
  ];
  for (const bigEndian of [false, true]) {
    for (const nanosecond of [false, true]) {
      it(`${bigEndian ? 'big' : 'little'}-endian, ${nanosecond ? 'nano' : 'micro'}second timestamps`, async () => {
        const p = writeTemp(tempDir(), 'gen.pcap', writePcap(packets, { linkType: 113, bigEndian, nanosecond, snaplen: 65535 }));
        const { frames, diagnostics, infos } = await readOne(p);
        expect(diagnostics).toEqual([]);
        expect(infos[0]!.timestampPrecision).toBe(nanosecond ? 'nanoseconds' : 'microseconds');
        expect(frames.map((f) => [f.number, f.tsSec, f.tsNsec, f.linkType, f.length, f.origLen, f.byteOffset])).toEqual([
          [1, 1_763_779_858, nanosecond ? 123_456_789 : 123_456_000, 113, 18, 18, 24],
          [2, 1_763_779_859, nanosecond ? 999_999_999 : 999_999_000, 113, 100, 1514, 24 + 16 + 18],
          [3, 0, 0, 113, 0, 0, 24 + 16 + 18 + 16 + 100],
        ]);
        expect(frames[0]!.first16).toBe('00112233445566778899aabbccddeeff');
      });
    }
  }

  it('a fraction of a second of a second or more: carried into the seconds, one warning naming the first frame and counting the rest', async () => {
    const recs = [0, 1, 2, 3].map((i) => ({ tsSec: 1_763_779_858 + i, tsNsec: 0, data: Buffer.alloc(20, i) }));
    const bytes = writePcap(recs, { linkType: 101 });
    // Frames 2 and 4 get 2,500,000 and 1,000,000 µs in their fraction fields.
    const at = (n: number): number => 24 + (n - 1) * (16 + 20) + 4;
    bytes.writeUInt32LE(2_500_000, at(2));
    bytes.writeUInt32LE(1_000_000, at(4));
    const { frames, diagnostics } = await readOne(writeTemp(tempDir(), 'usec.pcap', bytes));
    expect(frames.map((f) => [f.tsSec - 1_763_779_858, f.tsNsec])).toEqual([[0, 0], [3, 500_000_000], [2, 0], [4, 0]]);
    expect(diagnostics.map((d) => [d.severity, d.code, d.frame, d.offset, d.message])).toEqual([
      ['warning', 'bad-timestamp', 2, at(2) - 4, "its timestamp's fraction of a second is 2500000 µs, a second or more (a faulty writer, or damage); carried into the seconds, as for 1 more frame after it: times around them may be wrong"],
    ]);
  });

  /** Records of every size class: empty, small, Ethernet, 64 KiB TSO/GRO and more; each byte says where it is. */
  function mixedRecords(): { tsSec: number; tsNsec: number; data: Buffer; origLen?: number }[] {
    const sizes = [0, 1, 60, 1514, 65_536 + 54, 3, 9000, 131_072, 15, 1514, 200];
    return sizes.map((n, i) => {
      const data = Buffer.alloc(n);
      for (let j = 0; j < n; j++) data[j] = (j * 7 + i) & 0xff;
      return { tsSec: 1_700_000_000 + i, tsNsec: i * 1000, data, ...(i === 6 ? { origLen: 9100 } : {}) };
    });
  }

  it('walks records of any size across any chunking: each frame whole, in order, with its offset', async () => {
    const records = mixedRecords();
    const bytes = writePcap(records, { linkType: 1, snaplen: 262144 });
    const p = writeTemp(tempDir(), 'mixed.pcap', bytes);
    // Offsets computed from the sizes written, not by the reader.
    const offsets: number[] = [];
    let o = 24;
    for (const r of records) {
      offsets.push(o);
      o += 16 + r.data.length;
    }
    for (const chunkSize of [13, 1000, 4096, 65_536, 70_000, 1 << 20]) {
      const r = await readOne(p, { chunkSize });
      expect(r.diagnostics).toEqual([]);
      expect(r.frames.map((f) => f.length)).toEqual(records.map((x) => x.data.length));
      expect(r.frames.map((f) => f.byteOffset)).toEqual(offsets);
      expect(r.frames.map((f) => f.origLen)).toEqual(records.map((x) => x.origLen ?? x.data.length));
      expect(r.frames.map((f) => f.first16)).toEqual(records.map((x) => x.data.subarray(0, 16).toString('hex')));
      expect(r.frames.map((f) => f.tsNsec)).toEqual(records.map((x) => x.tsNsec));
    }
  });

  it('the bytes of a record that straddles chunks are exactly the bytes written', async () => {
    const records = mixedRecords();
    const p = writeTemp(tempDir(), 'mixed.pcap', writePcap(records, { linkType: 1 }));
    const seen: string[] = [];
    await readCaptureFile(p, 0, (f) => seen.push(f.data.toString('hex')), { report: () => undefined }, { chunkSize: 5000 });
    expect(seen).toEqual(records.map((x) => x.data.toString('hex')));
  });

  it('reports a file cut at any byte: a warning at the record it cut, every earlier frame kept', async () => {
    const all = mixedRecords();
    const records = [all[0]!, all[1]!, all[2]!, all[10]!];
    const bytes = writePcap(records, { linkType: 1 });
    const dir = tempDir();
    // Sizes 0, 1, 60 and 200.
    const starts = [24, 24 + 16, 24 + 32 + 1, 24 + 48 + 61];
    for (let cut = 24; cut < bytes.length; cut++) {
      const r = await readOne(writeTemp(dir, `cut${cut}.pcap`, bytes.subarray(0, cut)), { chunkSize: 64 });
      // Records wholly before the cut are read; the one it falls in is reported.
      const whole = starts.filter((s, i) => s + 16 + records[i]!.data.length <= cut).length;
      expect(r.frames.length).toBe(whole);
      if (starts.includes(cut)) {
        expect(r.diagnostics).toEqual([]);
      } else {
        expect(r.diagnostics).toHaveLength(1);
        expect(r.diagnostics[0]).toMatchObject({ severity: 'warning', code: 'truncated-file', offset: starts[whole] });
      }
    }
  });

  it('accepts records up to a snaplen larger than 256 KiB and rejects one beyond it', async () => {
    const big = Buffer.alloc(300_000, 1);
    const ok = await readOne(writeTemp(tempDir(), 'big.pcap', writePcap([{ tsSec: 1, data: big }], { linkType: 1, snaplen: 400_000 })));
    expect(ok.frames.map((f) => f.length)).toEqual([300_000]);
    const bad = await readOne(writeTemp(tempDir(), 'bad.pcap', writePcap([{ tsSec: 1, data: big }], { linkType: 1, snaplen: 65535 })));
    expect(bad.frames).toEqual([]);
    expect(bad.diagnostics[0]).toMatchObject({ code: 'bad-record-length', offset: 24 });
  });
});
