/**
 * Decodes each transaction's arguments and results with its program's
 * decoder (while the message bodies are still there), then hands the
 * transaction on. It also learns the NFSv4 callback programs clients
 * announce, so that the server's calls to them are decoded and named: at
 * most MAX_CALLBACK_PROGRAMS of them, the first announced (a program learnt
 * stays learnt, so that its calls are named alike throughout the report);
 * the announcements beyond are counted, with one warning.
 */
import { announcedCallbackProgram, mayAnnounceCallback } from '../../decoders/nfs4-callback.js';
import { PROG_NFS } from '../../decoders/programs.js';
import { decoderFor } from '../../decoders/registry.js';
import type { DecodedCall, DecodedReply } from '../../decoders/decoded.js';
import { XdrReader } from '../../decoders/xdr.js';
import type { DiagnosticSink } from '../capture/frame.js';
import type { OrphanReply, Transaction, TransactionSink } from '../rpc/transaction.js';

const NFSPROC4_COMPOUND = 1;
/**
 * Callback programs learnt at most. Clients announce one each (Linux the
 * same, 0x40000000, for all), so a capture has a few; without a cap a
 * stream of announcements, each of another number, grew the set with it.
 */
export const MAX_CALLBACK_PROGRAMS = 1024;

export class DecodeStage implements TransactionSink {
  /** Callback program numbers NFSv4 clients announced (SETCLIENTID, CREATE_SESSION). */
  readonly callbackPrograms = new Set<number>();
  /** Announcements of a program not learnt: MAX_CALLBACK_PROGRAMS were already. */
  callbackAnnouncementsNotLearned = 0;
  /** Transactions whose call or reply a decoder handled. */
  decodedCalls = 0;
  decodedReplies = 0;

  /** Decoder failures (a decoder threw: a bug in nfsight, not in the capture); the transaction goes on undecoded. */
  decoderFailures = 0;
  /** Where decoded transactions go, in order. */
  readonly next: TransactionSink[] = [];

  constructor(
    private readonly diag?: DiagnosticSink,
    private readonly fileName: (fileIndex: number) => string = () => '?',
    /** Finds a program's decoder (the registry; tests substitute their own). */
    private readonly lookup: typeof decoderFor = decoderFor,
    /**
     * Whether whoever reads the transactions reads only the replies'
     * summary fields (status, byte counts, handles, stop), not `results`:
     * analyze() without a listener. The decoders may then leave out of
     * `results` what is costly to build (decoders/xdr.ts `summaryOnly`).
     */
    private readonly summaryOnly = false,
  ) {}

  isCallbackProgram(program: number): boolean {
    return this.callbackPrograms.has(program);
  }

  transaction(t: Transaction): void {
    this.decode(t);
    for (const n of this.next) n.transaction(t);
  }

  unanswered(t: Transaction): void {
    this.decode(t);
    for (const n of this.next) n.unanswered(t);
  }

  orphanReply(r: OrphanReply): void {
    for (const n of this.next) n.orphanReply(r);
  }

  private decode(t: Transaction): void {
    try {
      this.decodeBodies(t);
    } catch (err) {
      // Decoders never throw by design; if one does, the transaction still counts and is timed.
      t.decoded = undefined;
      if (this.decoderFailures++ === 0) {
        this.warn(t, 'decoder-failure', `internal decoder error on program ${t.program} v${t.version} procedure ${t.procedure}: ${String(err)}; the transaction is kept undecoded (further failures are only counted)`);
      }
    }
  }

  /** A warning at the transaction's call frame. */
  private warn(t: Transaction, code: string, message: string): void {
    this.diag?.report({ severity: 'warning', code, file: this.fileName(t.call.frame.fileIndex), frame: t.call.frame.number, message });
  }

  private decodeBodies(t: Transaction): void {
    const isCallback = this.callbackPrograms.has(t.program);
    let decoder = this.lookup(t.program, t.version, isCallback);
    let call = decoder !== undefined && t.call.bodyOffset >= 0 ? decoder.decodeCall(new XdrReader(t.call.body, t.call.bodyOffset), t.version, t.procedure) : undefined;
    // Learnt after decoding the call (its ops tell whether it can announce
    // one) and so as if before: a call announcing its own program is decoded
    // again as the callback program's.
    if (this.learnCallbackProgram(t, isCallback ? undefined : call) && !isCallback && this.callbackPrograms.has(t.program)) {
      decoder = this.lookup(t.program, t.version, true);
      call = decoder !== undefined && t.call.bodyOffset >= 0 ? decoder.decodeCall(new XdrReader(t.call.body, t.call.bodyOffset), t.version, t.procedure) : undefined;
    }
    if (decoder === undefined) return;
    if (call !== undefined) this.decodedCalls++;
    let reply: DecodedReply | undefined;
    if (t.reply !== undefined && t.reply.bodyOffset >= 0) {
      const r = new XdrReader(t.reply.body, t.reply.bodyOffset);
      r.summaryOnly = this.summaryOnly;
      reply = decoder.decodeReply(r, t.version, t.procedure, call);
    }
    if (reply !== undefined) this.decodedReplies++;
    t.decoded = { call, reply };
  }

  /**
   * Learns the callback program an NFSv4 client announces, to decode and
   * name the server's calls to it; true when it learnt one. `call` is the
   * call decoded by the NFSv4 decoder (its ops: only a call with an
   * announcing op among the first ones announcedCallbackProgram walks is
   * read again), or undefined (read again).
   */
  private learnCallbackProgram(t: Transaction, call: DecodedCall | undefined): boolean {
    if (t.program !== PROG_NFS || t.version !== 4 || t.procedure !== NFSPROC4_COMPOUND || t.call.bodyOffset < 0) return false;
    if (call !== undefined && call.minorVersion !== undefined && !mayAnnounceCallback(call.ops)) return false;
    const program = announcedCallbackProgram(new XdrReader(t.call.body, t.call.bodyOffset));
    // Program 0: the client offers no callback (libnfs does so).
    if (program === undefined || program === 0 || this.callbackPrograms.has(program)) return false;
    if (this.callbackPrograms.size >= MAX_CALLBACK_PROGRAMS) {
      if (this.callbackAnnouncementsNotLearned++ === 0) {
        this.warn(
          t,
          'callback-programs-limit',
          `NFSv4 clients announced more than ${MAX_CALLBACK_PROGRAMS.toLocaleString('en-US')} callback programs: those announced from here on are not learnt (the server's calls to them are not decoded as callbacks), counted in the report's rpc.callbackAnnouncementsNotLearned`,
        );
      }
      return false;
    }
    this.callbackPrograms.add(program);
    return true;
  }
}
