/**
 * `calls` against tshark, field by field: on every bundled capture and on
 * the generated captures of test/gen (void replies, ...), every call tshark
 * decodes (either out-of-order preference) is listed at tshark's frame with
 * its xid, program, version, procedure, reply frame, rpc.time and status
 * (null where the reply has no status field). The expected values are
 * tshark's (X.expected.json `calls`, scripts/expected.mjs; test/gen/*.expected.json,
 * scripts/tshark-generated.mjs); the comparison is scripts/compare-calls.mjs,
 * the one scripts/check-shared.mjs runs on the reference captures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { callRow, type CallRow } from '../src/report/calls.js';
import { compareCalls, type ComparedRow, type TsharkCall } from '../scripts/compare-calls.mjs';
import { lateDeliveryCapture } from './gen/late-delivery.js';
import { resetsCapture } from './gen/resets.js';
import { udpNoiseCapture } from './gen/udp-noise.js';
import { voidRepliesCapture } from './gen/void-replies.js';
import type { Report } from '../src/report/model.js';
import { CAPTURES, bundledCaptures, expectedOf, runTransport, TcpEventRecorder, tempDir, writeTemp } from './helpers.js';

const GEN = fileURLToPath(new URL('./gen', import.meta.url));

type Row = CallRow & ComparedRow;

async function analyzed(file: string): Promise<{ rows: Row[]; report: Report }> {
  const rows: Row[] = [];
  const report = await analyze(file, {
    onTransaction: (t, ctx) => rows.push({ ...callRow(t, 'x', ctx), retransmitFrames: t.retransmitFrames.map((f) => f.number) }),
  });
  return { rows: rows.sort((a, b) => a.frame - b.frame), report };
}

async function rowsOf(file: string): Promise<Row[]> {
  return (await analyzed(file)).rows;
}

function tsharkCallsOf(jsonFile: string): TsharkCall[] {
  return (JSON.parse(readFileSync(jsonFile, 'utf8')) as { calls: TsharkCall[] }).calls;
}

/** What scripts/tshark-generated.mjs stored of a generated capture. */
interface GeneratedExpected {
  calls: TsharkCall[];
  /** UDP frames tshark does not decode as RPC. */
  udpNotRpc: number[];
  /** Frames with the RST flag (tcp.flags.reset == 1). */
  rstFrames: number[];
}

async function generated(name: string, bytes: Buffer): Promise<{ rows: Row[]; report: Report; theirs: TsharkCall[]; expected: GeneratedExpected }> {
  const file = writeTemp(tempDir(), `${name}.pcap`, bytes);
  const expected = JSON.parse(readFileSync(join(GEN, `${name}.expected.json`), 'utf8')) as GeneratedExpected;
  return { ...(await analyzed(file)), theirs: expected.calls, expected };
}

describe('calls equal tshark on the bundled captures', () => {
  let calls = 0;
  for (const name of bundledCaptures()) {
    it(name, async () => {
      const theirs = tsharkCallsOf(join(CAPTURES, `${name}.expected.json`));
      const cmp = compareCalls(theirs, await rowsOf(join(CAPTURES, name)));
      expect(cmp.differences).toEqual([]);
      expect(cmp.equal).toBe(cmp.fields);
      // nfsight lists nothing tshark does not decode on these captures.
      expect(cmp.extra).toEqual([]);
      calls += cmp.calls;
    });
  }
  it('compared every call', () => {
    expect(calls).toBe(2718);
  });
});

describe('void replies have no status (generated: v3, v4, callback, MOUNT, portmap)', () => {
  it('every call as tshark shows it', async () => {
    const { rows, theirs } = await generated('void-replies', voidRepliesCapture());
    const cmp = compareCalls(theirs, rows);
    expect(cmp.differences).toEqual([]);
    expect(cmp.extra).toEqual([]);
    expect(cmp.calls).toBe(10);
    // What tshark shows: no status for NULL, CB_NULL, UMNT and GETPORT; the others' statuses.
    expect(rows.map((r) => [r.programName, r.procName, r.status, r.statusCode])).toEqual([
      ['NFS', 'NULL', null, null],
      ['NFS', 'GETATTR', 'NFS3ERR_STALE', 70],
      ['NFS', 'NULL', null, null],
      ['NFS', 'COMPOUND', 'NFS4_OK', 0],
      ['NFS_CB', 'CB_NULL', null, null],
      ['NFS_CB', 'CB_COMPOUND', 'NFS4_OK', 0],
      ['MOUNT', 'NULL', null, null],
      ['MOUNT', 'UMNT', null, null],
      ['MOUNT', 'MNT', 'MNT3ERR_ACCES', 13],
      ['portmapper', 'GETPORT', null, null],
    ]);
    // The RPC layer says the call succeeded; only the procedure's status is absent.
    for (const r of rows) expect(r.rpcStatus).toBe('SUCCESS');
  });
});

describe('messages delivered late (generated: merged two-interface capture, reordering, holes)', () => {
  it('every call in the frame tshark shows it, with its reply and rpc.time', async () => {
    const { rows, theirs } = await generated('late-delivery', lateDeliveryCapture());
    const cmp = compareCalls(theirs, rows);
    expect(cmp.differences).toEqual([]);
    expect(cmp.calls).toBe(19);
    // nfsight decodes more than tshark: C's call 1 (a hole inside it, never filled:
    // shown in its first frame, with bytes missing) and E's call 3 (tshark takes
    // its segments, written after the ACK that covered them, for spurious retransmissions).
    expect(cmp.extra).toEqual(['call 24 0x7a000005', 'call 47 0x7a00000c']);
    // An ACK-only frame is never a message's frame.
    const ackOnly = new Set([7, 9, 18, 28, 37, 45, 58, 61, 70, 72, 83, 85, 96]);
    for (const r of rows) {
      expect(ackOnly.has(r.frame), `call ${r.xid}`).toBe(false);
      expect(ackOnly.has(r.replyFrame ?? 0), `reply ${r.xid}`).toBe(false);
    }
  });
});

describe('UDP: only plausible datagrams are RPC (generated: NFS, portmap, MOUNT, NLM next to mDNS, DNS, NTP, noise)', () => {
  it('every call as tshark shows it; the rest counted as non-RPC datagrams, no reply without a call', async () => {
    const { rows, report, theirs, expected } = await generated('udp-noise', udpNoiseCapture());
    const cmp = compareCalls(theirs, rows);
    expect(cmp.differences).toEqual([]);
    expect(cmp.extra).toEqual([]);
    expect(rows.map((r) => `${r.frame} ${r.programName} ${r.procName} ${r.replyFrame}`)).toEqual([
      '1 NFS GETATTR 2',
      '4 portmapper GETPORT 5',
      '8 MOUNT MNT 9', // port 635: a known program
      '12 NLM LOCK 13', // port 32803: a known program
      '19 NFS GETATTR 20',
    ]);
    // mDNS responses (3, 10, 17: their header reads as an accepted reply), DNS, NTP, random datagrams shaped
    // like a reply or a call to an unknown program, and a reply from port 2049 whose call is not in the capture.
    expect(expected.udpNotRpc).toEqual([3, 6, 7, 10, 11, 14, 15, 16, 17, 18]);
    expect(report.rpc.nonRpcDatagrams).toBe(expected.udpNotRpc.length);
    expect(report.rpc.repliesWithoutCall).toBe(0);
    expect(report.rpc.unanswered).toBe(0);
    expect(report.udp.datagrams).toBe(20);
  });
});

describe('RST counting: every frame with the RST flag, as tshark shows tcp.flags.reset, and those that closed a connection', () => {
  for (const name of bundledCaptures()) {
    it(name, async () => {
      const rec = new TcpEventRecorder();
      await runTransport(name, rec);
      const exp = expectedOf(name) as ReturnType<typeof expectedOf> & { tcp: { rstFrames: number[] } };
      expect(rec.frames('rst')).toEqual(exp.tcp.rstFrames);
      // An RST closes at most one connection, and each closing one is an RST frame.
      const closing = rec.frames('rst-close');
      expect(new Set(closing).size).toBe(closing.length);
      for (const f of closing) expect(exp.tcp.rstFrames).toContain(f);
      expect(closing.length).toBeLessThanOrEqual(rec.events.filter((e) => e.kind === 'connection-end').length);
    });
  }

  it('lossy-read-cut: 2 RST frames, each closing its connection', async () => {
    const rec = new TcpEventRecorder();
    await runTransport('lossy-read-cut.pcap', rec);
    expect(rec.frames('rst')).toEqual([204, 226]);
    expect(rec.frames('rst-close')).toEqual([204, 226]);
  });

  it('generated: RSTs sent again, answering late data, after both FINs, refusing a SYN, alone', async () => {
    const { report, expected } = await generated('resets', resetsCapture());
    // tshark's frames: 8 closes connection 0, 9 and 11 follow it; 13 refuses a SYN; 24 follows both FINs; 25 stands alone.
    expect(expected.rstFrames).toEqual([8, 9, 11, 13, 24, 25]);
    expect(report.tcp.events['rst']).toBe(6);
    expect(report.tcp.events['rst-close']).toBe(3);
    expect(report.tcp.events['refused']).toBe(1);
    expect(report.tcp.refused.map((r) => r.frame)).toEqual([13]);
  });
});
