/**
 * Frozen connections (docs/memory.md, "100,000 live connections"): an open
 * TCP connection that waits for nothing is kept as a row of numbers
 * (src/transport/cold-store.ts) and made again at its next segment. Nothing
 * may tell: the same bytes, gaps, ends and events, the same analysis, the
 * same reports, whether every connection is frozen between its segments or
 * none is.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { analyze } from '../src/analyze.js';
import type { FrameRef } from '../src/capture/frame.js';
import { ColdStore, COLD_USER_I32 } from '../src/transport/cold-store.js';
import { ConnKey, KeyFields } from '../src/transport/conn-table.js';
import type {
  ConnectionConsumer,
  Direction,
  FrozenConsumer,
  StreamControl,
  StreamEndReason,
  TcpConnection,
  TcpEvent,
  TransportHandler,
} from '../src/transport/stream.js';
import { Transport } from '../src/transport/transport.js';
import { ACK, FIN, PSH, PacketFeeder, RST, SYN, tcpSegment } from './gen/tcp.js';
import { rng } from './gen/random.js';
import { bundledCaptures, CAPTURES } from './helpers.js';

function key(version: number, words: number[], loPort: number, hiPort: number): KeyFields {
  const k = new KeyFields();
  k.version = version;
  [k.lo0, k.lo1, k.lo2, k.lo3, k.hi0, k.hi1, k.hi2, k.hi3] = words;
  k.loPort = loPort;
  k.hiPort = hiPort;
  // A poor hash on purpose: long chains.
  k.hash = (words[3]! ^ words[7]! ^ loPort) & 0x3f;
  return k;
}

function text(k: KeyFields): string {
  return k.keyText();
}

describe('the cold store', () => {
  it('finds, lists (oldest first) and removes rows as a Map and a list would, reusing rows, IPv4 and IPv6 keys', () => {
    const rnd = rng(7);
    const store = new ColdStore<string>(COLD_USER_I32 + 2, 1);
    const model = new Map<string, { row: number; k: KeyFields }>();
    const order: string[] = [];
    let made = 0;
    for (let step = 0; step < 20_000; step++) {
      const v6 = rnd() < 0.2;
      const w = (n: number): number => Math.floor(rnd() * n) >>> 0;
      const words = v6 ? [w(3), 0, w(2), w(40), 0, w(2), 0, w(40)] : [0, 0, 0, (0xfffffff0 + w(16)) >>> 0, 0, 0, 0, w(30)];
      const k = key(v6 ? 6 : 4, words, w(20), 2049);
      const t = text(k);
      const known = model.get(t);
      expect(store.find(k)).toBe(known?.row ?? -1);
      if (known === undefined && rnd() < 0.6) {
        const row = store.add(k);
        store.setRef(row, 0, t);
        made = Math.max(made, row + 1);
        const i = store.i32[row >> 10]!;
        i[(row & 1023) * store.ni + COLD_USER_I32] = step;
        model.set(t, { row, k });
        order.push(t);
      } else if (known !== undefined) {
        expect(store.ref(known.row)).toBe(t);
        const back = new KeyFields();
        store.keyOf(known.row, back);
        expect(text(back)).toBe(t);
        expect(back.hash).toBe(k.hash);
        store.remove(known.row);
        model.delete(t);
        order.splice(order.indexOf(t), 1);
      }
      expect(store.size).toBe(model.size);
    }
    expect([...store].map((r) => store.ref(r))).toEqual(order);
    expect(store.head).toBe(order.length > 0 ? model.get(order[0]!)!.row : -1);
    // Rows are reused: never more made than held at once.
    expect(made).toBeLessThan(model.size + 1000);
  });
});

/** Logs everything the transport hands over; its consumers freeze (when their count is not 1 mod 3) and thaw. */
class Log implements TransportHandler {
  readonly lines: string[] = [];
  thawed = 0;

  openConnection(conn: TcpConnection, control: StreamControl): ConnectionConsumer {
    return new Rec(this, conn, control, 0);
  }

  thawConnection(conn: TcpConnection, control: StreamControl, s: FrozenConsumer): ConnectionConsumer {
    this.thawed++;
    expect(s.floats[1]).toBe(s.ints[0]! / 2);
    return new Rec(this, conn, control, s.ints[0]!);
  }

  datagram(): void {}

  tcpEvent(e: TcpEvent): void {
    const c = e.conn;
    this.lines.push(
      `${e.kind} #${c.id} d${e.direction} f${e.at.number} ${e.bytes}@${e.offset} seg ${c.segments} data ${c.dataSegments} ` +
        `${c.midstream} ${c.a.addr}:${c.a.port} ${c.b.addr}:${c.b.port} first ${c.firstFrame.number}`,
    );
  }
}

class Rec implements ConnectionConsumer {
  constructor(
    private readonly log: Log,
    private readonly conn: TcpConnection,
    private readonly control: StreamControl,
    private n: number,
  ) {}

  data(dir: Direction, buf: Buffer, start: number, end: number, offset: number, at: FrameRef): void {
    this.n++;
    this.log.lines.push(`#${this.conn.id} data ${dir} ${offset} ${buf.toString('hex', start, end)} f${at.number}`);
    // A reply-like byte asks for the other direction's ACKed hole (as the RPC layer does).
    if (buf[start]! < 16) this.control.releaseAcknowledged((dir ^ 1) as Direction);
  }

  gap(dir: Direction, length: number, offset: number, at: FrameRef): void {
    this.n++;
    this.log.lines.push(`#${this.conn.id} gap ${dir} ${length}@${offset} f${at.number}`);
  }

  end(dir: Direction, reason: StreamEndReason, at: FrameRef | undefined): void {
    this.log.lines.push(`#${this.conn.id} end ${dir} ${reason} f${at?.number}`);
  }

  freeze(s: FrozenConsumer): boolean {
    if (this.n % 3 === 1) return false;
    s.ints[0] = this.n;
    s.floats[1] = this.n / 2;
    return true;
  }
}

/** A random session of many connections: handshakes or not, data both ways with losses, repeats and reordering, ACKs, FIN, RST, reuse, idle gaps; and some garbage. */
function run(seed: number, hot: number): { lines: string[]; frozen: number; thawed: number } {
  const rnd = rng(seed);
  const log = new Log();
  const tr = new Transport(log, {
    maxHotConnections: hot,
    maxOpenConnections: 40,
    idleTimeoutSec: 30,
    maxBufferedPerDirection: 3000,
    ackedHoleWaitBytes: 500,
  });
  const feeder = new PacketFeeder((p) => tr.packet(p));
  const n = 60;
  const cseq = new Float64Array(n);
  const sseq = new Float64Array(n);
  const client = (i: number): string => (i % 7 === 0 ? `fd00::${(i % 5) + 1}` : `10.1.0.${(i % 5) + 1}`);
  const server = (i: number): string => (i % 7 === 0 ? 'fd00::99' : '10.9.9.9');
  const bytes = (len: number): Buffer<ArrayBuffer> => {
    const b = Buffer.alloc(len);
    for (let k = 0; k < len; k++) b[k] = Math.floor(rnd() * 256);
    return b;
  };
  for (let step = 0; step < 12_000; step++) {
    const i = Math.floor(rnd() * rnd() * n);
    const cport = 1000 + i;
    const r = rnd();
    feeder.tsNsec = (feeder.tsNsec + Math.floor(rnd() * 5_000_000)) % 1e9;
    if (rnd() < 0.01) feeder.tsSec += Math.floor(rnd() * 50);
    const fromClient = rnd() < 0.6;
    const src = fromClient ? client(i) : server(i);
    const dst = fromClient ? server(i) : client(i);
    const sp = fromClient ? cport : 2049;
    const dp = fromClient ? 2049 : cport;
    const mySeq = fromClient ? cseq : sseq;
    const peerSeq = fromClient ? sseq : cseq;
    let flags = ACK;
    let payload = Buffer.alloc(0);
    let seq = mySeq[i]!;
    if (r < 0.03) {
      // A new connection on the tuple (SYN, then the other side's SYN/ACK later).
      cseq[i] = Math.floor(rnd() * 2 ** 32);
      seq = fromClient ? cseq[i]! : sseq[i]!;
      flags = fromClient ? SYN : SYN | ACK;
      mySeq[i] = (seq + 1) % 2 ** 32;
    } else if (r < 0.05) {
      flags = rnd() < 0.5 ? FIN | ACK : RST | ACK;
      mySeq[i] = (seq + 1) % 2 ** 32;
    } else if (r < 0.75) {
      payload = bytes(1 + Math.floor(rnd() * 300));
      flags = ACK | PSH;
      const m = rnd();
      if (m < 0.1) seq = (seq + 200 + Math.floor(rnd() * 400)) % 2 ** 32; // ahead of a hole
      else if (m < 0.2) seq = (seq + 2 ** 32 - Math.floor(rnd() * 600)) % 2 ** 32; // a repeat
      if (m >= 0.2 || m < 0.1) mySeq[i] = (seq + payload.length) % 2 ** 32;
    }
    const ack = (peerSeq[i]! + (rnd() < 0.05 ? Math.floor(rnd() * 800) : 0)) % 2 ** 32;
    if (rnd() < 0.02) {
      // Garbage.
      feeder.feed(bytes(Math.floor(rnd() * 60)), { src, dst });
      continue;
    }
    const l4 = tcpSegment({ srcPort: sp, dstPort: dp, seq, ack, flags, window: rnd() < 0.02 ? 0 : 1000 + Math.floor(rnd() * 3) }, payload);
    feeder.feed(l4, { src, dst, ...(rnd() < 0.05 ? { snap: Math.floor(rnd() * l4.length) } : {}) });
  }
  tr.finish();
  return { lines: log.lines, frozen: tr.stats.tcp.frozen, thawed: log.thawed };
}

describe('frozen connections', () => {
  for (const seed of [1, 2, 3]) {
    it(`hand over the same bytes, gaps, ends and events as connections never frozen (random session, seed ${seed})`, () => {
      const never = run(seed, 1_000_000);
      const always = run(seed, 0);
      const some = run(seed, 8);
      expect(never.frozen).toBe(0);
      expect(always.frozen).toBeGreaterThan(2000);
      expect(always.thawed).toBeGreaterThan(2000);
      expect(some.frozen).toBeGreaterThan(2000);
      // Idle connections were ended (the least recently active first, frozen or not).
      expect(never.lines.filter((l) => l.endsWith('idle') || / end \d idle /.test(l)).length).toBeGreaterThan(10);
      expect(never.lines.length).toBeGreaterThan(10_000);
      expect(always.lines).toEqual(never.lines);
      expect(some.lines).toEqual(never.lines);
    });
  }

  it('make the same reports and transactions on the bundled captures, every connection frozen between its segments', async () => {
    for (const name of bundledCaptures()) {
      const file = join(CAPTURES, name);
      const out: string[] = [];
      for (const hot of [undefined, 0]) {
        const tx: string[] = [];
        const report = await analyze(file, {
          ...(hot === undefined ? {} : { hotConnections: hot }),
          onTransaction: (t) => tx.push(JSON.stringify(t)),
        });
        const { memory: _m, ...rest } = report as unknown as Record<string, unknown>;
        out.push(JSON.stringify(rest) + '\n' + tx.join('\n'));
      }
      expect(out[1], name).toBe(out[0]);
    }
  });
});

// The key of a segment (ConnKey) is a KeyFields: the store takes either.
void ConnKey;
