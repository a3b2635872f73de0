/**
 * NFSv3 over TCP where bytes reach the reassembler late: segments out of
 * order, holes filled by a retransmission, holes the capture never fills
 * (the receiver ACKs past them), in a capture merged from two interfaces
 * (client side on one, server side on the other) whose timestamps are not
 * monotonic in file order. Each scenario is its own connection. tshark's
 * reading of it (both out-of-order preferences) is stored beside this file
 * (late-delivery.expected.json, scripts/tshark-generated.mjs).
 */
import { writePcapng } from './capture-writer.js';
import { makeFh } from './nfs3.js';
import { recordMark, rpcAcceptedReply, rpcCall, XdrWriter } from './rpc.js';
import { ScriptedCapture, TcpScript } from './tcp-script.js';

const LINKTYPE_ETHERNET = 1;
const NFS = 100003;
const WRITE = 7;
const SERVER = { addr: '10.2.0.2', port: 2049 };

let nextXid = 0x7a000001;

/** A record-marked NFSv3 WRITE call of exactly `size` bytes on the wire (size ≡ 0 mod 4, ≥ 140). */
function writeCall(size: number): { xid: number; bytes: Buffer } {
  const xid = nextXid++;
  const fh = makeFh(3);
  const head = rpcCall({ xid, prog: NFS, vers: 3, proc: WRITE, cred: { machine: 'c', uid: 0, gid: 0 } }, Buffer.alloc(0));
  // record mark + header + fh + offset, count, stable + data opaque length
  const fixed = 4 + head.length + 4 + fh.length + 8 + 4 + 4 + 4;
  const data = Buffer.alloc(size - fixed, 0x61);
  const args = new XdrWriter().opaque(fh).u64(0).u32(data.length).u32(2).opaque(data).bytes();
  const bytes = recordMark(rpcCall({ xid, prog: NFS, vers: 3, proc: WRITE, cred: { machine: 'c', uid: 0, gid: 0 } }, args));
  if (bytes.length !== size) throw new Error(`WRITE call of ${bytes.length} bytes, not ${size}`);
  return { xid, bytes };
}

/** A record-marked WRITE3res (NFS3_OK, empty wcc, count, FILE_SYNC, verifier). */
function writeReply(xid: number): Buffer {
  const res = new XdrWriter().u32(0).u32(0).u32(0).u32(512).u32(2).fixed(Buffer.alloc(8, 1)).bytes();
  return recordMark(rpcAcceptedReply(xid, res));
}

/**
 * One step of a scenario: a client segment carrying stream bytes [start, end);
 * a pure ACK from the server (of everything the client wrote, or up to
 * `upTo`); from then on the server acknowledges everything; the server's
 * replies (to the calls listed by index, default all), one segment each
 * 0.1 ms apart. Times in seconds from the scenario's start, the server on
 * interface 1.
 */
type Step =
  | { seg: [number, number]; at: number }
  | { ack: number; upTo?: number }
  | { ackAll: true }
  | { replies: number; calls?: number[] };

interface Scenario {
  /** What it shows (for the reader). */
  what: string;
  /** Call sizes on the wire, in stream order. */
  calls: number[];
  steps: Step[];
}

const SCENARIOS: Scenario[] = [
  {
    what: 'A: a hole in call 1 filled by a retransmission after a duplicate ACK; call 2 whole behind it',
    calls: [300, 200],
    steps: [{ seg: [0, 100], at: 0.01 }, { seg: [200, 300], at: 0.011 }, { seg: [300, 500], at: 0.012 }, { ack: 0.013, upTo: 100 }, { seg: [100, 200], at: 0.05 }, { ack: 0.051 }, { replies: 0.052 }],
  },
  {
    what: 'B: pure reordering within call 1 (its second segment first), no loss',
    calls: [300, 200],
    steps: [{ seg: [150, 300], at: 0.01 }, { seg: [0, 150], at: 0.011 }, { seg: [300, 500], at: 0.012 }, { ack: 0.013 }, { replies: 0.014 }],
  },
  {
    what: 'C: a hole in call 1 the capture never fills; call 2 behind it; the server ACKs past the hole',
    calls: [300, 200],
    steps: [{ seg: [0, 100], at: 0.01 }, { seg: [200, 300], at: 0.011 }, { seg: [300, 400], at: 0.012 }, { seg: [400, 500], at: 0.013 }, { ack: 0.014 }, { replies: 0.015 }],
  },
  {
    what: 'D: a whole call lost by the capture between two calls; the server ACKs past it',
    calls: [200, 200, 300],
    steps: [{ seg: [0, 200], at: 0.01 }, { seg: [400, 550], at: 0.011 }, { seg: [550, 700], at: 0.012 }, { ack: 0.013 }, { replies: 0.014 }],
  },
  {
    what:
      'E: merged capture, timestamps going backwards: the server ACK past a hole written before the client ' +
      'segments it covers, with an earlier timestamp; the replies earlier than their calls',
    calls: [200, 300, 200],
    steps: [{ seg: [0, 200], at: 0.01 }, { ack: 0.009 }, { seg: [300, 500], at: 0.012 }, { seg: [500, 700], at: 0.013 }, { replies: 0.005 }],
  },
  {
    what: 'F: a hole in call 2, call 3 behind it; reply 1 ACKs past the hole; a spurious retransmission fills it',
    calls: [200, 300, 200],
    steps: [
      { seg: [0, 200], at: 0.01 }, { seg: [200, 300], at: 0.011 }, { seg: [400, 500], at: 0.012 }, { seg: [500, 700], at: 0.013 },
      { ack: 0.014, upTo: 300 }, { ackAll: true }, { replies: 0.015, calls: [0] }, { seg: [300, 400], at: 0.06 }, { ack: 0.061 }, { replies: 0.062, calls: [1, 2] },
    ],
  },
  {
    what: "G: a hole in call 1; the segment after it also carries call 2's start; filled later",
    calls: [300, 200],
    steps: [{ seg: [0, 100], at: 0.01 }, { seg: [200, 400], at: 0.011 }, { seg: [400, 500], at: 0.012 }, { ack: 0.013, upTo: 100 }, { seg: [100, 200], at: 0.05 }, { ack: 0.051 }, { replies: 0.052 }],
  },
  {
    what: 'H: a hole in call 1; call 2 starts a segment and spans two, call 3 after; filled later',
    calls: [300, 300, 200],
    steps: [
      { seg: [0, 100], at: 0.01 }, { seg: [200, 300], at: 0.011 }, { seg: [300, 450], at: 0.012 }, { seg: [450, 700], at: 0.013 }, { seg: [700, 800], at: 0.014 },
      { ack: 0.015, upTo: 100 }, { seg: [100, 200], at: 0.05 }, { ack: 0.051 }, { replies: 0.052 },
    ],
  },
  {
    what: 'I: merged capture: the ACK-only frame past a hole in call 2 written before the retransmission that filled it',
    calls: [200, 300, 200],
    steps: [{ seg: [0, 200], at: 0.01 }, { seg: [200, 300], at: 0.011 }, { seg: [400, 500], at: 0.012 }, { seg: [500, 700], at: 0.013 }, { ack: 0.015 }, { seg: [300, 400], at: 0.014 }, { replies: 0.016 }],
  },
];

function play(cap: ScriptedCapture, s: Scenario, port: number, start: number): void {
  const t = new TcpScript(cap, { addr: '10.2.0.10', port }, SERVER).handshake(start, 0);
  const xids = s.calls.map((size) => {
    const c = writeCall(size);
    t.write('client', c.bytes);
    return c.xid;
  });
  for (const step of s.steps) {
    if ('seg' in step) t.segment('client', step.seg[0], step.seg[1], start + step.at, 0);
    else if ('ack' in step) t.ack('server', start + step.ack, 1, step.upTo);
    else if ('ackAll' in step) t.acknowledge('server');
    else {
      (step.calls ?? xids.map((_, i) => i)).forEach((i, k) => {
        const off = t.write('server', writeReply(xids[i]!));
        t.segment('server', off, t.length('server'), start + step.replies + k * 1e-4, 1);
      });
    }
  }
}

export function lateDeliveryCapture(): Buffer {
  nextXid = 0x7a000001;
  const cap = new ScriptedCapture(1_790_100_000);
  SCENARIOS.forEach((s, i) => play(cap, s, 901 + i, i * 0.1));
  return writePcapng([
    {
      interfaces: [
        { linkType: LINKTYPE_ETHERNET, tsresol: 9, name: 'client-side' },
        { linkType: LINKTYPE_ETHERNET, tsresol: 9, name: 'server-side' },
      ],
      blocks: cap.blocks,
    },
  ]);
}
