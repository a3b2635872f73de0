/**
 * NFSv4 COMPOUNDs on the real captures, against tshark: for every call the
 * op list, the minor version and the main op; for every reply the COMPOUND
 * status, each op's status and the reply's op list; for READs the bytes
 * returned. Statuses are compared as numbers, so tshark's names (some
 * wrong: 10030 is NFS4ERR_RESTOREFH, not NFS4ERR_READDIR_NOSPC; 19, 10057
 * and 10073 too) do not matter; nfsight's names map back to numbers through
 * the RFC tables written in test/reference/rfc-names.ts (never through
 * nfsight's own tables, which would hide a wrong name).
 *
 * tshark's nfs.nfsstat4 also holds the rdattr_error attribute (an nfsstat4)
 * wherever a fattr4 in the results carries one (GETATTR, READDIR entries):
 * nfsight's list gets those values after the op's status, in order.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Transaction } from '../src/rpc/transaction.js';
import type { DecodedReply } from '../decoders/decoded.js';
import type { Nfs4OpResult } from '../decoders/nfs4.js';
import { CAPTURES, bundledCaptures } from './helpers.js';
import { rfc } from './reference/rfc-names.js';
import { readFileSync } from 'node:fs';

interface NfsRow {
  msgtype: number;
  minorversion?: number;
  mainOpcode?: number | number[];
  ops?: number[];
  nfsstat4?: number[];
  readLength?: number | number[];
}

export interface Nfs4Comparison {
  calls: number;
  replies: number;
  reads: number;
  /** Distinct `op→status` pairs of the replies compared. */
  pairs: Set<string>;
  mismatches: string[];
}

const opNumbers = (names: readonly string[]): (number | string)[] => names.map((n) => rfc.nfs4OpNumber(n) ?? n);
/** The rdattr_error values in an op's decoded results, in order. */
function rdattrErrors(result: unknown): number[] {
  const res = result as { attrs?: { rdattr_error?: number }; entries?: { attrs?: { rdattr_error?: number } }[] } | undefined;
  const out: number[] = [];
  if (res?.attrs?.rdattr_error !== undefined) out.push(res.attrs.rdattr_error);
  for (const e of res?.entries ?? []) if (e.attrs?.rdattr_error !== undefined) out.push(e.attrs.rdattr_error);
  return out;
}

/** [COMPOUND status, then per op its status and the rdattr_errors of its results], as tshark lists nfs.nfsstat4. */
function tsharkStatusList(reply: DecodedReply): (number | string)[] {
  const out: (number | string)[] = [reply.statusCode ?? 'no status'];
  const results = (reply.results as { ops?: Nfs4OpResult[] }).ops ?? [];
  (reply.opStatus ?? []).forEach((s, i) => {
    out.push(rfc.nfsstat4Code(s) ?? s);
    out.push(...rdattrErrors(results[i]?.result));
  });
  return out;
}

const first = (v: number | number[]): number => (Array.isArray(v) ? v[0]! : v);
const sum = (v: number | number[]): number => (Array.isArray(v) ? v.reduce((a, b) => a + b, 0) : v);

/** Compares nfsight's NFSv4 decoding of `file` with tshark's fields per frame (`expected`). */
export async function compareNfs4(file: string, expected: Record<string, NfsRow>): Promise<Nfs4Comparison> {
  const out: Nfs4Comparison = { calls: 0, replies: 0, reads: 0, pairs: new Set(), mismatches: [] };
  const check = (frame: number, what: string, ours: unknown, theirs: unknown): void => {
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) out.mismatches.push(`${frame} ${what}: ours ${JSON.stringify(ours)} tshark ${JSON.stringify(theirs)}`);
  };
  const onTransaction = (t: Transaction): void => {
    if (t.program !== 100003 || t.version !== 4 || t.procedure !== 1) return;
    const callFrame = t.call.frame.number;
    const c = expected[callFrame];
    const call = t.decoded?.call;
    if (c !== undefined && c.msgtype === 0 && c.ops !== undefined) {
      out.calls++;
      check(callFrame, 'call ops', call ? opNumbers(call.ops) : null, c.ops);
      check(callFrame, 'minorversion', call?.minorVersion, c.minorversion);
      // tshark lists every op of the main tier; nfsight names the first.
      // tshark shows none when it stopped at an op it does not know.
      if (c.mainOpcode !== undefined) check(callFrame, 'mainOp', call ? rfc.nfs4OpNumber(call.mainOp) : null, first(c.mainOpcode));
    }
    if (t.reply === undefined) return;
    const replyFrame = t.reply.frame.number;
    const e = expected[replyFrame];
    const reply = t.decoded?.reply;
    if (e === undefined || e.msgtype !== 1 || e.nfsstat4 === undefined) return;
    out.replies++;
    reply?.ops?.forEach((op, i) => out.pairs.add(`${op}→${reply.opStatus?.[i]}`));
    check(replyFrame, 'nfsstat4', reply ? tsharkStatusList(reply) : null, e.nfsstat4);
    check(replyFrame, 'status name', reply?.status, rfc.nfsstat4(e.nfsstat4[0]!));
    check(replyFrame, 'reply ops', reply ? opNumbers(reply.ops ?? []) : null, e.ops ?? []);
    if (e.readLength !== undefined) {
      out.reads++;
      check(replyFrame, 'readBytes', reply?.readBytes, sum(e.readLength));
    }
  };
  await analyze(file, { onTransaction });
  return out;
}

function nfsOf(name: string): Record<string, NfsRow> {
  const exp = JSON.parse(readFileSync(join(CAPTURES, `${name}.expected.json`), 'utf8')) as { nfs?: Record<string, NfsRow> };
  return exp.nfs ?? {};
}

/** Frames compared per bundled capture: calls, replies, READ replies. */
const COUNTS: Record<string, [number, number, number]> = {
  'linux-v42-basic-head.pcap': [32, 31, 3],
  'lossy-read-cut.pcap': [11, 10, 0],
  'nfsv4-any-sll2-head.pcap': [12, 12, 1],
  'nfsv4-dumpcap.pcapng': [20, 20, 1],
  'nfsv4-errors.pcap': [50, 50, 0],
  'nfsv4-grace-restart.pcap': [40, 40, 2],
  'nfsv40-pynfs-state-errors-cut.pcap': [550, 550, 0],
  'nfsv41-pynfs-errors.pcap': [314, 314, 3],
  'nfsv41-pynfs-head.pcap': [198, 197, 0],
  'nfsv41-pynfs-mid.pcap': [532, 531, 0],
  'nfsv41-pynfs-tail.pcap': [414, 414, 0],
};

/** Distinct op→status pairs the pynfs cuts cover (all 73 of nfsv41-pynfs-all.pcap; 74 of the 85 of nfsv40-pynfs-state-errors.pcap). */
const PAIRS: Record<string, number> = { 'nfsv41-pynfs': 73, 'nfsv40-pynfs': 74 };
const pairsSeen: Record<string, Set<string>> = {};

describe('NFSv4 COMPOUNDs equal tshark’s', () => {
  const withV4 = bundledCaptures().filter((name) => Object.values(nfsOf(name)).some((r) => r.ops !== undefined || r.nfsstat4 !== undefined));
  it('has captures with NFSv4', () => {
    expect(withV4.length).toBeGreaterThan(0);
  });
  for (const name of withV4) {
    it(name, async () => {
      const res = await compareNfs4(join(CAPTURES, name), nfsOf(name));
      expect(res.mismatches).toEqual([]);
      expect(res.calls + res.replies).toBeGreaterThan(0);
      expect([res.calls, res.replies, res.reads]).toEqual(COUNTS[name]);
      const family = name.slice(0, 12);
      if (family in PAIRS) for (const p of res.pairs) (pairsSeen[family] ??= new Set()).add(p);
    });
  }
  it('covers the op→status pairs of the pynfs runs', () => {
    for (const [family, n] of Object.entries(PAIRS)) expect([family, pairsSeen[family]?.size]).toEqual([family, n]);
  });
});
