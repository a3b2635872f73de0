/**
 * TCP resets of every kind next to NFS calls: an RST closing a connection and
 * the RSTs that follow it (sent again, answering late data), a connection
 * refused (SYN answered by RST), an RST after both FINs, and a lone RST of
 * a connection the capture did not see start. tshark's reading of it (its
 * RST frames, tcp.flags.reset == 1) is stored beside this file
 * (resets.expected.json, scripts/tshark-generated.mjs).
 */
import { writePcap } from './capture-writer.js';
import { makeFh } from './nfs3.js';
import { recordMark, rpcAcceptedReply, rpcCall, XdrWriter } from './rpc.js';
import { Capture, TcpSession } from './session.js';
import { ACK, RST } from './tcp.js';
import { rawSegment, refusedSyn } from './tcp-faults.js';

const LINKTYPE_ETHERNET = 1;
const SERVER = { addr: '10.4.0.2', port: 2049 };

export function resetsCapture(): Buffer {
  const cap = new Capture(1_790_300_000);
  const getattr = (xid: number): Buffer => recordMark(rpcCall({ xid, prog: 100003, vers: 3, proc: 1, cred: { machine: 'c', uid: 0, gid: 0 } }, new XdrWriter().opaque(makeFh(9)).bytes()));
  const stale = (xid: number): Buffer => recordMark(rpcAcceptedReply(xid, new XdrWriter().u32(70).bytes()));

  // 1. A call answered, then the client resets the connection, resets it again, and resets the
  // server's late data (the client's port no longer has a socket).
  const a = new TcpSession(cap, { addr: '10.4.0.10', port: 901 }, SERVER).handshake();
  a.send('client', getattr(0x7b000001));
  a.send('server', stale(0x7b000001));
  cap.advance(0.01);
  a.rst('client');
  cap.advance(0.2);
  a.rst('client');
  a.send('server', Buffer.from('late'), { ack: false });
  a.rst('client');

  // 2. A connection refused.
  cap.advance(0.01);
  refusedSyn(cap, { addr: '10.4.0.10', port: 902 }, SERVER);

  // 3. Closed by FINs both ways, then an RST from the client.
  const c = new TcpSession(cap, { addr: '10.4.0.10', port: 903 }, SERVER).handshake();
  c.send('client', getattr(0x7b000002));
  c.send('server', stale(0x7b000002));
  c.fin('client');
  c.fin('server');
  c.ack('client');
  cap.advance(0.01);
  c.rst('client');

  // 4. A lone RST on a connection the capture never saw before.
  cap.advance(0.01);
  rawSegment(cap, { addr: '10.4.0.11', port: 904 }, SERVER, 555_555, 777_777, RST | ACK);
  rawSegment(cap, { addr: '10.4.0.11', port: 904 }, SERVER, 555_555, 777_777, ACK);
  return writePcap(cap.frames, { linkType: LINKTYPE_ETHERNET, nanosecond: true });
}
