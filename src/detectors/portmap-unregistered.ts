/**
 * portmap-unregistered: rpcbind (portmapper) answering that a program is not
 * registered — GETPORT with port 0 (version 2), GETADDR / GETVERSADDR with
 * an empty address (versions 3, 4) — one finding per client and server,
 * naming each program, version and protocol asked for: mountd (MOUNT),
 * lockd (NLM), statd (NSM), nfsd over TCP, UDP or RDMA. Error when NFS or
 * MOUNT is missing (the mount fails), else warning. No options. At most
 * 10,000 groups (the first); the requests of others are counted in the
 * last finding's `requestsNotReported`.
 */
import { programName } from '../../decoders/programs.js';
import type { Transaction } from '../rpc/transaction.js';
import { formatEndpoint } from '../transport/stream.js';
import { type Detector, type DetectorContext, type DetectorOptions, type Finding, positiveCounts, type NotReportedCounts } from './finding.js';
import { noteNotReported } from './recent-groups.js';
import { groupBudgetOf } from './group-budget.js';
import { RefusalGroups, spanOf, tally } from './service-common.js';
import { cleanMetrics, listText, sentences, timesText } from './wording.js';
import { entityBoundOf } from '../memory/entity-bound.js';

const PROG_PORTMAP = 100000;
const GETPORT = 3;
const GETVERSADDR = 9;
const PROG_NFS = 100003;
const PROG_MOUNT = 100005;

/** The daemon that registers a program. */
const DAEMON: Record<number, string> = { 100003: 'nfsd', 100005: 'mountd', 100021: 'lockd (NLM)', 100024: 'statd (NSM)', 100227: 'nfsd (NFS_ACL)' };

export class PortmapUnregisteredDetector implements Detector {
  readonly kind = 'portmap-unregistered';
  private readonly groups: RefusalGroups;
  private readonly critical = new Set<string>();

  constructor(
    private readonly ctx: DetectorContext,
    options: DetectorOptions = {},
  ) {
    this.groups = new RefusalGroups(groupBudgetOf(ctx), this.kind, entityBoundOf(options));
  }

  onTransaction(t: Transaction): void {
    if (t.program !== PROG_PORTMAP || t.reply === undefined) return;
    if (!(t.procedure === GETPORT || (t.version === 4 && t.procedure === GETVERSADDR))) return;
    const args = t.decoded?.call?.args as { prog?: unknown; vers?: unknown; protocol?: unknown; netid?: unknown } | undefined;
    const results = t.decoded?.reply?.results as { port?: unknown; uaddr?: unknown } | undefined;
    if (args === undefined || results === undefined || typeof args.prog !== 'number') return;
    const missing = t.version === 2 ? results.port === 0 : results.uaddr === '';
    if (!missing) return;
    const transport = typeof args.protocol === 'string' ? args.protocol : typeof args.netid === 'string' ? args.netid : '?';
    const program = `${programName(args.prog)} v${typeof args.vers === 'number' ? args.vers : '?'} over ${transport}`;
    const server = formatEndpoint(t.server);
    const g = this.groups.add(t.client.addr, server, program, DAEMON[args.prog] ?? programName(args.prog), t.reply.frame, `${t.version === 2 ? 'GETPORT' : 'GETADDR'} ${program} → not registered`);
    if (g !== undefined && (args.prog === PROG_NFS || args.prog === PROG_MOUNT)) this.critical.add(`${g.client}|${g.server}`);
  }

  notReported(): NotReportedCounts {
    return positiveCounts({ requestsNotReported: this.groups.notReported });
  }

  finish(): Finding[] {
    const out = [...this.groups.groups.values()].map((g): Finding => {
      const programs = [...g.subjects.keys()];
      const daemons = [...g.statuses.keys()];
      return {
        kind: this.kind,
        severity: this.critical.has(`${g.client}|${g.server}`) ? 'error' : 'warning',
        title: `Not registered with rpcbind on ${g.server}: ${listText(programs, 3)}`,
        explanation: sentences(
          `${g.client} asked ${timesText(g.count)} where ${listText(programs, 3)} ${programs.length === 1 ? 'is' : 'are'} and rpcbind answered port 0: not registered`,
          `on the server, ${listText(daemons)} ${daemons.length === 1 ? 'is' : 'are'} not running, or not for that protocol (check rpcinfo -p there)`,
        ),
        client: g.client,
        server: g.server,
        ...spanOf(this.ctx, g),
        count: g.count,
        metrics: cleanMetrics({ requests: g.count, programs: tally(g.subjects), daemons }),
        impact: { blockedSeconds: 0, calls: g.count },
      };
    });
    return noteNotReported(out, 'requestsNotReported', this.groups.notReported);
  }
}
