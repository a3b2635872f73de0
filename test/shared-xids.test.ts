/**
 * Thousands of clients using the same xids (hosts replaying one trace, or
 * clients that all start counting from the same value): the tables that
 * find a call by its xid must still tell the clients apart, and find it
 * without walking every client that used that xid (docs/performance.md,
 * "Calls sharing xids"). test/gen/hostile.ts writeLiveFile, sharedXids.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { writeLiveFile } from './gen/hostile.js';
import { tempDir } from './helpers.js';

describe('calls sharing xids across clients', () => {
  it('12,000 clients × 3 calls with the same three xids: every call matched to its own reply, none a retransmission', async () => {
    const file = join(tempDir(), 'shared-xids.pcap');
    // Above the connections detector's 10,000 connections counted: every answered call is remembered there too.
    const counts = writeLiveFile(file, { connections: 12_000, answered: 3, outstanding: 0, sharedXids: true });
    expect(counts.calls).toBe(36_000);
    const report = await analyze(file);
    expect(report.tcp.connections).toBe(12_000);
    const { unansweredCalls, orphanReplies, ...rpc } = report.rpc;
    expect(rpc).toMatchObject({
      calls: 36_000,
      replies: 36_000,
      matched: 36_000,
      unanswered: 0,
      repliesWithoutCall: 0,
      retransmittedCalls: 0,
      duplicateReplies: 0,
      invalidMessages: 0,
    });
    expect(unansweredCalls).toEqual([]);
    expect(orphanReplies).toEqual([]);
    expect(report.memory.dropped.answeredCalls).toBe(0);
    expect(report.findings).toEqual([]);
    expect(report.verdict.status).toBe('no-problems');
    // Each client's three calls are its own: the clients kept show 3 answered each.
    expect(report.servers.rows.map((r) => [r.address, r.calls, r.answered])).toEqual([['10.0.0.1:2049', 36_000, 36_000]]);
    expect(report.clients.rows.length).toBe(report.clients.maxTracked);
    expect(report.clients.evictedCalls + 3 * report.clients.rows.length).toBe(36_000);
    expect(report.clients.rows.every((r) => r.calls === 3 && r.answered === 3)).toBe(true);
  });
});
