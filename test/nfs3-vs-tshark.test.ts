/**
 * NFSv3 decoding on the real captures, against tshark: every NFSv3 reply's
 * nfsstat3 equals tshark's nfs.status for the reply frame; READ/WRITE/COMMIT
 * counts equal nfs.count3 (calls and replies); the procedure equals
 * rpc.messages'. Each capture with NFSv3 must compare at least one reply.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { analyze } from '../src/analyze.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { CAPTURES, bundledCaptures } from './helpers.js';
import { rfc } from './reference/rfc-names.js';

type TsharkRow = [number, string, number, number, number, number, number | null, string | null];
interface NfsFields {
  msgtype?: number;
  nfsStatus?: number | number[];
  count3?: number | number[];
}
interface ExpectedNfs {
  nfs: Record<string, NfsFields>;
  rpc: { messages: TsharkRow[] };
}

const PROG_NFS = 100003;
const NFSPROC3_NULL = 0;
const NFSPROC3_READ = 6;
const NFSPROC3_WRITE = 7;
const NFSPROC3_COMMIT = 21;
/** Procedures whose call carries a count3 tshark shows as nfs.count3. */
const COUNT_CALLS = new Set([NFSPROC3_READ, NFSPROC3_WRITE, NFSPROC3_COMMIT]);

const expected = (name: string): ExpectedNfs => JSON.parse(readFileSync(join(CAPTURES, `${name}.expected.json`), 'utf8')) as ExpectedNfs;
const single = (v: number | number[] | undefined): number | undefined => (Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v);

const withV3 = bundledCaptures().filter((f) => expected(f).rpc.messages.some((m) => m[3] === PROG_NFS && m[4] === 3));

describe('NFSv3 decoding vs tshark', () => {
  it('has bundled NFSv3 captures', () => {
    expect(withV3.length).toBeGreaterThanOrEqual(8);
  });

  for (const name of withV3) {
    it(name, async () => {
      const exp = expected(name);
      const procByFrame = new Map<number, number>();
      for (const m of exp.rpc.messages) if (m[3] === PROG_NFS && m[4] === 3) procByFrame.set(m[0], m[5]);
      let replies = 0;
      let counts = 0;
      const mismatches: string[] = [];
      const onTransaction = (t: Transaction): void => {
        if (t.program !== PROG_NFS || t.version !== 3) return;
        const call = t.decoded?.call;
        const reply = t.decoded?.reply;
        const cf = t.call.frame.number;
        if (procByFrame.has(cf) && procByFrame.get(cf) !== t.procedure) mismatches.push(`call ${cf}: procedure ${t.procedure}`);
        const cExp = exp.nfs[String(cf)];
        if (call !== undefined && cExp !== undefined && COUNT_CALLS.has(t.procedure)) {
          const c3 = single(cExp.count3);
          if (c3 !== undefined) {
            counts++;
            if (call.count !== c3) mismatches.push(`call ${cf}: count ${call.count} vs ${c3}`);
          }
        }
        // A message the capture kept whole decodes to its end (bulk data not kept is stepped over).
        if (call?.stop !== undefined && t.call.missing === 0) mismatches.push(`call ${cf}: stop ${call.stop.reason}`);
        if (t.reply === undefined) return;
        if (reply?.stop !== undefined && t.reply.missing === 0) mismatches.push(`reply ${t.reply.frame.number}: stop ${reply.stop.reason}`);
        const rf = t.reply.frame.number;
        const rExp = exp.nfs[String(rf)];
        if (rExp === undefined || !procByFrame.has(rf)) return; // tshark did not decode this reply alone
        if (procByFrame.get(rf) !== t.procedure) mismatches.push(`reply ${rf}: procedure ${t.procedure}`);
        if (reply === undefined) {
          mismatches.push(`reply ${rf}: not decoded`);
          return;
        }
        const st = single(rExp.nfsStatus);
        if (t.procedure === NFSPROC3_NULL) {
          // Void results: tshark shows no status.
          expect(st).toBeUndefined();
          expect(reply.status).toBeNull();
        } else if (st !== undefined) {
          replies++;
          if (reply.statusCode !== st) mismatches.push(`reply ${rf}: status ${reply.status} vs ${st}`);
          // The name tshark's number has in RFC 1813 (the table written in the tests).
          if (reply.status !== rfc.nfsstat3(st)) mismatches.push(`reply ${rf}: status name ${reply.status} vs ${rfc.nfsstat3(st)}`);
        }
        const c3 = single(rExp.count3);
        if (c3 !== undefined && (t.procedure === NFSPROC3_READ || t.procedure === NFSPROC3_WRITE)) {
          counts++;
          const got = t.procedure === NFSPROC3_READ ? reply.readBytes : reply.writeBytes;
          if (got !== c3) mismatches.push(`reply ${rf}: bytes ${got} vs ${c3}`);
        }
      };
      await analyze(join(CAPTURES, name), { onTransaction });
      expect(mismatches).toEqual([]);
      // Every NFSv3 reply tshark gives a status to was compared.
      const tsharkReplies = exp.rpc.messages.filter((m) => m[2] === 1 && m[3] === PROG_NFS && m[4] === 3 && single(exp.nfs[String(m[0])]?.nfsStatus) !== undefined).length;
      expect(replies).toBe(tsharkReplies);
      // unanswered-read-tail has one READ call and no reply: its count is what is compared.
      expect(replies + counts).toBeGreaterThan(0);
      if (tsharkReplies === 0) expect(counts).toBeGreaterThan(0);
      console.log(`${name}: ${replies} NFSv3 reply statuses and ${counts} counts compared with tshark`);
    });
  }
});
