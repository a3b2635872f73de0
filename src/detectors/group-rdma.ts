/** The NFS-over-RDMA detectors, for the detector set. */
import type { Detector, DetectorContext, DetectorOptions } from './finding.js';
import { RdmaConnectionDetector } from './rdma-connection.js';
import { RdmaCreditsDetector } from './rdma-credits.js';
import { RdmaErrorDetector } from './rdma-error.js';
import { RdmaTransportDetector } from './rdma-transport.js';

export function rdmaDetectors(ctx: DetectorContext, options: DetectorOptions): Detector[] {
  return [new RdmaConnectionDetector(ctx), new RdmaErrorDetector(ctx), new RdmaTransportDetector(ctx, options), new RdmaCreditsDetector(ctx, options)];
}
