/**
 * The connection table the TCP layer finds connections in: keys read from
 * the packet's numeric addresses, both directions of a connection one key,
 * checked against a plain Map keyed by the endpoints' text.
 */
import { describe, expect, it } from 'vitest';
import { newFrame } from '../src/capture/frame.js';
import { IpPacket, addressWords } from '../src/net/packet.js';
import { ConnEntry, ConnKey, ConnTable } from '../src/transport/conn-table.js';
import { randInt, rng } from './gen/random.js';

class Entry extends ConnEntry {
  constructor(readonly name: string, key: ConnKey) {
    super();
    this.copyKey(key);
  }
}

/** Whether an entry made from key `a` has key `b`. */
function same(a: ConnKey, b: ConnKey): boolean {
  const e = new ConnEntry();
  e.copyKey(a);
  return e.sameKey(b);
}

function packet(src: string, dst: string): IpPacket {
  return new IpPacket(newFrame(0)).setAddresses(src, dst);
}

describe('addresses as numbers', () => {
  it('reads IPv4 and IPv6 text into words and gives the same text back', () => {
    for (const a of ['10.0.0.1', '255.255.255.255', '0.0.0.0', '2001:db8::10', '::1', '::', 'fe80::1:2:3:4', '::ffff:192.0.2.1', '2001:db8:1:2:3:4:5:6']) {
      const p = packet(a, a);
      expect(p.src).toBe(a);
      expect(p.dst).toBe(a);
    }
    expect(addressWords('192.0.2.10')).toEqual({ version: 4, words: [0, 0, 0, 0xc000020a] });
    expect(addressWords('2001:db8::1')).toEqual({ version: 6, words: [0x20010db8, 0, 0, 1] });
    expect(() => addressWords('10.0.0')).toThrow();
    expect(() => addressWords('2001:db8::g')).toThrow();
  });
});

describe('ConnTable', () => {
  it('one key for both directions; the direction is told by srcIsLo', () => {
    const k1 = new ConnKey().fill(packet('10.0.0.2', '10.0.0.1'), 700, 2049);
    const k2 = new ConnKey().fill(packet('10.0.0.1', '10.0.0.2'), 2049, 700);
    expect(same(k1, k2)).toBe(true);
    expect(k1.srcIsLo).not.toBe(k2.srcIsLo);
    // Same addresses, ports swapped: another connection.
    const k3 = new ConnKey().fill(packet('10.0.0.2', '10.0.0.1'), 2049, 700);
    expect(same(k3, k1)).toBe(false);
    // The same words as IPv4 and as IPv6 are different connections.
    const v6 = packet('::a00:2', '::a00:1');
    const k4 = new ConnKey().fill(v6, 700, 2049);
    expect(same(k4, k1)).toBe(false);
    expect(same(k1, k4)).toBe(false);
    // A connection to itself: both directions the same endpoint.
    const self = new ConnKey().fill(packet('127.0.0.1', '127.0.0.1'), 9, 9);
    expect(self.same).toBe(true);
  });

  it('an entry keeps an IPv4 key in three numbers and gives its text back, high addresses and ports too', () => {
    const cases: [string, string, number, number][] = [
      ['10.0.0.2', '10.0.0.1', 700, 2049],
      ['255.255.255.255', '192.0.2.1', 65535, 40000],
      ['0.0.0.0', '0.0.0.0', 0, 0],
      ['2001:db8::1', 'fe80::ffff:ffff', 65535, 2049],
      ['::ffff:192.0.2.1', '::1', 1, 2],
    ];
    for (const [a, b, pa, pb] of cases) {
      const k = new ConnKey().fill(packet(a, b), pa, pb);
      const e = new ConnEntry();
      e.copyKey(k);
      expect(e.keyText()).toBe(k.keyText());
      expect(e.sameKey(new ConnKey().fill(packet(b, a), pb, pa))).toBe(true);
      expect(e.sameKey(new ConnKey().fill(packet(a, b), pa, pb === 0 ? 1 : pb - 1))).toBe(false);
    }
  });

  it('agrees with a Map keyed by text over 10,000 random connections, with deletes and growth', () => {
    const random = rng(7);
    const r = (): number => randInt(random, 0, 2 ** 32);
    const table = new ConnTable<Entry>();
    const ref = new Map<string, Entry>();
    const key = new ConnKey();
    const addr = (): string =>
      r() % 3 === 0
        ? `2001:db8::${(r() % 50).toString(16)}:${(r() % 65536).toString(16)}`
        : `10.${r() % 4}.${r() % 256}.${r() % 256}`;
    const endpoints: [string, string, number, number][] = [];
    for (let i = 0; i < 10_000; i++) {
      const a = addr();
      let b = addr();
      // Keep the two sides of one family.
      if (a.includes(':') !== b.includes(':')) b = a.includes(':') ? `2001:db8::${i.toString(16)}` : `10.9.${i >> 8 & 255}.${i & 255}`;
      endpoints.push([a, b, r() % 65536, r() % 4 === 0 ? 2049 : r() % 65536]);
    }
    const text = (a: string, b: string, pa: number, pb: number): string => {
      const x = `${a}|${pa}`;
      const y = `${b}|${pb}`;
      return x < y ? `${x}>${y}` : `${y}>${x}`;
    };
    for (let i = 0; i < endpoints.length; i++) {
      const [a, b, pa, pb] = endpoints[i]!;
      const t = text(a, b, pa, pb);
      key.fill(packet(a, b), pa, pb);
      expect(table.get(key)).toBe(ref.get(t));
      if (!ref.has(t)) {
        const e = new Entry(t, key);
        table.add(e);
        ref.set(t, e);
      }
      // Now and then a connection ends.
      if (i % 5 === 4) {
        const [c, d, pc, pd] = endpoints[r() % (i + 1)]!;
        const u = text(c, d, pc, pd);
        const e = ref.get(u);
        if (e !== undefined) {
          expect(table.delete(e)).toBe(true);
          ref.delete(u);
        }
      }
    }
    expect(table.size).toBe(ref.size);
    // Every connection is found from either direction, and only live ones.
    for (const [a, b, pa, pb] of endpoints) {
      const t = text(a, b, pa, pb);
      expect(table.get(key.fill(packet(b, a), pb, pa))?.name).toBe(ref.get(t)?.name);
    }
  });
});
