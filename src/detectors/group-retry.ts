/** The retry detectors, for the detector set. */
import { DelayBackoffDetector } from './delay-backoff.js';
import type { Detector, DetectorContext, DetectorOptions } from './finding.js';
import { GracePeriodDetector } from './grace-period.js';
import { RpcErrorsDetector } from './rpc-errors.js';
import { SlowOpsDetector } from './slow-ops.js';

export function retryDetectors(ctx: DetectorContext, options: DetectorOptions): Detector[] {
  return [new GracePeriodDetector(ctx, options), new DelayBackoffDetector(ctx, options), new SlowOpsDetector(ctx, options), new RpcErrorsDetector(ctx, options)];
}
