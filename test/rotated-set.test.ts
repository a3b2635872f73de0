/**
 * A rotated set (tcpdump -C names: cap.pcap, cap.pcap1 … cap.pcap11) given
 * in a shell glob's order (cap.pcap, cap.pcap1, cap.pcap10, cap.pcap11,
 * cap.pcap2 …) is read by the time of each file's first frame, and gives
 * the calls of the whole capture as tshark decodes it; files that overlap
 * in time or leave a hole between them are warned about.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Diagnostic } from '../src/capture/frame.js';
import { orderByFirstFrame } from '../src/capture/source.js';
import { CaptureFrame } from '../src/capture/frame.js';
import { DuplicateFrameFilter } from '../src/capture/duplicate-frames.js';
import { duplicateDiagnostics } from '../src/analysis/rotated-set.js';
import type { Report } from '../src/report/model.js';
import { CAPTURES, tempDir, writeTemp } from './helpers.js';

const GRACE = join(CAPTURES, 'nfsv4-grace-restart.pcap');
/** From captures/nfsv4-grace-restart.pcap.expected.json (tshark): 176 frames, 58 calls, each answered. */
const expected = JSON.parse(readFileSync(`${GRACE}.expected.json`, 'utf8')) as { frames: number; calls: unknown[] };

/** The record offsets of a little-endian classic pcap. */
function recordOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  for (let o = 24; o + 16 <= bytes.length; o += 16 + bytes.readUInt32LE(o + 8)) offsets.push(o);
  return offsets;
}

/** Records [from, to) of a capture as a pcap file of their own. */
function piece(bytes: Buffer, offsets: number[], from: number, to: number): Buffer {
  const end = to < offsets.length ? offsets[to]! : bytes.length;
  return Buffer.concat([bytes.subarray(0, 24), bytes.subarray(offsets[from]!, end)]);
}

/** The capture cut like tcpdump -C into `n` files of about the same number of records; paths in glob order. */
function rotatedSet(n: number): { dir: string; inTimeOrder: string[]; inGlobOrder: string[] } {
  const bytes = readFileSync(GRACE);
  const offsets = recordOffsets(bytes);
  const dir = tempDir();
  const per = Math.ceil(offsets.length / n);
  const inTimeOrder: string[] = [];
  for (let i = 0; i < n; i++) {
    inTimeOrder.push(writeTemp(dir, i === 0 ? 'cap.pcap' : `cap.pcap${i}`, piece(bytes, offsets, i * per, Math.min(offsets.length, (i + 1) * per))));
  }
  return { dir, inTimeOrder, inGlobOrder: [...inTimeOrder].sort() };
}

describe('a rotated set given in glob order', () => {
  it('is read by first frame: every call of the capture, matched as tshark matches them', async () => {
    const set = rotatedSet(12);
    expect(set.inGlobOrder.map((p) => p.slice(set.dir.length + 1)).slice(0, 4)).toEqual(['cap.pcap', 'cap.pcap1', 'cap.pcap10', 'cap.pcap11']);
    const diagnostics: Diagnostic[] = [];
    const report = await analyze(set.inGlobOrder, { onDiagnostic: (d) => diagnostics.push(d) });
    expect(report.capture.files.map((f) => f.name)).toEqual(set.inTimeOrder);
    // Where each was named: cap.pcap2 (read third) was the fifth argument.
    expect(report.capture.files.map((f) => f.givenPosition)).toEqual(set.inTimeOrder.map((p) => set.inGlobOrder.indexOf(p) + 1));
    expect(report.capture.frames).toBe(expected.frames);
    expect(report.rpc.calls).toBe(expected.calls.length);
    expect(report.rpc.matched).toBe(expected.calls.length);
    expect(report.rpc.unanswered).toBe(0);
    expect(report.capture.durationSeconds).toBeGreaterThan(0);
    expect(report.tcp.gaps).toBe(0);
    expect(diagnostics).toEqual([]);
    // Each file's first and last frame times, in order and not overlapping.
    for (let i = 1; i < report.capture.files.length; i++) {
      expect(report.capture.files[i]!.firstTime! >= report.capture.files[i - 1]!.lastTime!).toBe(true);
    }
  });

  it('read in the order given (fileOrder: given), the same set loses calls and invents gaps', async () => {
    const set = rotatedSet(12);
    const report = await analyze(set.inGlobOrder, { fileOrder: 'given', onDiagnostic: () => undefined });
    expect(report.rpc.matched).toBeLessThan(expected.calls.length);
  });

  it('orderByFirstFrame: standard input keeps the order given; unreadable files go last', async () => {
    const set = rotatedSet(3);
    expect(await orderByFirstFrame([set.inTimeOrder[2]!, '-', set.inTimeOrder[0]!])).toEqual([0, 1, 2]);
    expect(await orderByFirstFrame([join(set.dir, 'missing.pcap'), set.inTimeOrder[2]!, set.inTimeOrder[0]!])).toEqual([2, 1, 0]);
  });
});

describe('seams between the files of a set', () => {
  it('two files overlapping in time (records alternating between them) are warned about', async () => {
    const bytes = readFileSync(GRACE);
    const offsets = recordOffsets(bytes);
    const dir = tempDir();
    const records = (parity: number): Buffer[] => offsets.flatMap((_, i) => (i % 2 === parity ? [piece(bytes, offsets, i, i + 1).subarray(24)] : []));
    const evens = Buffer.concat([bytes.subarray(0, 24), ...records(0)]);
    const odds = Buffer.concat([bytes.subarray(0, 24), ...records(1)]);
    const a = writeTemp(dir, 'a.pcap', evens);
    const b = writeTemp(dir, 'b.pcap', odds);
    const diagnostics: Diagnostic[] = [];
    await analyze([b, a], { onDiagnostic: (d) => diagnostics.push(d) });
    const seams = diagnostics.filter((d) => d.code.startsWith('files-'));
    expect(seams).toHaveLength(1);
    // Frame 2 of the grace capture is the first of b.pcap; a.pcap (frame 1 first) is read first.
    expect(seams[0]).toMatchObject({ severity: 'warning', code: 'files-overlap', file: b, frame: 1 });
    expect(seams[0]!.message).toMatch(/^starts [0-9.]+ s before .*a\.pcap ends: the two files overlap in time/);
  });

  it('a file of the set missing leaves a hole longer than any pause inside the files: warned about', async () => {
    // Two runs of the same libnfs client, minutes apart: a set with its middle missing.
    const diagnostics: Diagnostic[] = [];
    const a = join(CAPTURES, 'nfsv3-basic-head.pcap');
    const b = join(CAPTURES, 'nfsv3-nanosec.pcap');
    const report = await analyze([b, a], { onDiagnostic: (d) => diagnostics.push(d) });
    const seams = diagnostics.filter((d) => d.code.startsWith('files-'));
    expect(report.capture.files.map((f) => f.name)).toEqual([a, b]);
    expect(seams).toHaveLength(1);
    expect(seams[0]).toMatchObject({ severity: 'warning', code: 'files-hole', file: b, frame: 1 });
  });

  it('a set cut without loss has no seam warning (the split above)', async () => {
    const set = rotatedSet(4);
    const diagnostics: Diagnostic[] = [];
    await analyze(set.inTimeOrder, { onDiagnostic: (d) => diagnostics.push(d) });
    expect(diagnostics.filter((d) => d.code.startsWith('files-'))).toEqual([]);
  });
});

describe('frames two files share (the same capture given twice, overlapping cuts)', () => {
  const bytes = readFileSync(GRACE);
  const offsets = recordOffsets(bytes);
  /** The report's figures that must not depend on how the capture was cut. */
  const figures = (r: Report): unknown => ({ frames: r.capture.frames, rpc: r.rpc, tcp: r.tcp, findings: r.findings.map((f) => [f.kind, f.title]), operations: r.operations });

  it('the same capture given twice: read once, the report the single file gives, one warning', async () => {
    const copy = writeTemp(tempDir(), 'copy.pcap', bytes);
    const single = await analyze(GRACE);
    for (const inputs of [[GRACE, copy], [copy, GRACE]]) {
      const diagnostics: Diagnostic[] = [];
      const r = await analyze(inputs, { onDiagnostic: (d) => diagnostics.push(d) });
      expect(figures(r)).toEqual(figures(single));
      expect(r.capture.framesInEarlierFile).toBe(expected.frames);
      expect(diagnostics.map((d) => [d.code, d.file, d.frame])).toEqual([['frames-in-earlier-file', inputs[1], 1]]);
      expect(diagnostics[0]!.message).toBe(`frames 1-${expected.frames} are also in ${inputs[0]} (the same time, length and bytes: the same capture given twice, or overlapping cuts of one): read once`);
    }
  });

  it('two cuts that share 40 records (editcap -r 1-120 and 81-176): every call once, as tshark decodes the whole; no overlap warning', async () => {
    const dir = tempDir();
    const a = writeTemp(dir, 'a.pcap', piece(bytes, offsets, 0, 120));
    const b = writeTemp(dir, 'b.pcap', piece(bytes, offsets, 80, offsets.length));
    const diagnostics: Diagnostic[] = [];
    const r = await analyze([b, a], { onDiagnostic: (d) => diagnostics.push(d) });
    expect(figures(r)).toEqual(figures(await analyze(GRACE)));
    expect(r.rpc.calls).toBe(expected.calls.length);
    expect(r.capture.framesInEarlierFile).toBe(40);
    expect(diagnostics.map((d) => [d.code, d.file, d.frame, d.message.split(' (')[0]])).toEqual([['frames-in-earlier-file', b, 1, `frames 1-40 are also in ${a}`]]);
  });

  it('the same packets stamped 1 µs apart (two captures taken at once) are not copies: both read, the overlap warned about', async () => {
    const shifted = Buffer.from(bytes);
    for (const o of offsets) {
      const usec = shifted.readUInt32LE(o + 4) + 1;
      shifted.writeUInt32LE(usec % 1_000_000, o + 4);
      shifted.writeUInt32LE(shifted.readUInt32LE(o) + Math.floor(usec / 1_000_000), o);
    }
    const other = writeTemp(tempDir(), 'other.pcap', shifted);
    const diagnostics: Diagnostic[] = [];
    const r = await analyze([GRACE, other], { onDiagnostic: (d) => diagnostics.push(d) });
    expect(r.capture.frames).toBe(2 * expected.frames);
    expect(r.capture.framesInEarlierFile).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual(['files-overlap']);
  });

  it('a copy longer than what is remembered: the frames beyond are read twice, and a warning says so', async () => {
    const filter = new DuplicateFrameFilter([{ tsSec: 0, tsNsec: 0 }, undefined], 10);
    const frame = (fileIndex: number, i: number): CaptureFrame => {
      const f = new CaptureFrame(fileIndex);
      f.number = i + 1;
      f.tsSec = 1000 + i;
      f.buf = Buffer.from([i, 1, 2, 3]);
      f.start = 0;
      f.end = 4;
      f.origLen = 4;
      return f;
    };
    const first = Array.from({ length: 25 }, (_, i) => filter.duplicate(frame(0, i)));
    const second = Array.from({ length: 25 }, (_, i) => filter.duplicate(frame(1, i)));
    expect(first.every((d) => !d)).toBe(true);
    expect(second.map((d, i) => [i, d]).filter(([, d]) => d).map(([i]) => i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([filter.skipped, filter.notRemembered]).toEqual([10, 15]);
    const messages = duplicateDiagnostics(['a.pcap', 'b.pcap'], filter).map((d) => d.message);
    expect(messages[1]).toMatch(/^the files overlap by more than 10 frames: 15 frames were not checked/);
  });
});
