/** Finds the decoder of a program and version. */
import type { ProgramDecoder } from './decoded.js';
import { PROG_NFS4_CB_DEFAULT } from './programs.js';
import { sideDecoders } from './registry-side.js';
import { v3Decoders } from './registry-v3.js';
import { nfs4CallbackDecoder, v4Decoders } from './registry-v4.js';

/** Decoders by program, then version (numbers: no key string per call). */
const BY_PROGRAM = new Map<number, Map<number, ProgramDecoder>>();
for (const d of [...v3Decoders, ...sideDecoders, ...v4Decoders]) {
  let byVersion = BY_PROGRAM.get(d.program);
  if (byVersion === undefined) BY_PROGRAM.set(d.program, (byVersion = new Map()));
  for (const v of d.versions) byVersion.set(v, d);
}

/**
 * The decoder for calls of `program` version `version`; `isCallback` when the
 * program is an NFSv4 client's announced callback program. The first
 * transient program number (0x40000000, the Linux client's choice) is taken
 * for the callback program even unannounced, as Wireshark does.
 */
export function decoderFor(program: number, version: number, isCallback: boolean): ProgramDecoder | undefined {
  if (isCallback || program === PROG_NFS4_CB_DEFAULT) return nfs4CallbackDecoder;
  return BY_PROGRAM.get(program)?.get(version);
}
