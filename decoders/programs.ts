/**
 * ONC RPC program numbers nfsight knows, with the names Wireshark shows and
 * the versions that exist, and their procedure names.
 */
export const PROG_PORTMAP = 100000;
export const PROG_NFS = 100003;
export const PROG_MOUNT = 100005;
export const PROG_RQUOTA = 100011;
export const PROG_NLM = 100021;
export const PROG_NSM = 100024;
export const PROG_NFS_ACL = 100227;
/** The NFSv4 callback program's default number (clients announce their own in SETCLIENTID / CREATE_SESSION). */
export const PROG_NFS4_CB_DEFAULT = 0x40000000;

export interface ProgramInfo {
  number: number;
  name: string;
  /** Versions that exist. */
  versions: readonly number[];
}

const PROGRAMS: readonly ProgramInfo[] = [
  { number: PROG_PORTMAP, name: 'portmapper', versions: [2, 3, 4] },
  { number: PROG_NFS, name: 'NFS', versions: [2, 3, 4] },
  { number: PROG_MOUNT, name: 'MOUNT', versions: [1, 2, 3] },
  { number: PROG_RQUOTA, name: 'RQUOTA', versions: [1, 2] },
  { number: PROG_NLM, name: 'NLM', versions: [1, 2, 3, 4] },
  { number: PROG_NSM, name: 'STAT', versions: [1] },
  { number: PROG_NFS_ACL, name: 'NFSACL', versions: [2, 3] },
];

const BY_NUMBER = new Map(PROGRAMS.map((p) => [p.number, p]));

export function programInfo(program: number): ProgramInfo | undefined {
  return BY_NUMBER.get(program);
}

/** A program nfsight knows by number (the callback program is recognised separately, per client). */
export function isKnownProgram(program: number): boolean {
  return BY_NUMBER.has(program);
}

/** The program's name; `isCallback` for a number an NFSv4 client announced as its callback program. */
export function programName(program: number, isCallback = false): string {
  if (isCallback || program === PROG_NFS4_CB_DEFAULT) return 'NFS_CB';
  return BY_NUMBER.get(program)?.name ?? String(program);
}

const NFS2_PROCS = ['NULL', 'GETATTR', 'SETATTR', 'ROOT', 'LOOKUP', 'READLINK', 'READ', 'WRITECACHE', 'WRITE', 'CREATE', 'REMOVE', 'RENAME', 'LINK', 'SYMLINK', 'MKDIR', 'RMDIR', 'READDIR', 'STATFS'];
const NFS3_PROCS = ['NULL', 'GETATTR', 'SETATTR', 'LOOKUP', 'ACCESS', 'READLINK', 'READ', 'WRITE', 'CREATE', 'MKDIR', 'SYMLINK', 'MKNOD', 'REMOVE', 'RMDIR', 'RENAME', 'LINK', 'READDIR', 'READDIRPLUS', 'FSSTAT', 'FSINFO', 'PATHCONF', 'COMMIT'];
const NFS4_PROCS = ['NULL', 'COMPOUND'];
const MOUNT_PROCS = ['NULL', 'MNT', 'DUMP', 'UMNT', 'UMNTALL', 'EXPORT', 'EXPORTALL', 'PATHCONF'];
const PORTMAP2_PROCS = ['NULL', 'SET', 'UNSET', 'GETPORT', 'DUMP', 'CALLIT'];
const RPCBIND3_PROCS = ['NULL', 'SET', 'UNSET', 'GETADDR', 'DUMP', 'CALLIT', 'GETTIME', 'UADDR2TADDR', 'TADDR2UADDR'];
const RPCBIND4_PROCS = ['NULL', 'SET', 'UNSET', 'GETADDR', 'DUMP', 'BCAST', 'GETTIME', 'UADDR2TADDR', 'TADDR2UADDR', 'GETVERSADDR', 'INDIRECT', 'GETADDRLIST', 'GETSTAT'];
const NLM_PROCS: Record<number, string> = {
  0: 'NULL', 1: 'TEST', 2: 'LOCK', 3: 'CANCEL', 4: 'UNLOCK', 5: 'GRANTED',
  6: 'TEST_MSG', 7: 'LOCK_MSG', 8: 'CANCEL_MSG', 9: 'UNLOCK_MSG', 10: 'GRANTED_MSG',
  11: 'TEST_RES', 12: 'LOCK_RES', 13: 'CANCEL_RES', 14: 'UNLOCK_RES', 15: 'GRANTED_RES',
  20: 'SHARE', 21: 'UNSHARE', 22: 'NM_LOCK', 23: 'FREE_ALL',
};
const NSM_PROCS = ['NULL', 'STAT', 'MON', 'UNMON', 'UNMON_ALL', 'SIMU_CRASH', 'NOTIFY'];
const NFS_ACL2_PROCS = ['NULL', 'GETACL', 'SETACL', 'GETATTR', 'ACCESS', 'GETXATTRDIR'];
const NFS_ACL3_PROCS = ['NULL', 'GETACL', 'SETACL', 'GETXATTRDIR'];
const RQUOTA_PROCS = ['NULL', 'GETQUOTA', 'GETACTIVEQUOTA', 'SETQUOTA', 'SETACTIVEQUOTA'];
const CB_PROCS = ['CB_NULL', 'CB_COMPOUND'];

function procTable(program: number, version: number): readonly string[] | Record<number, string> | undefined {
  switch (program) {
    case PROG_NFS:
      return version === 2 ? NFS2_PROCS : version === 3 ? NFS3_PROCS : version === 4 ? NFS4_PROCS : undefined;
    case PROG_MOUNT:
      // EXPORTALL and PATHCONF exist in versions 1 and 2 only.
      return version === 3 ? MOUNT_PROCS.slice(0, 6) : MOUNT_PROCS;
    case PROG_PORTMAP:
      return version === 2 ? PORTMAP2_PROCS : version === 3 ? RPCBIND3_PROCS : version === 4 ? RPCBIND4_PROCS : undefined;
    case PROG_NLM:
      return NLM_PROCS;
    case PROG_NSM:
      return NSM_PROCS;
    case PROG_NFS_ACL:
      return version === 2 ? NFS_ACL2_PROCS : version === 3 ? NFS_ACL3_PROCS : undefined;
    case PROG_RQUOTA:
      return RQUOTA_PROCS;
    default:
      return undefined;
  }
}

/** Whether procedureName gives the procedure a name (not its number): nfsight knows a few hundred. */
export function isKnownProcedure(program: number, version: number, procedure: number, isCallback = false): boolean {
  const table = isCallback || program === PROG_NFS4_CB_DEFAULT ? CB_PROCS : procTable(program, version);
  return table !== undefined && (Array.isArray(table) ? table[procedure] : (table as Record<number, string>)[procedure]) !== undefined;
}

/**
 * The procedure's name (RFC names, as Wireshark shows them); for an unknown
 * program or procedure, the number as text. `isCallback` names the NFSv4
 * callback program's procedures, whatever number the client chose for it.
 */
export function procedureName(program: number, version: number, procedure: number, isCallback = false): string {
  const table = isCallback || program === PROG_NFS4_CB_DEFAULT ? CB_PROCS : procTable(program, version);
  const name = table === undefined ? undefined : Array.isArray(table) ? table[procedure] : (table as Record<number, string>)[procedure];
  return name ?? String(procedure);
}
