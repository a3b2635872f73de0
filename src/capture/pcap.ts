/**
 * Classic libpcap files, read with pcap-parser.
 *
 * pcap-parser reads the microsecond format in both byte orders. It rejects
 * the nanosecond magic (a1b23c4d), although the record layout is the same:
 * only the meaning of the sub-second field differs. So the file header is
 * checked here, a nanosecond magic is rewritten to the microsecond one before
 * pcap-parser sees it, and the sub-second field is then scaled accordingly;
 * the record logic stays pcap-parser's.
 *
 * pcap-parser is driven through a stand-in stream: the capture source pushes
 * chunks into it synchronously, which keeps reading, decompression and
 * back-pressure in one place for every format.
 */
import { EventEmitter } from 'node:events';
import pcapParser, { type PcapPacket, type PcapPacketHeader, type PcapParser } from 'pcap-parser';
import { newFrame, type Frame } from './frame.js';
import { MAX_RECORD_LENGTH, type RecordReader, type RecordReaderOptions } from './record-reader.js';

export const PCAP_GLOBAL_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

/** The four magic numbers as they appear in the file's first four bytes. */
const MAGIC_MICRO_BE = 0xa1b2c3d4;
const MAGIC_MICRO_LE = 0xd4c3b2a1;
const MAGIC_NANO_BE = 0xa1b23c4d;
const MAGIC_NANO_LE = 0x4d3cb2a1;
/** Alexey Kuznetzov's modified format: records carry 8 more bytes; not read. */
const MAGIC_KUZNETZOV_BE = 0xa1b2cd34;
const MAGIC_KUZNETZOV_LE = 0x34cdb2a1;

export function isPcapMagic(firstWordBE: number): boolean {
  return (
    firstWordBE === MAGIC_MICRO_BE ||
    firstWordBE === MAGIC_MICRO_LE ||
    firstWordBE === MAGIC_NANO_BE ||
    firstWordBE === MAGIC_NANO_LE ||
    firstWordBE === MAGIC_KUZNETZOV_BE ||
    firstWordBE === MAGIC_KUZNETZOV_LE
  );
}

export interface PcapFileHeader {
  bigEndian: boolean;
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linkType: number;
}

/** A stand-in for a readable stream: pcap-parser only needs on/pause/resume. */
class PushStream extends EventEmitter {
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
}

export class PcapReader implements RecordReader {
  header: PcapFileHeader | undefined;
  stopped = false;
  frames = 0;
  bytesRead = 0;

  private readonly opts: RecordReaderOptions;
  private readonly frame: Frame;
  /** Bytes of the file header gathered until all 24 are here. */
  private headerBytes: Buffer | undefined;
  private readonly input = new PushStream();
  private parser: PcapParser | undefined;
  /** Sub-second field multiplier to nanoseconds (1000 or 1). */
  private subsecondScale = 1000;
  private maxRecordLength = MAX_RECORD_LENGTH;
  /** Offset of the record whose header pcap-parser emitted last. */
  private recordOffset = 0;
  /** Offset just past the last complete record. */
  private nextOffset = PCAP_GLOBAL_HEADER_LENGTH;
  private pendingHeader: PcapPacketHeader | undefined;

  constructor(opts: RecordReaderOptions) {
    this.opts = opts;
    this.frame = newFrame(opts.fileIndex);
  }

  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    this.bytesRead += chunk.length;
    if (this.parser === undefined) {
      const have: Buffer = this.headerBytes ? Buffer.concat([this.headerBytes, chunk]) : chunk;
      if (have.length < PCAP_GLOBAL_HEADER_LENGTH) {
        this.headerBytes = have;
        return;
      }
      this.headerBytes = undefined;
      if (!this.start(have)) return;
      this.input.emit('data', have);
      return;
    }
    this.input.emit('data', chunk);
  }

  end(): void {
    if (this.stopped) return;
    if (this.parser === undefined) {
      const got = this.headerBytes?.length ?? 0;
      this.fail(
        got === 0 ? 'empty-file' : 'truncated-file',
        0,
        `file ends after ${got} bytes, inside the 24-byte pcap file header`,
      );
      return;
    }
    const left = this.parser.buffer?.length ?? 0;
    if (left === 0) return;
    // Whatever pcap-parser still holds is an incomplete record: a file cut short.
    const offset = this.nextOffset;
    let detail: string;
    if (this.pendingHeader !== undefined) {
      const body = left;
      detail = `the packet record at byte ${offset} (frame ${this.frames + 1}) has ${body} of its ${this.pendingHeader.capturedLength} captured bytes`;
    } else {
      detail = `the record header at byte ${offset} has ${left} of its ${PCAP_RECORD_HEADER_LENGTH} bytes`;
    }
    this.opts.diag.report({
      severity: 'warning',
      code: 'truncated-file',
      file: this.opts.file,
      offset,
      message: `file is cut short (was the capture still being written?): ${detail}; the ${this.frames} frames before it are analysed`,
    });
  }

  /** Validates the file header; on success creates the pcap-parser instance. */
  private start(have: Buffer): boolean {
    const magic = have.readUInt32BE(0);
    let bigEndian: boolean;
    let nanosecond = false;
    switch (magic) {
      case MAGIC_MICRO_BE:
        bigEndian = true;
        break;
      case MAGIC_MICRO_LE:
        bigEndian = false;
        break;
      case MAGIC_NANO_BE:
        bigEndian = true;
        nanosecond = true;
        break;
      case MAGIC_NANO_LE:
        bigEndian = false;
        nanosecond = true;
        break;
      case MAGIC_KUZNETZOV_BE:
      case MAGIC_KUZNETZOV_LE:
        this.fail('unsupported-format', 0, 'the modified (Kuznetzov) pcap format is not supported; convert it with editcap -F pcap');
        return false;
      default:
        this.fail('not-pcap', 0, `not a pcap file: magic 0x${magic.toString(16).padStart(8, '0')}, expected a1b2c3d4 or a1b23c4d in either byte order`);
        return false;
    }
    const u16 = (o: number): number => (bigEndian ? have.readUInt16BE(o) : have.readUInt16LE(o));
    const u32 = (o: number): number => (bigEndian ? have.readUInt32BE(o) : have.readUInt32LE(o));
    const header: PcapFileHeader = {
      bigEndian,
      nanosecond,
      versionMajor: u16(4),
      versionMinor: u16(6),
      snaplen: u32(16),
      // The upper 16 bits may carry FCS information (LINKTYPE_FCS); the link type is the low 16.
      linkType: u32(20) & 0xffff,
    };
    if (header.versionMajor !== 2) {
      this.fail('unsupported-version', 4, `pcap version ${header.versionMajor}.${header.versionMinor}, expected 2.x`);
      return false;
    }
    this.header = header;
    this.subsecondScale = nanosecond ? 1 : 1000;
    this.maxRecordLength = Math.max(MAX_RECORD_LENGTH, header.snaplen);
    if (nanosecond) {
      // Same layout, microsecond magic: pcap-parser reads it; the scale above restores nanoseconds.
      have.writeUInt32BE(bigEndian ? MAGIC_MICRO_BE : MAGIC_MICRO_LE, 0);
    }
    this.frame.linkType = header.linkType;
    const parser = pcapParser.parse(this.input);
    parser.on('packetHeader', (h: PcapPacketHeader) => this.onRecordHeader(h));
    parser.on('packet', (p: PcapPacket) => this.onPacket(p));
    // pcap-parser emits 'error' only for a bad magic or version, both checked above.
    parser.on('error', () => undefined);
    this.parser = parser;
    return true;
  }

  private onRecordHeader(h: PcapPacketHeader): void {
    if (this.stopped) return;
    this.recordOffset = this.nextOffset;
    if (h.capturedLength > this.maxRecordLength) {
      this.fail(
        'bad-record-length',
        this.recordOffset,
        `frame ${this.frames + 1}: captured length ${h.capturedLength} exceeds the maximum of ${this.maxRecordLength} (snaplen ${this.header?.snaplen}); the file is corrupt from here`,
      );
      return;
    }
    this.pendingHeader = h;
  }

  private onPacket(p: PcapPacket): void {
    if (this.stopped) return;
    const h = p.header;
    const f = this.frame;
    f.number = ++this.frames;
    const sub = h.timestampMicroseconds * this.subsecondScale;
    if (sub < 1e9) {
      f.tsSec = h.timestampSeconds;
      f.tsNsec = sub;
    } else {
      // Out-of-range fraction in a sloppy writer: carry it into the seconds.
      f.tsSec = h.timestampSeconds + Math.floor(sub / 1e9);
      f.tsNsec = sub % 1e9;
    }
    f.data = p.data;
    // A record claiming fewer wire bytes than it holds: trust the captured bytes.
    f.origLen = h.originalLength >= h.capturedLength ? h.originalLength : h.capturedLength;
    f.byteOffset = this.recordOffset;
    this.nextOffset = this.recordOffset + PCAP_RECORD_HEADER_LENGTH + h.capturedLength;
    this.pendingHeader = undefined;
    this.opts.onFrame(f);
  }

  private fail(code: string, offset: number, message: string): void {
    this.stopped = true;
    if (this.parser) {
      this.parser.errored = true;
      this.parser.buffer = null;
    }
    this.opts.diag.report({ severity: 'error', code, file: this.opts.file, offset, message });
  }
}
