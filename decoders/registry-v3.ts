/** Decoders of NFSv2 and NFSv3, for the registry. */
import type { ProgramDecoder } from './decoded.js';

export const v3Decoders: readonly ProgramDecoder[] = [];
