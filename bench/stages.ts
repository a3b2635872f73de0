/**
 * The per-stage breakdown of `npm run bench`: a V8 CPU profile of one run
 * (`--cpu-prof`) with each sample's self time given to the pipeline stage
 * its function's source file belongs to. Sampling attributes a function
 * inlined into another to its own source position, so the stages hold
 * whatever inlining V8 did.
 */

export const STAGES = ['read', 'link/IP', 'TCP', 'RPC', 'decode', 'analyses', 'GC', 'other'] as const;
export type Stage = (typeof STAGES)[number];
export type StageShares = Record<Stage, number>;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The stage of a function, by its source (a dist/ path, a node: module, or a native name). */
export function stageOf(url: string, functionName: string): Stage | undefined {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return undefined;
  const m = /\/dist\/(.*)$/.exec(url);
  if (m === null) {
    // File reads done by the capture source: the native calls and Node's fs.
    if (url === '' && /^(read|open|fstat|close|FSReqCallback)/.test(functionName)) return 'read';
    if (/^node:(fs|internal\/fs)/.test(url)) return 'read';
    return 'other';
  }
  const path = m[1]!;
  if (path.startsWith('src/capture/')) return 'read';
  if (path.startsWith('src/net/')) return 'link/IP';
  if (path.startsWith('src/transport/')) return 'TCP';
  if (path.startsWith('src/rpc/')) return 'RPC';
  if (path.startsWith('decoders/') || path === 'src/nfs/decode-stage.js') return 'decode';
  if (/^src\/(analysis|detectors|nfs|report)\//.test(path)) return 'analyses';
  return 'other';
}

/** Shares (0..1) of the profile's busy time per stage; idle time is left out. */
export function stageBreakdown(profile: CpuProfile): StageShares {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const shares = Object.fromEntries(STAGES.map((s) => [s, 0])) as StageShares;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const dt = profile.timeDeltas[i] ?? 0;
    if (node === undefined) continue;
    const stage = stageOf(node.callFrame.url, node.callFrame.functionName);
    if (stage === undefined) continue;
    shares[stage] += dt;
    total += dt;
  }
  if (total > 0) for (const s of STAGES) shares[s] /= total;
  return shares;
}
