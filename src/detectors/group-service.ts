/** The detectors of NFS's side protocols (MOUNT, rpcbind, NLM), for the detector set. */
import type { Detector, DetectorContext, DetectorOptions } from './finding.js';
import { MountErrorsDetector } from './mount-errors.js';
import { NlmDeniedDetector } from './nlm-denied.js';
import { PortmapUnregisteredDetector } from './portmap-unregistered.js';

export function serviceDetectors(ctx: DetectorContext, options: DetectorOptions = {}): Detector[] {
  return [new MountErrorsDetector(ctx, options), new PortmapUnregisteredDetector(ctx, options), new NlmDeniedDetector(ctx, options)];
}
