/**
 * One small capture per path of the RPC call/reply matcher, over TCP and
 * over UDP: a call resent before and after its reply (answered again or
 * not), a duplicate reply, replies to both copies of a resent call, an xid
 * reused on another connection (or address pair), an xid reused for another
 * procedure. tshark's view of each capture (rpc.call.dup, rpc.dup,
 * rpc.repframe, rpc.reqframe, rpc.time per message) is stored beside this
 * file in matcher-scenarios.expected.json by scripts/matcher-expected.mjs;
 * the tests compare nfsight with it without tshark.
 */
import { writePcap } from './capture-writer.js';
import { NFS_PROGRAM, XdrWriter, recordMark, rpcAcceptedReply, rpcCall } from './rpc.js';
import { Capture, TcpSession, type Host, type Side } from './session.js';

export type Transport = 'tcp' | 'udp';

const CLIENT: Host = { addr: '192.0.2.10', port: 801 };
const CLIENT2: Host = { addr: '192.0.2.11', port: 801 };
const CLIENT_PORT2: Host = { addr: '192.0.2.10', port: 802 };
const SERVER: Host = { addr: '192.0.2.20', port: 2049 };
const FH = Buffer.alloc(32, 0xfe);

const NFSPROC3_GETATTR = 1;
const NFSPROC3_ACCESS = 4;

function call(xid: number, proc = NFSPROC3_GETATTR): Buffer {
  const args = new XdrWriter().opaque(FH);
  if (proc === NFSPROC3_ACCESS) args.u32(0x1f);
  return rpcCall({ xid, prog: NFS_PROGRAM, vers: 3, proc, cred: { machine: 'client', uid: 0, gid: 0 } }, args.bytes());
}

/** GETATTR3res / ACCESS3res failing with NFS3ERR_STALE, attributes absent: a complete, decodable reply. */
function reply(xid: number): Buffer {
  return rpcAcceptedReply(xid, new XdrWriter().u32(70).u32(0).bytes());
}

/** A conversation: TCP connections or UDP address pairs, messages sent one after another. */
class Conversation {
  readonly capture = new Capture();
  private readonly tcp = new Map<Host, TcpSession>();

  constructor(private readonly transport: Transport) {}

  private session(client: Host): TcpSession {
    let s = this.tcp.get(client);
    if (s === undefined) {
      s = new TcpSession(this.capture, client, SERVER).handshake();
      this.tcp.set(client, s);
    }
    return s;
  }

  private send(client: Host, from: Side, message: Buffer): void {
    if (this.transport === 'tcp') this.session(client).send(from, recordMark(message));
    else if (from === 'client') this.capture.udp(client, SERVER, message);
    else this.capture.udp(SERVER, client, message);
  }

  call(xid: number, opts: { client?: Host; proc?: number } = {}): this {
    this.send(opts.client ?? CLIENT, 'client', call(xid, opts.proc));
    this.capture.advance(0.001);
    return this;
  }

  reply(xid: number, opts: { client?: Host } = {}): this {
    this.send(opts.client ?? CLIENT, 'server', reply(xid));
    this.capture.advance(0.001);
    return this;
  }

  wait(seconds: number): this {
    this.capture.advance(seconds);
    return this;
  }
}

export interface MatcherScenario {
  name: string;
  transport: Transport;
  /** What the scenario is, in words. */
  what: string;
  capture(): Buffer;
}

const XID = 0x5ca1ab1e;
const XID2 = 0x0badcafe;

/** The scenarios, each built for one transport. */
function scenarios(t: Transport): MatcherScenario[] {
  const make = (name: string, what: string, build: (c: Conversation) => void): MatcherScenario => ({
    name: `${t}: ${name}`,
    transport: t,
    what,
    capture: () => {
      const c = new Conversation(t);
      build(c);
      return writePcap(c.capture.frames, { linkType: 1 });
    },
  });
  const other = t === 'tcp' ? CLIENT_PORT2 : CLIENT2;
  return [
    make('plain call and reply', 'one call, one reply', (c) => c.call(XID).wait(0.002).reply(XID)),
    make('call resent before its reply', 'the client resends before the server answers; one reply', (c) =>
      c.call(XID).wait(1.1).call(XID).wait(0.003).reply(XID),
    ),
    make('call resent after its reply', 'the reply came, the client sends the call again; no second reply', (c) =>
      c.call(XID).wait(0.002).reply(XID).wait(0.5).call(XID),
    ),
    make('call resent after its reply, answered again', 'the reply came, the client sends the call again, the server answers it again', (c) =>
      c.call(XID).wait(0.002).reply(XID).wait(0.5).call(XID).wait(0.004).reply(XID),
    ),
    make('duplicate reply', 'one call, the server sends its reply twice', (c) => c.call(XID).wait(0.002).reply(XID).wait(0.01).reply(XID)),
    make('replies to a resent call', 'the client resends, the server answers both copies', (c) =>
      c.call(XID).wait(1.1).call(XID).wait(0.003).reply(XID).wait(0.002).reply(XID),
    ),
    make('xid reused on another connection', `the same xid from another client ${t === 'tcp' ? 'connection' : 'address'}, interleaved: two transactions`, (c) =>
      c.call(XID).call(XID, { client: other }).wait(0.002).reply(XID, { client: other }).wait(0.002).reply(XID),
    ),
    ...(t === 'udp'
      ? [
          make('xid reused from another port of the client', 'the same xid from another UDP port of the same client host, interleaved: two transactions', (c) =>
            c.call(XID).call(XID, { client: CLIENT_PORT2 }).wait(0.002).reply(XID, { client: CLIENT_PORT2 }).wait(0.002).reply(XID),
          ),
        ]
      : []),
    make('xid reused for another procedure', 'the same xid, another procedure, after the first was answered: two transactions', (c) =>
      c.call(XID2).wait(0.002).reply(XID2).wait(0.1).call(XID2, { proc: NFSPROC3_ACCESS }).wait(0.003).reply(XID2),
    ),
  ];
}

export const MATCHER_SCENARIOS: readonly MatcherScenario[] = [...scenarios('tcp'), ...scenarios('udp')];
