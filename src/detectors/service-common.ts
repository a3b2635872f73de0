/**
 * What the side-protocol detectors (mount-errors, portmap-unregistered,
 * nlm-denied) share: refusals grouped per client and server, each refusal
 * with its frame, and the sets of paths, programs or statuses involved —
 * bounded by constants.
 */
import { snapshotFrameRef, type FrameRef } from '../capture/frame.js';
import { formatFrameTime } from '../report/time.js';
import { MAX_EVIDENCE, evidence, type DetectorContext, type EvidenceFrame } from './finding.js';
import { GroupBudget } from './group-budget.js';
import { frameCompare, round, secondsFrom } from './transport-common.js';
import { DEFAULT_ENTITY_BOUND } from '../memory/entity-bound.js';

/** Distinct subjects (paths, programs, files) and statuses kept per group. */
const KEEP = 20;

export interface Refusals {
  client: string;
  server: string;
  count: number;
  first: FrameRef;
  last: FrameRef;
  /** Subject → how often (paths, programs…), at most KEEP. */
  subjects: Map<string, number>;
  statuses: Map<string, number>;
  frames: { at: FrameRef; what: string }[];
  lastFrame: { at: FrameRef; what: string } | undefined;
}

/** A group with no refusal yet, first seen at `at`. */
export function newRefusals(client: string, server: string, at: FrameRef): Refusals {
  return { client, server, count: 0, first: snapshotFrameRef(at), last: snapshotFrameRef(at), subjects: new Map(), statuses: new Map(), frames: [], lastFrame: undefined };
}

/** Counts one refusal in its group. */
export function addRefusal(g: Refusals, subject: string, status: string, at: FrameRef, what: string): void {
  g.count++;
  if (frameCompare(at, g.last) > 0) g.last = snapshotFrameRef(at);
  if (g.subjects.has(subject) || g.subjects.size < KEEP) g.subjects.set(subject, (g.subjects.get(subject) ?? 0) + 1);
  if (g.statuses.has(status) || g.statuses.size < KEEP) g.statuses.set(status, (g.statuses.get(status) ?? 0) + 1);
  const item = { at: snapshotFrameRef(at), what };
  if (g.frames.length < MAX_EVIDENCE - 1) g.frames.push(item);
  else g.lastFrame = item;
}

/** Refusals per client and server (at most `max` groups: the first; the refusals of others are only counted). */
export class RefusalGroups {
  readonly groups = new Map<string, Refusals>();
  /** Refusals of groups beyond `max`, not kept. */
  notReported = 0;
  constructor(
    private readonly budget: GroupBudget = new GroupBudget(),
    /** The detector's kind, under which the budget counts what it refused. */
    private readonly kind?: string,
    private readonly max = DEFAULT_ENTITY_BOUND,
  ) {}

  add(client: string, server: string, subject: string, status: string, at: FrameRef, what: string): Refusals | undefined {
    const key = `${client}|${server}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      if (this.groups.size >= this.max || !this.budget.admit(this.groups.size, this.kind)) {
        this.notReported++;
        return undefined;
      }
      g = newRefusals(client, server, at);
      this.groups.set(key, g);
    }
    addRefusal(g, subject, status, at, what);
    return g;
  }
}

/** "A ×2", "B ×1", most frequent first. */
export function tally(m: Map<string, number>): string[] {
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, n]) => `${k} ×${n}`);
}

/** The evidence, the time span and the duration of a group, as every such finding carries them. */
export function spanOf(ctx: DetectorContext, g: Refusals): { start: string; end: string; durationSeconds: number; evidence: EvidenceFrame[] } {
  const frames = g.lastFrame ? [...g.frames, g.lastFrame] : g.frames;
  return {
    start: formatFrameTime(g.first),
    end: formatFrameTime(g.last),
    durationSeconds: round(Math.max(0, secondsFrom(g.first, g.last))),
    evidence: frames.map((f) => evidence(ctx, f.at, f.what, formatFrameTime)),
  };
}
