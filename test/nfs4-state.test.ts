/**
 * NFSv4 state tracking (src/nfs/v4-state.ts): client ids, sessions and
 * their slots, stateids and the current file handle through each COMPOUND,
 * on bundled captures (values read with tshark, commands in comments) and
 * on generated ones (slot beyond the table, sequence gaps and reuses,
 * DESTROY_SESSION, SAVEFH/RESTOREFH with RENAME and LINK, CLOSE, caps).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { FileHandlePaths } from '../src/nfs/fh-paths.js';
import { Nfs4State, type Nfs4StateOptions } from '../src/nfs/v4-state.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { writePcap } from './gen/capture-writer.js';
import {
  OP,
  compoundArgs,
  compoundRes,
  createSessionArgs,
  createSessionRes,
  exchangeIdArgs,
  exchangeIdRes,
  getattrArgs,
  getattrRes,
  getfhArgs,
  getfhRes,
  lookupArgs,
  openArgs,
  openRes,
  putfhArgs,
  putrootfhArgs,
  readArgs,
  readRes,
  savefhArgs,
  sequenceArgs,
  sequenceRes,
  stateid4,
  statusRes,
  type Stateid4,
} from './gen/nfs4.js';
import { NFS_PROGRAM, XdrWriter, rpcAcceptedReply, rpcCall, recordMark } from './gen/rpc.js';
import { Capture, TcpSession, type Host } from './gen/session.js';
import { CAPTURES, tempDir, writeTemp } from './helpers.js';

/** All transactions of a capture through analyze (which attributes them), then replayed into a fresh Nfs4State. */
async function replay(file: string, options: Nfs4StateOptions = {}): Promise<{ ts: Transaction[]; state: Nfs4State; paths: FileHandlePaths }> {
  const ts: Transaction[] = [];
  const unanswered = new Set<Transaction>();
  await analyze(file, { onTransaction: (t) => ts.push(t) });
  for (const t of ts) if (t.reply === undefined) unanswered.add(t);
  // Attributions as analyze set them, kept for the tests on them.
  const attributed = new Map(ts.map((t) => [t, t.nfs4]));
  const paths = new FileHandlePaths();
  const state = new Nfs4State(paths, options);
  for (const t of ts) {
    if (unanswered.has(t)) state.unanswered(t);
    else {
      paths.transaction(t);
      state.transaction(t);
    }
  }
  // The replay must attribute as analyze did.
  for (const t of ts) expect(t.nfs4).toEqual(attributed.get(t));
  return { ts, state, paths };
}

const byCallFrame = (ts: Transaction[], frame: number): Transaction => {
  const t = ts.find((x) => x.call.frame.number === frame);
  if (t === undefined) throw new Error(`no call in frame ${frame}`);
  return t;
};

describe('NFSv4 state on bundled captures', () => {
  it('nfsv41-pynfs-head: EXCHANGE_ID client, CREATE_SESSION session with its slot count, SEQUENCE slots advancing', async () => {
    const { ts, state } = await replay(join(CAPTURES, 'nfsv41-pynfs-head.pcap'));
    // tshark -r nfsv41-pynfs-head.pcap -Y nfs -T fields -e frame.number -e nfs.opcode -e nfs.clientid -e nfs.session_id4
    //   -e nfs.seqid -e nfs.slotid -e nfs.maxreqs4 -e nfs.cb_program
    // 6 (EXCHANGE_ID reply): clientid 0x6b02598f0000053b, seqid 1
    // 8 (CREATE_SESSION call): clientid 0x6b02598f0000053b, maxreqs4 8,8, cb_program 0x40000000
    // 9 (reply): session_id4 3b0500008f59026bf500000000000000, maxreqs4 8,8
    const clientid = '6b02598f0000053b';
    const sessionid = '3b0500008f59026bf500000000000000';
    const c = state.client(clientid)!;
    expect(c).toMatchObject({ clientid, minorVersion: 1, confirmed: true, sequenceid: 1, cbProgram: 0x40000000, firstFrame: 4 });
    expect(state.clientOfOwner(c.owner!)).toBe(clientid);
    const s = state.session(sessionid)!;
    expect(s).toMatchObject({ sessionid, clientid, created: true, foreSlots: 8, backSlots: 8, cbProgram: 0x40000000, firstFrame: 8 });
    expect(byCallFrame(ts, 8).nfs4).toEqual({ clientid, ops: [{ op: 'CREATE_SESSION', status: 'NFS4_OK' }] });
    expect(byCallFrame(ts, 4).nfs4).toEqual({ clientid, ops: [{ op: 'EXCHANGE_ID', status: 'NFS4_OK' }] });

    // tshark -r nfsv41-pynfs-head.pcap -Y 'nfs.opcode==53 && rpc.msgtyp==0' -T fields -e frame.number -e nfs.seqid -e nfs.slotid
    // 196 SEQUENCE calls, all on slot 0, seqid 0x01 (frame 10) .. 0xc3 (frame 398), 0xc4 (frame 400, unanswered: the cut).
    const seqs = ts.filter((t) => t.nfs4?.sessionid !== undefined);
    expect(seqs).toHaveLength(196);
    for (const t of seqs) expect(t.nfs4).toMatchObject({ sessionid, clientid, slotid: 0 });
    const bySeq = [...seqs].sort((a, b) => a.call.frame.number - b.call.frame.number).map((t) => t.nfs4!.sequenceid);
    expect(bySeq).toEqual(Array.from({ length: 196 }, (_, i) => i + 1));
    expect(byCallFrame(ts, 10).nfs4).toMatchObject({ sequenceid: 1, ops: [{ op: 'SEQUENCE', status: 'NFS4_OK' }, { op: 'RECLAIM_COMPLETE', status: 'NFS4_OK' }] });
    // The unanswered last call does not move the slot.
    expect(s.slots.get(0)).toEqual({ sequenceid: 0xc3, frame: 398 });
    expect(s.slots.size).toBe(1);
    expect(state.anomalies).toEqual([]);
    // Frame 16: SEQUENCE, PUTROOTFH, LOOKUP x3 — paths from the root.
    expect(byCallFrame(ts, 16).nfs4!.ops.map((o) => o.path)).toEqual([undefined, '/', '/export', '/export/pynfs41', '/export/pynfs41/tmp']);
    expect(state.counts).toMatchObject({ clients: 1, sessions: 1, anomalies: 0 });
  });

  it('linux-v42-basic-head: OPEN and READ attributed to the file and its path, the stateid tied to the file', async () => {
    const { ts, state, paths } = await replay(join(CAPTURES, 'linux-v42-basic-head.pcap'));
    // tshark -r linux-v42-basic-head.pcap -Y nfs -T fields -e frame.number -e nfs.opcode -e nfs.clientid -e nfs.session_id4
    //   -e nfs.maxreqs4 -e nfs.stateid.other -e nfs.fh.hash -e nfs.name
    // 9/11: EXCHANGE_ID replies clientid 0x6b02635e00000001 then 0x6b02635e00000002; 12: CREATE_SESSION clientid ...02,
    // maxreqs4 64,16, cb_program 0x40000000; 13: session 020000005e63026b0100000000000000.
    // 55: READDIR of the export (fh hash 0xc8572105): dir1, hello.txt (0xc0ba7d81), big3.bin (0x3ae9807a).
    // 58: PUTFH 0xc0ba7d81, OPEN (by fh) -> 59: stateid other 020000005e63026b01000000; 60: READ with it; 62: CLOSE.
    // 64: PUTFH 0x3ae9807a, OPEN -> 65: stateid other 020000005e63026b02000000; 66, 80, 106: READs with it.
    const clientid = '6b02635e00000002';
    const sessionid = '020000005e63026b0100000000000000';
    expect(state.session(sessionid)).toMatchObject({ clientid, foreSlots: 64, backSlots: 16, cbProgram: 0x40000000 });
    expect(state.client('6b02635e00000001')).toMatchObject({ confirmed: false });
    expect(state.client(clientid)).toMatchObject({ confirmed: true, cbProgram: 0x40000000 });

    const open1 = byCallFrame(ts, 58).nfs4!;
    expect(open1).toMatchObject({ clientid, sessionid, slotid: 0, sequenceid: 0x17 });
    const openOp = open1.ops.find((o) => o.op === 'OPEN')!;
    expect(openOp).toMatchObject({ status: 'NFS4_OK', stateid: '020000005e63026b01000000', path: '/export/hello.txt' });
    const helloFh = openOp.fh!;
    expect(paths.pathOf(helloFh)).toBe('/export/hello.txt');
    const read1 = byCallFrame(ts, 60).nfs4!.ops.find((o) => o.op === 'READ')!;
    expect(read1).toEqual({ op: 'READ', status: 'NFS4_OK', fh: helloFh, path: '/export/hello.txt', stateid: '020000005e63026b01000000' });
    // CLOSE (frame 62) forgot it.
    expect(byCallFrame(ts, 62).nfs4!.ops.at(-1)).toMatchObject({ op: 'CLOSE', status: 'NFS4_OK', stateid: '020000005e63026b01000000', fh: helloFh });
    expect(state.stateid('020000005e63026b01000000')).toBeUndefined();

    const open2 = byCallFrame(ts, 64).nfs4!.ops.find((o) => o.op === 'OPEN')!;
    expect(open2).toMatchObject({ stateid: '020000005e63026b02000000', path: '/export/big3.bin' });
    const sid = state.stateid('020000005e63026b02000000')!;
    expect(sid).toMatchObject({ type: 'open', fh: open2.fh, path: '/export/big3.bin', clientid, sessionid, frame: 64, closed: false });
    for (const frame of [66, 80, 106]) {
      const read = byCallFrame(ts, frame).nfs4!.ops.find((o) => o.op === 'READ')!;
      expect(read.stateid).toBe(sid.other);
      // The READ's stateid maps to the file the OPEN opened.
      expect(state.stateid(read.stateid!)?.fh).toBe(read.fh);
    }
    // The root: PUTROOTFH + GETFH (frame 18); the export looked up in it (frame 36).
    expect(byCallFrame(ts, 18).nfs4!.ops.map((o) => o.path)).toEqual([undefined, '/', '/', '/']);
    expect(byCallFrame(ts, 36).nfs4!.ops.map((o) => o.path)).toEqual([undefined, '/', '/export', '/export', '/export']);
    expect(state.anomalies).toEqual([]);
  });

  it('nfsv4-grace-restart: v4.0 SETCLIENTID / CONFIRM client ids; OPENs answered NFS4ERR_GRACE carry it', async () => {
    const { ts, state } = await replay(join(CAPTURES, 'nfsv4-grace-restart.pcap'));
    // tshark -r nfsv4-grace-restart.pcap -Y nfs.opcode -T fields -e frame.number -e nfs.opcode -e nfs.status -e nfs.clientid -e nfs.verifier4
    // 9: SETCLIENTID reply clientid 0x6b02598100000001 confirm 0x0100000000000000; 10: SETCLIENTID_CONFIRM with them.
    // 65: clientid 0x6b02598f00000001 (after the restart); 71: reply 22,9,3,18 statuses 0,0,0,10013 (OPEN NFS4ERR_GRACE).
    // tshark -r nfsv4-grace-restart.pcap -Y 'nfs.status == 10013' -T fields -e frame.number  ->  71 103 119 135 151
    expect(state.client('6b02598100000001')).toMatchObject({ minorVersion: 0, confirm: '0100000000000000', confirmed: true, cbProgram: 0 });
    expect(state.client('6b02598f00000001')).toMatchObject({ confirmed: true, confirm: '0100000000000000' });
    expect(byCallFrame(ts, 8).nfs4).toEqual({ clientid: '6b02598100000001', ops: [{ op: 'SETCLIENTID', status: 'NFS4_OK' }] });
    expect(byCallFrame(ts, 10).nfs4).toEqual({ clientid: '6b02598100000001', ops: [{ op: 'SETCLIENTID_CONFIRM', status: 'NFS4_OK' }] });
    // The first OPEN (frame 14) succeeded: stateid 010000008159026b01000000, file /export/hello.txt.
    const ok = byCallFrame(ts, 14).nfs4!;
    expect(ok.clientid).toBe('6b02598100000001');
    expect(ok.ops.find((o) => o.op === 'OPEN')).toMatchObject({ status: 'NFS4_OK', stateid: '010000008159026b01000000', path: '/export/hello.txt' });

    const graceReplies = ts.filter((t) => t.decoded?.reply?.status === 'NFS4ERR_GRACE').map((t) => t.reply!.frame.number);
    // tshark does not dissect frames 80-87 as RPC ("Message: Unknown (32768)"); nfsight does: the second
    // attempt, reply in frame 87. The .notes: attempts 1-6 get OPEN -> NFS4ERR_GRACE.
    expect(graceReplies).toEqual([71, 87, 103, 119, 135, 151]);
    for (const frame of graceReplies) {
      const a = ts.find((t) => t.reply?.frame.number === frame)!.nfs4!;
      expect(a.ops.map((o) => [o.op, o.status])).toEqual([
        ['PUTFH', 'NFS4_OK'],
        ['GETATTR', 'NFS4_OK'],
        ['ACCESS', 'NFS4_OK'],
        ['OPEN', 'NFS4ERR_GRACE'],
        ['GETFH', undefined],
      ]);
      expect(a.ops[3]).toMatchObject({ path: '/export/hello.txt' });
      expect(a.ops[3]!.stateid).toBeUndefined();
      expect(a.clientid).toMatch(/^6b02598f/);
    }
    expect(state.counts.sessions).toBe(0);
  });
});

// --- generated ---------------------------------------------------------------

const CLIENT: Host = { addr: '192.0.2.10', port: 801 };
const SERVER: Host = { addr: '192.0.2.20', port: 2049 };
const SESSION = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const CLIENTID = 0x1122334455667788n;

const NFS4ERR_BADSESSION = 10052;
const NFS4ERR_BADSLOT = 10053;
const NFS4ERR_SEQ_MISORDERED = 10063;

const op = (n: number): XdrWriter => new XdrWriter().u32(n);
const sidW = (w: XdrWriter, s: Stateid4): XdrWriter => w.u32(s.seqid).fixed(s.other);
const cinfo = (w: XdrWriter): XdrWriter => w.bool(true).u64(1).u64(2);
const restorefhArgs = (): Buffer => op(OP.RESTOREFH).bytes();
const renameArgs = (from: string, to: string): Buffer => op(OP.RENAME).string(from).string(to).bytes();
const linkArgs = (name: string): Buffer => op(11).string(name).bytes();
const closeArgs = (seqid: number, s: Stateid4): Buffer => sidW(op(OP.CLOSE).u32(seqid), s).bytes();
const destroySessionArgs = (sessionid: Buffer): Buffer => op(44).fixed(sessionid).bytes();
const renameRes = (): Buffer => cinfo(cinfo(op(OP.RENAME).u32(0))).bytes();
const linkRes = (): Buffer => cinfo(op(11).u32(0)).bytes();
const closeRes = (s: Stateid4): Buffer => sidW(op(OP.CLOSE).u32(0), s).bytes();

interface Compound {
  minor?: number;
  args: Buffer[];
  status?: number;
  res: Buffer[];
}

/** One TCP connection carrying the COMPOUNDs in order; returns the capture file. */
function captureOf(compounds: Compound[]): string {
  const s = new TcpSession(new Capture(), CLIENT, SERVER).handshake();
  compounds.forEach((c, i) => {
    const xid = 0x4000 + i;
    s.send('client', recordMark(rpcCall({ xid, prog: NFS_PROGRAM, vers: 4, proc: 1, cred: { machine: 'c', uid: 0, gid: 0 } }, compoundArgs('t', c.minor ?? 1, c.args))));
    s.capture.advance(0.001);
    s.send('server', recordMark(rpcAcceptedReply(xid, compoundRes(c.status ?? 0, 't', c.res))));
  });
  return writeTemp(tempDir(), 'gen.pcap', writePcap(s.capture.frames, { linkType: 1 }));
}

const fore = { maxRequestSize: 1 << 20, maxResponseSize: 1 << 20, maxRequests: 4 };
const back = { maxRequestSize: 4096, maxResponseSize: 4096, maxRequests: 2 };
const exchangeId: Compound = {
  args: [exchangeIdArgs(Buffer.alloc(8, 1), 'gen-client', 1)],
  res: [exchangeIdRes(CLIENTID, 1, 0x10001, 'server', 'scope')],
};
const createSession = (sessionid: Buffer = SESSION): Compound => ({
  args: [createSessionArgs(CLIENTID, 1, 0, fore, back, 0x40000000)],
  res: [createSessionRes(sessionid, 1, 0, fore, back)],
});
/** SEQUENCE (and GETATTR) on a slot, answered OK or with an error on the SEQUENCE. */
const seq = (sequenceid: number, slotid: number, error?: number, sessionid: Buffer = SESSION): Compound => ({
  args: [sequenceArgs(sessionid, sequenceid, slotid, slotid, false), putrootfhArgs(), getattrArgs([4])],
  ...(error !== undefined
    ? { status: error, res: [statusRes(OP.SEQUENCE, error)] }
    : { res: [sequenceRes(sessionid, sequenceid, slotid, 3, 3, 0), statusRes(OP.PUTROOTFH, 0), getattrRes({ size: 1 })] }),
});

describe('NFSv4 state on generated captures', () => {
  it('sessions: slots beyond the table, sequence gaps and reuses, DESTROY_SESSION forgetting the session', async () => {
    const file = captureOf([
      exchangeId,
      createSession(),
      seq(1, 0),
      seq(2, 0),
      seq(1, 1),
      seq(4, 0, NFS4ERR_SEQ_MISORDERED), // gap: 3 expected
      seq(1, 4, NFS4ERR_BADSLOT), // beyond the 4-slot table
      seq(3, 0),
      seq(3, 0), // the same sequence id on a new transaction
      seq(1, 0, NFS4ERR_SEQ_MISORDERED), // an old one
      { args: [sequenceArgs(SESSION, 2, 1, 1, false), destroySessionArgs(SESSION)], res: [sequenceRes(SESSION, 2, 1, 3, 3, 0), statusRes(44, 0)] },
      seq(4, 0, NFS4ERR_BADSESSION),
      seq(5, 2, undefined, Buffer.alloc(16, 0x77)), // a session made before the capture
      seq(6, 2, undefined, Buffer.alloc(16, 0x77)),
      { args: [op(57).u64(CLIENTID).bytes()], res: [statusRes(57, 0)] }, // DESTROY_CLIENTID
    ]);
    const { ts, state } = await replay(file);
    const frameOf = (i: number): number => ts.find((t) => t.xid === 0x4000 + i)!.call.frame.number;
    const sessionid = SESSION.toString('hex');
    const clientid = CLIENTID.toString(16);
    // The client as EXCHANGE_ID / CREATE_SESSION left it (attributions keep what the state knew then).
    expect(ts[1]!.nfs4).toEqual({ clientid, ops: [{ op: 'CREATE_SESSION', status: 'NFS4_OK' }] });
    // DESTROY_CLIENTID forgot it, and its owner.
    expect(state.client(clientid)).toBeUndefined();
    expect(state.clientOfOwner('gen-client')).toBeUndefined();
    expect(ts[14]!.nfs4).toEqual({ clientid, ops: [{ op: 'DESTROY_CLIENTID', status: 'NFS4_OK' }] });
    expect(state.session(sessionid)).toBeUndefined();
    expect(state.anomalies).toEqual([
      { kind: 'sequence-gap', frame: frameOf(5), xid: 0x4005, sessionid, slot: 0, expected: 3, got: 4, status: 'NFS4ERR_SEQ_MISORDERED' },
      { kind: 'slot-beyond-table', frame: frameOf(6), xid: 0x4006, sessionid, slot: 4, expected: 4, got: 4, status: 'NFS4ERR_BADSLOT' },
      { kind: 'sequence-reused', frame: frameOf(8), xid: 0x4008, sessionid, slot: 0, expected: 4, got: 3, status: 'NFS4_OK' },
      { kind: 'sequence-reused', frame: frameOf(9), xid: 0x4009, sessionid, slot: 0, expected: 4, got: 1, status: 'NFS4ERR_SEQ_MISORDERED' },
      { kind: 'unknown-session', frame: frameOf(11), xid: 0x400b, sessionid, slot: 0, status: 'NFS4ERR_BADSESSION' },
      { kind: 'unknown-session', frame: frameOf(12), xid: 0x400c, sessionid: '77'.repeat(16), slot: 2, status: 'NFS4_OK' },
    ]);
    // Attribution: session, slot, sequence id and client; ops after the failing SEQUENCE have no status.
    expect(ts[3]!.nfs4).toMatchObject({ clientid, sessionid, slotid: 0, sequenceid: 2 });
    expect(ts[5]!.nfs4!.ops).toEqual([{ op: 'SEQUENCE', status: 'NFS4ERR_SEQ_MISORDERED' }, { op: 'PUTROOTFH', path: '/' }, { op: 'GETATTR', path: '/' }]);
    expect(ts[10]!.nfs4).toMatchObject({ clientid, ops: [{ op: 'SEQUENCE' }, { op: 'DESTROY_SESSION', status: 'NFS4_OK' }] });
    // The session learnt from its SEQUENCE: no client, unknown table, slots from the first request.
    const learnt = state.session('77'.repeat(16))!;
    expect(learnt).toMatchObject({ created: false });
    expect(learnt.foreSlots).toBeUndefined();
    expect(learnt.slots.get(2)).toMatchObject({ sequenceid: 6 });
    expect(state.counts).toMatchObject({ sessions: 1, clients: 0, anomalies: 6 });
  });

  it('the current file handle through SAVEFH / RESTOREFH: RENAME, LINK, OPEN by name, READ and CLOSE of its stateid', async () => {
    const ROOT = Buffer.from('0100000000000000000000aa', 'hex');
    const DIR = Buffer.from('0100000000000000000000bb', 'hex');
    const FILE = Buffer.from('0100000000000000000000cc', 'hex');
    const OPEN_SID = stateid4(1, 0xa1);
    const DELEG_SID = stateid4(1, 0xd1);
    const owner = Buffer.from('open-owner-1');
    const file = captureOf([
      { minor: 0, args: [putrootfhArgs(), getfhArgs()], res: [statusRes(OP.PUTROOTFH, 0), getfhRes(ROOT)] },
      { minor: 0, args: [putfhArgs(ROOT), lookupArgs('dir'), getfhArgs()], res: [statusRes(OP.PUTFH, 0), statusRes(OP.LOOKUP, 0), getfhRes(DIR)] },
      {
        minor: 0,
        args: [putfhArgs(DIR), openArgs(1, 1, 0, CLIENTID, owner, 'a.txt', 0o644), getfhArgs()],
        res: [statusRes(OP.PUTFH, 0), openRes(OPEN_SID, 4, DELEG_SID), getfhRes(FILE)],
      },
      {
        minor: 0,
        args: [putfhArgs(DIR), savefhArgs(), putfhArgs(ROOT), renameArgs('a.txt', 'b.txt')],
        res: [statusRes(OP.PUTFH, 0), statusRes(OP.SAVEFH, 0), statusRes(OP.PUTFH, 0), renameRes()],
      },
      {
        minor: 0,
        args: [putfhArgs(FILE), savefhArgs(), putfhArgs(ROOT), linkArgs('c.txt'), restorefhArgs(), getattrArgs([4])],
        res: [statusRes(OP.PUTFH, 0), statusRes(OP.SAVEFH, 0), statusRes(OP.PUTFH, 0), linkRes(), statusRes(OP.RESTOREFH, 0), getattrRes({ size: 5 })],
      },
      { minor: 0, args: [putfhArgs(FILE), readArgs(OPEN_SID, 0, 100)], res: [statusRes(OP.PUTFH, 0), readRes(true, Buffer.from('hello'))] },
      { minor: 0, args: [putfhArgs(FILE), closeArgs(2, OPEN_SID)], res: [statusRes(OP.PUTFH, 0), closeRes(stateid4(2, 0xa1))] },
    ]);
    const { ts, state, paths } = await replay(file);
    const [root, dir, fileHex] = [ROOT, DIR, FILE].map((b) => b.toString('hex'));
    const a = ts.map((t) => t.nfs4!);
    expect(a[0]!.ops).toEqual([
      { op: 'PUTROOTFH', status: 'NFS4_OK', fh: root, path: '/' },
      { op: 'GETFH', status: 'NFS4_OK', fh: root, path: '/' },
    ]);
    expect(a[1]!.ops.map((o) => [o.op, o.fh, o.path])).toEqual([
      ['PUTFH', root, '/'],
      ['LOOKUP', dir, '/dir'],
      ['GETFH', dir, '/dir'],
    ]);
    // OPEN by name: the opened file becomes current; its fh from the GETFH after it.
    expect(a[2]).toEqual({
      clientid: CLIENTID.toString(16),
      ops: [
        { op: 'PUTFH', status: 'NFS4_OK', fh: dir, path: '/dir' },
        { op: 'OPEN', status: 'NFS4_OK', fh: fileHex, path: '/dir/a.txt', stateid: OPEN_SID.other.toString('hex') },
        { op: 'GETFH', status: 'NFS4_OK', fh: fileHex, path: '/dir/a.txt' },
      ],
    });
    expect(paths.pathOf(fileHex!)).toBe('/dir/a.txt');
    // RENAME: source directory saved, target directory current.
    expect(a[3]!.ops[3]).toEqual({ op: 'RENAME', status: 'NFS4_OK', fh: root, path: '/', savedFh: dir, savedPath: '/dir' });
    // LINK: the saved file linked into the current directory; RESTOREFH brings the file back.
    expect(a[4]!.ops.slice(3)).toEqual([
      { op: 'LINK', status: 'NFS4_OK', fh: root, path: '/', savedFh: fileHex, savedPath: '/dir/a.txt' },
      { op: 'RESTOREFH', status: 'NFS4_OK', fh: fileHex, path: '/dir/a.txt' },
      { op: 'GETATTR', status: 'NFS4_OK', fh: fileHex, path: '/dir/a.txt' },
    ]);
    // READ with the OPEN's stateid: the open's file; the delegation came with it.
    expect(a[5]!.ops[1]).toEqual({ op: 'READ', status: 'NFS4_OK', fh: fileHex, path: '/dir/a.txt', stateid: OPEN_SID.other.toString('hex') });
    expect(a[5]!.clientid).toBe(CLIENTID.toString(16));
    const deleg = state.stateid(DELEG_SID.other.toString('hex'))!;
    expect(deleg).toMatchObject({ type: 'delegation', fh: fileHex, openStateid: OPEN_SID.other.toString('hex') });
    // CLOSE forgets the open stateid.
    expect(a[6]!.ops[1]).toMatchObject({ op: 'CLOSE', status: 'NFS4_OK', stateid: OPEN_SID.other.toString('hex'), fh: fileHex });
    expect(state.stateid(OPEN_SID.other.toString('hex'))).toBeUndefined();
    expect(state.counts.stateids).toBe(1);
  });

  it('v4.1 current stateid (seqid 1, other all zeros): the stateid the COMPOUND last made, not in v4.0', async () => {
    const DIR = Buffer.from('0100000000000000000000bb', 'hex');
    const OPEN_SID = stateid4(1, 0xa1);
    const CURRENT = stateid4(1, 0);
    const owner = Buffer.from('open-owner-1');
    const compound = (minor: number): Compound => ({
      minor,
      args: [putfhArgs(DIR), openArgs(1, 1, 0, CLIENTID, owner, 'a.txt', 0o644), readArgs(CURRENT, 0, 100)],
      res: [statusRes(OP.PUTFH, 0), openRes(OPEN_SID, 4, stateid4(1, 0xd1)), readRes(true, Buffer.from('hello'))],
    });
    const { ts } = await replay(captureOf([compound(1), compound(0)]));
    const zeros = CURRENT.other.toString('hex');
    // RFC 8881 §16.2.3.1.2: in v4.1 the special stateid names the OPEN's stateid just made.
    expect(ts[0]!.nfs4!.ops[2]).toMatchObject({ op: 'READ', stateid: OPEN_SID.other.toString('hex') });
    // v4.0 has no current stateid: the zeros stay the anonymous stateid.
    expect(ts[1]!.nfs4!.ops[2]!.stateid ?? zeros).toBe(zeros);
  });

  it('caps evict the least recently used sessions, clients and stateids', async () => {
    const sessions = [1, 2, 3, 4, 5].map((n) => Buffer.alloc(16, n));
    const file = captureOf([
      exchangeId,
      ...sessions.slice(0, 3).map((s) => createSession(s)),
      seq(1, 0, undefined, sessions[0]), // session 1 used: session 2 is now the oldest
      ...sessions.slice(3).map((s) => createSession(s)),
      ...[1, 2, 3].map(
        (n): Compound => ({
          minor: 0,
          args: [putfhArgs(Buffer.alloc(8, n)), openArgs(1, 1, 0, CLIENTID, Buffer.from(`o${n}`), `f${n}`)],
          res: [statusRes(OP.PUTFH, 0), openRes(stateid4(1, 0xa0 + n), 0, stateid4(1, 0xd0 + n))],
        }),
      ),
    ]);
    const { state } = await replay(file, { maxSessions: 3, maxStateids: 4, maxClients: 1 });
    const has = (n: number): boolean => state.session(Buffer.alloc(16, n).toString('hex')) !== undefined;
    expect([1, 2, 3, 4, 5].map(has)).toEqual([true, false, false, true, true]);
    // Each OPEN hands out an open and a delegation stateid: the first OPEN's two are evicted.
    expect(state.stateid(Buffer.alloc(12, 0xa1).toString('hex'))).toBeUndefined();
    expect(state.stateid(Buffer.alloc(12, 0xd1).toString('hex'))).toBeUndefined();
    // Opened by name with no GETFH after it: the file's handle is not known.
    const s3 = state.stateid(Buffer.alloc(12, 0xa3).toString('hex'))!;
    expect(s3).toMatchObject({ type: 'open', owner: Buffer.from('o3').toString('hex'), clientid: CLIENTID.toString(16) });
    expect(s3.fh).toBeUndefined();
    expect(state.counts).toMatchObject({ sessions: 3, stateids: 4, clients: 1, evictedSessions: 2, evictedStateids: 2 });
  });
});
