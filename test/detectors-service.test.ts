/**
 * The side-protocol detectors: MOUNT refusals (mount-errors), programs not
 * registered with rpcbind (portmap-unregistered) and lock denials
 * (nlm-denied), on a real capture and generated ones, each beside a clean
 * counterpart.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze, type AnalyzeOptions } from '../src/analyze.js';
import type { DetectorContext, Detector, Finding } from '../src/detectors/finding.js';
import { MountErrorsDetector } from '../src/detectors/mount-errors.js';
import { PortmapUnregisteredDetector } from '../src/detectors/portmap-unregistered.js';
import { RpcErrorsDetector } from '../src/detectors/rpc-errors.js';
import type { FrameRef } from '../src/capture/frame.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { MAX_GROUPS as NLM_MAX_GROUPS } from '../src/detectors/nlm-denied.js';
import type { Report } from '../src/report/model.js';
import { writePcap } from './gen/capture-writer.js';
import { rpcAcceptedReply, rpcCall } from './gen/rpc.js';
import { Capture, type Host } from './gen/session.js';
import * as g from './gen/side.js';
import { CAPTURES, tempDir, writeTemp } from './helpers.js';
import { readable } from './findings-text.js';

const KINDS = ['mount-errors', 'portmap-unregistered', 'nlm-denied'];
const CLIENT = '192.0.2.10';
const SERVER = '192.0.2.20';
const cred = { machine: 'client.example', uid: 0, gid: 0 };
const COOKIE = Buffer.from([1, 2, 3, 4]);
const LOCK: g.NlmLock = { caller: 'client.example', fh: Buffer.alloc(32, 0xab), oh: Buffer.from('owner'), svid: 77, offset: 0, length: 100 };

async function reportOf(capture: Capture | string, options: AnalyzeOptions = {}): Promise<Report> {
  const file = typeof capture === 'string' ? capture : writeTemp(tempDir(), 'gen.pcap', writePcap(capture.frames, { linkType: 1 }));
  return readable(await analyze(file, options));
}

const ofKinds = (r: Report): Finding[] => r.findings.filter((f) => KINDS.includes(f.kind));
const frames = (f: Finding): number[] => f.evidence.map((e) => e.frame);

/** UDP call and reply between the client's port 800 and a server port; returns the reply's frame. */
function udpExchange(c: Capture, port: number, xid: number, prog: number, vers: number, proc: number, args: Buffer, res: Buffer): number {
  const client: Host = { addr: CLIENT, port: 800 };
  const server: Host = { addr: SERVER, port };
  c.udp(client, server, rpcCall({ xid, prog, vers, proc, cred }, args));
  c.advance(0.0005);
  const reply = c.udp(server, client, rpcAcceptedReply(xid, res));
  c.advance(0.01);
  return reply;
}

describe('mount-errors', () => {
  it('captures/nfsv3-errors.pcap: MNT3ERR_ACCES ×4, with the paths asked for', async () => {
    const r = await reportOf(join(CAPTURES, 'nfsv3-errors.pcap'));
    const found = ofKinds(r);
    expect(found).toHaveLength(1);
    const f = found[0]!;
    expect(f.kind).toBe('mount-errors');
    expect(f.severity).toBe('error');
    // tshark -Y mount: MNT calls 34, 44, 252, 262 (paths below), replies 35, 45, 253, 263 with mount.status 13.
    expect(f.title).toBe('Mount of /export/no-such-dir, /no-such-export and /export/hello.txt refused by 127.0.0.1:20048 (MNT3ERR_ACCES ×4)');
    expect(f.metrics).toEqual({ refusals: 4, paths: ['/export/hello.txt ×2', '/export/no-such-dir ×1', '/no-such-export ×1'], statuses: ['MNT3ERR_ACCES ×4'] });
    expect(frames(f)).toEqual([35, 45, 253, 263]);
    expect(f.evidence[1]!.what).toBe('MNT /no-such-export → MNT3ERR_ACCES');
    expect(f.explanation).toContain('The path is not exported, or not to this client');
  });

  it('generated: MNT3ERR_NOENT over UDP; the clean counterpart MNT3_OK gives nothing', async () => {
    const c = new Capture();
    const bad = udpExchange(c, 20048, 0x10, 100005, 3, 1, g.mountPath('/gone'), g.mountRes3(2));
    const found = ofKinds(await reportOf(c));
    expect(found.map((f) => [f.kind, f.title])).toEqual([['mount-errors', `Mount of /gone refused by ${SERVER}:20048 (MNT3ERR_NOENT ×1)`]]);
    expect(frames(found[0]!)).toEqual([bad]);
    const ok = new Capture();
    udpExchange(ok, 20048, 0x11, 100005, 3, 1, g.mountPath('/export'), g.mountRes3(0, Buffer.alloc(28, 1), [1]));
    expect(ofKinds(await reportOf(ok))).toEqual([]);
  });
});

describe('portmap-unregistered', () => {
  it('GETPORT of NLM answered 0 (v2) and GETADDR of MOUNT answered "" (v4): not registered', async () => {
    const c = new Capture();
    const nlm = udpExchange(c, 111, 0x20, 100000, 2, 3, g.pmapMapping(100021, 4, 6, 0), g.xdrU32(0));
    const mnt = udpExchange(c, 111, 0x21, 100000, 4, 3, g.rpcb(100005, 3, 'tcp', '', ''), g.xdrString(''));
    const found = ofKinds(await reportOf(c));
    expect(found).toHaveLength(1);
    const f = found[0]!;
    expect(f.kind).toBe('portmap-unregistered');
    expect(f.severity).toBe('error');
    expect(f.title).toBe(`Not registered with rpcbind on ${SERVER}:111: NLM v4 over tcp and MOUNT v3 over tcp`);
    expect(f.explanation).toContain('On the server, lockd (NLM) and mountd are not running, or not for that protocol');
    expect(f.metrics).toEqual({ requests: 2, programs: ['MOUNT v3 over tcp ×1', 'NLM v4 over tcp ×1'], daemons: ['lockd (NLM)', 'mountd'] });
    expect(frames(f)).toEqual([nlm, mnt]);
  });

  it('the clean counterpart: GETPORT answered with a port', async () => {
    const c = new Capture();
    udpExchange(c, 111, 0x22, 100000, 2, 3, g.pmapMapping(100005, 3, 6, 0), g.xdrU32(20048));
    udpExchange(c, 111, 0x23, 100000, 4, 3, g.rpcb(100003, 3, 'tcp', '', ''), g.xdrString('192.0.2.20.8.1'));
    expect(ofKinds(await reportOf(c))).toEqual([]);
  });

  it('captures/linux-v3-basic-head.pcap: the kernel client’s GETPORTs are all answered', async () => {
    expect(ofKinds(await reportOf(join(CAPTURES, 'linux-v3-basic-head.pcap')))).toEqual([]);
  });
});

describe('nlm-denied', () => {
  it('LOCK denied (warning), TEST denied with the holder (info), LOCK_RES with DENIED_NOLOCKS (error)', async () => {
    const c = new Capture();
    const lock = udpExchange(c, 4045, 0x30, 100021, 4, 2, g.nlmLockArgs(4, COOKIE, false, true, LOCK, false, 3), g.nlmRes(COOKIE, 1));
    const test = udpExchange(
      c, 4045, 0x31, 100021, 4, 1, g.nlmTestArgs(4, COOKIE, true, LOCK),
      g.nlmTestRes(4, COOKIE, 1, { exclusive: true, svid: 4242, oh: Buffer.from('other'), offset: 0, length: 100 }),
    );
    // The server's asynchronous answer to a LOCK_MSG: a LOCK_RES call to the client (no RPC reply).
    const res = c.udp({ addr: SERVER, port: 4045 }, { addr: CLIENT, port: 800 }, rpcCall({ xid: 0x32, prog: 100021, vers: 4, proc: 12, cred }, g.nlmRes(COOKIE, 2)));
    const found = ofKinds(await reportOf(c)).sort((a, b) => (a.title < b.title ? -1 : 1));
    expect(found.map((f) => [f.severity, f.title])).toEqual([
      ['error', `Lock denied once by ${SERVER} (NLM4_DENIED_NOLOCKS)`],
      ['warning', `Lock denied once by ${SERVER}:4045 (NLM4_DENIED) on ${LOCK.fh.toString('hex')}`],
      ['info', `Lock test denied once by ${SERVER}:4045 (NLM4_DENIED) on ${LOCK.fh.toString('hex')}`],
    ]);
    expect(frames(found[0]!)).toEqual([res]);
    expect(frames(found[1]!)).toEqual([lock]);
    expect(frames(found[2]!)).toEqual([test]);
    expect(found[2]!.evidence[0]!.what).toBe(`TEST ${LOCK.fh.toString('hex')} → NLM4_DENIED (held by svid 4242)`);
    // The LOCK_RES call gets no RPC reply by design: not an unanswered call.
    const r = await reportOf(c);
    expect(r.findings.filter((f) => f.kind === 'unanswered-call')).toEqual([]);
  });

  it('the clean counterpart: LOCK granted', async () => {
    const c = new Capture();
    udpExchange(c, 4045, 0x40, 100021, 4, 2, g.nlmLockArgs(4, COOKIE, false, true, LOCK, false, 3), g.nlmRes(COOKIE, 0));
    expect(ofKinds(await reportOf(c))).toEqual([]);
  });

  it(`beyond nlmDeniedMaxGroups (${NLM_MAX_GROUPS.toLocaleString('en-US')}) the least recently seen group is forgotten, its denials counted in denialsNotReported`, async () => {
    const c = new Capture();
    let xid = 0x500;
    const denied = (i: number): void => {
      const client: Host = { addr: `192.0.2.${100 + i}`, port: 800 };
      const server: Host = { addr: SERVER, port: 4045 };
      c.udp(client, server, rpcCall({ xid: ++xid, prog: 100021, vers: 4, proc: 2, cred }, g.nlmLockArgs(4, COOKIE, false, true, LOCK, false, 3)));
      c.advance(0.0005);
      c.udp(server, client, rpcAcceptedReply(xid, g.nlmRes(COOKIE, 1)));
      c.advance(0.01);
    };
    // Clients 0, 1, 2, then 0 again (the most recently seen now), then 3 and 4: 1 and 2 go.
    for (const i of [0, 1, 2, 0, 3, 4]) denied(i);
    const found = ofKinds(await reportOf(c, { detectorOptions: { nlmDeniedMaxGroups: 3 } }));
    expect(found.map((f) => [f.client, f.count]).sort()).toEqual([
      ['192.0.2.100', 2],
      ['192.0.2.103', 1],
      ['192.0.2.104', 1],
    ]);
    expect(found.map((f) => f.metrics['denialsNotReported']).filter((n) => n !== undefined)).toEqual([2]);
    expect(NLM_MAX_GROUPS).toBe(10_000);
  });
});

describe('groups beyond the first 10,000 are counted, not reported', () => {
  const ctx = { fileName: () => 'x.pcap' } as unknown as DetectorContext;
  const frame = (n: number): FrameRef => ({ fileIndex: 0, number: n, tsSec: 1000 + n, tsNsec: 0 });
  const addr = (n: number): string => `10.${n >> 16}.${(n >> 8) & 255}.${n & 255}`;
  /** A transaction of client `c` to server `s`, answered, with what the detector reads. */
  const answered = (n: number, c: number, s: number, fields: Partial<Transaction>): Transaction =>
    ({ xid: n, connId: -1, client: { addr: addr(c), port: 800 }, server: { addr: addr(s), port: 111 }, version: 2, call: { frame: frame(2 * n) }, reply: { frame: frame(2 * n + 1) }, latency: 0.001, ...fields }) as unknown as Transaction;
  /** Feeds 10,003 groups, then the first group again; returns the findings. */
  const run = (d: Detector, t: (n: number, group: number) => Transaction): Finding[] => {
    for (let n = 0; n < 10_003; n++) d.onTransaction!(t(n, n));
    d.onTransaction!(t(10_003, 0));
    return d.finish();
  };

  it('mount-errors: refusalsNotReported', () => {
    const found = run(new MountErrorsDetector(ctx), (n, c) => answered(n, c, 0, { program: 100005, procedure: 1, decoded: { call: { names: ['/x'] }, reply: { status: 'MNT3ERR_ACCES' } } } as Partial<Transaction>));
    expect(found).toHaveLength(10_000);
    expect(found[0]!.count).toBe(2);
    expect(found.map((f) => f.metrics['refusalsNotReported']).filter((x) => x !== undefined)).toEqual([3]);
  });

  it('portmap-unregistered: requestsNotReported', () => {
    const found = run(new PortmapUnregisteredDetector(ctx), (n, c) =>
      answered(n, c, 0, { program: 100000, procedure: 3, decoded: { call: { args: { prog: 100021, vers: 4, protocol: 'tcp' } }, reply: { results: { port: 0 } } } } as Partial<Transaction>),
    );
    expect(found).toHaveLength(10_000);
    expect(found[0]!.count).toBe(2);
    expect(found.map((f) => f.metrics['requestsNotReported']).filter((x) => x !== undefined)).toEqual([3]);
  });

  it('rpc-errors: errorsNotReported', () => {
    const found = run(new RpcErrorsDetector(ctx), (n, s) =>
      answered(n, 0, s, { program: 100003, version: 3, procedure: 1, reply: { frame: frame(2 * n + 1), header: { replyStat: 0, acceptStat: 1 } } } as unknown as Partial<Transaction>),
    );
    expect(found).toHaveLength(10_000);
    expect(found[0]!.count).toBe(2);
    expect(found.map((f) => f.metrics['errorsNotReported']).filter((x) => x !== undefined)).toEqual([3]);
  });
});

