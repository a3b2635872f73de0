/**
 * NFSv4 state, followed through the COMPOUNDs of a capture (RFC 7530 for
 * v4.0, RFC 8881 for v4.1/4.2): client ids (EXCHANGE_ID, SETCLIENTID),
 * sessions and their slots (CREATE_SESSION, SEQUENCE, DESTROY_SESSION),
 * stateids (OPEN, LOCK, LAYOUTGET, OPEN_DOWNGRADE and the delegations OPEN
 * hands out) and the current file handle through each COMPOUND, so that
 * every op is attributed to the client, session and file it acted on.
 *
 * Consumes decoded transactions (after the decode stage) in order of
 * completion; calls of other programs are ignored. Only answered COMPOUNDs
 * change the state; an unanswered one is attributed (its ops, file handles)
 * but does not move slots or stateids.
 *
 * Sessions: each slot's highest sequence id the server accepted (SEQUENCE
 * answered NFS4_OK). A request on a slot must carry the slot's sequence id
 * plus one (a new request) or the same (a retry, RFC 8881 §2.10.6.1); what
 * differs, or a slot id at or beyond the fore channel's ca_maxrequests, is
 * kept in `anomalies` for detectors to judge. The capture may start after a
 * session was created: such a session is learnt from its first SEQUENCE
 * (one 'unknown-session' anomaly) with an unknown slot count, and each slot
 * from its first request.
 *
 * Memory is bounded: clients, sessions and stateids are kept in LRU maps
 * with caps; DESTROY_SESSION / DESTROY_CLIENTID / CLOSE / FREE_STATEID /
 * DELEGRETURN remove what they end. Client ids and session ids are keyed by
 * their value alone (not by server): ids of two servers that collide would
 * be merged.
 */
import type { DecodedCall, DecodedReply } from '../../decoders/decoded.js';
import type { Transaction, TransactionSink } from '../rpc/transaction.js';
import type { FileHandlePaths } from './fh-paths.js';
import type { MemoryAccount, MemoryBudget } from '../memory/budget.js';
import { LruMap } from '../memory/lru.js';
import { DEFAULT_ENTITY_BOUND } from '../memory/entity-bound.js';

const PROG_NFS = 100003;
const NFSPROC4_COMPOUND = 1;
const NFS4_OK = 'NFS4_OK';
/** A stateid `other` of all zeros (anonymous / current stateid) or all ones (READ bypass). */
const SPECIAL_OTHER = new Set(['000000000000000000000000', 'ffffffffffffffffffffffff']);
/** Slots kept per session whose slot table size is not known. */
const UNKNOWN_TABLE_SLOTS = 1024;
/** Slots kept per session at most (a server may announce a huge ca_maxrequests). */
const MAX_SLOTS = 65_536;

/** One op of a COMPOUND, attributed. */
export interface Nfs4OpAttribution {
  op: string;
  /** The op's status, where the reply has it (ops after the first failure have none). */
  status?: string;
  /** The file handle the op acted on (lowercase hex), where known; for OPEN / LOOKUP / CREATE the object opened, looked up or created. */
  fh?: string;
  /** Its path, where known ("/" is the server's root). */
  path?: string;
  /** The stateid (`other`, hex) the op used, or for OPEN / LOCK / LAYOUTGET / OPEN_DOWNGRADE / OPEN_CONFIRM the one it got. */
  stateid?: string;
  /** RENAME / LINK: the saved file handle (RENAME's source directory, LINK's source file) and its path. */
  savedFh?: string;
  savedPath?: string;
}

/** What a COMPOUND is about: its client, session and slot, and each op's file. */
export interface Nfs4Attribution {
  clientid?: string;
  sessionid?: string;
  slotid?: number;
  sequenceid?: number;
  ops: Nfs4OpAttribution[];
}

export interface Nfs4Client {
  /** clientid4 as hex (16 digits). */
  clientid: string;
  /** 4.0: SETCLIENTID; 4.1+: EXCHANGE_ID (minor version of the COMPOUND). */
  minorVersion: number;
  /** The client's owner id (co_ownerid / SETCLIENTID id), as text when printable else hex. */
  owner?: string;
  verifier?: string;
  /** EXCHANGE_ID: the flags the client asked for and those the server answered. */
  requestedFlags?: number;
  flags?: number;
  /** EXCHANGE_ID reply's sequence id (the one CREATE_SESSION must carry). */
  sequenceid?: number;
  /** SETCLIENTID reply's confirm verifier. */
  confirm?: string;
  /** SETCLIENTID_CONFIRM or CREATE_SESSION succeeded. */
  confirmed: boolean;
  /** The callback program the client announced (SETCLIENTID, CREATE_SESSION, BACKCHANNEL_CTL). */
  cbProgram?: number;
  /** Frames where the client id was handed out (or first seen) and last used. */
  firstFrame: number;
  lastFrame: number;
}

export interface Nfs4Slot {
  /** Highest sequence id the server accepted on the slot. */
  sequenceid: number;
  /** Frame of the call that carried it. */
  frame: number;
}

export interface Nfs4Session {
  /** sessionid4 as hex (32 digits). */
  sessionid: string;
  clientid?: string;
  /** False for a session learnt from a SEQUENCE (its CREATE_SESSION is not in the capture). */
  created: boolean;
  /** Fore channel slot count (ca_maxrequests of the reply), when the CREATE_SESSION was seen. */
  foreSlots?: number;
  /** Back channel slot count. */
  backSlots?: number;
  foreChannel?: Record<string, unknown>;
  backChannel?: Record<string, unknown>;
  /** CREATE_SESSION flags of the reply. */
  flags?: number;
  cbProgram?: number;
  /** Per slot id, the highest sequence id accepted. */
  slots: Map<number, Nfs4Slot>;
  /** Highest slot id and target highest slot id of the last SEQUENCE reply. */
  highestSlotid?: number;
  targetHighestSlotid?: number;
  firstFrame: number;
  lastFrame: number;
}

export type Nfs4StateidType = 'open' | 'lock' | 'layout' | 'delegation';

export interface Nfs4Stateid {
  /** The stateid's `other` (hex, 24 digits): what identifies it; `seqid` changes. */
  other: string;
  type: Nfs4StateidType;
  /** Last seqid seen handed out. */
  seqid: number;
  /** The file it belongs to, and its path, where known. */
  fh?: string;
  path?: string;
  /** OPEN: the open owner; LOCK: the lock owner (hex). */
  owner?: string;
  clientid?: string;
  sessionid?: string;
  /** LOCK: the open stateid the lock owner came from; delegation: the open stateid it came with. */
  openStateid?: string;
  /** LOCKU unlocked / LAYOUTRETURN returned: the stateid may still be used. */
  closed: boolean;
  /** Frame that handed it out, and last frame that used it. */
  frame: number;
  lastFrame: number;
}

export type Nfs4AnomalyKind = 'slot-beyond-table' | 'sequence-gap' | 'sequence-reused' | 'unknown-session';

export interface Nfs4Anomaly {
  kind: Nfs4AnomalyKind;
  /** Frame of the call. */
  frame: number;
  xid: number;
  sessionid: string;
  slot?: number;
  /** slot-beyond-table: the slot count; sequence-*: the sequence id expected (last accepted + 1). */
  expected?: number;
  /** The slot id (slot-beyond-table) or sequence id (sequence-*) the call carried. */
  got?: number;
  /** The status of the call's SEQUENCE, when answered. */
  status?: string;
}

export interface Nfs4StateOptions {
  maxClients?: number;
  maxSessions?: number;
  maxStateids?: number;
  maxAnomalies?: number;
  /** The memory budget the state is accounted in (the budget may ask the oldest to go: counted `nfs4State`). */
  budget?: MemoryBudget;
}

export interface Nfs4StateCounts {
  compounds: number;
  clients: number;
  sessions: number;
  stateids: number;
  anomalies: number;
  /** Anomalies not kept beyond maxAnomalies. */
  anomaliesDropped: number;
  /** Entries dropped by the caps (least recently used first). */
  evictedClients: number;
  evictedSessions: number;
  evictedStateids: number;
}

/** A node of the current file handle walk: the fh may be learnt later in the COMPOUND (GETFH). */
interface FhNode {
  fh?: string;
  path?: string;
  /** The directory it was looked up or created in, and the name. */
  parentFh?: string;
  name?: string;
}

/** Estimated heap bytes of the state's entries (docs/memory.md): a client, a session (plus each slot), a stateid, an owner or root entry. */
const CLIENT_BYTES = 700;
const SESSION_BYTES = 1400;
const SLOT_BYTES = 100;
const STATEID_BYTES = 600;
const NAME_BYTES = 250;

/** A Map used as an LRU: touching moves an entry to the end; the oldest is evicted beyond `cap`. Its entries are accounted in `account`. */
class Lru<V> {
  readonly map = new LruMap<string, V>();
  evicted = 0;
  constructor(
    private readonly cap: number,
    private readonly account: MemoryAccount | undefined,
    /** Estimated bytes of an entry as it is now. */
    readonly sizeOf: (k: string, v: V) => number,
  ) {}

  /** The memory budget asks: the least recently used entry goes. Returns its bytes, 0 when empty. */
  evictOldest(): number {
    const oldest = this.map.oldest();
    if (oldest === undefined) return 0;
    this.delete(oldest[0]);
    return this.sizeOf(oldest[0], oldest[1]);
  }
  get(k: string): V | undefined {
    return this.map.touch(k);
  }
  peek(k: string): V | undefined {
    return this.map.get(k);
  }
  set(k: string, v: V): void {
    this.delete(k);
    this.map.set(k, v);
    this.account?.add(this.sizeOf(k, v));
    while (this.map.size > this.cap) {
      const [ok, ov] = this.map.shift()!;
      this.account?.add(-this.sizeOf(ok, ov));
      this.evicted++;
    }
  }
  delete(k: string): boolean {
    const v = this.map.get(k);
    if (v === undefined) return false;
    this.map.delete(k);
    this.account?.add(-this.sizeOf(k, v));
    return true;
  }
  get size(): number {
    return this.map.size;
  }
}

export class Nfs4State implements TransactionSink {
  private readonly clients: Lru<Nfs4Client>;
  private readonly sessions: Lru<Nfs4Session>;
  private readonly stateids: Lru<Nfs4Stateid>;
  /** Client owner (EXCHANGE_ID co_ownerid / SETCLIENTID id) → client id. */
  private readonly owners: Lru<string>;
  /** Server ("addr:port") → its root file handle (PUTROOTFH then GETFH). */
  private readonly roots: Lru<string>;
  private readonly account: MemoryAccount | undefined;
  private readonly maxAnomalies: number;
  /** Scratch of walk(), per op of the COMPOUND walked: its current file handle's node, and its saved one (RENAME, LINK). */
  private readonly opNodes: FhNode[] = [];
  private readonly opSavedNodes: (FhNode | undefined)[] = [];
  private readonly anomalyList: Nfs4Anomaly[] = [];
  private anomaliesDropped = 0;
  private compounds = 0;

  constructor(
    private readonly paths?: FileHandlePaths,
    options: Nfs4StateOptions = {},
  ) {
    const budget = options.budget;
    const account = budget?.account('nfs4State');
    this.account = account;
    this.clients = new Lru(options.maxClients ?? DEFAULT_ENTITY_BOUND, account, () => CLIENT_BYTES);
    this.sessions = new Lru(options.maxSessions ?? DEFAULT_ENTITY_BOUND, account, (_k, s: Nfs4Session) => SESSION_BYTES + s.slots.size * SLOT_BYTES);
    this.stateids = new Lru(options.maxStateids ?? 100_000, account, () => STATEID_BYTES);
    this.owners = new Lru(options.maxClients ?? DEFAULT_ENTITY_BOUND, account, (k) => NAME_BYTES + 2 * k.length);
    this.roots = new Lru(1_000, account, (k) => NAME_BYTES + 2 * k.length);
    this.maxAnomalies = options.maxAnomalies ?? DEFAULT_ENTITY_BOUND;
    if (budget !== undefined && account !== undefined) {
      // Under pressure: stateids first (the most numerous), then sessions, then clients and their owners.
      account.evictor = (want) => {
        let freed = 0;
        for (const lru of [this.stateids, this.sessions, this.clients, this.owners, this.roots] as Lru<unknown>[]) {
          while (freed < want) {
            const n = lru.evictOldest();
            if (n === 0) break;
            freed += n;
            budget.drop('nfs4State', 1);
          }
        }
        return freed;
      };
    }
  }

  // --- read API -------------------------------------------------------------

  client(clientid: string): Nfs4Client | undefined {
    return this.clients.peek(clientid);
  }

  /** The client id an owner (EXCHANGE_ID co_ownerid / SETCLIENTID id) was last given. */
  clientOfOwner(owner: string): string | undefined {
    return this.owners.peek(owner);
  }

  session(sessionid: string): Nfs4Session | undefined {
    return this.sessions.peek(sessionid);
  }

  /** A stateid by its `other` (hex). */
  stateid(other: string): Nfs4Stateid | undefined {
    return this.stateids.peek(other);
  }

  get anomalies(): readonly Nfs4Anomaly[] {
    return this.anomalyList;
  }

  get counts(): Nfs4StateCounts {
    return {
      compounds: this.compounds,
      clients: this.clients.size,
      sessions: this.sessions.size,
      stateids: this.stateids.size,
      anomalies: this.anomalyList.length,
      anomaliesDropped: this.anomaliesDropped,
      evictedClients: this.clients.evicted,
      evictedSessions: this.sessions.evicted,
      evictedStateids: this.stateids.evicted,
    };
  }

  /** Clients, sessions and stateids known, least recently used first. */
  allClients(): IterableIterator<Nfs4Client> {
    return this.clients.map.values();
  }

  allSessions(): IterableIterator<Nfs4Session> {
    return this.sessions.map.values();
  }

  allStateids(): IterableIterator<Nfs4Stateid> {
    return this.stateids.map.values();
  }

  // --- sink -------------------------------------------------------------------

  transaction(t: Transaction): void {
    this.consume(t, true);
  }

  unanswered(t: Transaction): void {
    this.consume(t, false);
  }

  orphanReply(): void {}

  private consume(t: Transaction, answered: boolean): void {
    if (t.program !== PROG_NFS || t.version !== 4 || t.procedure !== NFSPROC4_COMPOUND) return;
    const call = t.decoded?.call;
    if (call === undefined) return;
    this.compounds++;
    const reply = answered ? t.decoded?.reply : undefined;
    t.nfs4 = this.walk(t, call, reply);
  }

  /** Walks the ops of a COMPOUND: attribution, and state changes when answered. */
  private walk(t: Transaction, call: DecodedCall, reply: DecodedReply | undefined): Nfs4Attribution {
    const frame = t.call.frame.number;
    // The decoded lists as they are: a COMPOUND's ops are walked once, without copies.
    const ops = listOf(call.args);
    const results = listOf(reply?.results);
    const minor = call.minorVersion ?? 0;
    const out: Nfs4Attribution = { ops: [] };

    let cur: FhNode = {};
    let saved: FhNode = {};
    /** v4.1 current stateid (RFC 8881 §16.2.3.1.2). */
    let currentStateid: string | undefined;
    // Per op (out.ops[i]): the node of its current file handle and, for RENAME and LINK, of the saved one.
    const nodes = this.opNodes;
    const savedNodes = this.opSavedNodes;
    nodes.length = 0;
    savedNodes.length = 0;
    const pendingStateids: { sid: Nfs4Stateid; node: FhNode }[] = [];
    let session: Nfs4Session | undefined;

    for (let i = 0; i < ops.length; i++) {
      const item = ops[i] as { op?: unknown; args?: unknown };
      const op = String(item.op);
      const args = obj(item.args) ?? NO_ARGS;
      const res = results[i] as { status?: unknown; result?: unknown } | undefined;
      const status = res === undefined ? undefined : String(res.status);
      const ok = status === NFS4_OK;
      const result = ok ? obj(res!.result) : undefined;
      // Made with its status: a property added later costs the object a property store.
      const entry: Nfs4OpAttribution = status !== undefined ? { op, status } : { op };
      let node = cur;
      let savedNode: FhNode | undefined;

      const argSid = sidOther(args.stateid);

      switch (op) {
        case 'SEQUENCE': {
          const sessionid = str(args.sessionid);
          if (sessionid === undefined) break;
          out.sessionid = sessionid;
          out.slotid = num(args.slotid);
          out.sequenceid = num(args.sequenceid);
          session = this.sequence(t, sessionid, args, status, result, reply !== undefined);
          if (session?.clientid !== undefined) useClient(out, session.clientid);
          break;
        }
        case 'PUTFH': {
          const fh = str(args.fh);
          cur = {};
          if (fh !== undefined) {
            cur.fh = fh;
            const path = this.paths?.pathOf(fh);
            if (path !== undefined) cur.path = path;
          }
          node = cur;
          break;
        }
        case 'PUTROOTFH': {
          const root = this.roots.peek(serverKeyOf(t));
          cur = { path: '/', ...(root !== undefined ? { fh: root } : {}) };
          node = cur;
          break;
        }
        case 'PUTPUBFH':
          cur = {};
          node = cur;
          break;
        case 'LOOKUP':
        case 'CREATE': {
          const name = str(args.name);
          cur = childNode(cur, name);
          node = cur;
          break;
        }
        case 'LOOKUPP':
          cur = cur.path !== undefined && cur.path !== '/' ? { path: parentPath(cur.path) } : {};
          node = cur;
          break;
        case 'OPENATTR':
          cur = {};
          node = cur;
          break;
        case 'GETFH': {
          const fh = str(result?.fh);
          if (fh !== undefined) {
            cur.fh = fh;
            this.learnFh(cur, t);
          }
          break;
        }
        case 'READDIR':
          // Entries that carry the filehandle attribute name their handles (Linux asks for it).
          if (result !== undefined && cur.fh !== undefined) this.learnEntries(cur.fh, result.entries);
          break;
        case 'SAVEFH':
          saved = cur;
          break;
        case 'RESTOREFH':
          cur = saved;
          node = cur;
          break;
        case 'RENAME':
        case 'LINK':
          savedNode = saved;
          break;
        case 'OPEN': {
          const name = str(args.name);
          // CLAIM_NULL / CLAIM_DELEGATE_CUR / CLAIM_DELEGATE_PREV name a file in the current directory; the other claims open the current file.
          if (name !== undefined) cur = childNode(cur, name);
          node = cur;
          const owner = args.owner as { clientid?: unknown; owner?: unknown } | undefined;
          const clientid = session?.clientid ?? str(owner?.clientid);
          useClient(out, clientid);
          if (ok && result !== undefined) {
            const sid = this.handOut(result.stateid, 'open', frame, {
              owner: str(owner?.owner),
              clientid,
              sessionid: session?.sessionid,
            });
            if (sid !== undefined) {
              pendingStateids.push({ sid, node });
              currentStateid = sid.other;
              entry.stateid = sid.other;
              const deleg = result.delegation as { stateid?: unknown } | undefined;
              const d = this.handOut(deleg?.stateid, 'delegation', frame, { clientid, sessionid: session?.sessionid, openStateid: sid.other });
              if (d !== undefined) pendingStateids.push({ sid: d, node });
            }
          }
          break;
        }
        case 'LOCK': {
          const locker = args.locker as { openStateid?: unknown; lockStateid?: unknown; lockOwner?: { clientid?: unknown; owner?: unknown } } | undefined;
          const openOther = resolveSid(sidOther(locker?.openStateid), args.stateid, minor, currentStateid);
          const lockOther = resolveSid(sidOther(locker?.lockStateid), args.stateid, minor, currentStateid);
          const parent = openOther !== undefined ? this.stateids.get(openOther) : undefined;
          const prevLock = lockOther !== undefined ? this.stateids.get(lockOther) : undefined;
          const clientid = session?.clientid ?? str(locker?.lockOwner?.clientid) ?? parent?.clientid ?? prevLock?.clientid;
          useClient(out, clientid);
          entry.stateid = lockOther ?? openOther;
          if (ok && result !== undefined) {
            const sid = this.handOut(result.stateid, 'lock', frame, {
              owner: str(locker?.lockOwner?.owner) ?? prevLock?.owner,
              clientid,
              sessionid: session?.sessionid,
              openStateid: openOther ?? prevLock?.openStateid,
            });
            if (sid !== undefined) {
              pendingStateids.push({ sid, node });
              currentStateid = sid.other;
              entry.stateid = sid.other;
            }
          }
          break;
        }
        case 'LAYOUTGET':
        case 'OPEN_DOWNGRADE':
        case 'OPEN_CONFIRM': {
          const used = resolveSid(argSid, args.stateid, minor, currentStateid);
          entry.stateid = used;
          const prev = used !== undefined ? this.stateids.get(used) : undefined;
          useClient(out, prev?.clientid);
          if (ok && result !== undefined) {
            const type: Nfs4StateidType = op === 'LAYOUTGET' ? 'layout' : 'open';
            const sid = this.handOut(result.stateid, type, frame, {
              owner: prev?.owner,
              clientid: session?.clientid ?? prev?.clientid,
              sessionid: session?.sessionid,
              ...(op === 'LAYOUTGET' && used !== undefined ? { openStateid: used } : {}),
            });
            if (sid !== undefined) {
              if (sid.fh === undefined && prev?.fh !== undefined) sid.fh = prev.fh;
              if (sid.path === undefined && prev?.path !== undefined) sid.path = prev.path;
              pendingStateids.push({ sid, node });
              currentStateid = sid.other;
              entry.stateid = sid.other;
            }
          }
          break;
        }
        case 'EXCHANGE_ID':
          if (ok && result !== undefined) useClient(out, this.exchangeId(args, result, minor, frame));
          break;
        case 'CREATE_SESSION': {
          const clientid = str(args.clientid);
          useClient(out, clientid);
          if (ok && result !== undefined) this.createSession(args, result, frame);
          break;
        }
        case 'DESTROY_SESSION': {
          const sessionid = str(args.sessionid);
          if (sessionid !== undefined) {
            useClient(out, this.sessions.peek(sessionid)?.clientid);
            if (ok) this.sessions.delete(sessionid);
          }
          break;
        }
        case 'SETCLIENTID':
          if (ok && result !== undefined) useClient(out, this.setClientId(args, result, minor, frame));
          break;
        case 'SETCLIENTID_CONFIRM':
        case 'RENEW':
        case 'DESTROY_CLIENTID':
        case 'DELEGPURGE': {
          const clientid = str(args.clientid);
          useClient(out, clientid);
          if (clientid === undefined) break;
          const c = this.clients.get(clientid);
          if (c !== undefined) c.lastFrame = frame;
          if (ok && op === 'SETCLIENTID_CONFIRM') {
            if (c !== undefined) c.confirmed = true;
            else this.clients.set(clientid, { clientid, minorVersion: minor, confirmed: true, firstFrame: frame, lastFrame: frame });
          }
          if (ok && op === 'DESTROY_CLIENTID') {
            if (c?.owner !== undefined && this.owners.peek(c.owner) === clientid) this.owners.delete(c.owner);
            this.clients.delete(clientid);
          }
          break;
        }
        case 'BACKCHANNEL_CTL': {
          const c = session?.clientid !== undefined ? this.clients.get(session.clientid) : undefined;
          const cb = num(args.cbProgram);
          if (ok && cb !== undefined) {
            if (c !== undefined) c.cbProgram = cb;
            if (session !== undefined) session.cbProgram = cb;
          }
          break;
        }
        case 'RELEASE_LOCKOWNER': {
          const owner = args.owner as { clientid?: unknown } | undefined;
          useClient(out, str(owner?.clientid));
          break;
        }
        default: {
          // Ops that use a stateid: READ, WRITE, CLOSE, LOCKU, SETATTR, DELEGRETURN, FREE_STATEID, LAYOUTRETURN, ...
          const used = resolveSid(argSid ?? sidOther(args.srcStateid), args.stateid, minor, currentStateid);
          if (used === undefined) break;
          entry.stateid = used;
          const sid = this.stateids.get(used);
          if (sid !== undefined) {
            sid.lastFrame = frame;
            useClient(out, sid.clientid);
          }
          if (op === 'CLOSE' || op === 'LOCKU' || op === 'OPEN_DOWNGRADE') currentStateid = used;
          if (!ok) break;
          if (op === 'CLOSE' || op === 'FREE_STATEID' || op === 'DELEGRETURN') this.stateids.delete(used);
          else if ((op === 'LOCKU' || op === 'LAYOUTRETURN') && sid !== undefined) sid.closed = true;
        }
      }
      nodes.push(node);
      savedNodes.push(savedNode);
      out.ops.push(entry);
    }

    // File handles learnt by GETFH later in the COMPOUND fill in the ops before it.
    for (let i = 0; i < nodes.length; i++) {
      const entry = out.ops[i]!;
      const node = nodes[i]!;
      const savedNode = savedNodes[i];
      const fh = node.fh;
      const path = node.path ?? (fh !== undefined ? this.paths?.pathOf(fh) : undefined);
      if (fh !== undefined) entry.fh = fh;
      if (path !== undefined) entry.path = path;
      if (savedNode !== undefined) {
        const sp = savedNode.path ?? (savedNode.fh !== undefined ? this.paths?.pathOf(savedNode.fh) : undefined);
        if (savedNode.fh !== undefined) entry.savedFh = savedNode.fh;
        if (sp !== undefined) entry.savedPath = sp;
      }
    }
    for (const { sid, node } of pendingStateids) {
      if (node.fh !== undefined) sid.fh = node.fh;
      const path = node.path ?? (node.fh !== undefined ? this.paths?.pathOf(node.fh) : undefined);
      if (path !== undefined) sid.path = path;
    }
    if (out.clientid !== undefined) {
      const c = this.clients.peek(out.clientid);
      if (c !== undefined) c.lastFrame = Math.max(c.lastFrame, frame);
    }
    return out;
  }

  /** Learns the fh of a node with a known path or name into FileHandlePaths (and the server's root). */
  private learnFh(node: FhNode, t: Transaction): void {
    const fh = node.fh;
    if (fh === undefined) return;
    if (node.path === '/' && node.parentFh === undefined) {
      this.roots.set(serverKeyOf(t), fh);
      this.paths?.learnRoot(fh, '/');
      return;
    }
    if (node.parentFh !== undefined && node.name !== undefined) this.paths?.learnRelative(fh, node.parentFh, node.name);
    else if (node.path !== undefined) this.paths?.learnRoot(fh, node.path);
    if (node.path === undefined) {
      const p = this.paths?.pathOf(fh);
      if (p !== undefined) node.path = p;
    }
  }

  private learnEntries(dir: string, entries: unknown): void {
    if (this.paths === undefined || !Array.isArray(entries)) return;
    for (const e of entries as { name?: unknown; attrs?: { filehandle?: unknown } }[]) {
      const name = str(e.name);
      const fh = str(e.attrs?.filehandle);
      if (name !== undefined && fh !== undefined && name !== '.' && name !== '..' && name !== '') this.paths.learnRelative(fh, dir, name);
    }
  }

  /** An anomaly of a SEQUENCE (a method, not a closure per call). */
  private sequenceAnomaly(t: Transaction, sessionid: string, status: string | undefined, a: Omit<Nfs4Anomaly, 'frame' | 'xid' | 'sessionid'>): void {
    this.addAnomaly({ frame: t.call.frame.number, xid: t.xid, sessionid, ...a, ...(status !== undefined ? { status } : {}) });
  }

  private sequence(t: Transaction, sessionid: string, args: Record<string, unknown>, status: string | undefined, result: Record<string, unknown> | undefined, answered: boolean): Nfs4Session | undefined {
    const frame = t.call.frame.number;
    const slotid = num(args.slotid);
    const seq = num(args.sequenceid);
    let s = this.sessions.get(sessionid);
    if (s === undefined) {
      if (!answered) return undefined;
      this.sequenceAnomaly(t, sessionid, status, { kind: 'unknown-session', ...(slotid !== undefined ? { slot: slotid } : {}) });
      // A session made before the capture started: learn it, unless the server does not know it either.
      if (status === 'NFS4ERR_BADSESSION' || status === 'NFS4ERR_DEADSESSION') return undefined;
      s = { sessionid, created: false, slots: new Map(), firstFrame: frame, lastFrame: frame };
      this.sessions.set(sessionid, s);
    }
    s.lastFrame = frame;
    if (slotid === undefined || seq === undefined) return s;
    const tableSize = s.foreSlots;
    if (tableSize !== undefined && slotid >= tableSize) {
      this.sequenceAnomaly(t, sessionid, status, { kind: 'slot-beyond-table', slot: slotid, expected: tableSize, got: slotid });
      return s;
    }
    if (!answered) return s;
    const slot = s.slots.get(slotid);
    // A slot never used in a session seen created starts at sequence id 0 (first request 1).
    const last = slot?.sequenceid ?? (s.created ? 0 : undefined);
    if (last !== undefined && seq !== last && seq !== ((last + 1) >>> 0)) {
      const expected = (last + 1) >>> 0;
      // Distance forward modulo 2^32: a small step ahead is a gap, behind is a reuse.
      const ahead = ((seq - expected) >>> 0) < 0x80000000;
      this.sequenceAnomaly(t, sessionid, status, { kind: ahead ? 'sequence-gap' : 'sequence-reused', slot: slotid, expected, got: seq });
    } else if (last !== undefined && seq === last && slot !== undefined) {
      // The same sequence id again on a new transaction: a retry the server may replay, or a reuse.
      this.sequenceAnomaly(t, sessionid, status, { kind: 'sequence-reused', slot: slotid, expected: (last + 1) >>> 0, got: seq });
    }
    if (status === NFS4_OK) {
      if (slot === undefined) {
        if (s.slots.size < (tableSize !== undefined ? MAX_SLOTS : UNKNOWN_TABLE_SLOTS)) {
          s.slots.set(slotid, { sequenceid: seq, frame });
          if (this.sessions.peek(sessionid) === s) this.account?.add(SLOT_BYTES);
        }
      } else {
        slot.sequenceid = seq;
        slot.frame = frame;
      }
      const hs = num(result?.highestSlotid);
      const ths = num(result?.targetHighestSlotid);
      if (hs !== undefined) s.highestSlotid = hs;
      if (ths !== undefined) s.targetHighestSlotid = ths;
    }
    return s;
  }

  /** The client a reply names (EXCHANGE_ID, SETCLIENTID), created or updated; its owner remembered. */
  private learnClient(clientid: string, owner: string | undefined, verifier: string | undefined, minor: number, frame: number): Nfs4Client {
    const c: Nfs4Client = this.clients.get(clientid) ?? { clientid, minorVersion: minor, confirmed: false, firstFrame: frame, lastFrame: frame };
    c.lastFrame = frame;
    if (owner !== undefined) c.owner = owner;
    if (verifier !== undefined) c.verifier = verifier;
    this.clients.set(clientid, c);
    if (owner !== undefined) this.owners.set(owner, clientid);
    return c;
  }

  private exchangeId(args: Record<string, unknown>, result: Record<string, unknown>, minor: number, frame: number): string | undefined {
    const clientid = str(result.clientid);
    if (clientid === undefined) return undefined;
    const c = this.learnClient(clientid, str(args.owner), str(args.verifier), minor, frame);
    const rf = num(args.flags);
    if (rf !== undefined) c.requestedFlags = rf;
    const f = num(result.flags);
    if (f !== undefined) {
      c.flags = f;
      // EXCHGID4_FLAG_CONFIRMED_R: the client id is already confirmed.
      if ((f & 0x80000000) !== 0) c.confirmed = true;
    }
    const sq = num(result.sequenceid);
    if (sq !== undefined) c.sequenceid = sq;
    return clientid;
  }

  private setClientId(args: Record<string, unknown>, result: Record<string, unknown>, minor: number, frame: number): string | undefined {
    const clientid = str(result.clientid);
    if (clientid === undefined) return undefined;
    const c = this.learnClient(clientid, str(args.id), str(args.verifier), minor, frame);
    const confirm = str(result.confirm);
    if (confirm !== undefined) c.confirm = confirm;
    const cb = num(args.cbProgram);
    if (cb !== undefined) c.cbProgram = cb;
    return clientid;
  }

  private createSession(args: Record<string, unknown>, result: Record<string, unknown>, frame: number): void {
    const sessionid = str(result.sessionid);
    if (sessionid === undefined) return;
    const clientid = str(args.clientid);
    const fore = obj(result.foreChannel);
    const back = obj(result.backChannel);
    const cbProgram = num(args.cbProgram);
    const s: Nfs4Session = { sessionid, created: true, slots: new Map(), firstFrame: frame, lastFrame: frame };
    if (clientid !== undefined) s.clientid = clientid;
    const foreSlots = num(fore?.maxRequests);
    const backSlots = num(back?.maxRequests);
    if (foreSlots !== undefined) s.foreSlots = foreSlots;
    if (backSlots !== undefined) s.backSlots = backSlots;
    if (fore !== undefined) s.foreChannel = fore;
    if (back !== undefined) s.backChannel = back;
    const flags = num(result.flags);
    if (flags !== undefined) s.flags = flags;
    if (cbProgram !== undefined) s.cbProgram = cbProgram;
    this.sessions.set(sessionid, s);
    if (clientid !== undefined) {
      const c = this.clients.get(clientid) ?? { clientid, minorVersion: 1, confirmed: false, firstFrame: frame, lastFrame: frame };
      c.confirmed = true;
      c.lastFrame = frame;
      if (cbProgram !== undefined) c.cbProgram = cbProgram;
      this.clients.set(clientid, c);
    }
  }

  /** Records a stateid a reply handed out (or updates its seqid). */
  private handOut(
    raw: unknown,
    type: Nfs4StateidType,
    frame: number,
    info: { owner?: string | undefined; clientid?: string | undefined; sessionid?: string | undefined; openStateid?: string | undefined },
  ): Nfs4Stateid | undefined {
    const other = sidOther(raw);
    if (other === undefined || SPECIAL_OTHER.has(other)) return undefined;
    const seqid = num((raw as { seqid?: unknown }).seqid) ?? 0;
    let sid = this.stateids.get(other);
    if (sid === undefined) {
      sid = { other, type, seqid, closed: false, frame, lastFrame: frame };
      this.stateids.set(other, sid);
    } else {
      sid.seqid = seqid;
      sid.lastFrame = frame;
      sid.closed = false;
    }
    if (info.owner !== undefined) sid.owner = info.owner;
    if (info.clientid !== undefined) sid.clientid = info.clientid;
    if (info.sessionid !== undefined) sid.sessionid = info.sessionid;
    if (info.openStateid !== undefined && info.openStateid !== other) sid.openStateid = info.openStateid;
    return sid;
  }

  private addAnomaly(a: Nfs4Anomaly): void {
    if (this.anomalyList.length >= this.maxAnomalies) {
      this.anomaliesDropped++;
      return;
    }
    this.anomalyList.push(a);
  }
}

// --- helpers ---------------------------------------------------------------

const NO_OPS: readonly unknown[] = [];

/** The `ops` list of decoded COMPOUND arguments or results (each item `{ op, args }` or `{ op, status, result }`). */
function listOf(decoded: unknown): readonly unknown[] {
  const ops = (decoded as { ops?: unknown } | undefined)?.ops;
  return Array.isArray(ops) ? ops : NO_OPS;
}

/** The arguments of an op that has none: read, never written. */
const NO_ARGS: Record<string, unknown> = Object.freeze({});

/** The attribution's client: the first one an op names. */
function useClient(out: Nfs4Attribution, clientid: string | undefined): void {
  if (clientid !== undefined && out.clientid === undefined) out.clientid = clientid;
}

/** An all-zero stateid in v4.1 means the current stateid (when the op's stateid is the special one). */
function resolveSid(other: string | undefined, stateid: unknown, minor: number, currentStateid: string | undefined): string | undefined {
  return other === '000000000000000000000000' && minor >= 1 && currentStateid !== undefined && isCurrentStateid(stateid) ? currentStateid : other;
}

/** The server's key in `roots`: "addr:port". */
function serverKeyOf(t: Transaction): string {
  return `${t.server.addr}:${t.server.port}`;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function sidOther(v: unknown): string | undefined {
  return str(obj(v)?.other);
}

/** The v4.1 current stateid: seqid 1, other all zeros. */
function isCurrentStateid(v: unknown): boolean {
  const o = obj(v);
  return o?.seqid === 1 && o.other === '000000000000000000000000';
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

function parentPath(path: string): string {
  const i = path.replace(/\/+$/, '').lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The node of `name` under `dir` (LOOKUP, CREATE, OPEN by name): its fh is not known until a GETFH. */
function childNode(dir: FhNode, name: string | undefined): FhNode {
  if (name === undefined) return {};
  const node: FhNode = {};
  if (name !== '.' && name !== '..') {
    node.name = name;
    if (dir.fh !== undefined) node.parentFh = dir.fh;
  }
  if (dir.path !== undefined) node.path = name === '..' ? parentPath(dir.path) : name === '.' ? dir.path : joinPath(dir.path, name);
  return node;
}
