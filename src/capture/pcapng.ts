/**
 * pcapng files (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng),
 * read as a streaming push parser.
 *
 * Chunks arrive through push(); a block that lies within one chunk is parsed
 * in place (the frame's data is a view into the chunk); a block that straddles
 * chunks is gathered into a buffer of exactly its length. Only that partial
 * block is kept between chunks, never the file.
 *
 * Read: section header blocks in both byte orders (several sections per file,
 * each with its own byte order and interface table), interface description
 * blocks (link type, snaplen, if_tsresol, if_tsoffset; at most
 * PCAPNG_MAX_INTERFACES a section, beyond an error), enhanced, simple and
 * obsolete packet blocks. Every other block type is skipped.
 *
 * Frames are numbered 1, 2, ... over every packet block of the file across
 * all its sections, as Wireshark numbers them.
 */
import { newFrame, type Frame } from './frame.js';
import { MAX_RECORD_LENGTH, type RecordReader, type RecordReaderOptions } from './record-reader.js';

/** Block types. The section header type reads the same in both byte orders. */
export const PCAPNG_BLOCK_SHB = 0x0a0d0d0a;
export const PCAPNG_BLOCK_IDB = 0x00000001;
export const PCAPNG_BLOCK_OPB = 0x00000002;
export const PCAPNG_BLOCK_SPB = 0x00000003;
export const PCAPNG_BLOCK_NRB = 0x00000004;
export const PCAPNG_BLOCK_ISB = 0x00000005;
export const PCAPNG_BLOCK_EPB = 0x00000006;
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/**
 * Interfaces a section may describe: beyond, the file is taken to be
 * corrupt. A capture has a few; each costs about 110 bytes, and a file of
 * nothing but 20-byte interface blocks made them grow with its size.
 */
export const PCAPNG_MAX_INTERFACES = 65_536;

/** Largest block accepted; anything longer is taken to be a corrupt length. */
export const PCAPNG_MAX_BLOCK_LENGTH = 16 * 1024 * 1024;

/** Block type + total length + byte-order magic: enough to know any block's length. */
const HEAD = 12;
const MIN_SHB_LENGTH = 28;
const MIN_IDB_LENGTH = 20;
const MIN_EPB_LENGTH = 32;
const MIN_OPB_LENGTH = 32;
const MIN_SPB_LENGTH = 16;

const TWO_32 = 4294967296;

/** The remainder of the last divFloor call (kept here so the hot path allocates nothing). */
let divRemainder = 0;

/**
 * floor(n / d) for integers n >= 0, d > 0 with n < 2^53, exact despite the
 * floating-point quotient; leaves n mod d in divRemainder.
 */
function divFloor(n: number, d: number): number {
  let q = Math.floor(n / d);
  let r = n - q * d;
  if (r < 0) {
    q--;
    r += d;
  } else if (r >= d) {
    q++;
    r -= d;
  }
  divRemainder = r;
  return q;
}
/** Largest units-per-second for which the plain-number timestamp split is exact. */
const MAX_NUMBER_UNITS = 2 ** 36;

const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

/** How one interface's 64-bit timestamps become seconds and nanoseconds. */
interface TimeConversion {
  /** Units per second (exact as a number when `big` is undefined). */
  units: number;
  /** nsec = rem * mul (units divides 10^9), or 0 when another way applies. */
  mul: number;
  /** nsec = floor(rem / div) (10^9 divides units), or 0. */
  div: number;
  /** Units per second as BigInt, when the plain-number path is not exact. */
  big: bigint | undefined;
  /** Seconds added to every timestamp (if_tsoffset). */
  offset: number;
}

interface Interface {
  linkType: number;
  snaplen: number;
  time: TimeConversion;
}

function timeConversion(tsresol: number, offset: number): TimeConversion {
  const exp = tsresol & 0x7f;
  const base2 = (tsresol & 0x80) !== 0;
  const bigUnits = base2 ? 1n << BigInt(exp) : 10n ** BigInt(exp);
  const units = Number(bigUnits);
  let mul = 0;
  let div = 0;
  if (1_000_000_000n % bigUnits === 0n) mul = Number(1_000_000_000n / bigUnits);
  else if (bigUnits % 1_000_000_000n === 0n) div = Number(bigUnits / 1_000_000_000n);
  // The number path needs units <= 2^36 (exact splitting), and for the
  // nanoseconds either mul/div, or rem * 10^9 < 2^53.
  const numberOk = units <= MAX_NUMBER_UNITS && (mul !== 0 || div !== 0 || units * 1e9 <= Number.MAX_SAFE_INTEGER);
  return { units, mul, div, big: numberOk ? undefined : bigUnits, offset };
}

const DEFAULT_TSRESOL = 6;
const SHB_BYTES = [0x0a, 0x0d, 0x0d, 0x0a];

export class PcapngReader implements RecordReader {
  stopped = false;
  frames = 0;
  bytesRead = 0;
  /** Sections (section header blocks) seen so far. */
  sections = 0;
  /** Units per second of the file's first interface (10^6 unless if_tsresol says otherwise). */
  firstInterfaceUnitsPerSecond: number | undefined;

  private readonly opts: RecordReaderOptions;
  private readonly frame: Frame;
  /** Byte order of the current section. */
  private le = true;
  private interfaces: Interface[] = [];
  /** Offset in the file of the block being gathered (or of the next block). */
  private blockStart = 0;
  /** The first bytes of a block, gathered until HEAD of them are here. */
  private readonly head = Buffer.alloc(HEAD);
  private headLen = 0;
  /** A block straddling chunks, gathered to its full length. */
  private block: Buffer | undefined;
  private blockFill = 0;
  /** Reused by joinBuffer. */
  private spare: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Results of the timestamp conversion (avoids an object per frame). */
  private sec = 0;
  private nsec = 0;

  constructor(opts: RecordReaderOptions) {
    this.opts = opts;
    this.frame = newFrame(opts.fileIndex);
  }

  /** 'nanoseconds' when the first interface's resolution is finer than a microsecond. */
  get timestampPrecision(): 'microseconds' | 'nanoseconds' | undefined {
    const u = this.firstInterfaceUnitsPerSecond;
    if (u === undefined) return undefined;
    return u > 1_000_000 ? 'nanoseconds' : 'microseconds';
  }

  push(chunk: Buffer): void {
    if (this.stopped || this.ended || chunk.length === 0) return;
    this.bytesRead += chunk.length;
    const len = chunk.length;
    let pos = 0;
    while (pos < len && !this.stopped) {
      const block = this.block;
      if (block !== undefined) {
        // Continue a block that straddles chunks.
        const n = Math.min(block.length - this.blockFill, len - pos);
        chunk.copy(block, this.blockFill, pos, pos + n);
        this.blockFill += n;
        pos += n;
        if (this.blockFill === block.length) {
          this.block = undefined;
          this.parseBlock(block, 0, block.length);
          this.blockStart += block.length;
        }
        continue;
      }
      if (this.headLen > 0) {
        // Complete the first bytes of a block, then gather the block.
        const n = Math.min(HEAD - this.headLen, len - pos);
        chunk.copy(this.head, this.headLen, pos, pos + n);
        this.headLen += n;
        pos += n;
        if (this.headLen < HEAD) continue;
        this.headLen = 0;
        const total = this.blockLength(this.head, 0);
        if (total < 0) return;
        const rest = len - pos;
        if (rest >= total - HEAD) {
          // Only the head straddled: join just this block.
          const joined = this.joinBuffer(total);
          this.head.copy(joined, 0, 0, HEAD);
          chunk.copy(joined, HEAD, pos, pos + total - HEAD);
          pos += total - HEAD;
          this.parseBlock(joined, 0, total);
          this.blockStart += total;
        } else {
          const joined = this.joinBuffer(total);
          this.head.copy(joined, 0, 0, HEAD);
          chunk.copy(joined, HEAD, pos, len);
          this.blockFill = HEAD + rest;
          this.block = joined;
          pos = len;
        }
        continue;
      }
      const avail = len - pos;
      if (avail < HEAD) {
        chunk.copy(this.head, 0, pos, len);
        this.headLen = avail;
        if (this.sections === 0 && !this.looksLikeShb(this.head, avail)) {
          this.notPcapng(this.head.toString('hex', 0, Math.min(4, avail)));
          return;
        }
        break;
      }
      const total = this.blockLength(chunk, pos);
      if (total < 0) return;
      if (avail >= total) {
        this.parseBlock(chunk, pos, total);
        pos += total;
        this.blockStart += total;
      } else {
        const joined = this.joinBuffer(total);
        chunk.copy(joined, 0, pos, len);
        this.blockFill = avail;
        this.block = joined;
        break;
      }
    }
  }

  end(): void {
    if (this.stopped || this.ended) return;
    this.ended = true;
    if (this.bytesRead === 0) {
      this.error('empty-file', 0, undefined, 'the file is empty: expected a pcapng section header block');
      return;
    }
    let missing: string;
    let have: number;
    if (this.block !== undefined) {
      have = this.blockFill;
      missing = `${this.block.length - this.blockFill} of its ${this.block.length} bytes are missing`;
      this.block = undefined;
    } else if (this.headLen > 0) {
      have = this.headLen;
      const h = this.head;
      if (this.sections === 0 && !this.looksLikeShb(h, have)) {
        this.notPcapng(h.toString('hex', 0, Math.min(4, have)));
        return;
      }
      let total = -1;
      if (have >= 8 && h.readUInt32BE(0) !== PCAPNG_BLOCK_SHB) {
        total = this.le ? h.readUInt32LE(4) : h.readUInt32BE(4);
      }
      if (total >= HEAD && total % 4 === 0 && total <= PCAPNG_MAX_BLOCK_LENGTH) {
        missing = `${total - have} of its ${total} bytes are missing`;
      } else {
        missing = `at least ${HEAD - have} bytes of its header are missing`;
      }
      this.headLen = 0;
    } else {
      return;
    }
    const offset = this.blockStart;
    this.opts.diag.report({
      severity: 'warning',
      code: 'truncated-file',
      file: this.opts.file,
      offset,
      message:
        `file is cut short (was the capture still being written?): it ends inside the block at byte ${offset}, ` +
        `which has ${have} bytes: ${missing}; the ${this.frames} frames before it are analysed`,
    });
  }

  /**
   * A buffer of `total` bytes for a block straddling chunks: one reused
   * buffer (a block is parsed, and its frames handed on, before the next).
   */
  private joinBuffer(total: number): Buffer {
    if (this.spare.length < total) this.spare = Buffer.allocUnsafe(Math.max(total, this.spare.length * 2, 4096));
    return this.spare.subarray(0, total);
  }

  /** Whether the first `n` (< HEAD) bytes can start a section header block. */
  private looksLikeShb(b: Buffer, n: number): boolean {
    for (let i = 0; i < n && i < 4; i++) if (b[i] !== SHB_BYTES[i]) return false;
    return true;
  }

  private notPcapng(shown: string): void {
    this.error(
      'not-pcapng',
      0,
      undefined,
      `not a pcapng file: the first block must be a section header block (type 0a0d0d0a), found ${shown}`,
    );
  }

  /**
   * Validates the first HEAD bytes of a block at `p` and returns its total
   * length, or -1 after reporting an error. A section header sets the byte
   * order here, since its own length is written in it.
   */
  private blockLength(b: Buffer, p: number): number {
    const offset = this.blockStart;
    if (b.readUInt32BE(p) === PCAPNG_BLOCK_SHB) {
      const bom = b.readUInt32LE(p + 8);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) this.le = true;
      else if (bom === 0x4d3c2b1a) this.le = false;
      else {
        this.error(
          'bad-byte-order-magic',
          offset,
          undefined,
          `section header block: byte-order magic is ${b.toString('hex', p + 8, p + 12)}, expected 1a2b3c4d in either byte order`,
        );
        return -1;
      }
    } else if (this.sections === 0) {
      this.notPcapng(b.toString('hex', p, p + 4));
      return -1;
    }
    const total = this.le ? b.readUInt32LE(p + 4) : b.readUInt32BE(p + 4);
    if (total < HEAD || total % 4 !== 0 || total > PCAPNG_MAX_BLOCK_LENGTH) {
      const type = this.le ? b.readUInt32LE(p) : b.readUInt32BE(p);
      this.error(
        'bad-block-length',
        offset,
        undefined,
        `block of type 0x${type.toString(16)}: total length ${total} is invalid ` +
          `(expected a multiple of 4 between ${HEAD} and ${PCAPNG_MAX_BLOCK_LENGTH})`,
      );
      return -1;
    }
    return total;
  }

  /** Parses one complete block of `total` bytes at `p` in `b`. */
  private parseBlock(b: Buffer, p: number, total: number): void {
    const le = this.le;
    const trailer = le ? b.readUInt32LE(p + total - 4) : b.readUInt32BE(p + total - 4);
    const type = le ? b.readUInt32LE(p) : b.readUInt32BE(p);
    if (trailer !== total) {
      this.error(
        'bad-block-length',
        this.blockStart,
        undefined,
        `block of type 0x${type.toString(16)}: trailing total length ${trailer} does not match the leading total length ${total}`,
      );
      return;
    }
    switch (type) {
      case PCAPNG_BLOCK_EPB:
        this.packetBlock(b, p, total, MIN_EPB_LENGTH, le ? b.readUInt32LE(p + 8) : b.readUInt32BE(p + 8), 'enhanced');
        return;
      case PCAPNG_BLOCK_SPB:
        this.simplePacketBlock(b, p, total);
        return;
      case PCAPNG_BLOCK_OPB:
        this.packetBlock(b, p, total, MIN_OPB_LENGTH, le ? b.readUInt16LE(p + 8) : b.readUInt16BE(p + 8), 'obsolete');
        return;
      case PCAPNG_BLOCK_IDB:
        this.interfaceBlock(b, p, total);
        return;
      case PCAPNG_BLOCK_SHB:
        this.sectionHeader(b, p, total);
        return;
      default:
        // Name resolution, interface statistics, decryption secrets, custom,
        // systemd journal and unknown blocks: nothing to read for frames.
        return;
    }
  }

  private sectionHeader(b: Buffer, p: number, total: number): void {
    if (total < MIN_SHB_LENGTH) {
      this.tooShort('section header', total, MIN_SHB_LENGTH);
      return;
    }
    const major = this.le ? b.readUInt16LE(p + 12) : b.readUInt16BE(p + 12);
    const minor = this.le ? b.readUInt16LE(p + 14) : b.readUInt16BE(p + 14);
    if (major !== 1) {
      this.error(
        'unsupported-version',
        this.blockStart,
        undefined,
        `section header block: pcapng version ${major}.${minor} is not supported (expected 1.x)`,
      );
      return;
    }
    this.sections++;
    this.interfaces = [];
  }

  private interfaceBlock(b: Buffer, p: number, total: number): void {
    if (total < MIN_IDB_LENGTH) {
      this.tooShort('interface description', total, MIN_IDB_LENGTH);
      return;
    }
    if (this.interfaces.length >= PCAPNG_MAX_INTERFACES) {
      this.error(
        'too-many-interfaces',
        this.blockStart,
        undefined,
        `interface description block: the section already describes ${PCAPNG_MAX_INTERFACES.toLocaleString('en-US')} interfaces, the most read in one section (a corrupt file?)`,
      );
      return;
    }
    const le = this.le;
    const linkType = le ? b.readUInt16LE(p + 8) : b.readUInt16BE(p + 8);
    const snaplen = le ? b.readUInt32LE(p + 12) : b.readUInt32BE(p + 12);
    let tsresol = DEFAULT_TSRESOL;
    let tsoffset = 0;
    // Options: code (2), length (2), value padded to 4 bytes; up to the trailer.
    let q = p + 16;
    const optEnd = p + total - 4;
    while (q + 4 <= optEnd) {
      const code = le ? b.readUInt16LE(q) : b.readUInt16BE(q);
      const olen = le ? b.readUInt16LE(q + 2) : b.readUInt16BE(q + 2);
      if (code === OPT_ENDOFOPT) break;
      const v = q + 4;
      if (v + olen > optEnd) {
        this.opts.diag.report({
          severity: 'warning',
          code: 'bad-option',
          file: this.opts.file,
          offset: this.blockStart,
          message: `interface description block: option ${code} of ${olen} bytes runs past the end of the block; the rest of its options are ignored`,
        });
        break;
      }
      if (code === OPT_IF_TSRESOL && olen >= 1) tsresol = b[v]!;
      else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        tsoffset = Number(le ? b.readBigInt64LE(v) : b.readBigInt64BE(v));
      }
      q = v + ((olen + 3) & ~3);
    }
    const time = timeConversion(tsresol, tsoffset);
    if (this.firstInterfaceUnitsPerSecond === undefined) this.firstInterfaceUnitsPerSecond = time.units;
    this.interfaces.push({ linkType, snaplen, time });
  }

  /** Enhanced and obsolete packet blocks: same layout after the interface id. */
  private packetBlock(b: Buffer, p: number, total: number, min: number, ifId: number, kind: string): void {
    if (total < min) {
      this.tooShort(`${kind} packet`, total, min);
      return;
    }
    const iface = this.interfaces[ifId];
    if (iface === undefined) {
      this.unknownInterface(kind, ifId);
      return;
    }
    const le = this.le;
    const high = le ? b.readUInt32LE(p + 12) : b.readUInt32BE(p + 12);
    const low = le ? b.readUInt32LE(p + 16) : b.readUInt32BE(p + 16);
    const capLen = le ? b.readUInt32LE(p + 20) : b.readUInt32BE(p + 20);
    const origLen = le ? b.readUInt32LE(p + 24) : b.readUInt32BE(p + 24);
    const room = total - min;
    if (capLen > room) {
      this.error(
        'bad-captured-length',
        this.blockStart,
        this.frames + 1,
        `${kind} packet block: captured length ${capLen} exceeds the ${room} bytes of packet data the block has room for`,
      );
      return;
    }
    if (!this.capLenOk(kind, capLen, iface.snaplen)) return;
    this.convertTime(iface.time, high, low);
    this.emit(iface, ifId, b, p + 28, p + 28 + capLen, origLen);
  }

  private simplePacketBlock(b: Buffer, p: number, total: number): void {
    if (total < MIN_SPB_LENGTH) {
      this.tooShort('simple packet', total, MIN_SPB_LENGTH);
      return;
    }
    const iface = this.interfaces[0];
    if (iface === undefined) {
      this.unknownInterface('simple', 0);
      return;
    }
    const origLen = this.le ? b.readUInt32LE(p + 8) : b.readUInt32BE(p + 8);
    let capLen = origLen;
    if (iface.snaplen !== 0 && capLen > iface.snaplen) capLen = iface.snaplen;
    const room = total - MIN_SPB_LENGTH;
    if (capLen > room) capLen = room;
    if (!this.capLenOk('simple', capLen, iface.snaplen)) return;
    this.sec = 0;
    this.nsec = 0;
    this.emit(iface, 0, b, p + 12, p + 12 + capLen, origLen);
  }

  private capLenOk(kind: string, capLen: number, snaplen: number): boolean {
    if (capLen <= MAX_RECORD_LENGTH || (snaplen !== 0 && capLen <= snaplen)) return true;
    this.error(
      'bad-captured-length',
      this.blockStart,
      this.frames + 1,
      `${kind} packet block: captured length ${capLen} exceeds both the interface snaplen ` +
        `${snaplen === 0 ? '(not set)' : snaplen} and the maximum of ${MAX_RECORD_LENGTH}`,
    );
    return false;
  }

  private emit(iface: Interface, ifId: number, buf: Buffer, start: number, end: number, origLen: number): void {
    const f = this.frame;
    this.frames++;
    f.number = this.frames;
    f.tsSec = this.sec;
    f.tsNsec = this.nsec;
    f.linkType = iface.linkType;
    f.buf = buf;
    f.start = start;
    f.end = end;
    f.origLen = origLen;
    f.byteOffset = this.blockStart;
    f.interfaceId = ifId;
    this.opts.onFrame(f);
  }

  /** Sets this.sec / this.nsec from a 64-bit timestamp (high, low words). */
  private convertTime(t: TimeConversion, high: number, low: number): void {
    const units = t.units;
    // Seconds beyond 2^53 (only absurd resolutions or corrupt data): BigInt,
    // so the seconds are at least the nearest number.
    if (t.big !== undefined || high >= units * 0x200000) {
      const bigUnits = t.big ?? BigInt(units);
      const ts = (BigInt(high) << 32n) | BigInt(low);
      const rem = ts % bigUnits;
      this.sec = Number(ts / bigUnits + BigInt(t.offset));
      this.nsec = Number((rem * 1_000_000_000n) / bigUnits);
      return;
    }
    let sec: number;
    let rem: number;
    if (high < 0x200000) {
      // Below 2^53: the value is exact as a number.
      sec = divFloor(high * TWO_32 + low, units);
      rem = divRemainder;
    } else {
      // Long division in 16-bit digits below the high word: every partial
      // value stays below units * 2^16 <= 2^52, so exact; and the seconds
      // stay below 2^53 (checked above).
      sec = divFloor(high, units) * TWO_32;
      sec += divFloor(divRemainder * 65536 + (low >>> 16), units) * 65536;
      sec += divFloor(divRemainder * 65536 + (low & 0xffff), units);
      rem = divRemainder;
    }
    this.sec = sec + t.offset;
    if (t.mul !== 0) this.nsec = rem * t.mul;
    else if (t.div !== 0) this.nsec = Math.floor(rem / t.div);
    else {
      // units * 10^9 < 2^53: the product is exact; floor of the quotient with a fix-up.
      const num = rem * 1_000_000_000;
      let ns = Math.floor(num / units);
      if (ns * units > num) ns--;
      else if ((ns + 1) * units <= num) ns++;
      this.nsec = ns;
    }
  }

  private tooShort(what: string, total: number, min: number): void {
    const isPacket = what.endsWith('packet');
    this.error(
      'bad-block-length',
      this.blockStart,
      isPacket ? this.frames + 1 : undefined,
      `${what} block: total length ${total} is too short (expected at least ${min})`,
    );
  }

  private unknownInterface(kind: string, ifId: number): void {
    this.error(
      'unknown-interface',
      this.blockStart,
      this.frames + 1,
      `${kind} packet block refers to interface ${ifId}, but the section has ` +
        `${this.interfaces.length === 0 ? 'no interface description blocks' : `only interfaces 0..${this.interfaces.length - 1}`}`,
    );
  }

  private error(code: string, offset: number, frame: number | undefined, message: string): void {
    this.stopped = true;
    this.block = undefined;
    this.headLen = 0;
    const d = { severity: 'error' as const, code, file: this.opts.file, offset, message };
    this.opts.diag.report(frame === undefined ? d : { ...d, frame });
  }
}
