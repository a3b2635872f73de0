/**
 * Thousands of mutated and truncated versions of the bundled captures go
 * through the whole pipeline, decoders included: none may throw, hang, or
 * produce a diagnostic that does not say where the problem is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import type { Diagnostic } from '../src/capture/frame.js';
import { CAPTURES } from './helpers.js';
import { randInt, rng } from './gen/random.js';
import { allScenarios } from './gen/roce-scenarios.js';

type Mutation = (b: Buffer, r: () => number) => Buffer;

const mutations: Record<string, Mutation> = {
  truncate: (b, r) => b.subarray(0, randInt(r, 0, b.length)),
  flipBytes: (b, r) => {
    const c = Buffer.from(b);
    const n = randInt(r, 1, 16);
    for (let i = 0; i < n; i++) c[randInt(r, 0, c.length)] = randInt(r, 0, 256);
    return c;
  },
  // Hits the headers: record, link, IP and TCP fields all live in the first bytes of records.
  flipHeaderBytes: (b, r) => {
    const c = Buffer.from(b);
    const n = randInt(r, 1, 8);
    for (let i = 0; i < n; i++) c[randInt(r, 0, Math.min(c.length, 4096))] ^= 1 << randInt(r, 0, 8);
    return c;
  },
  absurdLength: (b, r) => {
    const c = Buffer.from(b);
    const at = randInt(r, 0, c.length - 4);
    c.writeUInt32LE([0xffffffff, 0x7fffffff, 0x10000000, 0][randInt(r, 0, 4)]!, at);
    return c;
  },
  deleteRange: (b, r) => {
    const from = randInt(r, 0, b.length);
    const to = Math.min(b.length, from + randInt(r, 1, 3000));
    return Buffer.concat([b.subarray(0, from), b.subarray(to)]);
  },
  duplicateRange: (b, r) => {
    const from = randInt(r, 0, b.length);
    const to = Math.min(b.length, from + randInt(r, 1, 3000));
    return Buffer.concat([b.subarray(0, to), b.subarray(from, to), b.subarray(to)]);
  },
};

function checkDiagnostic(d: Diagnostic): void {
  expect(d.file).toBe('-');
  expect(d.message.length).toBeGreaterThan(10);
  // Every message says where: a frame or a byte offset.
  expect(d.frame !== undefined || d.offset !== undefined).toBe(true);
}

const CASES: [string, number][] = [
  ['nfsv3-errors.pcap', 400],
  ['nfsv4-errors.pcap', 300],
  ['nfsv3-nanosec.pcap', 300],
  ['nfsv3-snaplen200.pcap', 300],
  ['nfsv4-dumpcap.pcapng', 400],
  ['nfsv4-grace-restart.pcap', 300],
  ['nfsv4-any-sll2-head.pcap', 100],
  ['lossy-read-cut.pcap', 60],
  ['nfsv41-pynfs-head.pcap', 150],
  ['nfsv40-pynfs-state-errors-cut.pcap', 60],
  ['linux-v3-basic-head.pcap', 60],
  ['nfs-rdma-refused.pcap', 200],
];

describe('fuzz: mutated and truncated captures', () => {
  for (const [name, count] of CASES) {
    it(`${name}: ${count} mutations`, async () => {
      const original = readFileSync(join(CAPTURES, name));
      const r = rng(0x5eed ^ name.length ^ count);
      const kinds = Object.keys(mutations);
      const full = await analyze('-', { stdin: Readable.from([original]) });
      for (let i = 0; i < count; i++) {
        const kind = kinds[i % kinds.length]!;
        const mutated = mutations[kind]!(original, r);
        const started = Date.now();
        let report;
        try {
          report = await analyze('-', { stdin: Readable.from([mutated]) });
        } catch (err) {
          throw new Error(`${name} mutation #${i} (${kind}) threw: ${String(err)}`);
        }
        // A hang guard, not a speed test: a few hundred KB must never take seconds.
        expect(Date.now() - started).toBeLessThan(5000);
        report.diagnostics.items.forEach(checkDiagnostic);
        if (kind === 'truncate') {
          expect(report.capture.frames).toBeLessThanOrEqual(full.capture.frames);
        }
      }
    });
  }
});

/**
 * NFS over RDMA: the generated RoCE captures (CM, SEND reassembly, chunks,
 * RDMA READ/WRITE, NAKs, RoCEv1, RPC-over-RDMA headers) mutated the same
 * ways: the RoCE and RPC-over-RDMA layers must never throw either.
 */
describe('fuzz: mutated RoCE captures', () => {
  for (const [name, scenario] of Object.entries(allScenarios())) {
    it(`${name}: 60 mutations`, async () => {
      const r = rng(0xb7 ^ name.length);
      const kinds = Object.keys(mutations);
      for (let i = 0; i < 60; i++) {
        const kind = kinds[i % kinds.length]!;
        const mutated = mutations[kind]!(scenario.pcap, r);
        let report;
        try {
          report = await analyze('-', { stdin: Readable.from([mutated]) });
        } catch (err) {
          throw new Error(`${name} mutation #${i} (${kind}) threw: ${String(err)}`);
        }
        report.diagnostics.items.forEach(checkDiagnostic);
        expect(report.rdma.packets).toBeLessThanOrEqual(scenario.session.packets.length * 2);
      }
    });
  }
});
