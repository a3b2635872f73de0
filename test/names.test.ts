/**
 * Names from two independent sources: the RFC tables written by hand in
 * test/reference/rfc-names.ts agree with tshark's value strings
 * (test/reference/tshark-names.json, scripts/tshark-names.mjs) except where
 * TSHARK_DIFFERS says tshark 4.0.17 is wrong, and on whose authority; then
 * nfsight's names (its decoders' tables) agree with the RFC tables, code by
 * code, through the decoders where a name is given by decoding.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mountstat3Name } from '../decoders/mount.js';
import { nfsstat3Name } from '../decoders/nfs3.js';
import { nfs4OpName } from '../decoders/nfs4.js';
import { cbOpName } from '../decoders/nfs4-cb.js';
import { nfs4StatusName } from '../decoders/nfs4-status.js';
import { nlmStatName } from '../decoders/nlm.js';
import { procedureName } from '../decoders/programs.js';
import {
  MOUNT3_PROCEDURES,
  MOUNTSTAT3,
  NFS3_PROCEDURES,
  NFS_CB_OPNUM4,
  NFS_OPNUM4,
  NFSSTAT3,
  NFSSTAT4,
  NLM4_PROCEDURES,
  NLM4_STATS,
  NLM_STATS,
  TSHARK_DIFFERS,
  TSHARK_SPELLING,
  TSHARK_SPELLING_DIFFERS,
} from './reference/rfc-names.js';

type Names = Record<string, string>;
const TSHARK = JSON.parse(readFileSync(new URL('./reference/tshark-names.json', import.meta.url), 'utf8')) as Record<string, Names>;

const asRecord = (t: Readonly<Record<number, string>> | readonly string[]): Record<number, string> => ({ ...t });

/** The RFC tables, under the key of tshark's table of the same values. */
const RFC: Record<string, Record<number, string>> = {
  nfsstat3: asRecord(NFSSTAT3),
  nfsstat4: asRecord(NFSSTAT4),
  nfs_opnum4: asRecord(NFS_OPNUM4),
  nfs_cb_opnum4: asRecord(NFS_CB_OPNUM4),
  mountstat3: asRecord(MOUNTSTAT3),
  nlm_stats: asRecord(NLM4_STATS),
  nfs3_procedures: asRecord(NFS3_PROCEDURES),
  mount3_procedures: asRecord(MOUNT3_PROCEDURES),
  nlm4_procedures: asRecord(NLM4_PROCEDURES),
};

const codes = (t: object): number[] => Object.keys(t).map(Number).sort((a, b) => a - b);

describe('RFC tables against tshark’s names', () => {
  for (const [key, rfc] of Object.entries(RFC)) {
    it(key, () => {
      const tshark = TSHARK[key]!;
      expect(tshark, `${key} missing from tshark-names.json`).toBeDefined();
      const differs = TSHARK_DIFFERS[key] ?? {};
      const spelled = TSHARK_SPELLING_DIFFERS[key] ?? {};
      const spell = TSHARK_SPELLING[key] ?? ((n: string) => n);
      // Every code either side names: the same name, or a listed difference.
      const all = [...new Set([...codes(rfc), ...codes(tshark)])].sort((a, b) => a - b);
      const rows = all.map((code) => {
        const theirs = tshark[code] ?? null;
        const ours = rfc[code] ?? null;
        const d = differs[code] ?? spelled[code];
        if (d !== undefined) return [code, theirs === d[0] && ours === d[1] ? 'listed difference' : `listed ${JSON.stringify(d)} but tshark ${theirs}, RFC ${ours}`];
        return [code, ours !== null && theirs === spell(ours) ? 'same' : `tshark ${theirs}, RFC ${ours}`];
      });
      expect(rows.filter(([, v]) => v !== 'same' && v !== 'listed difference')).toEqual([]);
      expect(rows.length).toBe(all.length);
      // Every listed difference is one tshark still has (a fixed tshark makes the list shrink).
      for (const code of Object.keys({ ...differs, ...spelled })) expect(all).toContain(Number(code));
    });
  }

  it('lists the four nfsstat4 values tshark 4.0.17 mislabels', () => {
    expect(codes(TSHARK_DIFFERS['nfsstat4']!)).toEqual([19, 10030, 10057, 10073]);
    expect(NFSSTAT4[10030]).toBe('NFS4ERR_RESTOREFH');
    expect(TSHARK['nfsstat4']![10030]).toBe('NFS4ERR_READDIR_NOSPC');
  });
});

describe('nfsight’s names are the RFC’s', () => {
  it('nfsstat3 (RFC 1813)', () => {
    for (const code of codes(RFC['nfsstat3']!)) expect([code, nfsstat3Name(code)]).toEqual([code, NFSSTAT3[code]]);
    expect(nfsstat3Name(19 + 10000)).toBe('nfsstat3(10019)');
  });

  it('nfsstat4 (RFC 7530, 8881, 7862, 8276); codes no RFC assigns by number', () => {
    for (const code of codes(RFC['nfsstat4']!)) expect([code, nfs4StatusName(code)]).toEqual([code, NFSSTAT4[code]]);
    expect([nfs4StatusName(19), nfs4StatusName(10073), nfs4StatusName(10097)]).toEqual(['nfsstat4(19)', 'nfsstat4(10073)', 'nfsstat4(10097)']);
  });

  it('NFSv4 operations and callback operations', () => {
    for (const op of codes(RFC['nfs_opnum4']!)) expect([op, nfs4OpName(op)]).toEqual([op, NFS_OPNUM4[op]]);
    for (const op of codes(RFC['nfs_cb_opnum4']!)) expect([op, cbOpName(op)]).toEqual([op, NFS_CB_OPNUM4[op]]);
    expect([nfs4OpName(2), nfs4OpName(76), cbOpName(2), cbOpName(16)]).toEqual(['OP_2', 'OP_76', 'CB_OP_2', 'CB_OP_16']);
  });

  it('mountstat3 and nlm_stats / nlm4_stats', () => {
    for (const code of codes(RFC['mountstat3']!)) expect([code, mountstat3Name(code)]).toEqual([code, MOUNTSTAT3[code]]);
    for (const code of codes(NLM4_STATS)) expect([code, nlmStatName(4, code)]).toEqual([code, NLM4_STATS[code]]);
    for (const v of [1, 2, 3]) for (const code of codes(NLM_STATS)) expect([v, code, nlmStatName(v, code)]).toEqual([v, code, NLM_STATS[code]]);
  });

  it('procedures of NFSv3, MOUNT v3 and NLM v4', () => {
    NFS3_PROCEDURES.forEach((name, p) => expect([p, procedureName(100003, 3, p)]).toEqual([p, name]));
    MOUNT3_PROCEDURES.forEach((name, p) => expect([p, procedureName(100005, 3, p)]).toEqual([p, name]));
    for (const p of codes(NLM4_PROCEDURES)) expect([p, procedureName(100021, 4, p)]).toEqual([p, NLM4_PROCEDURES[p]]);
    expect([procedureName(100003, 3, 22), procedureName(100005, 3, 6)]).toEqual(['22', '6']);
  });
});
