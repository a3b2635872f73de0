/** The session detectors, for the detector set. */
import type { Detector, DetectorContext, DetectorOptions } from './finding.js';
import { SessionRecoveryLoopDetector } from './session-recovery-loop.js';
import { SessionSlotsDetector } from './session-slots.js';
import { StateErrorsDetector } from './state-errors.js';

export function sessionDetectors(ctx: DetectorContext, options: DetectorOptions): Detector[] {
  return [new SessionRecoveryLoopDetector(ctx, options), new SessionSlotsDetector(ctx, options), new StateErrorsDetector(ctx, options)];
}
