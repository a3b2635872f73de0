/** Decoders of NFSv4 (COMPOUND, minor versions 0-2) and its callback program, for the registry. */
import type { ProgramDecoder } from './decoded.js';
import { nfs4Decoder } from './nfs4.js';
import { nfs4CbDecoder } from './nfs4-cb.js';

export const v4Decoders: readonly ProgramDecoder[] = [nfs4Decoder];

/** The NFSv4 callback program's decoder (CB_NULL, CB_COMPOUND), whatever number the client chose. */
export const nfs4CallbackDecoder: ProgramDecoder | undefined = nfs4CbDecoder;
