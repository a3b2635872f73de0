/**
 * Large captures of real NFS traffic, made by replaying small real captures
 * (Ethernet, classic pcap) many times over: the bench's `replay` workload.
 *
 * A round is one copy of every source, each starting 50 ms after the one
 * before it; a round starts every second, so the rounds overlap in time as
 * the mounts of many clients would (about as many rounds at once as the
 * longest source lasts in seconds). Every copy gets addresses of its own: a
 * 16-bit key XORed into the middle two bytes of each IPv4 address (a.b.c.d:
 * b and c), the IP header checksum and the TCP or UDP checksum updated to
 * match (RFC 1624), so each copy is its own set of connections between its
 * own hosts and checksums stay as valid as they were. Ports, sequence
 * numbers, XIDs and payloads are the source's.
 *
 * The output is a nanosecond pcap, written in time order (a merge of the
 * overlapping rounds), until it reaches the bytes asked for.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** One frame of a source capture: nanoseconds after the source's first frame, and its bytes. */
interface SourceFrame {
  ns: number;
  origLen: number;
  data: Buffer;
}

export interface ReplaySource {
  name: string;
  bytes: Buffer;
}

export interface ReplayOptions {
  /** Stop once this many bytes are written (the last frame finishes). */
  targetBytes: number;
  /** Or after this many rounds (whichever comes first). */
  maxRounds?: number;
  /** Time of the first round, seconds since the epoch (default 2026-01-01). */
  startSeconds?: number;
}

export interface ReplayResult {
  bytes: number;
  frames: number;
  rounds: number;
}

const ROUND_NS = 1e9;
const SOURCE_STAGGER_NS = 50e6;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_VLAN = 0x8100;

/** The frames of a classic little- or big-endian pcap of Ethernet frames. */
export function readSource(src: ReplaySource): SourceFrame[] {
  const b = src.bytes;
  if (b.length < 24) throw new Error(`${src.name}: not a pcap file`);
  const magicLE = b.readUInt32LE(0);
  const le = magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d;
  const magic = le ? magicLE : b.readUInt32BE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${src.name}: not a classic pcap file`);
  const u32 = (at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  if (u32(20) !== 1) throw new Error(`${src.name}: link type ${u32(20)}, only Ethernet (1) is replayed`);
  const fracNs = magic === 0xa1b23c4d ? 1 : 1000;
  const frames: SourceFrame[] = [];
  // Seconds since the epoch in nanoseconds exceed 2^53: times are kept relative to the first frame.
  let firstSec: number | undefined;
  let firstFrac = 0;
  for (let p = 24; p + 16 <= b.length; ) {
    const incl = u32(p + 8);
    if (p + 16 + incl > b.length) break;
    if (firstSec === undefined) {
      firstSec = u32(p);
      firstFrac = u32(p + 4) * fracNs;
    }
    const ns = (u32(p) - firstSec) * 1e9 + u32(p + 4) * fracNs - firstFrac;
    frames.push({ ns, origLen: u32(p + 12), data: b.subarray(p + 16, p + 16 + incl) });
    p += 16 + incl;
  }
  return frames;
}

/** One's-complement checksum at `at` updated for a 16-bit word changed from `from` to `to` (RFC 1624, eqn. 3). */
function updateChecksum(buf: Buffer, at: number, from: number, to: number): void {
  const hc = buf.readUInt16BE(at);
  let sum = (~hc & 0xffff) + (~from & 0xffff) + to;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  buf.writeUInt16BE(~sum & 0xffff, at);
}

/**
 * XORs `key` into the middle bytes of both IPv4 addresses of an Ethernet
 * frame (in place), with its checksums updated. Frames that are not IPv4, or
 * cut before the addresses, are left as they are.
 */
export function rekeyFrame(f: Buffer, key: number): void {
  let e = 12;
  if (f.length < e + 2) return;
  let type = f.readUInt16BE(e);
  while (type === ETHERTYPE_VLAN && f.length >= e + 6) {
    e += 4;
    type = f.readUInt16BE(e);
  }
  if (type !== ETHERTYPE_IPV4) return;
  const ip = e + 2;
  if (f.length < ip + 20 || f[ip]! >> 4 !== 4) return;
  const ihl = (f[ip]! & 0x0f) * 4;
  const proto = f[ip + 9]!;
  const firstFragment = (f.readUInt16BE(ip + 6) & 0x1fff) === 0;
  const l4 = ip + ihl;
  // TCP's checksum is mandatory; UDP's 0 means none was computed.
  let l4Checksum = -1;
  if (firstFragment && proto === 6 && f.length >= l4 + 18) l4Checksum = l4 + 16;
  else if (firstFragment && proto === 17 && f.length >= l4 + 8 && f.readUInt16BE(l4 + 6) !== 0) l4Checksum = l4 + 6;
  for (const addr of [ip + 12, ip + 16]) {
    // a.b.c.d as two words: a.b and c.d; b takes the key's low byte, c its high byte.
    const w1 = f.readUInt16BE(addr);
    const w2 = f.readUInt16BE(addr + 2);
    const n1 = w1 ^ (key & 0xff);
    const n2 = w2 ^ (key & 0xff00);
    f.writeUInt16BE(n1, addr);
    f.writeUInt16BE(n2, addr + 2);
    updateChecksum(f, ip + 10, w1, n1);
    updateChecksum(f, ip + 10, w2, n2);
    if (l4Checksum >= 0) {
      updateChecksum(f, l4Checksum, w1, n1);
      updateChecksum(f, l4Checksum, w2, n2);
    }
  }
}

/** A round's frames in time order: [time in the round, source index, frame]. */
function roundOrder(sources: SourceFrame[][]): { ns: number; source: number; frame: SourceFrame }[] {
  const all = sources.flatMap((frames, source) => frames.map((frame) => ({ ns: frame.ns + source * SOURCE_STAGGER_NS, source, frame })));
  // Stable: frames of one time keep their source order, and their order within it.
  return all.sort((a, b) => a.ns - b.ns);
}

/** Writes the replay of `sources` to `path`. */
export function writeReplayFile(path: string, sources: readonly ReplaySource[], opts: ReplayOptions): ReplayResult {
  const parsed = sources.map(readSource);
  const round = roundOrder(parsed);
  if (round.length === 0) throw new Error('nothing to replay');
  const startSeconds = opts.startSeconds ?? 1_767_225_600;
  const maxRounds = opts.maxRounds ?? Infinity;
  // Keys 1..65535, one per copy (round, source): unique for the first
  // 65535 / sources rounds, then reused by rounds hours apart.
  const keyOf = (r: number, source: number): number => ((r * sources.length + source) % 65535) + 1;

  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(8 << 20);
  let pos = 0;
  const flush = (): void => {
    writeSync(fd, buf, 0, pos);
    pos = 0;
  };
  buf.writeUInt32LE(0xa1b23c4d, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(262144, 16);
  buf.writeUInt32LE(1, 20);
  pos = 24;
  let bytes = 24;
  let frames = 0;

  // The rounds in progress, each with the index of its next frame; a new
  // round joins when the clock reaches its start. Rounds start in order, so
  // the next frame is the earliest among the few in progress.
  const active: { r: number; next: number }[] = [];
  let nextRound = 0;
  const timeOf = (a: { r: number; next: number }): number => a.r * ROUND_NS + round[a.next]!.ns;
  for (;;) {
    if (bytes >= opts.targetBytes) break;
    let best = -1;
    for (let i = 0; i < active.length; i++) if (best < 0 || timeOf(active[i]!) < timeOf(active[best]!)) best = i;
    if (nextRound < maxRounds && (best < 0 || nextRound * ROUND_NS + round[0]!.ns <= timeOf(active[best]!))) {
      active.push({ r: nextRound++, next: 0 });
      continue;
    }
    if (best < 0) break;
    const a = active[best]!;
    const { source, frame } = round[a.next]!;
    const ns = timeOf(a);
    const need = 16 + frame.data.length;
    if (pos + need > buf.length) flush();
    const sec = Math.floor(ns / 1e9);
    buf.writeUInt32LE(startSeconds + sec, pos);
    buf.writeUInt32LE(ns - sec * 1e9, pos + 4);
    buf.writeUInt32LE(frame.data.length, pos + 8);
    buf.writeUInt32LE(frame.origLen, pos + 12);
    frame.data.copy(buf, pos + 16);
    rekeyFrame(buf.subarray(pos + 16, pos + need), keyOf(a.r, source));
    pos += need;
    bytes += need;
    frames++;
    if (++a.next === round.length) active.splice(best, 1);
  }
  flush();
  closeSync(fd);
  return { bytes, frames, rounds: nextRound };
}
