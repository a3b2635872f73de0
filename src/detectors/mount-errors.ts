/**
 * mount-errors: MOUNT (MNT) requests the server refused (RFC 1813 appendix
 * I: MNT3ERR_ACCES, MNT3ERR_NOENT, MNT3ERR_PERM, …; versions 1 and 2: an
 * errno), one finding per client and server, naming the paths and the
 * statuses. The mount failed: error. No options. At most 10,000 groups
 * (the first); the refusals of others are counted in the last finding's
 * `refusalsNotReported`.
 */
import type { Transaction } from '../rpc/transaction.js';
import { formatEndpoint } from '../transport/stream.js';
import { type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { noteNotReported } from './recent-groups.js';
import { isOkStatus } from './retry-schedule.js';
import { groupBudgetOf } from './group-budget.js';
import { RefusalGroups, spanOf, tally } from './service-common.js';
import { cleanMetrics, listText, plural, sentences, timesText } from './wording.js';
import { entityBoundOf } from '../memory/entity-bound.js';

const PROG_MOUNT = 100005;
const MOUNTPROC_MNT = 1;

/** What each status means to whoever mounts. */
const MEANING: Record<string, string> = {
  MNT3ERR_ACCES: 'the path is not exported, or not to this client (check the server’s exports and the client’s address or netgroup)',
  MNT3ERR_PERM: 'the client is not allowed to mount it (an unprivileged source port, or root squashing rules)',
  MNT3ERR_NOENT: 'the path does not exist on the server',
  MNT3ERR_NOTDIR: 'the path is not a directory',
  MNT3ERR_INVAL: 'the request was invalid',
  MNT3ERR_NAMETOOLONG: 'the path is too long',
  MNT3ERR_NOTSUPP: 'the operation is not supported',
  MNT3ERR_SERVERFAULT: 'the server failed internally',
  MNT3ERR_IO: 'the server met an I/O error',
};

export class MountErrorsDetector implements Detector {
  readonly kind = 'mount-errors';
  private readonly groups: RefusalGroups;

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.groups = new RefusalGroups(groupBudgetOf(ctx), this.kind, entityBoundOf(options));
  }

  onTransaction(t: Transaction): void {
    if (t.program !== PROG_MOUNT || t.procedure !== MOUNTPROC_MNT || t.reply === undefined) return;
    const status = t.decoded?.reply?.status;
    if (status === undefined || status === null || status === 'UNKNOWN' || isOkStatus(status)) return;
    const path = t.decoded?.call?.names?.[0] ?? '(path not captured)';
    this.groups.add(t.client.addr, formatEndpoint(t.server), path, status, t.reply.frame, `MNT ${path} → ${status}`);
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ refusalsNotReported: this.groups.notReported });
  }

  finish(): Finding[] {
    const out = [...this.groups.groups.values()].map((g): Finding => {
      const paths = [...g.subjects.keys()];
      const statuses = [...g.statuses.keys()];
      const meaning = statuses.map((s) => MEANING[s]).filter((x): x is string => x !== undefined);
      return {
        kind: this.kind,
        severity: 'error',
        title: `Mount of ${listText(paths, 3)} refused by ${g.server} (${tally(g.statuses).join(', ')})`,
        explanation: sentences(
          `${g.client} asked ${timesText(g.count)} to mount ${paths.length === 1 ? paths[0] : plural(paths.length, 'path')} and the server refused with ${listText(statuses)}`,
          meaning.length > 0 ? `${meaning[0]}` : 'the mount failed',
        ),
        client: g.client,
        server: g.server,
        ...spanOf(this.ctx, g),
        count: g.count,
        metrics: cleanMetrics({ refusals: g.count, paths: tally(g.subjects), statuses: tally(g.statuses) }),
        impact: { blockedSeconds: 0, calls: g.count },
      };
    });
    return noteNotReported(out, 'refusalsNotReported', this.groups.notReported);
  }
}
