/**
 * The TCP analysis events follow Wireshark 4.0's `tcp.analysis` flags
 * (src/transport/tcp-analysis.ts): on every bundled capture each event kind
 * is emitted on exactly the frames tshark flags (captures/X.expected.json,
 * tcp.framesByFlag, from scripts/expected.mjs), and each rule is checked on
 * generated segments.
 */
import { describe, expect, it } from 'vitest';
import type { StreamConsumer, TcpEvent, TcpEventKind, TransportHandler } from '../src/transport/stream.js';
import {
  TA_DUPLICATE_ACK,
  TA_KEEP_ALIVE,
  TA_KEEP_ALIVE_ACK,
  TA_OUT_OF_ORDER,
  TA_RETRANSMISSION,
  TA_SPURIOUS_RETRANSMISSION,
  TA_WINDOW_UPDATE,
  TA_ZERO_WINDOW,
  TA_ZERO_WINDOW_PROBE,
  TA_ZERO_WINDOW_PROBE_ACK,
  TcpAnalysis,
} from '../src/transport/tcp-analysis.js';
import { TcpReassembler } from '../src/transport/tcp-reassembly.js';
import { ACK, FIN, PacketFeeder, RST, SYN, tcpSegment } from './gen/tcp.js';
import { bundledCaptures, expectedOf, runTransport, TcpEventRecorder, type Expected } from './helpers.js';

/** tshark flag (tcp.analysis.<flag>) → the nfsight event kind emitted on the same frames. */
export const KIND_OF_FLAG: Record<string, TcpEventKind> = {
  retransmission: 'retransmission',
  out_of_order: 'out-of-order',
  lost_segment: 'lost-segment',
  zero_window: 'zero-window',
  duplicate_ack: 'dup-ack',
  fast_retransmission: 'fast-retransmission',
  spurious_retransmission: 'spurious-retransmission',
  keep_alive: 'keep-alive',
  ack_lost_segment: 'ack-lost-segment',
};
const ANALYSIS_KINDS = Object.values(KIND_OF_FLAG);

type WithFrames = Expected & { tcp: { framesByFlag: Record<string, number[]> } };

async function eventsOf(name: string): Promise<TcpEventRecorder> {
  const rec = new TcpEventRecorder();
  await runTransport(name, rec);
  return rec;
}

describe('TCP analysis events are the frames tshark flags, on the bundled captures', () => {
  for (const name of bundledCaptures()) {
    it(name, async () => {
      const exp = expectedOf(name) as WithFrames;
      const rec = await eventsOf(name);
      for (const [flag, kind] of Object.entries(KIND_OF_FLAG)) {
        const theirs = exp.tcp.framesByFlag[flag];
        expect(theirs, `${flag} listed in ${name}.expected.json`).toBeDefined();
        // One event per flagged frame, in capture order: the same list.
        expect({ kind, frames: rec.frames(kind) }).toEqual({ kind, frames: theirs });
      }
      // The counts the report prints agree with tshark's.
      for (const flag of ['retransmission', 'out_of_order', 'lost_segment', 'zero_window', 'duplicate_ack']) {
        expect(rec.frames(KIND_OF_FLAG[flag]!).length).toBe(exp.tcp.flags[flag]);
      }
    });
  }

  it('the lossy capture has each kind of loss (so the comparison above means something)', () => {
    const f = (expectedOf('lossy-read-cut.pcap') as WithFrames).tcp.framesByFlag;
    expect(f['retransmission']!.length).toBe(15);
    expect(f['fast_retransmission']!.length).toBeGreaterThan(0);
    expect(f['spurious_retransmission']!.length).toBeGreaterThan(0);
    expect(f['out_of_order']!.length).toBeGreaterThan(0);
    expect(f['lost_segment']!.length).toBeGreaterThan(0);
    expect(f['duplicate_ack']!.length).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------
// Generated segments. Each scenario lists its segments with their capture
// time, and the frames (1-based) each analysis event kind must flag; kinds
// not listed must flag nothing. The expectations were checked against
// tshark 4.0.17 by writing the scenarios out as a pcap.

const CLI = '10.0.0.1';
const SRV = '10.0.0.2';
const CPORT = 871;
const SPORT = 2049;
const C0 = 1000; // client ISN
const S0 = 5000; // server ISN
const T0 = 1_700_000_000;

export interface Seg {
  /** From the client (else from the server). */
  c: boolean;
  seq: number;
  /** ACK number; the ACK flag is set when given. */
  ack?: number;
  flags?: number;
  len?: number;
  window?: number;
  /** Capture time, milliseconds after T0. */
  ms: number;
}

export interface Scenario {
  name: string;
  segs: Seg[];
  expect: Partial<Record<TcpEventKind, number[]>>;
}

const c = (seq: number, ms: number, o: Omit<Seg, 'c' | 'seq' | 'ms'> = {}): Seg => ({ c: true, seq, ms, ...o });
const s = (seq: number, ms: number, o: Omit<Seg, 'c' | 'seq' | 'ms'> = {}): Seg => ({ c: false, seq, ms, ...o });

/** SYN at 0 ms, SYN/ACK at 10 ms, ACK at 20 ms: an initial RTT of 20 ms. */
function handshake(): Seg[] {
  return [c(C0, 0, { flags: SYN }), s(S0, 10, { flags: SYN, ack: C0 + 1 }), c(C0 + 1, 20, { ack: S0 + 1 })];
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'retransmission after a timeout (and of a SYN)',
    segs: [
      c(C0, 0, { flags: SYN }),
      c(C0, 1000, { flags: SYN }), // 2: SYN sent again
      s(S0, 1010, { flags: SYN, ack: C0 + 1 }),
      c(C0 + 1, 1020, { ack: S0 + 1 }),
      c(C0 + 1, 1030, { ack: S0 + 1, len: 100 }),
      c(C0 + 101, 1031, { ack: S0 + 1, len: 100 }),
      s(S0 + 1, 1040, { ack: C0 + 101 }),
      c(C0 + 101, 1300, { ack: S0 + 1, len: 100 }), // 8: the unacked segment again, 269 ms later
    ],
    expect: { retransmission: [2, 8] },
  },
  {
    name: 'fast retransmission after two duplicate ACKs',
    segs: [
      ...handshake(),
      c(C0 + 1, 30, { ack: S0 + 1, len: 100 }),
      // [101, 201) is not captured
      c(C0 + 201, 31, { ack: S0 + 1, len: 100 }), // 5: previous segment not captured
      c(C0 + 301, 32, { ack: S0 + 1, len: 100 }),
      s(S0 + 1, 40, { ack: C0 + 101 }),
      s(S0 + 1, 41, { ack: C0 + 101 }), // 8: dup 1
      s(S0 + 1, 42, { ack: C0 + 101 }), // 9: dup 2
      c(C0 + 101, 45, { ack: S0 + 1, len: 100 }), // 10: what the dups ask for, 3 ms later
    ],
    expect: {
      'lost-segment': [5],
      'dup-ack': [8, 9],
      retransmission: [10],
      'fast-retransmission': [10],
    },
  },
  {
    name: 'spurious retransmission: data the peer had ACKed',
    segs: [
      ...handshake(),
      c(C0 + 1, 30, { ack: S0 + 1, len: 100 }),
      s(S0 + 1, 40, { ack: C0 + 101 }),
      c(C0 + 1, 300, { ack: S0 + 1, len: 100 }), // 6
    ],
    expect: { retransmission: [6], 'spurious-retransmission': [6] },
  },
  {
    name: 'out-of-order within the initial RTT, retransmission beyond it',
    segs: [
      ...handshake(), // RTT 20 ms
      c(C0 + 101, 30, { ack: S0 + 1, len: 100 }), // 4: [1, 101) not yet seen
      c(C0 + 1, 35, { ack: S0 + 1, len: 100 }), // 5: 5 ms later
      c(C0 + 201, 40, { ack: S0 + 1, len: 100 }),
      c(C0 + 401, 50, { ack: S0 + 1, len: 100 }), // 7: [301, 401) not yet seen
      c(C0 + 301, 100, { ack: S0 + 1, len: 100 }), // 8: 50 ms later
    ],
    expect: { 'lost-segment': [4, 7], 'out-of-order': [5], retransmission: [8] },
  },
  {
    name: 'out-of-order threshold without a handshake: 3 ms',
    segs: [
      c(C0, 0, { ack: S0, len: 100 }),
      c(C0 + 200, 1, { ack: S0, len: 100 }), // 2
      c(C0 + 100, 3.5, { ack: S0, len: 100 }), // 3: 2.5 ms after frame 2
      c(C0 + 400, 10, { ack: S0, len: 100 }), // 4
      c(C0 + 300, 14, { ack: S0, len: 100 }), // 5: 4 ms after frame 4
    ],
    expect: { 'lost-segment': [2, 4], 'out-of-order': [3], retransmission: [5] },
  },
  {
    name: 'keep-alives (1 or 0 bytes) are not retransmissions, nor their ACKs duplicates',
    segs: [
      ...handshake(),
      c(C0 + 1, 30, { ack: S0 + 1, len: 100 }),
      s(S0 + 1, 40, { ack: C0 + 101 }),
      c(C0 + 100, 60_000, { ack: S0 + 1, len: 1 }), // 6: keep-alive with one old byte
      s(S0 + 1, 60_010, { ack: C0 + 101 }), // 7: keep-alive ACK
      c(C0 + 100, 120_000, { ack: S0 + 1 }), // 8: keep-alive without data
      s(S0 + 1, 120_010, { ack: C0 + 101 }), // 9: keep-alive ACK
      c(C0 + 101, 120_015, { ack: S0 + 1 }), // 10: same ACK as the client's last segment: a duplicate
      s(S0 + 1, 120_020, { ack: C0 + 101 }), // 11: after a segment that was not a keep-alive: a duplicate
    ],
    expect: { 'keep-alive': [6, 8], 'dup-ack': [10, 11] },
  },
  {
    name: 'lost segment, and an ACK of a segment the capture missed',
    segs: [
      ...handshake(),
      c(C0 + 1, 30, { ack: S0 + 1, len: 100 }),
      s(S0 + 1, 40, { ack: C0 + 201 }), // 5: ACKs [101, 201), never seen
      c(C0 + 201, 41, { ack: S0 + 1, len: 100 }), // 6: starts beyond what was seen
      c(C0 + 101, 300, { ack: S0 + 1, len: 100 }), // 7: the missing one, late and already ACKed
    ],
    expect: {
      'ack-lost-segment': [5],
      'lost-segment': [6],
      retransmission: [7],
      'spurious-retransmission': [7],
    },
  },
  {
    name: 'an ACK of unseen data is reported once until the peer ACKs anew',
    segs: [
      ...handshake(),
      c(C0 + 1, 30, { ack: S0 + 1, len: 100 }),
      s(S0 + 1, 40, { ack: C0 + 201 }), // 5: ACKs [101, 201), never seen
      s(S0 + 1, 41, { ack: C0 + 201, len: 10 }), // 6: the same hole again: not reported
      c(C0 + 101, 50, { ack: S0 + 11 }), // 7: the client's ACK number changes
      s(S0 + 11, 60, { ack: C0 + 201, len: 10 }), // 8: reported again
    ],
    expect: { 'ack-lost-segment': [5, 8] },
  },
  {
    name: 'zero window: not on a SYN; the probe and its ACK',
    segs: [
      c(C0, 0, { flags: SYN, window: 0 }),
      s(S0, 10, { flags: SYN, ack: C0 + 1 }),
      c(C0 + 1, 20, { ack: S0 + 1 }),
      c(C0 + 1, 30, { ack: S0 + 1, len: 100 }),
      s(S0 + 1, 40, { ack: C0 + 101, window: 0 }), // 5
      s(S0 + 1, 50, { ack: C0 + 101, window: 0 }), // 6: still closed (not a dup: window 0)
      c(C0 + 101, 500, { ack: S0 + 1, len: 1 }), // 7: zero window probe
      s(S0 + 1, 510, { ack: C0 + 101, window: 0 }), // 8: probe ACK, still closed
      s(S0 + 1, 600, { ack: C0 + 101, window: 8000 }), // 9: window update
      c(C0 + 101, 610, { ack: S0 + 1, len: 100 }), // 10: the probe byte did not advance
    ],
    expect: { 'zero-window': [5, 6, 8] },
  },
  {
    name: 'duplicate ACK: no data, same seq, ACK and window; not SYN/FIN/RST',
    segs: [
      ...handshake(),
      c(C0 + 1, 30, { ack: S0 + 1, len: 10 }),
      c(C0 + 21, 31, { ack: S0 + 1, len: 10 }), // 5: [11, 21) not captured
      s(S0 + 1, 40, { ack: C0 + 11 }),
      s(S0 + 1, 41, { ack: C0 + 11 }), // 7: dup
      s(S0 + 1, 42, { ack: C0 + 11 }), // 8: dup
      s(S0 + 1, 43, { ack: C0 + 11, window: 1000 }), // 9: window update
      s(S0 + 1, 44, { ack: C0 + 11, window: 1000 }), // 10: dup
      s(S0 + 1, 45, { ack: C0 + 11, window: 1000, len: 5 }), // 11: data
      s(S0 + 6, 46, { ack: C0 + 11, window: 1000, flags: FIN }), // 12: FIN
      s(S0 + 7, 47, { ack: C0 + 11, window: 1000, flags: RST }), // 13: RST
    ],
    expect: { 'lost-segment': [5], 'dup-ack': [7, 8, 10] },
  },
  {
    name: 'segments after the connection closed are still analysed',
    segs: [
      ...handshake(),
      c(C0 + 1, 30, { ack: S0 + 1, flags: FIN }),
      s(S0 + 1, 31, { ack: C0 + 2, flags: FIN }),
      c(C0 + 2, 32, { ack: S0 + 2 }), // 6: closed
      c(C0 + 1, 500, { ack: S0 + 1, flags: FIN }), // 7: FIN sent again
      s(S0 + 1, 510, { ack: C0 + 2, flags: FIN | ACK }), // 8: and the other
    ],
    expect: { retransmission: [7, 8] },
  },
];

/** Feeds a scenario to a reassembler; returns the events. */
function run(sc: Scenario): TcpEvent[] {
  const events: TcpEvent[] = [];
  const handler: TransportHandler = {
    openConnection: () => {
      const x: StreamConsumer = { data: () => undefined, gap: () => undefined, end: () => undefined };
      return [x, x];
    },
    datagram: () => undefined,
    tcpEvent: (e) => events.push(e),
  };
  const tcp = new TcpReassembler(handler);
  const feeder = new PacketFeeder((p) => tcp.segment(p));
  for (const g of sc.segs) {
    const ns = Math.round(g.ms * 1e6);
    feeder.tsSec = T0 + Math.floor(ns / 1e9);
    feeder.tsNsec = ns % 1e9;
    const l4 = tcpSegment(
      {
        srcPort: g.c ? CPORT : SPORT,
        dstPort: g.c ? SPORT : CPORT,
        seq: g.seq >>> 0,
        ack: (g.ack ?? 0) >>> 0,
        flags: (g.flags ?? 0) | (g.ack !== undefined ? ACK : 0),
        window: g.window,
      },
      Buffer.alloc(g.len ?? 0, 0x61),
    );
    feeder.feed(l4, { src: g.c ? CLI : SRV, dst: g.c ? SRV : CLI });
  }
  tcp.finish();
  return events;
}

describe('TCP analysis rules on generated segments', () => {
  for (const sc of SCENARIOS) {
    it(sc.name, () => {
      const events = run(sc);
      for (const kind of ANALYSIS_KINDS) {
        const frames = events.filter((e) => e.kind === kind).map((e) => e.at.number);
        expect({ kind, frames }).toEqual({ kind, frames: sc.expect[kind] ?? [] });
      }
    });
  }

  it('reports segment lengths and stream offsets', () => {
    const byKind = (kind: TcpEventKind, events: TcpEvent[]) =>
      events.filter((e) => e.kind === kind).map((e) => ({ dir: e.direction, bytes: e.bytes, offset: e.offset, frame: e.at.number }));
    const rto = run(SCENARIOS[0]!);
    // The retransmitted SYN carries no data at offset 0; the data segment is [100, 200).
    expect(byKind('retransmission', rto)).toEqual([
      { dir: 0, bytes: 0, offset: 0, frame: 2 },
      { dir: 0, bytes: 100, offset: 100, frame: 8 },
    ]);
    const lost = run(SCENARIOS.find((x) => x.name.startsWith('lost segment'))!);
    // Frame 5 ACKs [100, 200) of the client's stream; frame 6 skips the same bytes.
    expect(byKind('ack-lost-segment', lost)).toEqual([{ dir: 1, bytes: 100, offset: 100, frame: 5 }]);
    expect(byKind('lost-segment', lost)).toEqual([{ dir: 0, bytes: 100, offset: 100, frame: 6 }]);
    expect(byKind('spurious-retransmission', lost)).toEqual([{ dir: 0, bytes: 100, offset: 100, frame: 7 }]);
    const dup = run(SCENARIOS.find((x) => x.name.startsWith('duplicate ACK'))!);
    // A duplicate ACK's offset is the ACKed offset in the peer's stream.
    expect(byKind('dup-ack', dup).map((e) => e.offset)).toEqual([10, 10, 10]);
  });

  it('a gap in delivery is reported as nfsight\'s own "gap", not as a Wireshark flag', () => {
    const sc: Scenario = {
      name: 'gap',
      segs: [
        ...handshake(),
        c(C0 + 1, 30, { ack: S0 + 1, len: 100 }),
        c(C0 + 201, 31, { ack: S0 + 1, len: 100 }), // 5: [100, 200) never captured
        s(S0 + 1, 40, { ack: C0 + 301 }), // 6: the receiver got it all
      ],
      expect: {},
    };
    const events = run(sc);
    expect(events.filter((e) => e.kind === 'gap').map((e) => [e.at.number, e.bytes, e.offset])).toEqual([[6, 100, 100]]);
    expect(events.filter((e) => e.kind === 'lost-segment').map((e) => e.at.number)).toEqual([5]);
  });
});

describe('TcpAnalysis.classify', () => {
  it('returns the Wireshark bits of one segment, without a reassembler', () => {
    const a = new TcpAnalysis();
    const t = (ms: number): [number, number] => [T0, ms * 1e6];
    expect(a.classify(0, C0, 0, 0, SYN, 65535, ...t(0))).toBe(0);
    expect(a.classify(1, S0, C0 + 1, 0, SYN | ACK, 65535, ...t(10))).toBe(0);
    expect(a.classify(0, C0 + 1, S0 + 1, 0, ACK, 65535, ...t(20))).toBe(0);
    expect(a.firstRttNs).toBe(20e6);
    expect(a.classify(0, C0 + 1, S0 + 1, 50, ACK, 65535, ...t(30))).toBe(0);
    expect(a.classify(1, S0 + 1, C0 + 51, 0, ACK, 65535, ...t(31))).toBe(0);
    expect(a.classify(1, S0 + 1, C0 + 51, 0, ACK, 65535, ...t(32))).toBe(TA_DUPLICATE_ACK);
    expect(a.classify(1, S0 + 1, C0 + 51, 0, ACK, 4096, ...t(33))).toBe(TA_WINDOW_UPDATE);
    // Below nextSeq within the RTT, not all ACKed: out-of-order.
    expect(a.classify(0, C0 + 41, S0 + 1, 20, ACK, 65535, ...t(40))).toBe(TA_OUT_OF_ORDER);
    // All of it ACKed already: spurious, whatever the timing.
    expect(a.classify(0, C0 + 11, S0 + 1, 10, ACK, 65535, ...t(41))).toBe(TA_SPURIOUS_RETRANSMISSION);
    // Beyond the RTT, not all ACKed: a retransmission.
    expect(a.classify(0, C0 + 11, S0 + 1, 50, ACK, 65535, ...t(70))).toBe(TA_RETRANSMISSION);
    expect(a.classify(0, C0 + 60, S0 + 1, 0, ACK, 65535, ...t(9000))).toBe(TA_KEEP_ALIVE);
    expect(a.classify(1, S0 + 1, C0 + 51, 0, ACK, 4096, ...t(9001))).toBe(TA_KEEP_ALIVE_ACK);
    expect(a.classify(1, S0 + 1, C0 + 51, 0, ACK, 0, ...t(9100))).toBe(TA_ZERO_WINDOW);
    expect(a.classify(0, C0 + 61, S0 + 1, 1, ACK, 65535, ...t(9200))).toBe(TA_ZERO_WINDOW_PROBE);
    expect(a.classify(1, S0 + 1, C0 + 51, 0, ACK, 0, ...t(9201))).toBe(TA_ZERO_WINDOW | TA_ZERO_WINDOW_PROBE_ACK);
  });
});
