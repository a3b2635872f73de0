import { describe, expect, it } from 'vitest';
import type { ProgramDecoder } from '../decoders/decoded.js';
import type { Diagnostic } from '../src/capture/frame.js';
import { DecodeStage } from '../src/nfs/decode-stage.js';
import type { OrphanReply, Transaction, TransactionSink } from '../src/rpc/transaction.js';

const frame = { fileIndex: 0, number: 7, tsSec: 1, tsNsec: 0 };
const body = { length: 8, head: Buffer.alloc(8), tail: Buffer.alloc(0), tailOffset: 8, missing: 0 };

function transaction(procedure: number): Transaction {
  return {
    xid: 1,
    transport: 'tcp',
    connId: 0,
    client: { addr: '192.0.2.1', port: 700 },
    server: { addr: '192.0.2.2', port: 2049 },
    program: 100003,
    version: 3,
    procedure,
    cred: { flavor: 0, length: 0, status: 'ok' } as Transaction['cred'],
    call: { firstFrame: frame, frame, lastFrame: frame, bytes: 8, missing: 0, body, bodyOffset: 0, unfinished: false },
    reply: undefined,
    unfinishedReply: undefined,
    latency: -1,
    retransmits: 0,
    retransmitFrames: [],
    duplicateReplies: 0,
  };
}

describe('DecodeStage', () => {
  it('keeps going when a decoder throws: one warning naming file and frame, the rest counted', () => {
    const throwing: ProgramDecoder = {
      program: 100003,
      versions: [3],
      decodeCall: (_r, _v, proc) => {
        if (proc === 6) throw new Error('boom');
        return { ops: ['GETATTR'], mainOp: 'GETATTR', args: {} };
      },
      decodeReply: () => ({ status: 'OK', statusCode: 0, results: {} }),
    };
    const diagnostics: Diagnostic[] = [];
    const seen: Transaction[] = [];
    const sink: TransactionSink = {
      transaction: (t) => seen.push(t),
      unanswered: (t) => seen.push(t),
      orphanReply: (_r: OrphanReply) => undefined,
    };
    const stage = new DecodeStage({ report: (d) => diagnostics.push(d) }, () => 'x.pcap', () => throwing);
    stage.next.push(sink);
    stage.unanswered(transaction(6));
    stage.unanswered(transaction(6));
    stage.unanswered(transaction(1));
    expect(seen).toHaveLength(3);
    expect(seen.map((t) => t.decoded?.call?.mainOp)).toEqual([undefined, undefined, 'GETATTR']);
    expect(stage.decoderFailures).toBe(2);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: 'warning', code: 'decoder-failure', file: 'x.pcap', frame: 7 });
    expect(diagnostics[0]!.message).toContain('boom');
  });
});
