/** The transport detectors, for the detector set. */
import { ConnectionsDetector } from './connections.js';
import { NetworkHealthDetector } from './network-health.js';
import type { Detector, DetectorContext, DetectorOptions } from './finding.js';
import { RpcRetransmissionDetector } from './rpc-retransmission.js';
import { UnansweredCallDetector } from './unanswered-call.js';

export function transportDetectors(ctx: DetectorContext, options: DetectorOptions): Detector[] {
  return [new UnansweredCallDetector(ctx, options), new RpcRetransmissionDetector(ctx, options), new ConnectionsDetector(ctx, options), new NetworkHealthDetector(ctx, options)];
}
