/**
 * nlm-denied: byte-range locks the server's lock manager (NLM, program
 * 100021) refused, in synchronous replies (TEST, LOCK, CANCEL, UNLOCK,
 * SHARE, NM_LOCK) and in the asynchronous results (the *_RES calls the
 * server sends back): DENIED (another owner holds a conflicting lock; TEST
 * names the holder), DENIED_NOLOCKS (the server is out of lock resources),
 * DEADLCK, FBIG, ROFS, STALE_FH, FAILED. The grace period's
 * DENIED_GRACE_PERIOD is grace-period's. One finding per client, server
 * and status. Info when only TESTs were denied (a probe, not a failure);
 * error for NOLOCKS and FAILED; else warning.
 *
 * Options: nlmDeniedMaxGroups (MAX_GROUPS): groups (client, server, status,
 * test or lock) followed at most; beyond, the least recently seen is
 * forgotten and its denials counted in the last finding's
 * `denialsNotReported`.
 */
import type { Transaction } from '../rpc/transaction.js';
import { formatEndpoint } from '../transport/stream.js';
import { fileLabel, type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { noteNotReported, RecentGroups } from './recent-groups.js';
import { addRefusal, newRefusals, type Refusals, spanOf, tally } from './service-common.js';
import { cleanMetrics, listText, sentences, timesText } from './wording.js';
import { DEFAULT_ENTITY_BOUND, entityBoundOf } from '../memory/entity-bound.js';

const PROG_NLM = 100021;
const NLM_TEST = 1;
const NLM_TEST_RES = 11;
const NLM_GRANTED_RES = 15;
/**
 * Groups followed at most. A capture of 100,000 clients each denied one
 * lock held 100,000 groups here (559 MB of peak RSS, docs/memory.md).
 */
export const MAX_GROUPS = DEFAULT_ENTITY_BOUND;

interface Denials {
  g: Refusals;
  /** Denied TESTs (a probe), not LOCKs. */
  test: boolean;
}

/** Denial statuses (both the NLM4 and the version 1-3 names) and what they mean. */
const MEANING: Record<string, string> = {
  DENIED: 'another owner holds a conflicting lock on the range',
  DENIED_NOLOCKS: 'the server ran out of lock resources',
  DEADLCK: 'granting the lock would deadlock',
  FBIG: 'the range is beyond what the server supports',
  ROFS: 'the file system is read-only',
  STALE_FH: 'the file handle is stale',
  FAILED: 'the lock manager failed',
};

function baseStatus(s: string): string {
  return s.replace(/^NLM4_/, '').replace(/^LCK_/, '');
}

export class NlmDeniedDetector implements Detector {
  readonly kind = 'nlm-denied';
  /** Groups by key (beyond the cap, the denials of those forgotten in `notReported`). */
  private readonly groups: RecentGroups<Denials>;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.groups = new RecentGroups(options['nlmDeniedMaxGroups'] ?? entityBoundOf(options), (d) => d.g.count);
  }

  onTransaction(t: Transaction): void {
    this.look(t);
  }

  onUnanswered(t: Transaction): void {
    // The asynchronous results may get no RPC reply at all (over UDP).
    if (t.procedure >= NLM_TEST_RES && t.procedure <= NLM_GRANTED_RES) this.look(t);
  }

  private look(t: Transaction): void {
    if (t.program !== PROG_NLM) return;
    const async = t.procedure >= NLM_TEST_RES && t.procedure <= NLM_GRANTED_RES;
    const status = async ? ((t.decoded?.call?.args as { status?: unknown } | undefined)?.status) : t.decoded?.reply?.status;
    if (typeof status !== 'string' || MEANING[baseStatus(status)] === undefined) return;
    const at = async ? t.call.frame : t.reply?.frame;
    if (at === undefined) return;
    // A *_RES call goes from the server back to the client that asked.
    const client = async ? t.server.addr : t.client.addr;
    const server = async ? t.client.addr : formatEndpoint(t.server);
    const fh = t.decoded?.call?.fh;
    const file = fh !== undefined ? fileLabel(this.ctx, fh) : '';
    const op = t.decoded?.call?.mainOp ?? 'NLM';
    const test = t.procedure === NLM_TEST || t.procedure === NLM_TEST_RES;
    // A denied TEST is a probe, a denied LOCK a failure: two incidents.
    const key = `${client}|${server}|${baseStatus(status)}|${test ? 'test' : 'lock'}`;
    const d = this.groups.group(key, () => ({ g: newRefusals(client, server, at), test }));
    const holder = (t.decoded?.reply?.results as { holder?: { svid?: unknown; offset?: unknown; length?: unknown } } | undefined)?.holder ?? (t.decoded?.call?.args as { holder?: { svid?: unknown } } | undefined)?.holder;
    const held = holder !== undefined && holder.svid !== undefined ? ` (held by svid ${String(holder.svid)})` : '';
    addRefusal(d.g, file, status, at, `${op}${fh !== undefined ? ` ${file}` : ''} → ${status}${held}`);
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ denialsNotReported: this.groups.notReported });
  }

  finish(): Finding[] {
    const out: Finding[] = [];
    for (const { g, test: tests } of this.groups.inOrder()) {
      const status = [...g.statuses.keys()][0]!;
      const base = baseStatus(status);
      const files = [...g.subjects.keys()].filter((x) => x !== '');
      const f: Finding = {
        kind: this.kind,
        severity: tests ? 'info' : base === 'DENIED_NOLOCKS' || base === 'FAILED' ? 'error' : 'warning',
        title: `${tests ? 'Lock test' : 'Lock'} denied ${timesText(g.count)} by ${g.server} (${status})${files.length > 0 ? ` on ${listText(files, 2)}` : ''}`,
        explanation: sentences(
          `the lock manager refused ${g.client}'s ${tests ? 'lock tests' : 'lock requests'}: ${MEANING[base]}`,
          base === 'DENIED' ? 'applications saw EAGAIN or waited; find the holder among the other clients of the file' : 'applications saw their lock calls fail',
        ),
        client: g.client,
        server: g.server,
        ...spanOf(this.ctx, g),
        count: g.count,
        metrics: cleanMetrics({ denials: g.count, status, files: tally(new Map([...g.subjects].filter(([k]) => k !== ''))) }),
        impact: { blockedSeconds: 0, calls: g.count },
      };
      if (files.length === 1) f.file = files[0]!;
      out.push(f);
    }
    return noteNotReported(out, 'denialsNotReported', this.groups.notReported);
  }
}
