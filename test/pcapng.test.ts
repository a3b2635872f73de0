import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Diagnostic, Frame } from '../src/capture/frame.js';
import { PCAPNG_MAX_INTERFACES, PcapngReader } from '../src/capture/pcapng.js';
import { MAX_RECORD_LENGTH } from '../src/capture/record-reader.js';
import {
  timestampUnits,
  unitsPerSecond,
  writePcapng,
  type PcapngBlock,
  type PcapngInterface,
  type PcapngSection,
} from './gen/capture-writer.js';
import { rng } from './gen/random.js';

const here = dirname(fileURLToPath(import.meta.url));
const REAL_FILE = join(here, '..', 'captures', 'nfsv4-dumpcap.pcapng');

interface Got {
  number: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  data: Buffer;
  origLen: number;
  byteOffset: number;
  interfaceId: number;
  fileIndex: number;
}

interface Run {
  frames: Got[];
  diags: Diagnostic[];
  reader: PcapngReader;
  /** Every callback received the same Frame object. */
  sameObject: boolean;
}

type Chunker = (len: number) => number[];

const whole: Chunker = (len) => [len];
const bytewise: Chunker = (len) => new Array<number>(len).fill(1);
const fixed =
  (n: number): Chunker =>
  (len) => {
    const out: number[] = [];
    for (let i = 0; i < len; i += n) out.push(Math.min(n, len - i));
    return out;
  };
const random =
  (seed: number, max = 97): Chunker =>
  (len) => {
    const r = rng(seed);
    const out: number[] = [];
    let left = len;
    while (left > 0) {
      const n = Math.min(left, 1 + Math.floor(r() * max));
      out.push(n);
      left -= n;
    }
    return out;
  };

const CHUNKINGS: [string, Chunker][] = [
  ['whole', whole],
  ['1-byte chunks', bytewise],
  ['5-byte chunks', fixed(5)],
  ['12-byte chunks', fixed(12)],
  ['random chunks (seed 1)', random(1)],
  ['random chunks (seed 2)', random(2, 300)],
  ['random chunks (seed 3)', random(3, 13)],
];

function read(file: Buffer, chunker: Chunker = whole, fileIndex = 3): Run {
  const frames: Got[] = [];
  const diags: Diagnostic[] = [];
  let first: Frame | undefined;
  let sameObject = true;
  const reader = new PcapngReader({
    file: 'test.pcapng',
    fileIndex,
    diag: { report: (d) => diags.push(d) },
    onFrame: (f) => {
      if (first === undefined) first = f;
      else if (first !== f) sameObject = false;
      frames.push({
        number: f.number,
        tsSec: f.tsSec,
        tsNsec: f.tsNsec,
        linkType: f.linkType,
        data: Buffer.from(f.data),
        origLen: f.origLen,
        byteOffset: f.byteOffset,
        interfaceId: f.interfaceId,
        fileIndex: f.fileIndex,
      });
    },
  });
  let at = 0;
  for (const n of chunker(file.length)) {
    // A fresh copy per chunk, as a stream would give it.
    reader.push(Buffer.from(file.subarray(at, at + n)));
    at += n;
  }
  reader.end();
  return { frames, diags, reader, sameObject };
}

interface BlockInfo {
  offset: number;
  type: number;
  length: number;
}

/** Walks a well-formed pcapng file's blocks. */
function blocks(file: Buffer): BlockInfo[] {
  const out: BlockInfo[] = [];
  let le = true;
  let at = 0;
  while (at + 12 <= file.length) {
    if (file.readUInt32BE(at) === 0x0a0d0d0a) le = file.readUInt32LE(at + 8) === 0x1a2b3c4d;
    const type = le ? file.readUInt32LE(at) : file.readUInt32BE(at);
    const length = le ? file.readUInt32LE(at + 4) : file.readUInt32BE(at + 4);
    out.push({ offset: at, type, length });
    at += length;
  }
  return out;
}

/** Reference conversion with BigInt. */
function refTime(iface: PcapngInterface, ts: bigint): { tsSec: number; tsNsec: number } {
  const units = unitsPerSecond(iface.tsresol);
  return {
    tsSec: Number(ts / units + BigInt(iface.tsoffset ?? 0)),
    tsNsec: Number(((ts % units) * 1_000_000_000n) / units),
  };
}

/** The frames a reader must produce for the writer's sections. */
function expected(sections: PcapngSection[], file: Buffer, fileIndex = 3): Got[] {
  const packetOffsets = blocks(file)
    .filter((b) => b.type === 2 || b.type === 3 || b.type === 6)
    .map((b) => b.offset);
  const out: Got[] = [];
  for (const s of sections) {
    const ifaces = [...s.interfaces];
    for (const b of s.blocks) {
      if (b.type === 'idb') ifaces.push(b);
      if (b.type !== 'epb' && b.type !== 'opb' && b.type !== 'spb') continue;
      const number = out.length + 1;
      const byteOffset = packetOffsets[out.length]!;
      if (b.type === 'spb') {
        const i = ifaces[0]!;
        const orig = b.origLen ?? b.data.length;
        const room = (b.data.length + 3) & ~3;
        const cap = Math.min(orig, i.snaplen ? i.snaplen : Infinity, room);
        const padded = Buffer.concat([b.data, Buffer.alloc(room - b.data.length)]);
        out.push({
          number,
          tsSec: 0,
          tsNsec: 0,
          linkType: i.linkType,
          data: padded.subarray(0, cap),
          origLen: orig,
          byteOffset,
          interfaceId: 0,
          fileIndex,
        });
        continue;
      }
      const i = ifaces[b.iface]!;
      const ts = b.tsUnits ?? timestampUnits(i, b.tsSec, b.tsNsec);
      out.push({
        number,
        ...refTime(i, ts),
        linkType: i.linkType,
        data: b.data,
        origLen: b.origLen ?? b.data.length,
        byteOffset,
        interfaceId: b.iface,
        fileIndex,
      });
    }
  }
  return out;
}

function payload(n: number, seed: number): Buffer {
  const r = rng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** EPBs of lengths 0..9 and a few larger ones, timestamps around 2026 with odd nanoseconds. */
function epbs(iface: number, count: number, seed: number): PcapngBlock[] {
  const out: PcapngBlock[] = [];
  const lengths = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 60, 61, 62, 63, 1514, 9000];
  for (let k = 0; k < count; k++) {
    out.push({
      type: 'epb',
      iface,
      tsSec: 1_795_316_154 + k * 37,
      tsNsec: (k * 123_456_789 + 987_654_321) % 1_000_000_000,
      data: payload(lengths[k % lengths.length]!, seed + k),
      ...(k % 5 === 3 ? { origLen: lengths[k % lengths.length]! + 100 } : {}),
      ...(k % 4 === 1 ? { comment: `comment ${k}` } : {}),
    });
  }
  return out;
}

function expectFrames(run: Run, want: Got[]): void {
  expect(run.frames.length).toBe(want.length);
  for (let k = 0; k < want.length; k++) {
    const g = run.frames[k]!;
    const w = want[k]!;
    expect({ ...g, data: g.data.toString('hex') }, `frame ${k + 1}`).toEqual({ ...w, data: w.data.toString('hex') });
  }
  expect(run.reader.frames).toBe(want.length);
  expect(run.sameObject).toBe(true);
}

function checkAllChunkings(sections: PcapngSection[]): void {
  const file = writePcapng(sections);
  const want = expected(sections, file);
  for (const [name, chunker] of CHUNKINGS) {
    const run = read(file, chunker);
    expect(run.diags, name).toEqual([]);
    expect(run.reader.stopped).toBe(false);
    expect(run.reader.bytesRead).toBe(file.length);
    expectFrames(run, want);
  }
}

describe('PcapngReader: layouts', () => {
  it('reads a little-endian section in any chunking', () => {
    checkAllChunkings([{ interfaces: [{ linkType: 1, name: 'eth0' }], blocks: epbs(0, 40, 1) }]);
  });

  it('reads a big-endian section in any chunking', () => {
    checkAllChunkings([{ bigEndian: true, interfaces: [{ linkType: 1, tsresol: 9 }], blocks: epbs(0, 40, 2) }]);
  });

  it('reads two sections with different byte orders; numbering goes on, interfaces reset', () => {
    const sections: PcapngSection[] = [
      { interfaces: [{ linkType: 1 }, { linkType: 113 }], blocks: [...epbs(0, 5, 3), ...epbs(1, 5, 4)] },
      { bigEndian: true, interfaces: [{ linkType: 276, tsresol: 9 }], blocks: epbs(0, 7, 5) },
      { interfaces: [{ linkType: 101, tsresol: 3 }], blocks: epbs(0, 3, 6) },
    ];
    checkAllChunkings(sections);
    const run = read(writePcapng(sections));
    expect(run.frames.map((f) => f.number)).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    expect(run.frames.map((f) => f.linkType)).toEqual([
      ...Array<number>(5).fill(1),
      ...Array<number>(5).fill(113),
      ...Array<number>(7).fill(276),
      ...Array<number>(3).fill(101),
    ]);
    expect(run.reader.sections).toBe(3);
  });

  it('reads several interfaces with different link types, one described mid-section', () => {
    const interleaved: PcapngBlock[] = [];
    const a = epbs(0, 6, 7);
    const b = epbs(1, 6, 8);
    const c = epbs(2, 6, 9);
    for (let k = 0; k < 6; k++) interleaved.push(a[k]!, b[k]!);
    interleaved.push({ type: 'idb', linkType: 276, tsresol: 9 });
    for (let k = 0; k < 6; k++) interleaved.push(c[k]!, a[k]!);
    const sections: PcapngSection[] = [{ interfaces: [{ linkType: 1 }, { linkType: 113, snaplen: 65535 }], blocks: interleaved }];
    checkAllChunkings(sections);
    const run = read(writePcapng(sections));
    expect(new Set(run.frames.map((f) => `${f.interfaceId}:${f.linkType}`))).toEqual(new Set(['0:1', '1:113', '2:276']));
  });

  it('skips name resolution, statistics, decryption secrets, custom, journal and unknown blocks', () => {
    const e = epbs(0, 6, 10);
    const sections: PcapngSection[] = [
      {
        interfaces: [{ linkType: 1 }],
        blocks: [
          { type: 'nrb' },
          e[0]!,
          { type: 'isb' },
          e[1]!,
          { type: 'dsb' },
          e[2]!,
          { type: 'custom' },
          e[3]!,
          { type: 'unknown' },
          e[4]!,
          e[5]!,
          { type: 'isb' },
        ],
      },
    ];
    checkAllChunkings(sections);
    const file = writePcapng(sections);
    expect(new Set(blocks(file).map((b) => b.type))).toEqual(
      new Set([0x0a0d0d0a, 1, 6, 4, 5, 10, 0xbad, 0x40000bad, 9, 0x12345678]),
    );
  });

  it('reads simple packet blocks: interface 0, no timestamp, captured = min(orig, snaplen, room)', () => {
    const sections: PcapngSection[] = [
      {
        interfaces: [{ linkType: 1, snaplen: 100 }, { linkType: 113 }],
        blocks: [
          { type: 'spb', data: payload(61, 1) }, // orig 61 fits
          { type: 'spb', data: payload(100, 2), origLen: 300 }, // cut by snaplen 100
          { type: 'spb', data: payload(48, 3), origLen: 80 }, // cut by the block room
          { type: 'spb', data: payload(0, 4) },
          ...epbs(1, 2, 5),
        ],
      },
      {
        bigEndian: true,
        interfaces: [{ linkType: 101 }],
        blocks: [
          { type: 'spb', data: payload(50, 6), origLen: 70 }, // room 52 (with padding)
          { type: 'spb', data: payload(1514, 7) },
        ],
      },
    ];
    checkAllChunkings(sections);
    const run = read(writePcapng(sections));
    expect(run.frames.map((f) => [f.data.length, f.origLen, f.tsSec, f.tsNsec, f.interfaceId])).toEqual([
      [61, 61, 0, 0, 0],
      [100, 300, 0, 0, 0],
      [48, 80, 0, 0, 0],
      [0, 0, 0, 0, 0],
      expect.anything(),
      expect.anything(),
      [52, 70, 0, 0, 0],
      [1514, 1514, 0, 0, 0],
    ]);
  });

  it('reads obsolete packet blocks', () => {
    const sections: PcapngSection[] = [
      {
        interfaces: [{ linkType: 1 }, { linkType: 113, tsresol: 9 }],
        blocks: [
          { type: 'opb', iface: 1, tsSec: 1_700_000_000, tsNsec: 123_456_789, data: payload(77, 1), drops: 3 },
          ...epbs(0, 2, 2),
          { type: 'opb', iface: 0, tsSec: 1_700_000_001, tsNsec: 999_999_999, data: payload(3, 2), origLen: 90 },
        ],
      },
      {
        bigEndian: true,
        interfaces: [{ linkType: 1, tsresol: 9 }],
        blocks: [{ type: 'opb', iface: 0, tsSec: 1_795_316_154, tsNsec: 1, data: payload(64, 3) }],
      },
    ];
    checkAllChunkings(sections);
    const run = read(writePcapng(sections));
    expect(run.frames[0]).toMatchObject({ tsSec: 1_700_000_000, tsNsec: 123_456_789, interfaceId: 1, linkType: 113 });
    expect(run.frames[3]).toMatchObject({ tsSec: 1_700_000_001, tsNsec: 999_999_000, origLen: 90 });
    expect(run.frames[4]).toMatchObject({ tsSec: 1_795_316_154, tsNsec: 1 });
  });

  it('gives a view into the chunk, not a copy, when the block lies within one chunk', () => {
    const file = writePcapng([{ interfaces: [{ linkType: 1 }], blocks: epbs(0, 3, 11) }]);
    const views: boolean[] = [];
    const reader = new PcapngReader({
      file: 'x',
      fileIndex: 0,
      diag: { report: () => undefined },
      onFrame: (f) => views.push(f.data.buffer === file.buffer),
    });
    reader.push(file);
    reader.end();
    expect(views).toEqual([true, true, true]);
  });
});

describe('PcapngReader: timestamps', () => {
  const NOW = 1_795_316_154;

  function single(iface: PcapngInterface, tss: { tsSec: number; tsNsec: number; tsUnits?: bigint }[], bigEndian = false) {
    const sections: PcapngSection[] = [
      { bigEndian, interfaces: [iface], blocks: tss.map((t) => ({ type: 'epb' as const, iface: 0, data: payload(20, 1), ...t })) },
    ];
    const file = writePcapng(sections);
    return read(file);
  }

  it('defaults to microseconds', () => {
    const run = single({ linkType: 1 }, [{ tsSec: NOW, tsNsec: 418_773_959 }]);
    expect(run.frames[0]).toMatchObject({ tsSec: NOW, tsNsec: 418_773_000 });
    expect(run.reader.timestampPrecision).toBe('microseconds');
  });

  it('converts 10^-9 timestamps of today (beyond 2^53) exactly', () => {
    const tss = [
      { tsSec: NOW, tsNsec: 418_773_959 },
      { tsSec: NOW, tsNsec: 999_999_999 },
      { tsSec: NOW + 1, tsNsec: 0 },
      { tsSec: 4_294_967_295, tsNsec: 999_999_999 },
      { tsSec: 18_446_744_073, tsNsec: 709_551_615 }, // 2^64 - 1 ns
      { tsSec: 0, tsNsec: 1 },
    ];
    for (const be of [false, true]) {
      const run = single({ linkType: 1, tsresol: 9 }, tss, be);
      expect(run.frames.map((f) => ({ tsSec: f.tsSec, tsNsec: f.tsNsec }))).toEqual(tss);
      expect(run.reader.timestampPrecision).toBe('nanoseconds');
    }
  });

  it('converts 10^-3 timestamps', () => {
    const run = single({ linkType: 1, tsresol: 3 }, [
      { tsSec: NOW, tsNsec: 418_773_959 },
      { tsSec: NOW, tsNsec: 999_999_999 },
    ]);
    expect(run.frames.map((f) => [f.tsSec, f.tsNsec])).toEqual([
      [NOW, 418_000_000],
      [NOW, 999_000_000],
    ]);
  });

  it('converts 2^-20 timestamps exactly', () => {
    const units = 1n << 20n;
    const run = single({ linkType: 1, tsresol: 0x80 | 20 }, [
      { tsSec: 0, tsNsec: 0, tsUnits: BigInt(NOW) * units + 1n },
      { tsSec: 0, tsNsec: 0, tsUnits: BigInt(NOW) * units + 524_288n },
      { tsSec: 0, tsNsec: 0, tsUnits: BigInt(NOW) * units + units - 1n },
      { tsSec: 0, tsNsec: 0, tsUnits: 3n },
    ]);
    // 1/2^20 s = 953.674316... ns; (2^20-1)/2^20 s = 999999046.325... ns; 3/2^20 s = 2861.02... ns
    expect(run.frames.map((f) => [f.tsSec, f.tsNsec])).toEqual([
      [NOW, 953],
      [NOW, 500_000_000],
      [NOW, 999_999_046],
      [0, 2861],
    ]);
  });

  it('adds if_tsoffset seconds, positive or negative', () => {
    const run = single({ linkType: 1, tsresol: 9, tsoffset: 1_000_000_000 }, [{ tsSec: NOW, tsNsec: 5 }]);
    expect(run.frames[0]).toMatchObject({ tsSec: NOW, tsNsec: 5 });
    const raw = single({ linkType: 1, tsoffset: 1_700_000_000n }, [{ tsSec: 0, tsNsec: 0, tsUnits: 12_500_000n }]);
    expect(raw.frames[0]).toMatchObject({ tsSec: 1_700_000_012, tsNsec: 500_000_000 });
    const neg = single({ linkType: 1, tsresol: 9, tsoffset: -10 }, [{ tsSec: 0, tsNsec: 0, tsUnits: 3_000_000_001n }]);
    expect(neg.frames[0]).toMatchObject({ tsSec: -7, tsNsec: 1 });
  });

  it('matches a BigInt reference for many resolutions and random 64-bit timestamps', () => {
    const resolutions = [0, 1, 3, 6, 9, 10, 11, 12, 15, 19, 0x80, 0x83, 0x89, 0x8a, 0x94, 0x97, 0x98, 0x9e, 0xa0, 0xbf];
    const r = rng(42);
    for (const tsresol of resolutions) {
      const iface: PcapngInterface = { linkType: 1, tsresol, tsoffset: tsresol % 2 ? 1234 : 0 };
      const tss: { tsSec: number; tsNsec: number; tsUnits: bigint }[] = [];
      const units = unitsPerSecond(tsresol);
      const edge = [0n, 1n, units - 1n, units, units + 1n, (1n << 53n) - 1n, 1n << 53n, (1n << 64n) - 1n, 0xffffffffn, 1n << 32n];
      for (const e of edge) if (e >= 0n && e < 1n << 64n) tss.push({ tsSec: 0, tsNsec: 0, tsUnits: e });
      for (let k = 0; k < 200; k++) {
        const hi = BigInt(Math.floor(r() * 4294967296));
        const lo = BigInt(Math.floor(r() * 4294967296));
        const ts = k % 3 === 0 ? (hi << 32n) | lo : k % 3 === 1 ? ((hi & 0x1fffffn) << 32n) | lo : BigInt(NOW) * units + (lo % units);
        tss.push({ tsSec: 0, tsNsec: 0, tsUnits: BigInt.asUintN(64, ts) });
      }
      const run = single(iface, tss);
      expect(run.diags).toEqual([]);
      const want = tss.map((t) => refTime(iface, t.tsUnits));
      const got = run.frames.map((f) => ({ tsSec: f.tsSec, tsNsec: f.tsNsec }));
      // Seconds beyond 2^53 are not exact as numbers: the reader gives the nearest double, as the reference.
      expect(got, `tsresol 0x${tsresol.toString(16)}`).toEqual(want);
      for (const g of got) {
        expect(g.tsNsec).toBeGreaterThanOrEqual(0);
        expect(g.tsNsec).toBeLessThan(1_000_000_000);
        expect(Number.isInteger(g.tsNsec)).toBe(true);
      }
    }
  });
});

describe('PcapngReader: truncated and corrupt files', () => {
  const sections: PcapngSection[] = [
    {
      interfaces: [{ linkType: 1, tsresol: 9 }],
      blocks: [...epbs(0, 4, 20), { type: 'isb' }, { type: 'spb', data: payload(30, 1) }],
    },
    { bigEndian: true, interfaces: [{ linkType: 113 }], blocks: epbs(0, 3, 21) },
  ];
  const file = writePcapng(sections);
  const all = expected(sections, file);
  const layout = blocks(file);

  it('reports a file cut at every possible byte: warning at the block start, all earlier frames', () => {
    for (let cut = 1; cut < file.length; cut++) {
      const part = file.subarray(0, cut);
      const containing = layout.find((b) => b.offset <= cut && cut < b.offset + b.length);
      const atBoundary = containing === undefined || containing.offset === cut;
      const doneFrames = all.filter((f) => layout.find((b) => b.offset === f.byteOffset)!.length + f.byteOffset <= cut);
      for (const [name, chunker] of [
        ['whole', whole],
        ['random', random(cut, 40)],
      ] as [string, Chunker][]) {
        const run = read(part, chunker);
        expectFrames(run, doneFrames);
        expect(run.reader.stopped).toBe(false);
        if (atBoundary) {
          expect(run.diags, `cut ${cut} ${name}`).toEqual([]);
        } else {
          expect(run.diags.length, `cut ${cut} ${name}`).toBe(1);
          const d = run.diags[0]!;
          expect(d).toMatchObject({ severity: 'warning', code: 'truncated-file', file: 'test.pcapng', offset: containing.offset });
          const have = cut - containing.offset;
          const isShb = file.readUInt32BE(containing.offset) === 0x0a0d0d0a;
          if (have >= 12 || (have >= 8 && !isShb)) {
            expect(d.message).toContain(`${containing.length - have} of its ${containing.length} bytes are missing`);
          } else {
            expect(d.message).toContain(`at least ${12 - have} bytes`);
          }
          expect(d.message).toContain(`byte ${containing.offset}`);
        }
      }
    }
  });

  it('reports an empty file', () => {
    const run = read(Buffer.alloc(0));
    expect(run.diags).toMatchObject([{ severity: 'error', code: 'empty-file', offset: 0 }]);
    expect(run.reader.stopped).toBe(true);
  });

  it('rejects a file whose first block is not a section header', () => {
    const epbFirst = file.subarray(layout[2]!.offset);
    for (const input of [epbFirst, Buffer.from('d4c3b2a102000400', 'hex'), Buffer.from([0x0a, 0x0d, 0x0d, 0x0b, 1, 2, 3, 4, 5, 6, 7, 8, 9])]) {
      for (const chunker of [whole, bytewise]) {
        const run = read(input, chunker);
        expect(run.frames).toEqual([]);
        expect(run.diags).toMatchObject([{ severity: 'error', code: 'not-pcapng', offset: 0 }]);
        expect(run.reader.stopped).toBe(true);
      }
    }
  });

  it('rejects a bad byte-order magic and an unsupported version', () => {
    const bad = Buffer.from(file);
    bad.writeUInt32LE(0x12345678, 8);
    expect(read(bad).diags).toMatchObject([{ severity: 'error', code: 'bad-byte-order-magic', offset: 0 }]);
    const second = layout.filter((b) => b.type === 0x0a0d0d0a)[1]!;
    const v2 = Buffer.from(file);
    v2.writeUInt16BE(2, second.offset + 12);
    const run = read(v2, random(5));
    expect(run.diags).toMatchObject([{ severity: 'error', code: 'unsupported-version', offset: second.offset }]);
    expectFrames(run, all.slice(0, 5));
  });

  /** Corrupts block `index` of the file with `f`, expects an error there after the frames before it. */
  function corrupt(index: number, f: (b: Buffer, at: number, le: boolean) => void, code: string, message: string, frame?: number) {
    const blk = layout[index]!;
    const le = blk.offset < layout.filter((b) => b.type === 0x0a0d0d0a)[1]!.offset;
    const bad = Buffer.from(file);
    f(bad, blk.offset, le);
    for (const [name, chunker] of CHUNKINGS) {
      const run = read(bad, chunker);
      expectFrames(run, all.filter((g) => g.byteOffset < blk.offset));
      expect(run.diags.length, name).toBe(1);
      const d = run.diags[0]!;
      expect(d).toMatchObject({ severity: 'error', code, file: 'test.pcapng', offset: blk.offset });
      expect(d.frame).toBe(frame);
      expect(d.message).toContain(message);
      expect(run.reader.stopped).toBe(true);
      // Further input is ignored.
      run.reader.push(file);
      run.reader.end();
      expect(run.diags.length).toBe(1);
    }
  }

  const w32 = (b: Buffer, at: number, le: boolean, v: number) => (le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  const epbIndex = layout.findIndex((b) => b.type === 6 && b.offset > layout[2]!.offset);
  const beEpbIndex = layout.map((b) => b.type).lastIndexOf(6);

  it('stops at a block length below 12', () => {
    corrupt(epbIndex, (b, at, le) => w32(b, at + 4, le, 8), 'bad-block-length', 'total length 8');
    corrupt(beEpbIndex, (b, at, le) => w32(b, at + 4, le, 0), 'bad-block-length', 'total length 0');
  });

  it('stops at a block length not a multiple of 4', () => {
    corrupt(epbIndex, (b, at, le) => w32(b, at + 4, le, 45), 'bad-block-length', 'multiple of 4');
  });

  it('stops at an absurd block length', () => {
    corrupt(beEpbIndex, (b, at, le) => w32(b, at + 4, le, 0x7ffffff0), 'bad-block-length', `${0x7ffffff0}`);
    corrupt(1, (b, at, le) => w32(b, at + 4, le, 16 * 1024 * 1024 + 4), 'bad-block-length', 'between 12 and');
  });

  it('stops at a trailing length that does not match', () => {
    const blk = layout[epbIndex]!;
    corrupt(epbIndex, (b, at, le) => w32(b, at + blk.length - 4, le, blk.length + 4), 'bad-block-length', 'does not match');
    const isb = layout.findIndex((b) => b.type === 5);
    corrupt(isb, (b, at, le) => w32(b, at + layout[isb]!.length - 4, le, 0), 'bad-block-length', 'trailing');
  });

  it('stops at a packet block for an unknown interface, naming the frame', () => {
    const frame = all.find((g) => g.byteOffset === layout[epbIndex]!.offset)!.number;
    corrupt(epbIndex, (b, at, le) => w32(b, at + 8, le, 1), 'unknown-interface', 'interface 1', frame);
    const beFrame = all.find((g) => g.byteOffset === layout[beEpbIndex]!.offset)!.number;
    corrupt(beEpbIndex, (b, at, le) => w32(b, at + 8, le, 7), 'unknown-interface', 'interface 7', beFrame);
  });

  it('stops at a captured length larger than the block', () => {
    const frame = all.find((g) => g.byteOffset === layout[epbIndex]!.offset)!.number;
    corrupt(epbIndex, (b, at, le) => w32(b, at + 20, le, 1000), 'bad-captured-length', 'captured length 1000', frame);
  });

  it('stops at a packet block too short for its header', () => {
    const frame = all.find((g) => g.byteOffset === layout[epbIndex]!.offset)!.number;
    // A 28-byte EPB (valid lengths, but no room for its fixed fields).
    const blk = layout[epbIndex]!;
    const bad = Buffer.concat([file.subarray(0, blk.offset), Buffer.alloc(28), file.subarray(blk.offset)]);
    bad.writeUInt32LE(6, blk.offset);
    bad.writeUInt32LE(28, blk.offset + 4);
    bad.writeUInt32LE(28, blk.offset + 24);
    const run = read(bad, random(9));
    expect(run.diags).toMatchObject([{ severity: 'error', code: 'bad-block-length', offset: blk.offset, frame }]);
    expectFrames(run, all.filter((g) => g.byteOffset < blk.offset));
  });

  it('accepts a captured length above MAX_RECORD_LENGTH only when the snaplen allows it', () => {
    const big = payload(MAX_RECORD_LENGTH + 100, 77);
    const mk = (snaplen: number) =>
      writePcapng([
        {
          interfaces: [{ linkType: 1, snaplen }],
          blocks: [...epbs(0, 1, 1), { type: 'epb', iface: 0, tsSec: 1, tsNsec: 0, data: big }],
        },
      ]);
    const ok = read(mk(MAX_RECORD_LENGTH * 2), random(3, 100_000));
    expect(ok.diags).toEqual([]);
    expect(ok.frames[1]!.data.equals(big)).toBe(true);
    for (const snaplen of [0, 65535]) {
      const file2 = mk(snaplen);
      const run = read(file2, random(4, 100_000));
      expect(run.frames.length).toBe(1);
      expect(run.diags).toMatchObject([
        { severity: 'error', code: 'bad-captured-length', offset: blocks(file2)[3]!.offset, frame: 2 },
      ]);
    }
  });
});

describe('PcapngReader: interfaces per section', () => {
  /** A section describing `n` interfaces, with a packet on the last one (and a second section with one interface and one packet). */
  const file = (n: number): Buffer =>
    writePcapng([
      { interfaces: Array.from({ length: n }, () => ({ linkType: 1 })), blocks: epbs(n - 1, 1, 5) },
      { interfaces: [{ linkType: 1 }], blocks: epbs(0, 1, 6) },
    ]);

  it(`reads ${PCAPNG_MAX_INTERFACES.toLocaleString('en-US')} in a section, and stops at one more with too-many-interfaces`, () => {
    const ok = read(file(PCAPNG_MAX_INTERFACES));
    expect(ok.diags).toEqual([]);
    expect(ok.frames.map((f) => f.interfaceId)).toEqual([PCAPNG_MAX_INTERFACES - 1, 0]);
    const big = file(PCAPNG_MAX_INTERFACES + 1);
    const idb = blocks(big).filter((b) => b.type === 1)[PCAPNG_MAX_INTERFACES]!;
    const run = read(big, random(7, 5000));
    expect(run.frames).toEqual([]);
    expect(run.diags).toEqual([
      {
        severity: 'error',
        code: 'too-many-interfaces',
        file: 'test.pcapng',
        offset: idb.offset,
        message: 'interface description block: the section already describes 65,536 interfaces, the most read in one section (a corrupt file?)',
      },
    ]);
    expect(PCAPNG_MAX_INTERFACES).toBe(65_536);
  });
});

describe('PcapngReader: real dumpcap file', () => {
  const file = readFileSync(REAL_FILE);

  it('reads nfsv4-dumpcap.pcapng as tshark does', () => {
    for (const [name, chunker] of CHUNKINGS) {
      const run = read(file, chunker, 0);
      expect(run.diags, name).toEqual([]);
      expect(run.frames.length).toBe(64);
      expect(run.frames.map((f) => f.number)).toEqual(Array.from({ length: 64 }, (_, k) => k + 1));
      expect(run.frames[0]).toMatchObject({ tsSec: 1_795_316_154, tsNsec: 418_773_959, byteOffset: 284, interfaceId: 0 });
      expect(run.frames[63]).toMatchObject({ tsSec: 1_795_316_154, tsNsec: 429_624_423 });
      expect(run.frames.every((f) => f.linkType === 1 && f.fileIndex === 0 && f.data.length === f.origLen)).toBe(true);
      expect(run.frames.reduce((n, f) => n + f.data.length, 0)).toBe(14268);
      // Each frame is Ethernet carrying IPv4 (ethertype 0x0800).
      expect(run.frames.every((f) => f.data.readUInt16BE(12) === 0x0800)).toBe(true);
      expect(run.reader.bytesRead).toBe(16836);
      expect(run.reader.timestampPrecision).toBe('nanoseconds');
      const offsets = blocks(file).filter((b) => b.type === 6).map((b) => b.offset);
      expect(run.frames.map((f) => f.byteOffset)).toEqual(offsets);
    }
  });

  it('never throws and always terminates on random damage (fuzz)', () => {
    const r = rng(2024);
    const layout = blocks(file);
    const outcomes = new Map<string, number>();
    for (let iter = 0; iter < 500; iter++) {
      let bad = Buffer.from(file);
      const flips = 1 + Math.floor(r() * 8);
      for (let k = 0; k < flips; k++) {
        // Half of the damage goes to the first 32 bytes of a block, where the lengths are.
        const blk = layout[Math.floor(r() * layout.length)]!;
        const at = r() < 0.5 ? blk.offset + Math.floor(r() * 32) : Math.floor(r() * bad.length);
        bad[at] = r() < 0.5 ? bad[at]! ^ (1 << Math.floor(r() * 8)) : Math.floor(r() * 256);
      }
      if (r() < 0.4) bad = bad.subarray(0, Math.floor(r() * bad.length));
      if (r() < 0.2) bad = Buffer.concat([bad, payload(Math.floor(r() * 64), iter)]);
      const run = read(bad, random(iter, 1 + Math.floor(r() * 3000)));
      let prev = 0;
      for (const f of run.frames) {
        expect(f.number).toBe(prev + 1);
        prev = f.number;
        expect(f.tsNsec).toBeGreaterThanOrEqual(0);
        expect(f.tsNsec).toBeLessThan(1e9);
        expect(f.byteOffset).toBeLessThan(bad.length);
      }
      expect(run.diags.filter((d) => d.severity === 'error').length).toBeLessThanOrEqual(1);
      const key = run.diags.length === 0 ? 'clean' : run.diags.map((d) => d.code).join(',');
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    // The damage reached the interesting paths.
    expect(outcomes.get('bad-block-length')).toBeGreaterThan(10);
    expect(outcomes.get('truncated-file')).toBeGreaterThan(10);
    expect(outcomes.get('clean')).toBeGreaterThan(10);
  });
});
