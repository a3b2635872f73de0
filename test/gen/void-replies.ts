/**
 * A capture of replies without a status field next to replies with one:
 * NFSv3 NULL and GETATTR, NFSv4 NULL and a COMPOUND, the callback program's
 * CB_NULL (an NFSv4.1 backchannel call from the server on the same
 * connection) and a CB_COMPOUND, MOUNT NULL, UMNT and MNT, portmap
 * GETPORT over UDP. tshark's reading of it is stored beside this file
 * (void-replies.expected.json, written by scripts/tshark-generated.mjs).
 */
import { writePcap } from './capture-writer.js';
import { cbCompoundArgs, cbSequenceArgs, cbSequenceRes, compoundArgs, compoundRes, getfhArgs, getfhRes, OP, putrootfhArgs } from './nfs4.js';
import { makeFh } from './nfs3.js';
import { recordMark, rpcAcceptedReply, rpcCall, XdrWriter } from './rpc.js';
import { Capture, TcpSession } from './session.js';
import { mountPath, mountRes3, pmapMapping, xdrU32 } from './side.js';

const LINKTYPE_ETHERNET = 1;
const NFS = 100003;
const MOUNT = 100005;
const PORTMAP = 100000;
const CB_PROGRAM = 0x40000000;

export function voidRepliesCapture(): Buffer {
  const cap = new Capture(1_790_000_000);
  const client = { addr: '10.1.0.10', port: 811 };
  const nfs = new TcpSession(cap, client, { addr: '10.1.0.2', port: 2049 }).handshake();
  const fh = makeFh(7);
  let xid = 0x5e000001;
  const exchange = (s: TcpSession, prog: number, vers: number, proc: number, args: Buffer, results: Buffer, from: 'client' | 'server' = 'client'): void => {
    const x = xid++;
    cap.advance(0.001);
    s.send(from, recordMark(rpcCall({ xid: x, prog, vers, proc, cred: { machine: 'client', uid: 0, gid: 0 } }, args)), { ack: false });
    cap.advance(0.0002);
    s.send(from === 'client' ? 'server' : 'client', recordMark(rpcAcceptedReply(x, results)));
  };
  const empty = Buffer.alloc(0);
  // NFSv3: NULL (void) and GETATTR (nfsstat3 NFS3ERR_STALE, 70).
  exchange(nfs, NFS, 3, 0, empty, empty);
  exchange(nfs, NFS, 3, 1, new XdrWriter().opaque(fh).bytes(), xdrU32(70));
  // NFSv4: NULL (void) and COMPOUND PUTROOTFH GETFH (NFS4_OK).
  exchange(nfs, NFS, 4, 0, empty, empty);
  exchange(
    nfs, NFS, 4, 1,
    compoundArgs('', 1, [putrootfhArgs(), getfhArgs()]),
    compoundRes(0, '', [new XdrWriter().u32(OP.PUTROOTFH).u32(0).bytes(), getfhRes(fh)]),
  );
  // The backchannel: CB_NULL (void) and CB_COMPOUND CB_SEQUENCE (NFS4_OK), calls from the server.
  const session = Buffer.alloc(16, 0x3c);
  exchange(nfs, CB_PROGRAM, 1, 0, empty, empty, 'server');
  exchange(
    nfs, CB_PROGRAM, 1, 1,
    cbCompoundArgs('', 1, 0, [cbSequenceArgs(session, 1, 0, 0, false)]),
    Buffer.concat([new XdrWriter().u32(0).string('').u32(1).bytes(), cbSequenceRes(session, 1, 0, 0, 0)]),
    'server',
  );
  // MOUNT v3: NULL and UMNT (void), MNT (mountstat3 MNT3ERR_ACCES, 13).
  const mount = new TcpSession(cap, { addr: '10.1.0.10', port: 812 }, { addr: '10.1.0.2', port: 20048 }).handshake();
  exchange(mount, MOUNT, 3, 0, empty, empty);
  exchange(mount, MOUNT, 3, 3, mountPath('/export'), empty);
  exchange(mount, MOUNT, 3, 1, mountPath('/secret'), mountRes3(13));
  // portmap v2 GETPORT over UDP: a port, no status.
  const pmClient = { addr: '10.1.0.10', port: 813 };
  const pmServer = { addr: '10.1.0.2', port: 111 };
  cap.advance(0.001);
  cap.udp(pmClient, pmServer, rpcCall({ xid: 0x5e0000f0, prog: PORTMAP, vers: 2, proc: 3 }, pmapMapping(MOUNT, 3, 6, 0)));
  cap.advance(0.0002);
  cap.udp(pmServer, pmClient, rpcAcceptedReply(0x5e0000f0, xdrU32(20048)));
  return writePcap(cap.frames, { linkType: LINKTYPE_ETHERNET, nanosecond: true });
}
