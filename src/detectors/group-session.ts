/** The session detectors, for the detector set. */
import type { Detector, DetectorContext, DetectorOptions } from './finding.js';

export function sessionDetectors(_ctx: DetectorContext, _options: DetectorOptions): Detector[] {
  return [];
}
