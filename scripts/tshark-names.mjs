#!/usr/bin/env node
// Writes test/reference/tshark-names.json: the names tshark gives the status
// codes, NFSv4 op numbers and procedure numbers nfsight names (its value
// strings, `tshark -G values`). The tests check the hand-written RFC tables
// in test/reference/rfc-names.ts against them, and nfsight's names against
// those RFC tables: never against nfsight's own tables. Needs tshark;
// `npm test` only reads the JSON file.
//
//   node scripts/tshark-names.mjs
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tshark } from './tshark-reference.mjs';

/** tshark field → key in the JSON. */
const FIELDS = {
  'nfs.status3': 'nfsstat3',
  'nfs.nfsstat4': 'nfsstat4',
  'nfs.opcode': 'nfs_opnum4',
  'nfs.cb.operation': 'nfs_cb_opnum4',
  'mount.status': 'mountstat3',
  'nlm.stat': 'nlm_stats',
  'nfs.procedure_v3': 'nfs3_procedures',
  'mount.procedure_v3': 'mount3_procedures',
  'nlm.procedure_v4': 'nlm4_procedures',
};

const out = { generatedBy: tshark(['--version']).split('\n')[0], source: 'tshark -G values' };
for (const key of Object.values(FIELDS)) out[key] = {};
for (const line of tshark(['-G', 'values']).split('\n')) {
  const [kind, field, value, name] = line.split('\t');
  if (kind !== 'V' || !(field in FIELDS)) continue;
  out[FIELDS[field]][value] = name;
}
const target = fileURLToPath(new URL('../test/reference/tshark-names.json', import.meta.url));
writeFileSync(target, JSON.stringify(out, null, 1) + '\n');
console.log(`${target}: ${Object.keys(FIELDS).map((f) => `${FIELDS[f]} ${Object.keys(out[FIELDS[f]]).length}`).join(', ')}`);
