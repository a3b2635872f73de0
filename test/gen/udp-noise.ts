/**
 * NFS and its side protocols over UDP next to UDP that is not RPC: mDNS
 * responses (224.0.0.251:5353, whose header reads like an RPC reply), DNS,
 * NTP, and random datagrams, some shaped like RPC calls or replies. tshark's
 * reading of it is stored beside this file (udp-noise.expected.json,
 * scripts/tshark-generated.mjs).
 */
import { writePcap } from './capture-writer.js';
import { makeFh } from './nfs3.js';
import { rng } from './random.js';
import { rpcAcceptedReply, rpcCall, XdrWriter } from './rpc.js';
import { Capture, type Host } from './session.js';
import { mountPath, mountRes3, nlmLockArgs, nlmRes, pmapMapping, xdrU32 } from './side.js';

const LINKTYPE_ETHERNET = 1;
const CLIENT = '10.3.0.10';
const SERVER = '10.3.0.2';

/** An mDNS response: id 0, flags 0x8400 (response, authoritative), one answer (A record for host.local). */
function mdnsResponse(name: string, addr: number[]): Buffer {
  const labels = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const head = Buffer.from([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  const rr = Buffer.concat([labels, Buffer.from([0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4]), Buffer.from(addr)]);
  return Buffer.concat([head, rr]);
}

/** A DNS query (standard, recursion desired) for an A record, and its response with one answer. */
function dns(id: number, name: string, answer?: number[]): Buffer {
  const labels = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(answer ? 0x8180 : 0x0100, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answer ? 1 : 0, 6);
  const q = Buffer.concat([labels, Buffer.from([0, 1, 0, 1])]);
  if (!answer) return Buffer.concat([head, q]);
  return Buffer.concat([head, q, Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4]), Buffer.from(answer)]);
}

/** An NTPv4 client request (48 bytes, mode 3). */
function ntpRequest(): Buffer {
  const b = Buffer.alloc(48);
  b[0] = 0x23;
  b.writeUInt32BE(0xe9a5c0de, 40);
  return b;
}

export function udpNoiseCapture(): Buffer {
  const cap = new Capture(1_790_200_000);
  const r = rng(18);
  const client = (port: number): Host => ({ addr: CLIENT, port });
  const server = (port: number): Host => ({ addr: SERVER, port });
  const exchange = (c: Host, s: Host, xid: number, prog: number, vers: number, proc: number, args: Buffer, res: Buffer): void => {
    cap.advance(0.001);
    cap.udp(c, s, rpcCall({ xid, prog, vers, proc, cred: { machine: 'client', uid: 0, gid: 0 } }, args));
    cap.advance(0.0003);
    cap.udp(s, c, rpcAcceptedReply(xid, res));
  };
  const noise = (from: Host, to: Host, payload: Buffer): void => {
    cap.advance(0.0005);
    cap.udp(from, to, payload);
  };
  const fh = makeFh(5);
  const getattr = new XdrWriter().opaque(fh).bytes();
  const mdnsFrom = { addr: '10.3.0.77', port: 5353 };
  const mdnsTo = { addr: '224.0.0.251', port: 5353 };

  // NFSv3 over UDP: GETATTR answered NFS3ERR_STALE; portmap GETPORT for MOUNT; MOUNT on a port
  // the portmapper named (not a known RPC port); NLM LOCK on a dynamic port.
  exchange(client(801), server(2049), 0x6a000001, 100003, 3, 1, getattr, xdrU32(70));
  noise(mdnsFrom, mdnsTo, mdnsResponse('printer.local', [10, 3, 0, 77]));
  exchange(client(802), server(111), 0x6a000002, 100000, 2, 3, pmapMapping(100005, 3, 17, 0), xdrU32(635));
  noise(client(40001), { addr: '10.3.0.1', port: 53 }, dns(0x1234, 'nfs.example'));
  noise({ addr: '10.3.0.1', port: 53 }, client(40001), dns(0x1234, 'nfs.example', [10, 3, 0, 2]));
  exchange(client(803), server(635), 0x6a000003, 100005, 3, 1, mountPath('/export'), mountRes3(13));
  noise(mdnsFrom, mdnsTo, mdnsResponse('scanner.local', [10, 3, 0, 78]));
  noise(client(123), { addr: '10.3.0.1', port: 123 }, ntpRequest());
  const lock = { caller: 'client', fh, oh: Buffer.from('owner'), svid: 42, offset: 0n, length: 100n };
  exchange(client(804), server(32803), 0x6a000004, 100021, 4, 2, nlmLockArgs(4, Buffer.from([1, 2, 3, 4]), false, true, lock, false, 1), nlmRes(Buffer.from([1, 2, 3, 4]), 0));
  // Random datagrams: shaped like an RPC reply (msg_type 1, reply_stat 0) and like an RPC call
  // (msg_type 0, rpcvers 2, an unknown program) between unknown ports; plain random bytes.
  const random = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  const replyShaped = random(64);
  replyShaped.writeUInt32BE(1, 4);
  replyShaped.writeUInt32BE(0, 8);
  noise(client(50001), server(50002), replyShaped);
  const callShaped = random(64);
  callShaped.writeUInt32BE(0, 4);
  callShaped.writeUInt32BE(2, 8);
  callShaped.writeUInt32BE(0x0badcafe, 12);
  noise(client(50003), server(50004), callShaped);
  noise(client(50005), server(50006), random(100));
  noise(mdnsFrom, mdnsTo, mdnsResponse('nas.local', [10, 3, 0, 79]));
  // A reply from the NFS port whose call the capture does not hold.
  noise(server(2049), client(805), rpcAcceptedReply(0x6a0000ff, xdrU32(0)));
  // NFSv3 GETATTR once more, answered.
  exchange(client(801), server(2049), 0x6a000005, 100003, 3, 1, getattr, xdrU32(70));
  return writePcap(cap.frames, { linkType: LINKTYPE_ETHERNET, nanosecond: true });
}
