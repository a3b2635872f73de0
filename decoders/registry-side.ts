/** Decoders of NFS's side protocols (MOUNT, NLM, NSM, portmap / rpcbind, NFS_ACL), for the registry. */
import type { ProgramDecoder } from './decoded.js';
import { mountDecoder } from './mount.js';
import { nfsAclDecoder } from './nfsacl.js';
import { nlmDecoder } from './nlm.js';
import { nsmDecoder } from './nsm.js';
import { portmapDecoder } from './portmap.js';

export const sideDecoders: readonly ProgramDecoder[] = [mountDecoder, nlmDecoder, nsmDecoder, portmapDecoder, nfsAclDecoder];
