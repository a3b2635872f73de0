/** Decoders of NFS's side protocols (MOUNT, NLM, NSM, portmap / rpcbind, NFS_ACL), for the registry. */
import type { ProgramDecoder } from './decoded.js';

export const sideDecoders: readonly ProgramDecoder[] = [];
