import { describe, expect, it } from 'vitest';
import type { ProgramDecoder } from '../decoders/decoded.js';
import type { Diagnostic } from '../src/capture/frame.js';
import { DecodeStage, MAX_CALLBACK_PROGRAMS } from '../src/nfs/decode-stage.js';
import { XdrWriter } from './gen/rpc.js';
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

  it(`learns at most ${MAX_CALLBACK_PROGRAMS.toLocaleString('en-US')} callback programs: the announcements beyond are counted, with one warning`, () => {
    /** An NFSv4.0 SETCLIENTID announcing `program` (call frame `n`). */
    const setclientid = (program: number, n: number): Transaction => {
      const args = new XdrWriter().string('').u32(0).u32(1).u32(35).fixed(Buffer.alloc(8, 1)).string('client-id').u32(program).string('tcp').string('192.0.2.10.3.2').u32(1).bytes();
      const t = transaction(1);
      const at = { ...frame, number: n };
      return { ...t, version: 4, call: { ...t.call, firstFrame: at, frame: at, lastFrame: at, body: { length: args.length, head: args, tail: Buffer.alloc(0), tailOffset: args.length, missing: 0 } } };
    };
    const diagnostics: Diagnostic[] = [];
    const stage = new DecodeStage({ report: (d) => diagnostics.push(d) }, () => 'x.pcap');
    for (let i = 0; i < MAX_CALLBACK_PROGRAMS + 6; i++) stage.unanswered(setclientid(0x40000000 + i, 100 + i));
    // Known already: learnt, not counted.
    stage.unanswered(setclientid(0x40000000, 5000));
    expect(stage.callbackPrograms.size).toBe(1024);
    expect(stage.callbackAnnouncementsNotLearned).toBe(6);
    expect([stage.isCallbackProgram(0x40000000 + 1023), stage.isCallbackProgram(0x40000000 + 1024)]).toEqual([true, false]);
    expect(diagnostics).toEqual([
      {
        severity: 'warning',
        code: 'callback-programs-limit',
        file: 'x.pcap',
        frame: 100 + 1024,
        message:
          "NFSv4 clients announced more than 1,024 callback programs: those announced from here on are not learnt (the server's calls to them are not decoded as callbacks), counted in the report's rpc.callbackAnnouncementsNotLearned",
      },
    ]);
    expect(MAX_CALLBACK_PROGRAMS).toBe(1024);
  });
});
