/**
 * What the detectors' bounds leave out is said in the report's
 * `notReported` (per detector kind), in the text and in the HTML page, also
 * when the detector has no finding left to carry the count; merged reports
 * add them.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { mergeReports } from '../src/report/merge.js';
import { renderReportText } from '../src/report/render-text.js';
import { renderReportHtml } from '../src/report/render-html.js';
import { notReportedText } from '../src/report/render-findings.js';
import { writePcap } from './gen/capture-writer.js';
import { NFS_PROGRAM, XdrWriter, recordMark, rpcAcceptedReply, rpcCall } from './gen/rpc.js';
import { OP, compoundArgs, compoundRes, getfhArgs, openArgs, putfhArgs, statusRes } from './gen/nfs4.js';
import { Capture, TcpSession, type Host } from './gen/session.js';
import { resendFrame } from './gen/tcp-faults.js';
import { tempDir, writeTemp } from './helpers.js';
import { GroupBudget } from '../src/detectors/group-budget.js';
import { DEFAULT_ENTITY_BOUND, entityBoundFor } from '../src/memory/entity-bound.js';

const MiB = 1024 * 1024;

const CLIENT: Host = { addr: '192.0.2.10', port: 801 };
const DIR_FH = Buffer.alloc(16, 0xd1);
const cred = { machine: 'c', uid: 0, gid: 0 };
const openCall = (xid: number): Buffer =>
  rpcCall({ xid, prog: NFS_PROGRAM, vers: 4, proc: 1, cred }, compoundArgs('', 0, [putfhArgs(DIR_FH), openArgs(1, 1, 0, 0x1234n, Buffer.from('owner'), 'f'), getfhArgs()]));
const openOk = (xid: number): Buffer => rpcAcceptedReply(xid, compoundRes(0, '', [statusRes(OP.PUTFH, 0), statusRes(OP.OPEN, 0)]));
const getattrCall = (xid: number): Buffer =>
  rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: 1, cred }, new XdrWriter().opaque(Buffer.alloc(32, 0xfe)).bytes());

/** One OPEN answered by each of `servers` servers, a second apart: no grace period anywhere. */
function serversOnce(servers: number): string {
  const capture = new Capture();
  for (let i = 0; i < servers; i++) {
    const s = new TcpSession(capture, { addr: CLIENT.addr, port: 900 + i }, { addr: `192.0.2.${101 + i}`, port: 2049 }).handshake();
    s.send('client', recordMark(openCall(0x200 + i)));
    s.send('server', recordMark(openOk(0x200 + i)));
    capture.advance(1);
  }
  return writeTemp(tempDir(), 'servers.pcap', writePcap(capture.frames, { linkType: 1 }));
}

/** As unansweredFromClients without refusing servers, for more than 155 clients (10.9.x.y). */
function unansweredFromManyClients(clients: number): string {
  const c = new Capture();
  const server: Host = { addr: '192.0.2.20', port: 2049 };
  for (let i = 0; i < clients; i++) {
    c.udp({ addr: `10.9.${i >> 8}.${i & 255}`, port: 800 }, server, getattrCall(0x900 + i));
    c.advance(0.1);
  }
  c.advance(70);
  c.udp({ addr: '192.0.2.99', port: 800 }, server, getattrCall(0x1));
  c.udp(server, { addr: '192.0.2.99', port: 800 }, rpcAcceptedReply(0x1, Buffer.alloc(100, 1)));
  return writeTemp(tempDir(), 'unanswered-many.pcap', writePcap(c.frames, { linkType: 1 }));
}

/** `clients` clients each sending one GETATTR over UDP that is never answered, then 70 s of other traffic; before them, `refusingServers` servers each answering one call with PROC_UNAVAIL (an rpc-errors group each). */
function unansweredFromClients(clients: number, refusingServers = 0): string {
  const c = new Capture();
  const server: Host = { addr: '192.0.2.20', port: 2049 };
  for (let i = 0; i < refusingServers; i++) {
    const refusing: Host = { addr: `198.51.100.${1 + i}`, port: 2049 };
    c.udp({ addr: '192.0.2.99', port: 800 }, refusing, getattrCall(0x700 + i));
    c.udp(refusing, { addr: '192.0.2.99', port: 800 }, rpcAcceptedReply(0x700 + i, Buffer.alloc(0), 3));
  }
  for (let i = 0; i < clients; i++) {
    c.udp({ addr: `192.0.2.${100 + i}`, port: 800 }, server, getattrCall(0x900 + i));
    c.advance(0.1);
  }
  // A call answered 70 s later: the unanswered ones waited past the 60 s timeout.
  c.advance(70);
  c.udp({ addr: '192.0.2.99', port: 800 }, server, getattrCall(0x1));
  c.udp(server, { addr: '192.0.2.99', port: 800 }, rpcAcceptedReply(0x1, Buffer.alloc(100, 1)));
  return writeTemp(tempDir(), 'unanswered.pcap', writePcap(c.frames, { linkType: 1 }));
}

/** `conns` connections each carrying one answered GETATTR sent twice (a TCP retransmission), a second apart; the first `closed` of them closed (FIN both ways) before the next opens; `clean` ones without the retransmission. */
function connections(conns: number, closed: number, clean = false): string {
  const capture = new Capture();
  for (let i = 0; i < conns; i++) {
    const s = new TcpSession(capture, { addr: CLIENT.addr, port: 900 + i }, { addr: '192.0.2.20', port: 2049 }).handshake();
    const [call] = s.send('client', recordMark(getattrCall(0x300 + i)), { ack: false });
    capture.advance(0.2);
    if (!clean) resendFrame(capture, call!);
    s.ack('server');
    s.send('server', recordMark(rpcAcceptedReply(0x300 + i, Buffer.alloc(100, 1))));
    if (i < closed) {
      s.fin('client');
      s.fin('server');
      s.ack('client');
    }
    capture.advance(1);
  }
  return writeTemp(tempDir(), 'conns.pcap', writePcap(capture.frames, { linkType: 1 }));
}

describe('notReported: what the detectors left out', () => {
  it('connection timelines with loss let go while live (timelineMaxConnections) are counted; ended ones make room first, clean ones are no loss', async () => {
    const live = await analyze(connections(5, 0), { detectorOptions: { timelineMaxConnections: 3 } });
    expect(live.notReported).toEqual({ 'network-health': { connectionTimelinesNotReported: 2 } });
    // The three followed to their end are judged (their retransmissions), the two let go are said.
    expect(live.findings.filter((f) => f.kind === 'network-health').map((f) => f.metrics.connections)).toEqual([3]);
    const ended = await analyze(connections(5, 2), { detectorOptions: { timelineMaxConnections: 3 } });
    expect(ended.notReported).toBeUndefined();
    const clean = await analyze(connections(5, 0, true), { detectorOptions: { timelineMaxConnections: 3 } });
    expect(clean.notReported).toBeUndefined();
    expect(clean.verdict.status).toBe('no-problems');
  });

  it('a detector with no finding: 12 servers through graceMaxServers 5 leave 7 forgotten, said in JSON, text and HTML', async () => {
    const report = await analyze(serversOnce(12), { detectorOptions: { graceMaxServers: 5 } });
    expect(report.findings.filter((f) => f.kind === 'grace-period')).toEqual([]);
    expect(report.notReported).toEqual({ 'grace-period': { serversForgotten: 7 } });
    // Restart signs forgotten are context, not problems left out: the verdict still vouches.
    expect(report.verdict.status).toBe('no-problems');
    const text = renderReportText(report, { width: 100 });
    expect(text.replace(/\s+/g, ' ')).toContain("Left out by the detectors' bounds (the state each keeps is bounded; docs/findings.md says how to raise them): grace-period: 7 servers forgotten.");
    expect(renderReportHtml(report)).toContain('grace-period: 7 servers forgotten');
  });

  it('within the bounds nothing is left out and the field is absent', async () => {
    const report = await analyze(serversOnce(5), { detectorOptions: { graceMaxServers: 5 } });
    expect(report.notReported).toBeUndefined();
    expect(renderReportText(report, { width: 100 })).not.toContain('Left out by');
  });

  it('unanswered calls beyond unansweredMaxGroups: counted in the last finding and in notReported', async () => {
    const report = await analyze(unansweredFromClients(5), { detectorOptions: { unansweredMaxGroups: 2 } });
    const unanswered = report.findings.filter((f) => f.kind === 'unanswered-call');
    expect(unanswered.map((f) => f.client).sort()).toEqual(['192.0.2.100', '192.0.2.101']);
    expect(unanswered.map((f) => f.metrics['callsNotReported']).filter((n) => n !== undefined)).toEqual([3]);
    expect(report.notReported).toEqual({ 'unanswered-call': { callsNotReported: 3 } });
    // Every unanswered call is still counted by the RPC layer.
    expect(report.rpc.unanswered).toBe(5);
    expect(report.verdict.status).toBe('problems');
    expect(report.verdict.notJudged).toEqual(["the detectors' bounds left out what they would have reported (unanswered-call 3; see notReported)"]);
  });

  it('the detectors share one bound: each may hold its floor, more only while all together hold fewer than the limit', async () => {
    const bounds = { detectorsMaxGroups: 4, detectorsGroupFloor: 2 };
    // Three rpc-errors groups (made as their replies come) leave room for one more beyond the unanswered calls' floor of 2.
    const shared = await analyze(unansweredFromClients(5, 3), { detectorOptions: bounds });
    expect(shared.findings.filter((f) => f.kind === 'rpc-errors').map((f) => f.server).sort()).toEqual(['198.51.100.1:2049', '198.51.100.2:2049', '198.51.100.3:2049']);
    expect(shared.findings.filter((f) => f.kind === 'unanswered-call').map((f) => f.client).sort()).toEqual(['192.0.2.100', '192.0.2.101']);
    expect(shared.notReported).toEqual({ 'unanswered-call': { callsNotReported: 3, bySharedBound: 3 } });
    expect(notReportedText(shared.notReported)).toContain('unanswered-call: 3 calls not reported, 3 by shared bound');
    // Alone, the unanswered calls fill the limit: four groups, the fifth refused.
    const alone = await analyze(unansweredFromClients(5), { detectorOptions: bounds });
    expect(alone.findings.filter((f) => f.kind === 'unanswered-call').map((f) => f.client).sort()).toEqual(['192.0.2.100', '192.0.2.101', '192.0.2.102', '192.0.2.103']);
    expect(alone.notReported).toEqual({ 'unanswered-call': { callsNotReported: 1, bySharedBound: 1 } });
    // By default (10,000 groups together) nothing here is left out.
    expect((await analyze(unansweredFromClients(5, 3))).notReported).toBeUndefined();
  });

  it('the entity bound: 10,000 at the default memory limit and above, in proportion below, at least 100', () => {
    expect(DEFAULT_ENTITY_BOUND).toBe(10_000);
    expect([entityBoundFor(), entityBoundFor(64 * MiB), entityBoundFor(1024 * MiB)]).toEqual([10_000, 10_000, 10_000]);
    expect([entityBoundFor(32 * MiB), entityBoundFor(16 * MiB), entityBoundFor(MiB), entityBoundFor(100_000)]).toEqual([5_000, 2_500, 156, 100]);
  });

  it('a smaller --max-memory follows fewer groups: 200 clients at 1M leave 156 followed and 44 calls counted; the detector\'s own option still decides', async () => {
    const file = unansweredFromManyClients(200);
    const unanswered = (r: { findings: { kind: string }[] }): number => r.findings.filter((f) => f.kind === 'unanswered-call').length;
    const small = await analyze(file, { maxMemory: MiB });
    expect(unanswered(small)).toBe(156);
    expect(small.notReported).toEqual({ 'unanswered-call': { callsNotReported: 44 } });
    // Every call is still counted by the RPC layer, and nothing buffered was dropped.
    expect(small.rpc.unanswered).toBe(200);
    expect(Object.values(small.memory.dropped).every((n) => n === 0)).toBe(true);
    const own = await analyze(file, { maxMemory: MiB, detectorOptions: { unansweredMaxGroups: 180 } });
    expect([unanswered(own), own.notReported?.['unanswered-call']?.['callsNotReported']]).toEqual([180, 20]);
    const full = await analyze(file);
    expect([unanswered(full), full.notReported]).toEqual([200, undefined]);
  });

  it('the budget: refused beyond the floor at the limit, counted per kind', () => {
    const b = new GroupBudget(3, 1);
    expect([b.admit(0, 'a'), b.admit(1, 'a'), b.admit(2, 'a'), b.admit(3, 'a')]).toEqual([true, true, true, false]);
    // Within its floor another detector is admitted though the limit is reached; beyond it, not.
    expect([b.admit(0, 'b'), b.admit(1, 'b'), b.admit(1)]).toEqual([true, false, false]);
    expect([b.total, b.refused('a'), b.refused('b'), b.refused('c')]).toEqual([4, 1, 1, 0]);
    b.take();
    expect([b.total, b.admit(0, 'c'), b.admit(1, 'c'), b.total]).toEqual([5, true, false, 6]);
    // Without bounds (a detector made alone) nothing is refused.
    const free = new GroupBudget();
    expect(Array.from({ length: 5 }, (_, i) => free.admit(i * 1000, 'a'))).toEqual([true, true, true, true, true]);
  });

  it('with every group beyond the bound, no finding is left to carry the count: the verdict does not say "no problems"', async () => {
    const report = await analyze(unansweredFromClients(5), { detectorOptions: { unansweredMaxGroups: 0 } });
    expect(report.findings.filter((f) => f.kind === 'unanswered-call')).toEqual([]);
    expect(report.notReported).toEqual({ 'unanswered-call': { callsNotReported: 5 } });
    expect(report.verdict.status).toBe('not-judged');
    expect(report.verdict.summary).toBe("Not judged: the detectors' bounds left out what they would have reported (unanswered-call 5; see notReported).");
    // Merged, the verdict is made again from the added counts.
    expect(mergeReports([report, report]).verdict.summary).toBe("Not judged: the detectors' bounds left out what they would have reported (unanswered-call 10; see notReported).");
  });

  it('connections: only connections forgotten after a close with calls outstanding, or before their close was over, are counted (closesForgotten)', async () => {
    const capture = (mode: 'outstanding' | 'answered' | 'open' | 'half-closed'): string => {
      const c = new Capture();
      for (let i = 0; i < 5; i++) {
        const s = new TcpSession(c, { addr: CLIENT.addr, port: 900 + i }, { addr: '192.0.2.20', port: 2049 }).handshake();
        s.send('client', recordMark(getattrCall(0x300 + i)));
        if (mode !== 'outstanding') s.send('server', recordMark(rpcAcceptedReply(0x300 + i, Buffer.alloc(100, 1))));
        if (mode !== 'open') s.fin('server');
        if (mode === 'outstanding' || mode === 'answered') {
          s.fin('client');
          s.ack('server');
        }
        c.advance(1);
      }
      return writeTemp(tempDir(), `conns-${mode}.pcap`, writePcap(c.frames, { linkType: 1 }));
    };
    const forgotten = async (mode: Parameters<typeof capture>[0]) => (await analyze(capture(mode), { detectorOptions: { connectionsMaxTracked: 2 } })).notReported;
    // Five connections closed by the server with a call outstanding, through a cap of 2: the first three are forgotten after their close.
    expect(await forgotten('outstanding')).toEqual({ connections: { closesForgotten: 3 } });
    // Closed by the server while the client had not closed yet: what was outstanding is not told yet.
    expect(await forgotten('half-closed')).toEqual({ connections: { closesForgotten: 3 } });
    // Closed with every call answered, or never closed: nothing of theirs is left unsaid.
    expect(await forgotten('answered')).toBeUndefined();
    expect(await forgotten('open')).toBeUndefined();
  });

  it('merge adds the counts per detector', async () => {
    const a = await analyze(serversOnce(12), { detectorOptions: { graceMaxServers: 5 } });
    const b = await analyze(unansweredFromClients(5), { detectorOptions: { unansweredMaxGroups: 2, graceMaxServers: 5 } });
    const m = mergeReports([a, b, a]);
    expect(m.notReported).toEqual({ 'grace-period': { serversForgotten: 14 }, 'unanswered-call': { callsNotReported: 3 } });
    expect(mergeReports([b, b]).notReported).toEqual({ 'unanswered-call': { callsNotReported: 6 } });
  });

  it('the sentence names each count in words', () => {
    expect(notReportedText({ 'rpc-retransmission': { callsNotReported: 1204 }, 'slow-ops': { callsOfServersNotFollowed: 3 } })).toBe(
      "Left out by the detectors' bounds (the state each keeps is bounded; docs/findings.md says how to raise them): rpc-retransmission: 1,204 calls not reported; slow-ops: 3 calls of servers not followed.",
    );
    expect(notReportedText(undefined)).toBeUndefined();
    expect(notReportedText({})).toBeUndefined();
  });
});
