/**
 * Writers of small capture files for tests: classic pcap and pcapng, in
 * either byte order, with every field a reader has to handle.
 */

export interface PcapPacket {
  tsSec: number;
  /** Nanoseconds within the second (written as microseconds, truncated, in a microsecond file). */
  tsNsec?: number;
  data: Buffer;
  /** Length on the wire (default data.length). */
  origLen?: number;
}

export interface PcapOptions {
  linkType: number;
  /** Default 262144. */
  snaplen?: number;
  /** Nanosecond magic a1b23c4d instead of a1b2c3d4. */
  nanosecond?: boolean;
  bigEndian?: boolean;
}

/** A classic libpcap file: 24-byte header, then a 16-byte header per record. */
export function writePcap(packets: readonly PcapPacket[], opts: PcapOptions): Buffer {
  const be = opts.bigEndian === true;
  const total = 24 + packets.reduce((n, p) => n + 16 + p.data.length, 0);
  const out = Buffer.alloc(total);
  const u32 = (v: number, at: number) => (be ? out.writeUInt32BE(v >>> 0, at) : out.writeUInt32LE(v >>> 0, at));
  const u16 = (v: number, at: number) => (be ? out.writeUInt16BE(v, at) : out.writeUInt16LE(v, at));
  u32(opts.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(2, 4);
  u16(4, 6);
  u32(0, 8); // thiszone
  u32(0, 12); // sigfigs
  u32(opts.snaplen ?? 262144, 16);
  u32(opts.linkType, 20);
  let at = 24;
  for (const p of packets) {
    const nsec = p.tsNsec ?? 0;
    u32(p.tsSec, at);
    u32(opts.nanosecond ? nsec : Math.floor(nsec / 1000), at + 4);
    u32(p.data.length, at + 8);
    u32(p.origLen ?? p.data.length, at + 12);
    p.data.copy(out, at + 16);
    at += 16 + p.data.length;
  }
  return out;
}

export interface PcapngInterface {
  linkType: number;
  /** Default 0 (no limit). */
  snaplen?: number;
  /** Raw if_tsresol option byte (omitted: no option, i.e. 10^-6). */
  tsresol?: number;
  /** if_tsoffset in seconds (omitted: no option). */
  tsoffset?: bigint | number;
  /** if_name option. */
  name?: string;
}

export interface EpbBlock {
  type: 'epb';
  iface: number;
  tsSec: number;
  tsNsec: number;
  /** Raw 64-bit timestamp in the interface's units; overrides tsSec/tsNsec. */
  tsUnits?: bigint;
  data: Buffer;
  origLen?: number;
  /** An opt_comment option on the block. */
  comment?: string;
}

export interface SpbBlock {
  type: 'spb';
  /** Bytes stored in the block (may be fewer than origLen, as a snaplen would cut them). */
  data: Buffer;
  origLen?: number;
}

export interface OpbBlock {
  type: 'opb';
  iface: number;
  tsSec: number;
  tsNsec: number;
  tsUnits?: bigint;
  data: Buffer;
  origLen?: number;
  drops?: number;
}

/** An interface description block in the middle of a section (after the `interfaces`). */
export interface IdbBlock extends PcapngInterface {
  type: 'idb';
}

export interface OtherBlock {
  type: 'nrb' | 'isb' | 'dsb' | 'custom' | 'unknown';
}

export type PcapngBlock = EpbBlock | SpbBlock | OpbBlock | IdbBlock | OtherBlock;

export interface PcapngSection {
  bigEndian?: boolean;
  interfaces: PcapngInterface[];
  blocks: PcapngBlock[];
}

/** Units per second of a raw if_tsresol byte. */
export function unitsPerSecond(tsresol: number | undefined): bigint {
  const r = tsresol ?? 6;
  const exp = BigInt(r & 0x7f);
  return r & 0x80 ? 1n << exp : 10n ** exp;
}

class BlockWriter {
  private parts: Buffer[] = [];
  constructor(private readonly be: boolean) {}

  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    if (this.be) b.writeUInt16BE(v);
    else b.writeUInt16LE(v);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.be) b.writeUInt32BE(v >>> 0);
    else b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    if (this.be) b.writeBigUInt64BE(BigInt.asUintN(64, v));
    else b.writeBigUInt64LE(BigInt.asUintN(64, v));
    this.parts.push(b);
    return this;
  }
  i64(v: bigint): this {
    const b = Buffer.alloc(8);
    if (this.be) b.writeBigInt64BE(v);
    else b.writeBigInt64LE(v);
    this.parts.push(b);
    return this;
  }
  bytes(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  /** Pads to a multiple of 4. */
  pad(): this {
    const n = this.length() % 4;
    if (n !== 0) this.parts.push(Buffer.alloc(4 - n));
    return this;
  }
  /** An option: code, length, value, padding. */
  option(code: number, value: Buffer): this {
    return this.u16(code).u16(value.length).bytes(value).pad();
  }
  endOfOptions(): this {
    return this.u16(0).u16(0);
  }
  length(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }
  body(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Wraps a body (already padded) into a block: type, total length, body, total length. */
function block(type: number, body: Buffer, be: boolean): Buffer {
  if (body.length % 4 !== 0) throw new Error('block body not padded');
  const total = 12 + body.length;
  const out = Buffer.alloc(total);
  if (be) {
    out.writeUInt32BE(type >>> 0, 0);
    out.writeUInt32BE(total, 4);
    out.writeUInt32BE(total, total - 4);
  } else {
    out.writeUInt32LE(type >>> 0, 0);
    out.writeUInt32LE(total, 4);
    out.writeUInt32LE(total, total - 4);
  }
  body.copy(out, 8);
  return out;
}

function idb(i: PcapngInterface, be: boolean): Buffer {
  const w = new BlockWriter(be).u16(i.linkType).u16(0).u32(i.snaplen ?? 0);
  let opts = false;
  if (i.name !== undefined) {
    w.option(2, Buffer.from(i.name));
    opts = true;
  }
  if (i.tsresol !== undefined) {
    w.option(9, Buffer.from([i.tsresol]));
    opts = true;
  }
  if (i.tsoffset !== undefined) {
    const b = Buffer.alloc(8);
    if (be) b.writeBigInt64BE(BigInt(i.tsoffset));
    else b.writeBigInt64LE(BigInt(i.tsoffset));
    w.option(14, b);
    opts = true;
  }
  if (opts) w.endOfOptions();
  return block(1, w.body(), be);
}

/** The raw timestamp the writer stores for tsSec/tsNsec (sub-unit remainder truncated). */
export function timestampUnits(iface: PcapngInterface, tsSec: number, tsNsec: number): bigint {
  const units = unitsPerSecond(iface.tsresol);
  const sec = BigInt(tsSec) - BigInt(iface.tsoffset ?? 0);
  return sec * units + (BigInt(tsNsec) * units) / 1_000_000_000n;
}

/**
 * A pcapng file: for each section a section header block (with a
 * shb_userappl option), its interface description blocks, then its blocks.
 */
export function writePcapng(sections: readonly PcapngSection[]): Buffer {
  const out: Buffer[] = [];
  for (const s of sections) {
    const be = s.bigEndian === true;
    const ifaces: PcapngInterface[] = [...s.interfaces];
    const shb = new BlockWriter(be)
      .u32(0x1a2b3c4d)
      .u16(1)
      .u16(0)
      .i64(-1n)
      .option(4, Buffer.from('nfsight test writer'))
      .endOfOptions();
    out.push(block(0x0a0d0d0a, shb.body(), be));
    for (const i of s.interfaces) out.push(idb(i, be));
    for (const b of s.blocks) {
      switch (b.type) {
        case 'idb':
          ifaces.push(b);
          out.push(idb(b, be));
          break;
        case 'epb': {
          const i = ifaces[b.iface];
          const ts = b.tsUnits ?? (i ? timestampUnits(i, b.tsSec, b.tsNsec) : 0n);
          const w = new BlockWriter(be)
            .u32(b.iface)
            .u32(Number(ts >> 32n))
            .u32(Number(ts & 0xffffffffn))
            .u32(b.data.length)
            .u32(b.origLen ?? b.data.length)
            .bytes(b.data)
            .pad();
          if (b.comment !== undefined) w.option(1, Buffer.from(b.comment)).endOfOptions();
          out.push(block(6, w.body(), be));
          break;
        }
        case 'opb': {
          const i = ifaces[b.iface];
          const ts = b.tsUnits ?? (i ? timestampUnits(i, b.tsSec, b.tsNsec) : 0n);
          const w = new BlockWriter(be)
            .u16(b.iface)
            .u16(b.drops ?? 0)
            .u32(Number(ts >> 32n))
            .u32(Number(ts & 0xffffffffn))
            .u32(b.data.length)
            .u32(b.origLen ?? b.data.length)
            .bytes(b.data)
            .pad();
          out.push(block(2, w.body(), be));
          break;
        }
        case 'spb': {
          const w = new BlockWriter(be)
            .u32(b.origLen ?? b.data.length)
            .bytes(b.data)
            .pad();
          out.push(block(3, w.body(), be));
          break;
        }
        case 'nrb': {
          // One IPv4 record (10.0.0.1 = "server"), then nrb_record_end.
          const rec = Buffer.concat([Buffer.from([10, 0, 0, 1]), Buffer.from('server\0')]);
          const w = new BlockWriter(be).u16(1).u16(rec.length).bytes(rec).pad().u16(0).u16(0);
          out.push(block(4, w.body(), be));
          break;
        }
        case 'isb': {
          const w = new BlockWriter(be)
            .u32(0)
            .u32(0)
            .u32(12345)
            .option(4, Buffer.alloc(8, 1)) // isb_ifrecv
            .endOfOptions();
          out.push(block(5, w.body(), be));
          break;
        }
        case 'dsb': {
          const secret = Buffer.from('CLIENT_RANDOM 00 11\n');
          const w = new BlockWriter(be).u32(0x544c534b).u32(secret.length).bytes(secret).pad();
          out.push(block(10, w.body(), be));
          break;
        }
        case 'custom': {
          const w = new BlockWriter(be).u32(32473).bytes(Buffer.from('custom data!')).pad();
          out.push(block(0x00000bad, w.body(), be));
          out.push(block(0x40000bad, w.body(), be));
          break;
        }
        case 'unknown': {
          const w = new BlockWriter(be).bytes(Buffer.from('some unknown block body')).pad();
          out.push(block(0x00000009, w.body(), be)); // systemd journal export
          out.push(block(0x12345678, w.body(), be));
          break;
        }
      }
    }
  }
  return Buffer.concat(out);
}
