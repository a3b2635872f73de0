/** The detectors of the capture itself, for the detector set. */
import { CaptureQualityDetector } from './capture-quality.js';
import type { Detector, DetectorContext, DetectorOptions } from './finding.js';

export function captureDetectors(ctx: DetectorContext, options: DetectorOptions): Detector[] {
  return [new CaptureQualityDetector(ctx, options)];
}
