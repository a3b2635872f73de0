/**
 * Side protocols (MOUNT, portmap, NFS_ACL) on the real captures, against
 * tshark: every MOUNT reply's status equals tshark's mount.status
 * (`mountstat` in the expected JSON) for the reply frame; MNT root handles,
 * auth flavors and EXPORT directories equal tshark's; portmap GETPORT ports
 * equal tshark's portmap.port; NFS_ACL replies decode. Frames tshark saw
 * with several RPC messages are absent from the expected `nfs` map: they
 * are skipped and counted.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { CAPTURES, bundledCaptures } from './helpers.js';
import { rfc } from './reference/rfc-names.js';

type TsharkRow = [number, string, number, number, number, number, number | null, string | null];
interface ExpectedSide {
  nfs: Record<string, { msgtype?: number; mountstat?: number | number[] }>;
  rpc: { messages: TsharkRow[] };
}

const PROG_PORTMAP = 100000;
const PROG_MOUNT = 100005;
const PROG_NFS_ACL = 100227;
const MOUNTPROC_MNT = 1;
const MOUNTPROC_EXPORT = 5;
const PMAPPROC_GETPORT = 3;

const expected = (name: string): ExpectedSide => JSON.parse(readFileSync(join(CAPTURES, `${name}.expected.json`), 'utf8')) as ExpectedSide;

/**
 * tshark's portmap.port of every GETPORT reply, by reply frame:
 *   tshark -r captures/X.pcap -o tcp.try_heuristic_first:TRUE -o tcp.reassemble_out_of_order:TRUE \
 *     -Y 'portmap && rpc.msgtyp==1' -T fields -e frame.number -e rpc.xid -e rpc.procedure -e portmap.port
 * (tshark 4.0; no other bundled capture has portmap.)
 */
const GETPORT_PORTS: Record<string, Record<number, number>> = {
  'linux-v3-basic-head.pcap': { 6: 20048, 28: 2049 },
  'nfsv3-basic-head.pcap': { 9: 20048, 31: 2049, 57: 20048, 79: 2049, 105: 20048, 127: 2049, 157: 20048, 179: 2049 },
};

/**
 * tshark's MNT replies (root handle, auth flavor) and EXPORT replies (directories), by reply frame:
 *   tshark -r captures/X.pcap -o tcp.try_heuristic_first:TRUE -o tcp.reassemble_out_of_order:TRUE \
 *     -Y 'mount && rpc.msgtyp==1 && (rpc.procedure==1 || rpc.procedure==5)' -T fields -E separator='|' \
 *     -e frame.number -e rpc.procedure -e mount.status -e mount.export.directory -e mount.flavor -e nfs.fhandle
 */
const FH_EXPORT = '430000011244ceeef57cd50464260156c120009586add800';
const FH_DIR1 = '430000011244ceeef57cd504642601a6c32000b524717000';
const FH_ERR_B = '430000011244ceeef57cd504642601acc320007c8d699300';
const MNT_HANDLES: Record<string, Record<number, string>> = {
  'linux-v3-basic-head.pcap': { 19: '430000011244ceeef57cd5046426017ac020004d6e535400' },
  // Linux nfsd's export with fsid=1 (the RDMA captures' MOUNT is over TCP).
  'nfs-rdma-refused.pcap': { 13: '0100010001000000' },
  'nfs-rdma-v3.pcap': { 11: '0100010001000000' },
  'nfsv3-basic-head.pcap': { 19: FH_EXPORT, 67: FH_DIR1, 115: FH_EXPORT, 167: FH_DIR1 },
  'nfsv3-errors.pcap': {
    9: FH_EXPORT,
    55: FH_EXPORT,
    83: FH_ERR_B,
    111: FH_ERR_B,
    137: FH_ERR_B,
    165: '430000021244ceeef57cd504642601f4c020001b8a70bf00',
    193: FH_EXPORT,
    221: FH_EXPORT,
    273: FH_EXPORT,
  },
  'nfsv3-nanosec.pcap': { 9: FH_EXPORT, 37: FH_EXPORT, 69: FH_DIR1 },
  'nfsv3-snaplen200.pcap': { 9: FH_EXPORT },
  'nfsv4-grace-restart.pcap': { 33: FH_DIR1 },
};
/** Every EXPORT reply in the bundled captures lists these (mount.export.directory). */
const EXPORT_DIRS = ['/export', '/ro'];
/** nfsv3-errors: the MNT replies tshark shows with mount.status 13 (MNT3ERR_ACCES). */
const ACCES_FRAMES = [35, 45, 253, 263];

const sideCaptures = bundledCaptures().filter((f) => expected(f).rpc.messages.some((m) => [PROG_PORTMAP, PROG_MOUNT, PROG_NFS_ACL].includes(m[3])));

interface Tally {
  mountStatuses: number;
  mntHandles: number;
  exports: number;
  ports: number;
  acl: number;
  skipped: number;
  accesFrames: number[];
}

async function run(name: string): Promise<{ tally: Tally; mismatches: string[] }> {
  const exp = expected(name);
  const tally: Tally = { mountStatuses: 0, mntHandles: 0, exports: 0, ports: 0, acl: 0, skipped: 0, accesFrames: [] };
  const mismatches: string[] = [];
  const onTransaction = (t: Transaction): void => {
    if (![PROG_PORTMAP, PROG_MOUNT, PROG_NFS_ACL].includes(t.program)) return;
    const call = t.decoded?.call;
    const reply = t.decoded?.reply;
    const cf = t.call.frame.number;
    if (call === undefined) mismatches.push(`call ${cf}: not decoded`);
    if (call?.stop !== undefined && t.call.missing === 0) mismatches.push(`call ${cf}: stop ${call.stop.reason}`);
    if (t.reply === undefined) return;
    const rf = t.reply.frame.number;
    if (reply === undefined) {
      mismatches.push(`reply ${rf}: not decoded`);
      return;
    }
    if (reply.stop !== undefined && t.reply.missing === 0) mismatches.push(`reply ${rf}: stop ${reply.stop.reason}`);
    const row = exp.nfs[String(rf)];
    if (t.program === PROG_MOUNT) {
      if (row === undefined) {
        tally.skipped++;
        return;
      }
      if (t.procedure === MOUNTPROC_MNT) {
        const ms = row.mountstat;
        if (typeof ms !== 'number') {
          mismatches.push(`reply ${rf}: tshark shows no mountstat`);
          return;
        }
        tally.mountStatuses++;
        if (reply.statusCode !== ms) mismatches.push(`reply ${rf}: status ${reply.status} vs ${ms}`);
        if (reply.status !== rfc.mountstat3(ms)) mismatches.push(`reply ${rf}: status name ${reply.status} vs ${rfc.mountstat3(ms)}`);
        if (reply.status === 'MNT3ERR_ACCES') tally.accesFrames.push(rf);
        const fh = MNT_HANDLES[name]?.[rf];
        if (ms === 0) {
          tally.mntHandles++;
          const results = reply.results as { fh?: string; authFlavors?: string[] };
          if (fh === undefined || results.fh !== fh) mismatches.push(`reply ${rf}: fh ${results.fh} vs ${fh}`);
          const path = call?.names?.[0];
          if (path === undefined || JSON.stringify(reply.handles) !== JSON.stringify([{ fh: results.fh, name: path }])) mismatches.push(`reply ${rf}: handles ${JSON.stringify(reply.handles)}`);
          if (JSON.stringify(results.authFlavors) !== JSON.stringify(['AUTH_SYS'])) mismatches.push(`reply ${rf}: flavors ${JSON.stringify(results.authFlavors)}`);
        }
      } else {
        // NULL, EXPORT: no status field (tshark shows none).
        if (reply.status !== null || reply.statusCode !== null) mismatches.push(`reply ${rf}: ${reply.status}`);
        if (t.procedure === MOUNTPROC_EXPORT) {
          tally.exports++;
          const dirs = (reply.results as { exports: { dir: string }[] }).exports.map((e) => e.dir);
          if (JSON.stringify(dirs) !== JSON.stringify(EXPORT_DIRS)) mismatches.push(`reply ${rf}: exports ${JSON.stringify(dirs)}`);
        }
      }
    } else if (t.program === PROG_PORTMAP) {
      if (reply.status !== null) mismatches.push(`reply ${rf}: ${reply.status}`);
      if (t.version === 2 && t.procedure === PMAPPROC_GETPORT) {
        tally.ports++;
        const want = GETPORT_PORTS[name]?.[rf];
        const port = (reply.results as { port?: number }).port;
        if (want === undefined || port !== want) mismatches.push(`reply ${rf}: port ${port} vs ${want}`);
        const args = call?.args as { program?: string } | undefined;
        if (args?.program !== 'MOUNT' && args?.program !== 'NFS') mismatches.push(`call ${cf}: asks for ${args?.program}`);
      }
    } else {
      // NFS_ACL: the bundled captures hold NULL only (linux-v3-basic-head frames 44/45).
      tally.acl++;
      if (t.procedure === 0 && reply.status !== null) mismatches.push(`reply ${rf}: ${reply.status}`);
      if (t.procedure !== 0 && reply.status !== 'NFS3_OK' && !reply.status?.startsWith('NFS3ERR_')) mismatches.push(`reply ${rf}: ${reply.status}`);
    }
  };
  await analyze(join(CAPTURES, name), { onTransaction });
  return { tally, mismatches };
}

describe('side protocols vs tshark', () => {
  it('has bundled captures with side protocols', () => {
    expect(sideCaptures.length).toBeGreaterThanOrEqual(6);
  });

  const totals = { mountStatuses: 0, ports: 0, skipped: 0 };
  for (const name of sideCaptures) {
    it(name, async () => {
      const { tally, mismatches } = await run(name);
      expect(mismatches).toEqual([]);
      // Every MNT reply tshark shows with a mount.status was compared.
      const tsharkMnt = Object.values(expected(name).nfs).filter((v) => typeof v.mountstat === 'number').length;
      expect(tally.mountStatuses).toBe(tsharkMnt);
      expect(tally.mntHandles).toBe(Object.keys(MNT_HANDLES[name] ?? {}).length);
      expect(tally.ports).toBe(Object.keys(GETPORT_PORTS[name] ?? {}).length);
      if (name === 'nfsv3-errors.pcap') expect(tally.accesFrames).toEqual(ACCES_FRAMES);
      if (name === 'linux-v3-basic-head.pcap') expect(tally.acl).toBe(1);
      totals.mountStatuses += tally.mountStatuses;
      totals.ports += tally.ports;
      totals.skipped += tally.skipped;
    });
  }

  it('compared statuses and ports', () => {
    // 1 + 4 + 13 + 3 + 1 + 1 + 1 + 1 MNT replies (the last two: the RDMA captures); 2 + 8 GETPORT replies.
    expect(totals.mountStatuses).toBe(25);
    expect(totals.ports).toBe(10);
    // MOUNT replies in frames tshark showed with several RPC messages (absent from `nfs`): none in the bundled captures.
    expect(totals.skipped).toBe(0);
  });

  /**
   * linux-v3-nfsacl-cut.pcap is frames 2229-2234 of linux-v3-basic.pcap, with its NFS_ACL GETACL:
   *   tshark -r captures/linux-v3-nfsacl-cut.pcap -o tcp.try_heuristic_first:TRUE \
   *     -Y 'rpc.program == 100227 && rpc.procedure==1' -T fields -e frame.number -e rpc.msgtyp \
   *     -e nfs.status -e nfsacl.aclcnt -e nfsacl.dfaclcnt -e nfs.fhandle -e nfs.fattr3.fileid
   * gives call 3 (fh 430000011244ceeef57cd5046426017ac020004d6e535400) and reply 4:
   * status 0, aclcnt 0, dfaclcnt 0, fileid 2146426.
   */
  it('NFS_ACL GETACL in linux-v3-nfsacl-cut (the capture starts mid-stream)', async () => {
    const seen: { call: number; reply: number | undefined; fh: string | undefined; status: string | null | undefined; results: unknown }[] = [];
    await analyze(join(CAPTURES, 'linux-v3-nfsacl-cut.pcap'), {
      onTransaction: (t) => {
        if (t.program !== PROG_NFS_ACL || t.procedure !== 1) return;
        seen.push({ call: t.call.frame.number, reply: t.reply?.frame.number, fh: t.decoded?.call?.fh, status: t.decoded?.reply?.status, results: t.decoded?.reply?.results });
      },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ call: 3, reply: 4, fh: '430000011244ceeef57cd5046426017ac020004d6e535400', status: 'NFS3_OK' });
    expect(seen[0]!.results).toMatchObject({ aclCount: 0, defaultAclCount: 0, acl: [], defaultAcl: [], attr: { fileid: 2146426 } });
  });
});
