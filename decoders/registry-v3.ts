/**
 * Decoders of NFSv2/v3 and its side protocols (MOUNT, NLM, NSM, portmap /
 * rpcbind, NFS_ACL), for the registry.
 */
import type { ProgramDecoder } from './decoded.js';

export const v3Decoders: readonly ProgramDecoder[] = [];
