/**
 * Names of status codes, NFSv4 operations and procedures, written by hand
 * from the RFCs, for the tests: what nfsight's names are checked against
 * (never nfsight's own tables, whose mistakes a comparison with themselves
 * cannot see). test/names.test.ts checks these tables against tshark's value
 * strings (test/reference/tshark-names.json); where tshark 4.0.17 names a
 * code otherwise, TSHARK_DIFFERS below says which and on what authority.
 */

/** nfsstat3: RFC 1813 §2.6. */
export const NFSSTAT3: Readonly<Record<number, string>> = {
  0: 'NFS3_OK',
  1: 'NFS3ERR_PERM',
  2: 'NFS3ERR_NOENT',
  5: 'NFS3ERR_IO',
  6: 'NFS3ERR_NXIO',
  13: 'NFS3ERR_ACCES',
  17: 'NFS3ERR_EXIST',
  18: 'NFS3ERR_XDEV',
  19: 'NFS3ERR_NODEV',
  20: 'NFS3ERR_NOTDIR',
  21: 'NFS3ERR_ISDIR',
  22: 'NFS3ERR_INVAL',
  27: 'NFS3ERR_FBIG',
  28: 'NFS3ERR_NOSPC',
  30: 'NFS3ERR_ROFS',
  31: 'NFS3ERR_MLINK',
  63: 'NFS3ERR_NAMETOOLONG',
  66: 'NFS3ERR_NOTEMPTY',
  69: 'NFS3ERR_DQUOT',
  70: 'NFS3ERR_STALE',
  71: 'NFS3ERR_REMOTE',
  10001: 'NFS3ERR_BADHANDLE',
  10002: 'NFS3ERR_NOT_SYNC',
  10003: 'NFS3ERR_BAD_COOKIE',
  10004: 'NFS3ERR_NOTSUPP',
  10005: 'NFS3ERR_TOOSMALL',
  10006: 'NFS3ERR_SERVERFAULT',
  10007: 'NFS3ERR_BADTYPE',
  10008: 'NFS3ERR_JUKEBOX',
};

/**
 * nfsstat4: RFC 7530 §13.1 (NFSv4.0), RFC 8881 §15.1 (NFSv4.1: 10049 and
 * up, and 10057 NFS4ERR_BACK_CHAN_BUSY; "error 10073 is unused"), RFC 7862
 * §11.1 (NFSv4.2: 10088-10094), RFC 8276 §8.4 (extended attributes:
 * 10095-10096). 19 is not assigned (NFSv3's NODEV has no NFSv4 value).
 */
export const NFSSTAT4: Readonly<Record<number, string>> = {
  0: 'NFS4_OK',
  1: 'NFS4ERR_PERM',
  2: 'NFS4ERR_NOENT',
  5: 'NFS4ERR_IO',
  6: 'NFS4ERR_NXIO',
  13: 'NFS4ERR_ACCESS',
  17: 'NFS4ERR_EXIST',
  18: 'NFS4ERR_XDEV',
  20: 'NFS4ERR_NOTDIR',
  21: 'NFS4ERR_ISDIR',
  22: 'NFS4ERR_INVAL',
  27: 'NFS4ERR_FBIG',
  28: 'NFS4ERR_NOSPC',
  30: 'NFS4ERR_ROFS',
  31: 'NFS4ERR_MLINK',
  63: 'NFS4ERR_NAMETOOLONG',
  66: 'NFS4ERR_NOTEMPTY',
  69: 'NFS4ERR_DQUOT',
  70: 'NFS4ERR_STALE',
  10001: 'NFS4ERR_BADHANDLE',
  10003: 'NFS4ERR_BAD_COOKIE',
  10004: 'NFS4ERR_NOTSUPP',
  10005: 'NFS4ERR_TOOSMALL',
  10006: 'NFS4ERR_SERVERFAULT',
  10007: 'NFS4ERR_BADTYPE',
  10008: 'NFS4ERR_DELAY',
  10009: 'NFS4ERR_SAME',
  10010: 'NFS4ERR_DENIED',
  10011: 'NFS4ERR_EXPIRED',
  10012: 'NFS4ERR_LOCKED',
  10013: 'NFS4ERR_GRACE',
  10014: 'NFS4ERR_FHEXPIRED',
  10015: 'NFS4ERR_SHARE_DENIED',
  10016: 'NFS4ERR_WRONGSEC',
  10017: 'NFS4ERR_CLID_INUSE',
  10018: 'NFS4ERR_RESOURCE',
  10019: 'NFS4ERR_MOVED',
  10020: 'NFS4ERR_NOFILEHANDLE',
  10021: 'NFS4ERR_MINOR_VERS_MISMATCH',
  10022: 'NFS4ERR_STALE_CLIENTID',
  10023: 'NFS4ERR_STALE_STATEID',
  10024: 'NFS4ERR_OLD_STATEID',
  10025: 'NFS4ERR_BAD_STATEID',
  10026: 'NFS4ERR_BAD_SEQID',
  10027: 'NFS4ERR_NOT_SAME',
  10028: 'NFS4ERR_LOCK_RANGE',
  10029: 'NFS4ERR_SYMLINK',
  10030: 'NFS4ERR_RESTOREFH',
  10031: 'NFS4ERR_LEASE_MOVED',
  10032: 'NFS4ERR_ATTRNOTSUPP',
  10033: 'NFS4ERR_NO_GRACE',
  10034: 'NFS4ERR_RECLAIM_BAD',
  10035: 'NFS4ERR_RECLAIM_CONFLICT',
  10036: 'NFS4ERR_BADXDR',
  10037: 'NFS4ERR_LOCKS_HELD',
  10038: 'NFS4ERR_OPENMODE',
  10039: 'NFS4ERR_BADOWNER',
  10040: 'NFS4ERR_BADCHAR',
  10041: 'NFS4ERR_BADNAME',
  10042: 'NFS4ERR_BAD_RANGE',
  10043: 'NFS4ERR_LOCK_NOTSUPP',
  10044: 'NFS4ERR_OP_ILLEGAL',
  10045: 'NFS4ERR_DEADLOCK',
  10046: 'NFS4ERR_FILE_OPEN',
  10047: 'NFS4ERR_ADMIN_REVOKED',
  10048: 'NFS4ERR_CB_PATH_DOWN',
  10049: 'NFS4ERR_BADIOMODE',
  10050: 'NFS4ERR_BADLAYOUT',
  10051: 'NFS4ERR_BAD_SESSION_DIGEST',
  10052: 'NFS4ERR_BADSESSION',
  10053: 'NFS4ERR_BADSLOT',
  10054: 'NFS4ERR_COMPLETE_ALREADY',
  10055: 'NFS4ERR_CONN_NOT_BOUND_TO_SESSION',
  10056: 'NFS4ERR_DELEG_ALREADY_WANTED',
  10057: 'NFS4ERR_BACK_CHAN_BUSY',
  10058: 'NFS4ERR_LAYOUTTRYLATER',
  10059: 'NFS4ERR_LAYOUTUNAVAILABLE',
  10060: 'NFS4ERR_NOMATCHING_LAYOUT',
  10061: 'NFS4ERR_RECALLCONFLICT',
  10062: 'NFS4ERR_UNKNOWN_LAYOUTTYPE',
  10063: 'NFS4ERR_SEQ_MISORDERED',
  10064: 'NFS4ERR_SEQUENCE_POS',
  10065: 'NFS4ERR_REQ_TOO_BIG',
  10066: 'NFS4ERR_REP_TOO_BIG',
  10067: 'NFS4ERR_REP_TOO_BIG_TO_CACHE',
  10068: 'NFS4ERR_RETRY_UNCACHED_REP',
  10069: 'NFS4ERR_UNSAFE_COMPOUND',
  10070: 'NFS4ERR_TOO_MANY_OPS',
  10071: 'NFS4ERR_OP_NOT_IN_SESSION',
  10072: 'NFS4ERR_HASH_ALG_UNSUPP',
  10074: 'NFS4ERR_CLIENTID_BUSY',
  10075: 'NFS4ERR_PNFS_IO_HOLE',
  10076: 'NFS4ERR_SEQ_FALSE_RETRY',
  10077: 'NFS4ERR_BAD_HIGH_SLOT',
  10078: 'NFS4ERR_DEADSESSION',
  10079: 'NFS4ERR_ENCR_ALG_UNSUPP',
  10080: 'NFS4ERR_PNFS_NO_LAYOUT',
  10081: 'NFS4ERR_NOT_ONLY_OP',
  10082: 'NFS4ERR_WRONG_CRED',
  10083: 'NFS4ERR_WRONG_TYPE',
  10084: 'NFS4ERR_DIRDELEG_UNAVAIL',
  10085: 'NFS4ERR_REJECT_DELEG',
  10086: 'NFS4ERR_RETURNCONFLICT',
  10087: 'NFS4ERR_DELEG_REVOKED',
  10088: 'NFS4ERR_PARTNER_NOTSUPP',
  10089: 'NFS4ERR_PARTNER_NO_AUTH',
  10090: 'NFS4ERR_UNION_NOTSUPP',
  10091: 'NFS4ERR_OFFLOAD_DENIED',
  10092: 'NFS4ERR_WRONG_LFS',
  10093: 'NFS4ERR_BADLABEL',
  10094: 'NFS4ERR_OFFLOAD_NO_REQS',
  10095: 'NFS4ERR_NOXATTR',
  10096: 'NFS4ERR_XATTR2BIG',
};

/** nfs_opnum4: RFC 7530 §16 (3-39, 10044), RFC 8881 §18 (40-58), RFC 7862 §15 (59-71), RFC 8276 §8 (72-75). */
export const NFS_OPNUM4: Readonly<Record<number, string>> = {
  3: 'ACCESS',
  4: 'CLOSE',
  5: 'COMMIT',
  6: 'CREATE',
  7: 'DELEGPURGE',
  8: 'DELEGRETURN',
  9: 'GETATTR',
  10: 'GETFH',
  11: 'LINK',
  12: 'LOCK',
  13: 'LOCKT',
  14: 'LOCKU',
  15: 'LOOKUP',
  16: 'LOOKUPP',
  17: 'NVERIFY',
  18: 'OPEN',
  19: 'OPENATTR',
  20: 'OPEN_CONFIRM',
  21: 'OPEN_DOWNGRADE',
  22: 'PUTFH',
  23: 'PUTPUBFH',
  24: 'PUTROOTFH',
  25: 'READ',
  26: 'READDIR',
  27: 'READLINK',
  28: 'REMOVE',
  29: 'RENAME',
  30: 'RENEW',
  31: 'RESTOREFH',
  32: 'SAVEFH',
  33: 'SECINFO',
  34: 'SETATTR',
  35: 'SETCLIENTID',
  36: 'SETCLIENTID_CONFIRM',
  37: 'VERIFY',
  38: 'WRITE',
  39: 'RELEASE_LOCKOWNER',
  40: 'BACKCHANNEL_CTL',
  41: 'BIND_CONN_TO_SESSION',
  42: 'EXCHANGE_ID',
  43: 'CREATE_SESSION',
  44: 'DESTROY_SESSION',
  45: 'FREE_STATEID',
  46: 'GET_DIR_DELEGATION',
  47: 'GETDEVICEINFO',
  48: 'GETDEVICELIST',
  49: 'LAYOUTCOMMIT',
  50: 'LAYOUTGET',
  51: 'LAYOUTRETURN',
  52: 'SECINFO_NO_NAME',
  53: 'SEQUENCE',
  54: 'SET_SSV',
  55: 'TEST_STATEID',
  56: 'WANT_DELEGATION',
  57: 'DESTROY_CLIENTID',
  58: 'RECLAIM_COMPLETE',
  59: 'ALLOCATE',
  60: 'COPY',
  61: 'COPY_NOTIFY',
  62: 'DEALLOCATE',
  63: 'IO_ADVISE',
  64: 'LAYOUTERROR',
  65: 'LAYOUTSTATS',
  66: 'OFFLOAD_CANCEL',
  67: 'OFFLOAD_STATUS',
  68: 'READ_PLUS',
  69: 'SEEK',
  70: 'WRITE_SAME',
  71: 'CLONE',
  72: 'GETXATTR',
  73: 'SETXATTR',
  74: 'LISTXATTRS',
  75: 'REMOVEXATTR',
  10044: 'ILLEGAL',
};

/** nfs_cb_opnum4: RFC 7530 §17 (3, 4, 10044), RFC 8881 §20 (5-14), RFC 7862 §16 (15). */
export const NFS_CB_OPNUM4: Readonly<Record<number, string>> = {
  3: 'CB_GETATTR',
  4: 'CB_RECALL',
  5: 'CB_LAYOUTRECALL',
  6: 'CB_NOTIFY',
  7: 'CB_PUSH_DELEG',
  8: 'CB_RECALL_ANY',
  9: 'CB_RECALLABLE_OBJ_AVAIL',
  10: 'CB_RECALL_SLOT',
  11: 'CB_SEQUENCE',
  12: 'CB_WANTS_CANCELLED',
  13: 'CB_NOTIFY_LOCK',
  14: 'CB_NOTIFY_DEVICEID',
  15: 'CB_OFFLOAD',
  10044: 'CB_ILLEGAL',
};

/** mountstat3: RFC 1813 Appendix I (§5.1.5 of the MOUNT protocol). */
export const MOUNTSTAT3: Readonly<Record<number, string>> = {
  0: 'MNT3_OK',
  1: 'MNT3ERR_PERM',
  2: 'MNT3ERR_NOENT',
  5: 'MNT3ERR_IO',
  13: 'MNT3ERR_ACCES',
  20: 'MNT3ERR_NOTDIR',
  22: 'MNT3ERR_INVAL',
  63: 'MNT3ERR_NAMETOOLONG',
  10004: 'MNT3ERR_NOTSUPP',
  10006: 'MNT3ERR_SERVERFAULT',
};

/** nlm4_stats: RFC 1813 Appendix II (NLM version 4). */
export const NLM4_STATS: Readonly<Record<number, string>> = {
  0: 'NLM4_GRANTED',
  1: 'NLM4_DENIED',
  2: 'NLM4_DENIED_NOLOCKS',
  3: 'NLM4_BLOCKED',
  4: 'NLM4_DENIED_GRACE_PERIOD',
  5: 'NLM4_DEADLCK',
  6: 'NLM4_ROFS',
  7: 'NLM4_STALE_FH',
  8: 'NLM4_FBIG',
  9: 'NLM4_FAILED',
};

/** nlm_stats of NLM versions 1-3: X/Open XNFS (0-4) and Sun's nlm_prot.x (5, deadlock). */
export const NLM_STATS: Readonly<Record<number, string>> = {
  0: 'LCK_GRANTED',
  1: 'LCK_DENIED',
  2: 'LCK_DENIED_NOLOCKS',
  3: 'LCK_BLOCKED',
  4: 'LCK_DENIED_GRACE_PERIOD',
  5: 'LCK_DEADLCK',
};

/** NFSv3 procedures: RFC 1813 §3. */
export const NFS3_PROCEDURES: readonly string[] = [
  'NULL', 'GETATTR', 'SETATTR', 'LOOKUP', 'ACCESS', 'READLINK', 'READ', 'WRITE', 'CREATE', 'MKDIR', 'SYMLINK',
  'MKNOD', 'REMOVE', 'RMDIR', 'RENAME', 'LINK', 'READDIR', 'READDIRPLUS', 'FSSTAT', 'FSINFO', 'PATHCONF', 'COMMIT',
];

/** MOUNT version 3 procedures: RFC 1813 Appendix I. */
export const MOUNT3_PROCEDURES: readonly string[] = ['NULL', 'MNT', 'DUMP', 'UMNT', 'UMNTALL', 'EXPORT'];

/** NLM version 4 procedures: RFC 1813 Appendix II (16-19 are not assigned). */
export const NLM4_PROCEDURES: Readonly<Record<number, string>> = {
  0: 'NULL', 1: 'TEST', 2: 'LOCK', 3: 'CANCEL', 4: 'UNLOCK', 5: 'GRANTED',
  6: 'TEST_MSG', 7: 'LOCK_MSG', 8: 'CANCEL_MSG', 9: 'UNLOCK_MSG', 10: 'GRANTED_MSG',
  11: 'TEST_RES', 12: 'LOCK_RES', 13: 'CANCEL_RES', 14: 'UNLOCK_RES', 15: 'GRANTED_RES',
  20: 'SHARE', 21: 'UNSHARE', 22: 'NM_LOCK', 23: 'FREE_ALL',
};

/**
 * Where tshark 4.0.17's value strings differ from the RFC names above:
 * table key (as in tshark-names.json) → code → [tshark's name, the RFC's
 * name or null when the RFC assigns none, the authority].
 */
export const TSHARK_DIFFERS: Readonly<Record<string, Readonly<Record<number, [string, string | null, string]>>>> = {
  nfsstat4: {
    19: ['NFS4ERR_DQUOT', null, 'RFC 7530 §13.1: 19 is not an nfsstat4 value (NFS4ERR_DQUOT is 69)'],
    10030: ['NFS4ERR_READDIR_NOSPC', 'NFS4ERR_RESTOREFH', 'RFC 7530 §13.1: NFS4ERR_RESTOREFH = 10030'],
    10057: ['NFS4ERR_DIRDELEG_UNAVAIL', 'NFS4ERR_BACK_CHAN_BUSY', 'RFC 8881 §15.1: NFS4ERR_BACK_CHAN_BUSY = 10057 (NFS4ERR_DIRDELEG_UNAVAIL is 10084)'],
    10073: ['NFS4ERR_CONN_BINDING_NOT_ENFORCED', null, 'RFC 8881 §15.1: "Error 10073 is unused"'],
  },
  nfs_opnum4: {
    47: ['GETDEVINFO', 'GETDEVICEINFO', 'RFC 8881 §18.40: OP_GETDEVICEINFO = 47'],
    48: ['GETDEVLIST', 'GETDEVICELIST', 'RFC 8881 §18.41: OP_GETDEVICELIST = 48'],
    56: ['WANT_DELEG', 'WANT_DELEGATION', 'RFC 8881 §18.49: OP_WANT_DELEGATION = 56'],
  },
};

/**
 * How tshark spells names whose RFC spelling has a prefix it leaves out:
 * mount.status says ERR_NOENT for MNT3ERR_NOENT, nlm.stat NLM_DENIED for
 * NLM4_DENIED (the value strings serve every version).
 */
export const TSHARK_SPELLING: Readonly<Record<string, (rfcName: string) => string>> = {
  mountstat3: (n) => n.replace(/^MNT3_OK$/, 'OK').replace(/^MNT3ERR_/, 'ERR_'),
  nlm_stats: (n) => n.replace(/^NLM4_/, 'NLM_'),
};

/** tshark spellings that differ beyond the prefix (same layout as TSHARK_DIFFERS). */
export const TSHARK_SPELLING_DIFFERS: Readonly<Record<string, Readonly<Record<number, [string, string, string]>>>> = {
  mountstat3: { 13: ['ERR_ACCESS', 'MNT3ERR_ACCES', 'RFC 1813 Appendix I: MNT3ERR_ACCES = 13'] },
  nlm_stats: { 8: ['NLM_BIG', 'NLM4_FBIG', 'RFC 1813 Appendix II: NLM4_FBIG = 8'] },
};

/** Lookups over the tables above, for tests that turn codes into names or names back into codes. */
export const rfc = {
  nfsstat3: (code: number): string => NFSSTAT3[code] ?? `nfsstat3(${code})`,
  nfsstat4: (code: number): string => NFSSTAT4[code] ?? `nfsstat4(${code})`,
  mountstat3: (code: number): string => MOUNTSTAT3[code] ?? `mountstat3(${code})`,
  nfs4Op: (op: number): string => NFS_OPNUM4[op] ?? `OP_${op}`,
  /** The number of an NFSv4 op name (an RFC name, or `OP_N`). */
  nfs4OpNumber: (name: string): number | undefined => codeOf(NFS_OPNUM4, name, /^OP_(\d+)$/),
  /** The value of an nfsstat4 name (an RFC name, or `nfsstat4(N)`). */
  nfsstat4Code: (name: string): number | undefined => codeOf(NFSSTAT4, name, /^nfsstat4\((\d+)\)$/),
  /** Procedure names of the programs whose errors the tests count by name. */
  procedure: (program: number, version: number, procedure: number): string =>
    (program === 100003 && version === 3 ? NFS3_PROCEDURES[procedure] : program === 100005 && version === 3 ? MOUNT3_PROCEDURES[procedure] : undefined) ??
    String(procedure),
};

function codeOf(table: Readonly<Record<number, string>>, name: string, numbered: RegExp): number | undefined {
  for (const [code, n] of Object.entries(table)) if (n === name) return Number(code);
  const m = numbered.exec(name);
  return m ? Number(m[1]) : undefined;
}
