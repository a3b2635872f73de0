/**
 * Builders of the arguments and results of NFS's side protocols for
 * generated messages: MOUNT (RFC 1094, RFC 1813 appendix I), NLM (XNFS),
 * NSM, portmap / rpcbind (RFC 1833), NFS_ACL. Each returns the XDR body
 * (what follows the RPC header).
 */
import { XdrWriter } from './rpc.js';

const w = (): XdrWriter => new XdrWriter();

// ---- MOUNT ----

/** dirpath: MNT, UMNT, PATHCONF arguments. */
export function mountPath(path: string): Buffer {
  return w().string(path).bytes();
}

/** mountres3: status, and when MNT3_OK the handle and auth flavors. */
export function mountRes3(status: number, fh: Buffer = Buffer.alloc(0), flavors: number[] = []): Buffer {
  const x = w().u32(status);
  if (status === 0) {
    x.opaque(fh).u32(flavors.length);
    for (const f of flavors) x.u32(f);
  }
  return x.bytes();
}

/** fhstatus (versions 1, 2): status, and when 0 a 32-byte handle. */
export function fhStatus(status: number, fh32: Buffer = Buffer.alloc(32)): Buffer {
  const x = w().u32(status);
  if (status === 0) x.fixed(fh32);
  return x.bytes();
}

/** mountlist (DUMP). */
export function mountList(entries: { host: string; dir: string }[]): Buffer {
  const x = w();
  for (const e of entries) x.bool(true).string(e.host).string(e.dir);
  return x.bool(false).bytes();
}

/** exports (EXPORT, EXPORTALL). */
export function exportsList(entries: { dir: string; groups: string[] }[]): Buffer {
  const x = w();
  for (const e of entries) {
    x.bool(true).string(e.dir);
    for (const g of e.groups) x.bool(true).string(g);
    x.bool(false);
  }
  return x.bool(false).bytes();
}

/** ppathcnf (version 2 PATHCONF): ten words. */
export function pathconfRes(values: number[] = [32000, 255, 255, 255, 4096, 4096, 0, 0, 0, 0]): Buffer {
  const x = w();
  for (const v of values) x.u32(v);
  return x.bytes();
}

// ---- NLM ----

export interface NlmLock {
  caller: string;
  fh: Buffer;
  oh: Buffer;
  svid: number;
  offset: number | bigint;
  length: number | bigint;
}

function nlmRange(x: XdrWriter, version: number, v: number | bigint): void {
  if (version === 4) x.u64(v);
  else x.u32(Number(v));
}

export function nlmLock(version: number, l: NlmLock): Buffer {
  const x = w().string(l.caller).opaque(l.fh).opaque(l.oh).u32(l.svid);
  nlmRange(x, version, l.offset);
  nlmRange(x, version, l.length);
  return x.bytes();
}

/** nlm4_testargs (TEST, TEST_MSG, GRANTED, GRANTED_MSG). */
export function nlmTestArgs(version: number, cookie: Buffer, exclusive: boolean, l: NlmLock): Buffer {
  return w().opaque(cookie).bool(exclusive).raw(nlmLock(version, l)).bytes();
}

/** nlm4_lockargs (LOCK, LOCK_MSG, NM_LOCK). */
export function nlmLockArgs(version: number, cookie: Buffer, block: boolean, exclusive: boolean, l: NlmLock, reclaim: boolean, state: number): Buffer {
  return w().opaque(cookie).bool(block).bool(exclusive).raw(nlmLock(version, l)).bool(reclaim).u32(state).bytes();
}

/** nlm4_cancargs (CANCEL, CANCEL_MSG). */
export function nlmCancArgs(version: number, cookie: Buffer, block: boolean, exclusive: boolean, l: NlmLock): Buffer {
  return w().opaque(cookie).bool(block).bool(exclusive).raw(nlmLock(version, l)).bytes();
}

/** nlm4_unlockargs (UNLOCK, UNLOCK_MSG). */
export function nlmUnlockArgs(version: number, cookie: Buffer, l: NlmLock): Buffer {
  return w().opaque(cookie).raw(nlmLock(version, l)).bytes();
}

export interface NlmHolder {
  exclusive: boolean;
  svid: number;
  oh: Buffer;
  offset: number | bigint;
  length: number | bigint;
}

/** nlm4_testres (TEST reply, TEST_RES arguments): the holder when DENIED (1). */
export function nlmTestRes(version: number, cookie: Buffer, stat: number, holder?: NlmHolder): Buffer {
  const x = w().opaque(cookie).u32(stat);
  if (stat === 1 && holder) {
    x.bool(holder.exclusive).u32(holder.svid).opaque(holder.oh);
    nlmRange(x, version, holder.offset);
    nlmRange(x, version, holder.length);
  }
  return x.bytes();
}

/** nlm4_res (LOCK/CANCEL/UNLOCK/GRANTED/NM_LOCK replies, their _RES arguments). */
export function nlmRes(cookie: Buffer, stat: number): Buffer {
  return w().opaque(cookie).u32(stat).bytes();
}

/** nlm4_shareargs (SHARE, UNSHARE). */
export function nlmShareArgs(cookie: Buffer, caller: string, fh: Buffer, oh: Buffer, mode: number, access: number, reclaim: boolean): Buffer {
  return w().opaque(cookie).string(caller).opaque(fh).opaque(oh).u32(mode).u32(access).bool(reclaim).bytes();
}

/** nlm4_shareres. */
export function nlmShareRes(cookie: Buffer, stat: number, sequence: number): Buffer {
  return w().opaque(cookie).u32(stat).u32(sequence).bytes();
}

/** nlm4_notify (FREE_ALL). */
export function nlmNotify(name: string, state: number): Buffer {
  return w().string(name).u32(state).bytes();
}

// ---- NSM ----

export interface MyId {
  name: string;
  prog: number;
  vers: number;
  proc: number;
}

export function smName(name: string): Buffer {
  return w().string(name).bytes();
}

export function smMyId(id: MyId): Buffer {
  return w().string(id.name).u32(id.prog).u32(id.vers).u32(id.proc).bytes();
}

export function smMonId(monName: string, id: MyId): Buffer {
  return w().string(monName).raw(smMyId(id)).bytes();
}

/** mon (MON): mon_id and 16 bytes of private data. */
export function smMon(monName: string, id: MyId, priv: Buffer): Buffer {
  return w().raw(smMonId(monName, id)).fixed(priv).bytes();
}

/** stat_chge (NOTIFY). */
export function smStatChge(monName: string, state: number): Buffer {
  return w().string(monName).u32(state).bytes();
}

/** sm_stat_res (STAT, MON replies). */
export function smStatRes(resStat: number, state: number): Buffer {
  return w().u32(resStat).u32(state).bytes();
}

/** sm_stat (UNMON, UNMON_ALL replies). */
export function smStat(state: number): Buffer {
  return w().u32(state).bytes();
}

// ---- portmap / rpcbind ----

export function pmapMapping(prog: number, vers: number, proto: number, port: number): Buffer {
  return w().u32(prog).u32(vers).u32(proto).u32(port).bytes();
}

export function pmapList(maps: [number, number, number, number][]): Buffer {
  const x = w();
  for (const m of maps) x.bool(true).raw(pmapMapping(...m));
  return x.bool(false).bytes();
}

export function rpcb(prog: number, vers: number, netid: string, uaddr: string, owner: string): Buffer {
  return w().u32(prog).u32(vers).string(netid).string(uaddr).string(owner).bytes();
}

export function rpcbList(entries: [number, number, string, string, string][]): Buffer {
  const x = w();
  for (const e of entries) x.bool(true).raw(rpcb(...e));
  return x.bool(false).bytes();
}

/** Remote call arguments (CALLIT, BCAST, INDIRECT). */
export function rmtCallArgs(prog: number, vers: number, proc: number, args: Buffer): Buffer {
  return w().u32(prog).u32(vers).u32(proc).opaque(args).bytes();
}

/** Portmap CALLIT result: port and the results. */
export function pmapCallitRes(port: number, res: Buffer): Buffer {
  return w().u32(port).opaque(res).bytes();
}

/** rpcbind remote call result: universal address and the results. */
export function rpcbRmtCallRes(uaddr: string, res: Buffer): Buffer {
  return w().string(uaddr).opaque(res).bytes();
}

export function xdrString(s: string): Buffer {
  return w().string(s).bytes();
}

export function xdrU32(v: number): Buffer {
  return w().u32(v).bytes();
}

export function netbuf(maxlen: number, buf: Buffer): Buffer {
  return w().u32(maxlen).opaque(buf).bytes();
}

/** rpcb_entry_list (GETADDRLIST). */
export function rpcbEntryList(entries: { maddr: string; netid: string; semantics: number; protofmly: string; proto: string }[]): Buffer {
  const x = w();
  for (const e of entries) x.bool(true).string(e.maddr).string(e.netid).u32(e.semantics).string(e.protofmly).string(e.proto);
  return x.bool(false).bytes();
}

/** rpcb_stat_byvers (GETSTAT): three rpcb_stat, each with one address entry and one remote-call entry. */
export function rpcbStatByVers(): Buffer {
  const x = w();
  for (let v = 0; v < 3; v++) {
    for (let i = 0; i < 13; i++) x.u32(v * 100 + i);
    x.u32(1).u32(2); // setinfo, unsetinfo
    x.bool(true).u32(100003).u32(3).u32(5).u32(0).string('tcp').bool(false);
    x.bool(true).u32(100021).u32(4).u32(1).u32(2).u32(0).u32(1).string('udp').bool(false);
  }
  return x.bytes();
}

// ---- NFS_ACL ----

export interface AclEntry {
  type: number;
  id: number;
  perm: number;
}

function aclArray(x: XdrWriter, entries: AclEntry[]): void {
  x.u32(entries.length);
  for (const e of entries) x.u32(e.type).u32(e.id).u32(e.perm);
}

/** secattr: mask, aclcnt, aclent<>, dfaclcnt, dfaclent<>. */
export function secattr(mask: number, acl: AclEntry[], dfacl: AclEntry[]): Buffer {
  const x = w().u32(mask).u32(acl.length);
  aclArray(x, acl);
  x.u32(dfacl.length);
  aclArray(x, dfacl);
  return x.bytes();
}

/** A file handle: v3 as opaque<64>, v2 as 32 fixed bytes. */
export function aclFh(version: number, fh: Buffer): Buffer {
  return version === 2 ? w().fixed(fh).bytes() : w().opaque(fh).bytes();
}

/** fattr3 (84 bytes) or fattr (68 bytes) of a regular file. */
export function aclFattr(version: number, size: number, fileid: number): Buffer {
  const x = w().u32(1).u32(0o100644).u32(1).u32(1000).u32(1000);
  if (version === 3) {
    x.u64(size).u64(size).u32(0).u32(0).u64(7).u64(fileid);
    for (let i = 0; i < 6; i++) x.u32(i);
  } else {
    x.u32(size).u32(4096).u32(0).u32(1).u32(7).u32(fileid);
    for (let i = 0; i < 6; i++) x.u32(i);
  }
  return x.bytes();
}

/** post_op_attr (version 3). */
export function postOpAttr(size?: number, fileid = 1): Buffer {
  return size === undefined ? w().bool(false).bytes() : w().bool(true).raw(aclFattr(3, size, fileid)).bytes();
}
