/**
 * Call/reply matching end to end on generated captures: the cases no
 * reference capture holds (backchannel callbacks, UDP, retransmitted calls,
 * duplicate and denied replies, RPCSEC_GSS, straddled fragment headers,
 * replies completed by a retransmission, unanswered calls whose reply never
 * completed, mid-stream starts, snaplen cuts, RPC on unknown ports).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { announcedCallbackProgram, mayAnnounceCallback } from '../decoders/nfs4-callback.js';
import { XdrReader } from '../decoders/xdr.js';
import { analyze, type AnalyzeOptions } from '../src/analyze.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { writePcap } from './gen/capture-writer.js';
import {
  NFS_PROGRAM,
  NFSPROC3_READ,
  RPCSEC_GSS,
  XdrWriter,
  gssCredBody,
  gssIntegrityBody,
  nfs3ReadArgs,
  nfs3ReadResultHead,
  recordMark,
  rpcAcceptedReply,
  rpcAuthErrorReply,
  rpcCall,
  rpcCallRaw,
  rpcProgMismatchReply,
  rpcRpcMismatchReply,
} from './gen/rpc.js';
import { Capture, TcpSession, type Host } from './gen/session.js';
import { bundledCaptures, CAPTURES, tempDir, writeTemp } from './helpers.js';

const CLIENT: Host = { addr: '192.0.2.10', port: 801 };
const SERVER: Host = { addr: '192.0.2.20', port: 2049 };
const FH = Buffer.alloc(32, 0xfe);

const getattrCall = (xid: number): Buffer =>
  rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc: 1, cred: { machine: 'c', uid: 0, gid: 0 } }, new XdrWriter().opaque(FH).bytes());
const okReply = (xid: number, size = 100): Buffer => rpcAcceptedReply(xid, Buffer.alloc(size, 1));

interface Run {
  transactions: Transaction[];
  report: Awaited<ReturnType<typeof analyze>>;
}

async function run(capture: Capture, options: AnalyzeOptions = {}): Promise<Run> {
  const transactions: Transaction[] = [];
  const file = writeTemp(tempDir(), 'gen.pcap', writePcap(capture.frames, { linkType: 1 }));
  const report = await analyze(file, { ...options, onTransaction: (t) => transactions.push(t) });
  return { transactions, report };
}

function session(capture = new Capture()): TcpSession {
  return new TcpSession(capture, CLIENT, SERVER).handshake();
}

describe('RPC transactions, generated', () => {
  it('matches a call and its reply, timed from frame to frame', async () => {
    const s = session();
    const [call] = s.send('client', recordMark(getattrCall(0x1001)));
    s.capture.advance(0.0025);
    const [reply] = s.send('server', recordMark(okReply(0x1001)));
    const { transactions, report } = await run(s.capture);
    expect(transactions).toHaveLength(1);
    const t = transactions[0]!;
    expect([t.call.frame.number, t.reply?.frame.number, t.xid, t.program, t.version, t.procedure]).toEqual([call, reply, 0x1001, 100003, 3, 1]);
    expect(t.latency).toBeCloseTo(0.0025 + 2e-6, 9);
    expect(t.client).toEqual(CLIENT);
    expect(t.server).toEqual(SERVER);
    expect(t.cred.sys?.machine).toBe('c');
    expect(report.rpc).toMatchObject({ calls: 1, replies: 1, matched: 1, unanswered: 0 });
  });

  it('joins a multi-fragment record whose inner fragment header straddles two segments', async () => {
    const s = session();
    const call = getattrCall(0x2002);
    const wire = recordMark(call, [20, 20]); // three fragments: 20, 20, rest
    // Segment boundary in the middle of the second fragment header (at 4 + 20 + 2).
    const frames = s.send('client', wire, { sizes: [26, 30] });
    s.send('server', recordMark(okReply(0x2002)));
    const { transactions } = await run(s.capture);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]!.call.bytes).toBe(call.length);
    expect(transactions[0]!.call.firstFrame.number).toBe(frames[0]);
    expect(transactions[0]!.call.frame.number).toBe(frames[2]);
  });

  it('matches calls both ways on one connection: the NFSv4.1 backchannel', async () => {
    const s = session();
    const compound = rpcCall({ xid: 0x3003, prog: NFS_PROGRAM, vers: 4, proc: 1, cred: {} }, Buffer.alloc(40));
    const [fwd] = s.send('client', recordMark(compound));
    // The server calls back over the client's connection (CB_COMPOUND), the client answers.
    const [cb] = s.send('server', recordMark(rpcCall({ xid: 0x9001, prog: 0x40000000, vers: 1, proc: 1 }, Buffer.alloc(24))));
    const [cbReply] = s.send('client', recordMark(okReply(0x9001, 16)));
    const [fwdReply] = s.send('server', recordMark(okReply(0x3003)));
    const { transactions, report } = await run(s.capture);
    const byXid = new Map(transactions.map((t) => [t.xid, t]));
    expect(byXid.get(0x9001)).toMatchObject({ program: 0x40000000, procedure: 1, client: SERVER, server: CLIENT });
    expect([byXid.get(0x9001)!.call.frame.number, byXid.get(0x9001)!.reply!.frame.number]).toEqual([cb, cbReply]);
    expect([byXid.get(0x3003)!.call.frame.number, byXid.get(0x3003)!.reply!.frame.number]).toEqual([fwd, fwdReply]);
    expect(report.operations.find((r) => r.kind === 'procedure' && r.program === 0x40000000)).toMatchObject({ programName: 'NFS_CB', name: 'CB_COMPOUND', calls: 1 });
  });

  it('counts a retransmitted call and keeps the first call’s time; counts a duplicate reply', async () => {
    const s = session();
    const [first] = s.send('client', recordMark(getattrCall(0x4004)));
    s.capture.advance(1.1);
    const [again] = s.send('client', recordMark(getattrCall(0x4004)));
    s.capture.advance(0.01);
    const [reply] = s.send('server', recordMark(okReply(0x4004)));
    s.send('server', recordMark(okReply(0x4004)));
    const { transactions, report } = await run(s.capture);
    expect(transactions).toHaveLength(1);
    const t = transactions[0]!;
    expect(t.call.frame.number).toBe(first);
    expect(t.retransmits).toBe(1);
    expect(t.retransmitFrames.map((f) => f.number)).toEqual([again]);
    expect(t.reply!.frame.number).toBe(reply);
    expect(t.latency).toBeGreaterThan(1.1);
    expect(t.duplicateReplies).toBe(1);
    expect(report.rpc).toMatchObject({ calls: 2, replies: 2, matched: 1, retransmittedCalls: 1, duplicateReplies: 1, repliesWithoutCall: 0 });
  });

  it('a listener that keeps no transaction (keepsTransactions false): a duplicate reply after it is counted in the figures only, not on the transaction', async () => {
    const s = session();
    s.send('client', recordMark(getattrCall(0x4005)));
    s.send('server', recordMark(okReply(0x4005)));
    s.capture.advance(0.5);
    s.send('server', recordMark(okReply(0x4005)));
    const kept = await run(s.capture);
    const notKept = await run(s.capture, { keepsTransactions: false });
    expect(kept.transactions[0]!.duplicateReplies).toBe(1);
    expect(notKept.transactions[0]!.duplicateReplies).toBe(0);
    for (const r of [kept, notKept]) expect(r.report.rpc).toMatchObject({ calls: 1, replies: 2, matched: 1, duplicateReplies: 1 });
  });

  it('decodes denied and error replies and counts them as RPC errors', async () => {
    const s = session();
    const replies = [
      rpcAuthErrorReply(0x5001, 5), // AUTH_TOOWEAK
      rpcAuthErrorReply(0x5002, 13), // RPCSEC_GSS_CREDPROBLEM
      rpcRpcMismatchReply(0x5003, 2, 2),
      rpcProgMismatchReply(0x5004, 2, 3),
      rpcAcceptedReply(0x5005, Buffer.alloc(0), 1), // PROG_UNAVAIL
    ];
    for (let i = 0; i < replies.length; i++) {
      s.send('client', recordMark(getattrCall(0x5001 + i)));
      s.send('server', recordMark(replies[i]!));
    }
    const { transactions, report } = await run(s.capture);
    const h = transactions.map((t) => t.reply!.header);
    expect(h.map((x) => [x.replyStat, x.rejectStat ?? null, x.authStat ?? null, x.acceptStat ?? null])).toEqual([
      [1, 1, 5, null],
      [1, 1, 13, null],
      [1, 0, null, null],
      [0, null, null, 2],
      [0, null, null, 1],
    ]);
    expect(h[2]!.mismatch).toEqual({ low: 2, high: 2 });
    expect(h[3]!.mismatch).toEqual({ low: 2, high: 3 });
    const procedures = report.operations.filter((r) => r.kind === 'procedure');
    expect(procedures).toHaveLength(1);
    expect(procedures[0]).toMatchObject({ name: 'GETATTR', calls: 5, answered: 5, errors: 5 });
  });

  it('reads RPCSEC_GSS credentials', async () => {
    const s = session();
    const cred = { flavor: RPCSEC_GSS, body: gssCredBody({ proc: 0, seq: 77, service: 2, handle: Buffer.from('ctx-handle') }) };
    s.send('client', recordMark(rpcCallRaw({ xid: 0x6006, prog: NFS_PROGRAM, vers: 3, proc: 1, cred }, Buffer.alloc(48))));
    s.send('server', recordMark(okReply(0x6006)));
    const { transactions } = await run(s.capture);
    expect(transactions[0]!.cred.flavor).toBe(RPCSEC_GSS);
    expect(transactions[0]!.cred.gss).toMatchObject({ proc: 0, seq: 77, service: 2, serviceName: 'integrity' });
  });

  it('finds the results inside RPCSEC_GSS integrity wrapping, and none behind privacy', async () => {
    const s = session();
    const gssCall = (xid: number, service: number): Buffer =>
      rpcCallRaw(
        { xid, prog: NFS_PROGRAM, vers: 3, proc: 1, cred: { flavor: RPCSEC_GSS, body: gssCredBody({ proc: 0, seq: 5, service, handle: Buffer.from('h') }) } },
        service === 2 ? gssIntegrityBody(5, new XdrWriter().opaque(FH).bytes(), Buffer.alloc(16)) : Buffer.alloc(48),
      );
    const results = Buffer.from('00000000cafebabe', 'hex');
    s.send('client', recordMark(gssCall(0x6101, 2)));
    const integ = rpcAcceptedReply(0x6101, gssIntegrityBody(5, results, Buffer.alloc(16)));
    s.send('server', recordMark(integ));
    s.send('client', recordMark(gssCall(0x6102, 3)));
    s.send('server', recordMark(rpcAcceptedReply(0x6102, Buffer.alloc(40, 9))));
    const bodies: [number, number][] = [];
    const file = writeTemp(tempDir(), 'gss.pcap', writePcap(s.capture.frames, { linkType: 1 }));
    await analyze(file, {
      onTransaction: (t) => {
        const r = t.reply!;
        bodies.push([t.xid, r.bodyOffset]);
        // The unwrapped results are the bytes given to the builder.
        if (r.bodyOffset >= 0) expect(r.body.head.subarray(r.bodyOffset, r.bodyOffset + 8).equals(results)).toBe(true);
      },
    });
    // An accepted reply's header is 24 bytes with an empty verifier; the wrapping adds length and seq_num.
    expect(bodies).toEqual([
      [0x6101, 24 + 8],
      [0x6102, -1],
    ]);
  });

  it('times a reply completed by a late segment at the frame that completed it', async () => {
    const s = session();
    s.send('client', recordMark(getattrCall(0x7007)));
    // The reply's first segment reaches the capture last (lost and retransmitted upstream).
    const frames = s.send('server', recordMark(okReply(0x7007, 4000)), { sizes: [1448, 1448], order: [1, 2, 0] });
    const { transactions } = await run(s.capture);
    // Segment 0 arrives last: the record is complete in its frame, not in segment 2's.
    expect(frames[0]).toBeGreaterThan(frames[2]!);
    expect(transactions[0]!.reply!.frame.number).toBe(frames[0]);
    expect(transactions[0]!.reply!.lastFrame.number).toBe(frames[0]);
    expect(transactions[0]!.reply!.missing).toBe(0);
  });

  it('an unanswered READ: the reply began, the connection was reset before it completed', async () => {
    const s = session();
    const read = rpcCall({ xid: 0x8008, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ, cred: {} }, nfs3ReadArgs(FH, 0, 65536));
    const [callFrame] = s.send('client', recordMark(read));
    const head = rpcAcceptedReply(0x8008, nfs3ReadResultHead(65536, false, 1 << 20));
    const mark = Buffer.alloc(4);
    mark.writeUInt32BE((0x80000000 | (head.length + 65536)) >>> 0);
    // Only the first 10 KB of the reply ever leave the server.
    const partial = Buffer.concat([mark, head, Buffer.alloc(10_000, 0x33)]);
    const sent = s.send('server', partial, { ack: false });
    s.capture.advance(20);
    s.rst('client');
    const { transactions, report } = await run(s.capture);
    expect(transactions).toHaveLength(1);
    const t = transactions[0]!;
    expect(t.reply).toBeUndefined();
    expect(t.unfinishedReply?.firstFrame.number).toBe(sent[0]);
    expect(report.rpc).toMatchObject({ calls: 1, replies: 0, matched: 0, unanswered: 1 });
    expect(report.rpc.unansweredCalls[0]).toMatchObject({ frame: callFrame, xid: '0x00008008', procedureName: 'READ' });
  });

  it('matches and times messages cut by a 200-byte snaplen; a reply cut short is shown at its first frame', async () => {
    const s = session();
    const read = rpcCall({ xid: 0x9009, prog: NFS_PROGRAM, vers: 3, proc: NFSPROC3_READ, cred: { machine: 'client' } }, nfs3ReadArgs(FH, 0, 32768));
    const [call] = s.send('client', recordMark(read), { snap: 200 });
    const reply = rpcAcceptedReply(0x9009, Buffer.concat([nfs3ReadResultHead(32768, true, 32768), Buffer.alloc(32768, 7)]));
    const frames = s.send('server', recordMark(reply), { snap: 200 });
    const { transactions, report } = await run(s.capture);
    expect(transactions).toHaveLength(1);
    const t = transactions[0]!;
    expect(t.call.frame.number).toBe(call);
    expect(t.reply!.frame.number).toBe(frames[0]);
    expect(t.reply!.lastFrame.number).toBe(frames[frames.length - 1]);
    // Each 1448-byte segment keeps 200 - 54 header bytes; the record mark is not part of the message.
    const wire = reply.length + 4;
    let captured = 0;
    for (let at = 0; at < wire; at += 1448) captured += Math.min(146, wire - at);
    expect(t.reply!.bytes).toBe(reply.length);
    expect(t.reply!.missing).toBe(wire - captured);
    expect(report.rpc.truncatedMessages).toBe(1);
  });

  it('a capture that starts inside a record finds every transaction after it', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, SERVER); // no handshake: the capture starts mid-connection
    const big = recordMark(okReply(0x0a00, 5000));
    s.send('server', big.subarray(1500), { sizes: [1448] }); // the tail of a reply whose start was not captured
    const xids = [0x0a01, 0x0a02, 0x0a03];
    for (const x of xids) {
      s.send('client', recordMark(getattrCall(x)));
      s.send('server', recordMark(okReply(x, 300)));
    }
    const { transactions, report } = await run(c);
    expect(transactions.map((t) => t.xid)).toEqual(xids);
    expect(report.rpc.resyncSkippedBytes).toBe(big.length - 1500);
    expect(report.rpc.repliesWithoutCall).toBe(0);
  });

  it('recognises RPC by its header on an unknown port, and gives up on a stream that is not RPC', async () => {
    const c = new Capture();
    const odd = new TcpSession(c, CLIENT, { addr: SERVER.addr, port: 3049 }).handshake();
    odd.send('client', recordMark(getattrCall(0x0b01)));
    odd.send('server', recordMark(okReply(0x0b01)));
    const tls = new TcpSession(c, { addr: CLIENT.addr, port: 50000 }, { addr: SERVER.addr, port: 443 }).handshake();
    tls.send('server', Buffer.alloc(1_500_000, 0x17));
    const { transactions, report } = await run(c);
    expect(transactions.map((t) => t.xid)).toEqual([0x0b01]);
    expect(report.rpc.nonRpcStreams).toBe(1);
    expect(report.rpc.invalidMessages).toBe(0);
  });

  it('--nfs-port: a port named as NFS is never given up on, however long it takes to find a message', async () => {
    const c = new Capture();
    const s = new TcpSession(c, CLIENT, { addr: SERVER.addr, port: 3049 }); // mid-stream: no handshake
    s.send('server', Buffer.alloc(1_200_000, 0x5a)); // the tail of a huge READ reply
    s.send('client', recordMark(getattrCall(0x0f01)));
    s.send('server', recordMark(okReply(0x0f01)));
    const unknown = await run(c);
    // The server's direction was given up on before the reply came: the call stays unanswered.
    expect(unknown.transactions.map((t) => [t.xid, t.reply === undefined])).toEqual([[0x0f01, true]]);
    expect(unknown.report.rpc.nonRpcStreams).toBe(1);
    const named = await run(c, { nfsPorts: [3049] });
    expect(named.transactions.map((t) => [t.xid, t.reply === undefined])).toEqual([[0x0f01, false]]);
    expect(named.report.rpc.nonRpcStreams).toBe(0);
  });

  it('matches RPC over UDP by address pair, with retransmissions; a reply without its call is not RPC over UDP', async () => {
    const c = new Capture();
    const mountd: Host = { addr: SERVER.addr, port: 635 };
    const call = rpcCall({ xid: 0x0c01, prog: 100005, vers: 3, proc: 1, cred: {} }, new XdrWriter().string('/export').bytes());
    const first = c.udp(CLIENT, mountd, call);
    c.advance(0.5);
    c.udp(CLIENT, mountd, call);
    const reply = c.udp(mountd, CLIENT, okReply(0x0c01, 40));
    c.udp(mountd, { addr: '192.0.2.99', port: 700 }, okReply(0x0c02, 40));
    const { transactions, report } = await run(c);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]).toMatchObject({ transport: 'udp', xid: 0x0c01, program: 100005, procedure: 1, retransmits: 1 });
    expect([transactions[0]!.call.frame.number, transactions[0]!.reply!.frame.number]).toEqual([first, reply]);
    // Frame 4 answers no call seen between those endpoints: any UDP datagram can look like a reply (tshark shows no RPC there either).
    expect(report.rpc).toMatchObject({ calls: 2, replies: 1, matched: 1, repliesWithoutCall: 0, nonRpcDatagrams: 1 });
    expect(report.rpc.orphanReplies).toEqual([]);
  });
});

describe('the NFSv4 callback program', () => {
  const announced = async (name: string): Promise<[number, number | undefined][]> => {
    const found: [number, number | undefined][] = [];
    await analyze(join(CAPTURES, name), {
      onTransaction: (t) => {
        if (t.program === 100003 && t.version === 4 && t.procedure === 1) {
          const p = announcedCallbackProgram(new XdrReader(t.call.body, t.call.bodyOffset));
          if (p !== undefined) found.push([t.call.frame.number, p]);
        }
      },
    });
    return found;
  };

  it('is looked for only in calls whose decoded ops may announce it (the decode stage reads no other call again)', async () => {
    let compounds = 0;
    let announcing = 0;
    const missed: string[] = [];
    for (const name of bundledCaptures()) {
      await analyze(join(CAPTURES, name), {
        onTransaction: (t) => {
          const call = t.decoded?.call;
          if (t.program !== 100003 || t.version !== 4 || t.procedure !== 1 || call?.minorVersion === undefined) return;
          compounds++;
          const p = announcedCallbackProgram(new XdrReader(t.call.body, t.call.bodyOffset));
          if (p !== undefined) announcing++;
          if (p !== undefined && !mayAnnounceCallback(call.ops)) missed.push(`${name} frame ${t.call.frame.number}`);
        },
      });
    }
    expect(missed).toEqual([]);
    expect(compounds).toBeGreaterThan(500);
    expect(announcing).toBeGreaterThan(5);
    expect(mayAnnounceCallback(['SEQUENCE', 'PUTFH', 'GETATTR'])).toBe(false);
    expect(mayAnnounceCallback(['SEQUENCE', 'BACKCHANNEL_CTL'])).toBe(true);
    expect(mayAnnounceCallback(['PUTROOTFH', 'GETFH', 'GETATTR', 'LOOKUP', 'SETCLIENTID'])).toBe(false);
  });

  it('is read from CREATE_SESSION and SETCLIENTID as tshark reads nfs.cb_program', async () => {
    // tshark -o tcp.try_heuristic_first:TRUE -Y nfs.cb_program -T fields -e frame.number -e nfs.cb_program
    expect(await announced('nfsv41-pynfs-head.pcap')).toEqual([[8, 0x40000000]]);
    expect((await announced('linux-v42-basic-head.pcap'))[0]).toEqual([12, 0x40000000]);
    expect((await announced('nfsv4-grace-restart.pcap')).slice(0, 3)).toEqual([[8, 0], [64, 0], [80, 0]]);
  });

  it('names the server’s calls to the program a client announced', async () => {
    const s = session();
    const setclientid = new XdrWriter()
      .string('') // tag
      .u32(0) // minorversion
      .u32(1) // one op
      .u32(35) // SETCLIENTID
      .fixed(Buffer.alloc(8, 1)) // verifier
      .string('client-id')
      .u32(0x40000123) // cb_program
      .string('tcp')
      .string('192.0.2.10.3.2')
      .u32(1) // callback_ident
      .bytes();
    s.send('client', recordMark(rpcCall({ xid: 0x0d01, prog: NFS_PROGRAM, vers: 4, proc: 1, cred: {} }, setclientid)));
    s.send('server', recordMark(okReply(0x0d01, 20)));
    const cb = new TcpSession(s.capture, SERVER, { addr: CLIENT.addr, port: 40001 }).handshake();
    cb.send('client', recordMark(rpcCall({ xid: 0x0e01, prog: 0x40000123, vers: 1, proc: 0 }, Buffer.alloc(0))));
    cb.send('server', recordMark(okReply(0x0e01, 0)));
    const { report } = await run(s.capture);
    const row = report.operations.find((r) => r.kind === 'procedure' && r.program === 0x40000123);
    expect(row).toMatchObject({ programName: 'NFS_CB', name: 'CB_NULL', calls: 1, answered: 1 });
  });

  it('counts the announcements beyond 1,024 programs in rpc.callbackAnnouncementsNotLearned (absent when none)', async () => {
    const s = session();
    for (let i = 0; i < 1030; i++) {
      const setclientid = new XdrWriter().string('').u32(0).u32(1).u32(35).fixed(Buffer.alloc(8, 1)).string('client-id').u32(0x40001000 + i).string('tcp').string('192.0.2.10.3.2').u32(1).bytes();
      s.send('client', recordMark(rpcCall({ xid: 0x0f000 + i, prog: NFS_PROGRAM, vers: 4, proc: 1, cred: {} }, setclientid)));
      s.send('server', recordMark(okReply(0x0f000 + i, 20)));
    }
    const { report } = await run(s.capture);
    expect(report.rpc.callbackAnnouncementsNotLearned).toBe(6);
    expect(report.diagnostics.byCode['callback-programs-limit']).toBe(1);
    expect((await run(session().capture)).report.rpc).not.toHaveProperty('callbackAnnouncementsNotLearned');
  });
});
