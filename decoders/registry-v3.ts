/** Decoders of NFSv2 and NFSv3, for the registry. */
import type { ProgramDecoder } from './decoded.js';
import { nfs3Decoder } from './nfs3.js';

export const v3Decoders: readonly ProgramDecoder[] = [nfs3Decoder];
