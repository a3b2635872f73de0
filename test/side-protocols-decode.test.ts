/**
 * Decoders of the side protocols (MOUNT, NLM, NSM, portmap / rpcbind,
 * NFS_ACL) on generated bodies: every procedure of every version, every
 * mountstat3 and nlm4_stats, the NLM asynchronous forms, truncation at
 * every offset (never throws, `stop` set, the fields before the cut
 * decoded) and malformed bodies.
 */
import { describe, expect, it } from 'vitest';
import type { DecodedCall, DecodedReply, ProgramDecoder } from '../decoders/decoded.js';
import { MOUNTSTAT3_CODES, mountDecoder } from '../decoders/mount.js';
import { nfsAclDecoder } from '../decoders/nfsacl.js';
import { nlmDecoder } from '../decoders/nlm.js';
import { nsmDecoder } from '../decoders/nsm.js';
import { portmapDecoder, uaddrPort } from '../decoders/portmap.js';
import { decoderFor } from '../decoders/registry.js';
import { sideDecoders } from '../decoders/registry-side.js';
import { XdrReader } from '../decoders/xdr.js';
import { MOUNTSTAT3, NLM4_STATS, NLM_STATS } from './reference/rfc-names.js';
import { writeFileSync } from 'node:fs';
import { analyze } from '../src/analyze.js';
import type { Transaction } from '../src/rpc/transaction.js';
import { writePcap } from './gen/capture-writer.js';
import { XdrWriter, rpcAcceptedReply, rpcCall } from './gen/rpc.js';
import { Capture, type Host } from './gen/session.js';
import * as g from './gen/side.js';
import { tempDir, writeTemp } from './helpers.js';

const EMPTY = Buffer.alloc(0);

function reader(buf: Buffer, cut = buf.length): XdrReader {
  return new XdrReader({ length: buf.length, head: buf.subarray(0, cut), tail: EMPTY, tailOffset: buf.length, missing: buf.length - cut });
}

interface Case {
  title: string;
  dec: ProgramDecoder;
  version: number;
  proc: number;
  kind: 'call' | 'reply';
  body: Buffer;
  /** For replies: the call's decoding (MNT's path). */
  call?: DecodedCall;
  check: (d: DecodedCall & DecodedReply) => void;
}

function decode(c: Case, r: XdrReader): DecodedCall | DecodedReply {
  return c.kind === 'call' ? c.dec.decodeCall(r, c.version, c.proc) : c.dec.decodeReply(r, c.version, c.proc, c.call);
}

/** Whether `part` holds only values of `full` (objects: a subset of keys; arrays: a prefix). */
function isPrefix(part: unknown, full: unknown): boolean {
  if (Array.isArray(part)) return Array.isArray(full) && part.length <= full.length && part.every((p, i) => isPrefix(p, full[i]));
  if (part !== null && typeof part === 'object') {
    if (full === null || typeof full !== 'object' || Array.isArray(full)) return false;
    return Object.entries(part).every(([k, v]) => k in full && isPrefix(v, (full as Record<string, unknown>)[k]));
  }
  return part === full;
}

function leaves(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + leaves(x), 0);
  if (v !== null && typeof v === 'object') return Object.values(v).reduce((n: number, x) => n + leaves(x), 0);
  return 1;
}

const FH = Buffer.from('430000011244ceeef57cd50464260156c120009586add800', 'hex');
const FH_HEX = FH.toString('hex');
const FH32 = Buffer.alloc(32, 0xab);
const COOKIE = Buffer.from([1, 2, 3, 4, 5]);
const OH = Buffer.from('3131324063616c6c6572', 'hex');
const LOCK = { caller: 'client.example', fh: FH, oh: OH, svid: 4242, offset: 4096, length: 1024 };
const LOCK_ARGS = { callerName: 'client.example', fh: FH_HEX, owner: OH.toString('hex'), svid: 4242, offset: 4096, length: 1024 };
const HOLDER = { exclusive: true, svid: 77, oh: OH, offset: 0, length: 0 };
const HOLDER_OUT = { exclusive: true, svid: 77, owner: OH.toString('hex'), offset: 0, length: 0 };
const MY_ID = { name: 'localhost', prog: 100021, vers: 4, proc: 16 };
const MY_ID_OUT = { name: 'localhost', prog: 100021, programName: 'NLM', vers: 4, proc: 16 };
const PRIV = Buffer.alloc(16, 0x5a);

const MNT_CALL = mountDecoder.decodeCall(XdrReader.over(g.mountPath('/export')), 3, 1);

// Status names from the RFC tables written in the tests (test/reference/rfc-names.ts).
const NLM4_NAMES = Object.values(NLM4_STATS);

/** Void results: no status field (tshark shows none). */
const voidOk = (d: DecodedReply): void => {
  expect(d.status).toBeNull();
  expect(d.statusCode).toBeNull();
  expect(d.results).toEqual({});
};

const cases: Case[] = [];
const add = (c: Case): void => {
  cases.push(c);
};
const call = (title: string, dec: ProgramDecoder, version: number, proc: number, body: Buffer, check: Case['check']): void =>
  add({ title: `${title} call`, dec, version, proc, kind: 'call', body, check });
const reply = (title: string, dec: ProgramDecoder, version: number, proc: number, body: Buffer, check: Case['check'], c?: DecodedCall): void =>
  add({ title: `${title} reply`, dec, version, proc, kind: 'reply', body, check, ...(c ? { call: c } : {}) });

// ---- MOUNT ----
for (const v of [1, 2, 3]) {
  call(`MOUNT v${v} NULL`, mountDecoder, v, 0, EMPTY, (d) => {
    expect(d.ops).toEqual(['NULL']);
    expect(d.args).toEqual({});
  });
  reply(`MOUNT v${v} NULL`, mountDecoder, v, 0, EMPTY, voidOk);
  call(`MOUNT v${v} MNT`, mountDecoder, v, 1, g.mountPath('/export/dir1'), (d) => {
    expect(d.mainOp).toBe('MNT');
    expect(d.names).toEqual(['/export/dir1']);
    expect(d.args).toEqual({ path: '/export/dir1' });
  });
  call(`MOUNT v${v} UMNT`, mountDecoder, v, 3, g.mountPath('/export'), (d) => {
    expect(d.mainOp).toBe('UMNT');
    expect(d.names).toEqual(['/export']);
  });
  reply(`MOUNT v${v} UMNT`, mountDecoder, v, 3, EMPTY, voidOk);
  call(`MOUNT v${v} UMNTALL`, mountDecoder, v, 4, EMPTY, (d) => expect(d.mainOp).toBe('UMNTALL'));
  reply(`MOUNT v${v} UMNTALL`, mountDecoder, v, 4, EMPTY, voidOk);
  call(`MOUNT v${v} DUMP`, mountDecoder, v, 2, EMPTY, (d) => expect(d.mainOp).toBe('DUMP'));
  reply(`MOUNT v${v} DUMP`, mountDecoder, v, 2, g.mountList([{ host: 'c1', dir: '/export' }, { host: 'c2.example', dir: '/ro' }]), (d) => {
    expect(d.status).toBeNull();
    expect(d.results).toEqual({ mounts: [{ hostname: 'c1', directory: '/export' }, { hostname: 'c2.example', directory: '/ro' }] });
  });
  call(`MOUNT v${v} EXPORT`, mountDecoder, v, 5, EMPTY, (d) => expect(d.mainOp).toBe('EXPORT'));
  reply(`MOUNT v${v} EXPORT`, mountDecoder, v, 5, g.exportsList([{ dir: '/export', groups: ['*'] }, { dir: '/ro', groups: ['10.0.0.0/8', 'admins'] }, { dir: '/none', groups: [] }]), (d) => {
    expect(d.status).toBeNull();
    expect(d.results).toEqual({
      exports: [
        { dir: '/export', groups: ['*'] },
        { dir: '/ro', groups: ['10.0.0.0/8', 'admins'] },
        { dir: '/none', groups: [] },
      ],
    });
  });
}
reply('MOUNT v3 MNT OK', mountDecoder, 3, 1, g.mountRes3(0, FH, [1, 390003, 6]), (d) => {
  expect(d.status).toBe('MNT3_OK');
  expect(d.statusCode).toBe(0);
  expect(d.handles).toEqual([{ fh: FH_HEX, name: '/export' }]);
  expect(d.results).toEqual({ fh: FH_HEX, authFlavors: ['AUTH_SYS', 'RPCSEC_GSS_KRB5', 'RPCSEC_GSS'] });
}, MNT_CALL);
it('MOUNT decodes exactly the mountstat3 values of RFC 1813', () => {
  expect([...MOUNTSTAT3_CODES].sort((a, b) => a - b)).toEqual(Object.keys(MOUNTSTAT3).map(Number).sort((a, b) => a - b));
});
Object.entries(MOUNTSTAT3).forEach(([c, name]) => {
  const code = Number(c);
  reply(`MOUNT v3 MNT ${name}`, mountDecoder, 3, 1, g.mountRes3(code, FH, []), (d) => {
    expect(d.status).toBe(name);
    expect(d.statusCode).toBe(code);
    if (code !== 0) expect(d.handles).toBeUndefined();
  }, MNT_CALL);
});
reply('MOUNT v3 MNT unknown status', mountDecoder, 3, 1, g.mountRes3(99), (d) => expect(d.status).toBe('mountstat3(99)'));
for (const v of [1, 2]) {
  reply(`MOUNT v${v} MNT fhstatus OK`, mountDecoder, v, 1, g.fhStatus(0, FH32), (d) => {
    expect(d.status).toBe('MNT3_OK');
    expect(d.handles).toEqual([{ fh: FH32.toString('hex'), name: '/export' }]);
  }, MNT_CALL);
  reply(`MOUNT v${v} MNT fhstatus EACCES`, mountDecoder, v, 1, g.fhStatus(13), (d) => {
    expect(d.status).toBe('MNT3ERR_ACCES');
    expect(d.statusCode).toBe(13);
  });
  call(`MOUNT v${v} EXPORTALL`, mountDecoder, v, 6, EMPTY, (d) => expect(d.mainOp).toBe('EXPORTALL'));
  reply(`MOUNT v${v} EXPORTALL`, mountDecoder, v, 6, g.exportsList([{ dir: '/export', groups: [] }]), (d) => {
    expect(d.results).toEqual({ exports: [{ dir: '/export', groups: [] }] });
  });
  call(`MOUNT v${v} PATHCONF`, mountDecoder, v, 7, g.mountPath('/export'), (d) => {
    expect(d.mainOp).toBe('PATHCONF');
    expect(d.args).toEqual({ path: '/export' });
  });
  reply(`MOUNT v${v} PATHCONF`, mountDecoder, v, 7, g.pathconfRes(), (d) => {
    expect(d.status).toBeNull();
    expect(d.results).toMatchObject({ linkMax: 32000, nameMax: 255, pathMax: 4096 });
  });
}

// ---- NLM ----
for (const v of [1, 3, 4]) {
  const st = (code: number): string => (v === 4 ? NLM4_STATS[code]! : NLM_STATS[code]!);
  const testArgs = g.nlmTestArgs(v, COOKIE, true, LOCK);
  const testArgsOut = { cookie: COOKIE.toString('hex'), exclusive: true, lock: LOCK_ARGS };
  const lockArgs = g.nlmLockArgs(v, COOKIE, true, false, LOCK, true, 12);
  const lockArgsOut = { cookie: COOKIE.toString('hex'), block: true, exclusive: false, lock: LOCK_ARGS, reclaim: true, state: 12 };
  const cancArgs = g.nlmCancArgs(v, COOKIE, false, true, LOCK);
  const cancArgsOut = { cookie: COOKIE.toString('hex'), block: false, exclusive: true, lock: LOCK_ARGS };
  const unlockArgs = g.nlmUnlockArgs(v, COOKIE, LOCK);
  const unlockArgsOut = { cookie: COOKIE.toString('hex'), lock: LOCK_ARGS };
  const bodies: [number, string, Buffer, unknown][] = [
    [1, 'TEST', testArgs, testArgsOut],
    [2, 'LOCK', lockArgs, lockArgsOut],
    [3, 'CANCEL', cancArgs, cancArgsOut],
    [4, 'UNLOCK', unlockArgs, unlockArgsOut],
    [5, 'GRANTED', testArgs, testArgsOut],
  ];
  call(`NLM v${v} NULL`, nlmDecoder, v, 0, EMPTY, (d) => expect(d.mainOp).toBe('NULL'));
  reply(`NLM v${v} NULL`, nlmDecoder, v, 0, EMPTY, voidOk);
  for (const [proc, name, body, out] of bodies) {
    call(`NLM v${v} ${name}`, nlmDecoder, v, proc, body, (d) => {
      expect(d.mainOp).toBe(name);
      expect(d.fh).toBe(FH_HEX);
      expect(d.args).toEqual(out);
    });
    call(`NLM v${v} ${name}_MSG`, nlmDecoder, v, proc + 5, body, (d) => {
      expect(d.mainOp).toBe(`${name}_MSG`);
      expect(d.fh).toBe(FH_HEX);
      expect(d.args).toEqual(out);
    });
    reply(`NLM v${v} ${name}_MSG`, nlmDecoder, v, proc + 5, EMPTY, voidOk);
    reply(`NLM v${v} ${name}_RES`, nlmDecoder, v, proc + 10, EMPTY, voidOk);
    if (proc !== 1) {
      reply(`NLM v${v} ${name} ${st(0)}`, nlmDecoder, v, proc, g.nlmRes(COOKIE, 0), (d) => {
        expect(d.status).toBe(st(0));
        expect(d.statusCode).toBe(0);
        expect(d.results).toEqual({ cookie: COOKIE.toString('hex'), status: st(0), statusCode: 0 });
      });
      call(`NLM v${v} ${name}_RES ${st(4)}`, nlmDecoder, v, proc + 10, g.nlmRes(COOKIE, 4), (d) => {
        expect(d.mainOp).toBe(`${name}_RES`);
        expect(d.args).toEqual({ cookie: COOKIE.toString('hex'), status: st(4), statusCode: 4 });
      });
    }
  }
  reply(`NLM v${v} TEST granted`, nlmDecoder, v, 1, g.nlmTestRes(v, COOKIE, 0), (d) => {
    expect(d.status).toBe(st(0));
    expect((d.results as { holder?: unknown }).holder).toBeUndefined();
  });
  reply(`NLM v${v} TEST denied`, nlmDecoder, v, 1, g.nlmTestRes(v, COOKIE, 1, HOLDER), (d) => {
    expect(d.status).toBe(st(1));
    expect(d.statusCode).toBe(1);
    expect(d.results).toEqual({ cookie: COOKIE.toString('hex'), status: st(1), statusCode: 1, holder: HOLDER_OUT });
  });
  call(`NLM v${v} TEST_RES denied`, nlmDecoder, v, 11, g.nlmTestRes(v, COOKIE, 1, { ...HOLDER, offset: 100, length: 200 }), (d) => {
    expect(d.mainOp).toBe('TEST_RES');
    expect(d.args).toEqual({ cookie: COOKIE.toString('hex'), status: st(1), statusCode: 1, holder: { ...HOLDER_OUT, offset: 100, length: 200 } });
  });
  for (const [proc, name] of [[20, 'SHARE'], [21, 'UNSHARE']] as const) {
    call(`NLM v${v} ${name}`, nlmDecoder, v, proc, g.nlmShareArgs(COOKIE, 'client', FH, OH, 1, 3, false), (d) => {
      expect(d.mainOp).toBe(name);
      expect(d.fh).toBe(FH_HEX);
      expect(d.args).toEqual({ cookie: COOKIE.toString('hex'), share: { callerName: 'client', fh: FH_HEX, owner: OH.toString('hex'), mode: 'fsm_DR', access: 'fsa_RW' }, reclaim: false });
    });
    reply(`NLM v${v} ${name}`, nlmDecoder, v, proc, g.nlmShareRes(COOKIE, 0, 9), (d) => {
      expect(d.status).toBe(st(0));
      expect(d.results).toMatchObject({ sequence: 9 });
    });
  }
  call(`NLM v${v} NM_LOCK`, nlmDecoder, v, 22, lockArgs, (d) => {
    expect(d.mainOp).toBe('NM_LOCK');
    expect(d.args).toEqual(lockArgsOut);
  });
  reply(`NLM v${v} NM_LOCK`, nlmDecoder, v, 22, g.nlmRes(COOKIE, 3), (d) => expect(d.status).toBe(st(3)));
  call(`NLM v${v} FREE_ALL`, nlmDecoder, v, 23, g.nlmNotify('client.example', 5), (d) => {
    expect(d.mainOp).toBe('FREE_ALL');
    expect(d.args).toEqual({ name: 'client.example', state: 5 });
  });
  reply(`NLM v${v} FREE_ALL`, nlmDecoder, v, 23, EMPTY, voidOk);
}
NLM4_NAMES.forEach((name, code) => {
  reply(`NLM v4 LOCK ${name}`, nlmDecoder, 4, 2, g.nlmRes(COOKIE, code), (d) => {
    expect(d.status).toBe(name);
    expect(d.statusCode).toBe(code);
  });
  call(`NLM v4 LOCK_RES ${name}`, nlmDecoder, 4, 12, g.nlmRes(COOKIE, code), (d) => {
    expect((d.args as { status: string }).status).toBe(name);
  });
});
reply('NLM v4 unknown status', nlmDecoder, 4, 2, g.nlmRes(COOKIE, 10), (d) => expect(d.status).toBe('nlm4_stats(10)'));
call('NLM v4 64-bit range', nlmDecoder, 4, 4, g.nlmUnlockArgs(4, COOKIE, { ...LOCK, offset: 2n ** 63n, length: 0xffffffffffffffffn }), (d) => {
  expect(d.args).toMatchObject({ lock: { offset: '9223372036854775808', length: '18446744073709551615' } });
});

// ---- NSM ----
call('NSM NULL', nsmDecoder, 1, 0, EMPTY, (d) => expect(d.mainOp).toBe('NULL'));
reply('NSM NULL', nsmDecoder, 1, 0, EMPTY, voidOk);
call('NSM STAT', nsmDecoder, 1, 1, g.smName('server.example'), (d) => expect(d.args).toEqual({ monName: 'server.example' }));
reply('NSM STAT succ', nsmDecoder, 1, 1, g.smStatRes(0, 7), (d) => {
  expect(d.status).toBe('STAT_SUCC');
  expect(d.results).toEqual({ state: 7 });
});
reply('NSM STAT fail', nsmDecoder, 1, 1, g.smStatRes(1, 8), (d) => {
  expect(d.status).toBe('STAT_FAIL');
  expect(d.statusCode).toBe(1);
});
call('NSM MON', nsmDecoder, 1, 2, g.smMon('server.example', MY_ID, PRIV), (d) => {
  expect(d.mainOp).toBe('MON');
  expect(d.args).toEqual({ monName: 'server.example', myId: MY_ID_OUT, priv: PRIV.toString('hex') });
});
reply('NSM MON', nsmDecoder, 1, 2, g.smStatRes(0, 3), (d) => {
  expect(d.status).toBe('STAT_SUCC');
  expect(d.results).toEqual({ state: 3 });
});
call('NSM UNMON', nsmDecoder, 1, 3, g.smMonId('server.example', MY_ID), (d) => expect(d.args).toEqual({ monName: 'server.example', myId: MY_ID_OUT }));
reply('NSM UNMON', nsmDecoder, 1, 3, g.smStat(5), (d) => {
  expect(d.status).toBeNull();
  expect(d.results).toEqual({ state: 5 });
});
call('NSM UNMON_ALL', nsmDecoder, 1, 4, g.smMyId(MY_ID), (d) => expect(d.args).toEqual(MY_ID_OUT));
reply('NSM UNMON_ALL', nsmDecoder, 1, 4, g.smStat(6), (d) => expect(d.results).toEqual({ state: 6 }));
call('NSM SIMU_CRASH', nsmDecoder, 1, 5, EMPTY, (d) => expect(d.mainOp).toBe('SIMU_CRASH'));
reply('NSM SIMU_CRASH', nsmDecoder, 1, 5, EMPTY, voidOk);
call('NSM NOTIFY', nsmDecoder, 1, 6, g.smStatChge('client.example', 9), (d) => expect(d.args).toEqual({ monName: 'client.example', state: 9 }));
reply('NSM NOTIFY', nsmDecoder, 1, 6, EMPTY, voidOk);

// ---- portmap / rpcbind ----
const MOUNT_V3_TCP = { prog: 100005, program: 'MOUNT', vers: 3, proto: 6, protocol: 'tcp', port: 0 };
call('portmap v2 NULL', portmapDecoder, 2, 0, EMPTY, (d) => expect(d.mainOp).toBe('NULL'));
reply('portmap v2 NULL', portmapDecoder, 2, 0, EMPTY, voidOk);
for (const [proc, name] of [[1, 'SET'], [2, 'UNSET']] as const) {
  call(`portmap v2 ${name}`, portmapDecoder, 2, proc, g.pmapMapping(100021, 4, 17, 32768), (d) => {
    expect(d.mainOp).toBe(name);
    expect(d.args).toEqual({ prog: 100021, program: 'NLM', vers: 4, proto: 17, protocol: 'udp', port: 32768 });
  });
  reply(`portmap v2 ${name}`, portmapDecoder, 2, proc, g.xdrU32(1), (d) => {
    expect(d.status).toBeNull();
    expect(d.results).toEqual({ success: true });
  });
}
call('portmap v2 GETPORT', portmapDecoder, 2, 3, g.pmapMapping(100005, 3, 6, 0), (d) => {
  expect(d.mainOp).toBe('GETPORT');
  expect(d.args).toEqual(MOUNT_V3_TCP);
});
reply('portmap v2 GETPORT', portmapDecoder, 2, 3, g.xdrU32(20048), (d) => expect(d.results).toEqual({ port: 20048 }));
call('portmap v2 DUMP', portmapDecoder, 2, 4, EMPTY, (d) => expect(d.mainOp).toBe('DUMP'));
reply('portmap v2 DUMP', portmapDecoder, 2, 4, g.pmapList([[100000, 2, 6, 111], [100003, 3, 6, 2049]]), (d) => {
  expect(d.results).toEqual({
    mappings: [
      { prog: 100000, program: 'portmapper', vers: 2, proto: 6, protocol: 'tcp', port: 111 },
      { prog: 100003, program: 'NFS', vers: 3, proto: 6, protocol: 'tcp', port: 2049 },
    ],
  });
});
call('portmap v2 CALLIT', portmapDecoder, 2, 5, g.rmtCallArgs(100024, 1, 1, g.smName('x')), (d) => {
  expect(d.args).toEqual({ prog: 100024, program: 'STAT', vers: 1, proc: 1, argsLength: 8 });
});
reply('portmap v2 CALLIT', portmapDecoder, 2, 5, g.pmapCallitRes(875, g.smStatRes(0, 1)), (d) => expect(d.results).toEqual({ port: 875, resultsLength: 8 }));
const RPCB_NFS = { prog: 100003, program: 'NFS', vers: 3, netid: 'tcp', uaddr: '10.0.0.2.8.1', port: 2049, owner: 'superuser' };
for (const v of [3, 4]) {
  call(`rpcbind v${v} NULL`, portmapDecoder, v, 0, EMPTY, (d) => expect(d.mainOp).toBe('NULL'));
  reply(`rpcbind v${v} NULL`, portmapDecoder, v, 0, EMPTY, voidOk);
  for (const [proc, name] of [[1, 'SET'], [2, 'UNSET']] as const) {
    call(`rpcbind v${v} ${name}`, portmapDecoder, v, proc, g.rpcb(100003, 3, 'tcp', '10.0.0.2.8.1', 'superuser'), (d) => {
      expect(d.mainOp).toBe(name);
      expect(d.args).toEqual(RPCB_NFS);
    });
    reply(`rpcbind v${v} ${name}`, portmapDecoder, v, proc, g.xdrU32(0), (d) => expect(d.results).toEqual({ success: false }));
  }
  call(`rpcbind v${v} GETADDR`, portmapDecoder, v, 3, g.rpcb(100005, 3, 'tcp6', '', ''), (d) => {
    expect(d.mainOp).toBe('GETADDR');
    expect(d.args).toEqual({ prog: 100005, program: 'MOUNT', vers: 3, netid: 'tcp6', uaddr: '', owner: '' });
  });
  reply(`rpcbind v${v} GETADDR`, portmapDecoder, v, 3, g.xdrString('10.0.0.2.78.80'), (d) => {
    expect(d.status).toBeNull();
    expect(d.results).toEqual({ uaddr: '10.0.0.2.78.80', port: 20048 });
  });
  reply(`rpcbind v${v} GETADDR IPv6`, portmapDecoder, v, 3, g.xdrString('fe80::1.8.1'), (d) => expect(d.results).toEqual({ uaddr: 'fe80::1.8.1', port: 2049 }));
  reply(`rpcbind v${v} GETADDR not registered`, portmapDecoder, v, 3, g.xdrString(''), (d) => expect(d.results).toEqual({ uaddr: '' }));
  call(`rpcbind v${v} DUMP`, portmapDecoder, v, 4, EMPTY, (d) => expect(d.mainOp).toBe('DUMP'));
  reply(`rpcbind v${v} DUMP`, portmapDecoder, v, 4, g.rpcbList([[100003, 3, 'tcp', '10.0.0.2.8.1', 'superuser'], [100000, 4, 'local', '/run/rpcbind.sock', 'superuser']]), (d) => {
    expect(d.results).toEqual({ mappings: [RPCB_NFS, { prog: 100000, program: 'portmapper', vers: 4, netid: 'local', uaddr: '/run/rpcbind.sock', owner: 'superuser' }] });
  });
  call(`rpcbind v${v} ${v === 3 ? 'CALLIT' : 'BCAST'}`, portmapDecoder, v, 5, g.rmtCallArgs(100003, 3, 0, EMPTY), (d) => {
    expect(d.mainOp).toBe(v === 3 ? 'CALLIT' : 'BCAST');
    expect(d.args).toEqual({ prog: 100003, program: 'NFS', vers: 3, proc: 0, argsLength: 0 });
  });
  reply(`rpcbind v${v} CALLIT`, portmapDecoder, v, 5, g.rpcbRmtCallRes('10.0.0.2.8.1', Buffer.alloc(4)), (d) => expect(d.results).toEqual({ uaddr: '10.0.0.2.8.1', port: 2049, resultsLength: 4 }));
  call(`rpcbind v${v} GETTIME`, portmapDecoder, v, 6, EMPTY, (d) => expect(d.mainOp).toBe('GETTIME'));
  reply(`rpcbind v${v} GETTIME`, portmapDecoder, v, 6, g.xdrU32(1_763_779_858), (d) => expect(d.results).toEqual({ time: 1_763_779_858 }));
  call(`rpcbind v${v} UADDR2TADDR`, portmapDecoder, v, 7, g.xdrString('10.0.0.2.0.111'), (d) => expect(d.args).toEqual({ uaddr: '10.0.0.2.0.111' }));
  reply(`rpcbind v${v} UADDR2TADDR`, portmapDecoder, v, 7, g.netbuf(16, Buffer.from('0002006f0a000002', 'hex')), (d) => expect(d.results).toEqual({ maxlen: 16, buf: '0002006f0a000002' }));
  call(`rpcbind v${v} TADDR2UADDR`, portmapDecoder, v, 8, g.netbuf(16, Buffer.from('0002006f0a000002', 'hex')), (d) => expect(d.args).toEqual({ maxlen: 16, buf: '0002006f0a000002' }));
  reply(`rpcbind v${v} TADDR2UADDR`, portmapDecoder, v, 8, g.xdrString('10.0.0.2.0.111'), (d) => expect(d.results).toEqual({ uaddr: '10.0.0.2.0.111' }));
}
call('rpcbind v4 GETVERSADDR', portmapDecoder, 4, 9, g.rpcb(100021, 4, 'udp', '', ''), (d) => {
  expect(d.mainOp).toBe('GETVERSADDR');
  expect(d.args).toMatchObject({ prog: 100021, program: 'NLM', vers: 4, netid: 'udp' });
});
reply('rpcbind v4 GETVERSADDR', portmapDecoder, 4, 9, g.xdrString('10.0.0.2.128.0'), (d) => expect(d.results).toEqual({ uaddr: '10.0.0.2.128.0', port: 32768 }));
call('rpcbind v4 INDIRECT', portmapDecoder, 4, 10, g.rmtCallArgs(100024, 1, 0, EMPTY), (d) => expect(d.mainOp).toBe('INDIRECT'));
reply('rpcbind v4 INDIRECT', portmapDecoder, 4, 10, g.rpcbRmtCallRes('10.0.0.2.3.107', EMPTY), (d) => expect(d.results).toEqual({ uaddr: '10.0.0.2.3.107', port: 875, resultsLength: 0 }));
call('rpcbind v4 GETADDRLIST', portmapDecoder, 4, 11, g.rpcb(100003, 3, '', '', ''), (d) => expect(d.mainOp).toBe('GETADDRLIST'));
reply('rpcbind v4 GETADDRLIST', portmapDecoder, 4, 11, g.rpcbEntryList([{ maddr: '10.0.0.2.8.1', netid: 'tcp', semantics: 3, protofmly: 'inet', proto: 'tcp' }]), (d) => {
  expect(d.results).toEqual({ entries: [{ uaddr: '10.0.0.2.8.1', port: 2049, netid: 'tcp', semantics: 3, protofmly: 'inet', proto: 'tcp' }] });
});
call('rpcbind v4 GETSTAT', portmapDecoder, 4, 12, EMPTY, (d) => expect(d.mainOp).toBe('GETSTAT'));
reply('rpcbind v4 GETSTAT', portmapDecoder, 4, 12, g.rpcbStatByVers(), (d) => {
  const by = (d.results as { byVersion: { info: number[]; setinfo: number; addrinfo: unknown[]; rmtinfo: unknown[] }[] }).byVersion;
  expect(by).toHaveLength(3);
  expect(by[2]!.info).toHaveLength(13);
  expect(by[2]!.info[12]).toBe(212);
  expect(by[0]!.setinfo).toBe(1);
  expect(by[1]!.addrinfo).toEqual([{ prog: 100003, program: 'NFS', vers: 3, success: 5, failure: 0, netid: 'tcp' }]);
  expect(by[1]!.rmtinfo).toEqual([{ prog: 100021, program: 'NLM', vers: 4, proc: 1, success: 2, failure: 0, indirect: 1, netid: 'udp' }]);
});

// ---- NFS_ACL ----
const ACL = [
  { type: 1, id: 0, perm: 6 },
  { type: 2, id: 1000, perm: 4 },
  { type: 0x20, id: 0, perm: 4 },
];
const DFACL = [{ type: 0x1001, id: 0, perm: 7 }];
const ACL_OUT = {
  mask: 15,
  maskBits: ['ACL', 'ACLCNT', 'DFACL', 'DFACLCNT'],
  aclCount: 3,
  acl: [
    { type: 'NA_USER_OBJ', id: 0, perm: 6 },
    { type: 'NA_USER', id: 1000, perm: 4 },
    { type: 'NA_OTHER_OBJ', id: 0, perm: 4 },
  ],
  defaultAclCount: 1,
  defaultAcl: [{ type: 'Default NA_USER_OBJ', id: 0, perm: 7 }],
};
const ATTR3 = { type: 1, mode: 0o100644, uid: 1000, gid: 1000, size: 512, fileid: 99 };
for (const v of [2, 3]) {
  const fh = v === 2 ? FH32 : FH;
  const fhHex = fh.toString('hex');
  const okName = v === 2 ? 'NFS_OK' : 'NFS3_OK';
  call(`NFS_ACL v${v} NULL`, nfsAclDecoder, v, 0, EMPTY, (d) => expect(d.mainOp).toBe('NULL'));
  reply(`NFS_ACL v${v} NULL`, nfsAclDecoder, v, 0, EMPTY, voidOk);
  call(`NFS_ACL v${v} GETACL`, nfsAclDecoder, v, 1, Buffer.concat([g.aclFh(v, fh), g.xdrU32(15)]), (d) => {
    expect(d.mainOp).toBe('GETACL');
    expect(d.fh).toBe(fhHex);
    expect(d.args).toEqual({ fh: fhHex, mask: 15, maskBits: ['ACL', 'ACLCNT', 'DFACL', 'DFACLCNT'] });
  });
  const attr = v === 2 ? Buffer.concat([g.aclFattr(2, 512, 99)]) : g.postOpAttr(512, 99);
  reply(`NFS_ACL v${v} GETACL OK`, nfsAclDecoder, v, 1, Buffer.concat([g.xdrU32(0), attr, g.secattr(15, ACL, DFACL)]), (d) => {
    expect(d.status).toBe(okName);
    expect(d.statusCode).toBe(0);
    expect(d.results).toEqual({ attr: ATTR3, ...ACL_OUT });
  });
  reply(`NFS_ACL v${v} GETACL ACCES`, nfsAclDecoder, v, 1, Buffer.concat([g.xdrU32(13), v === 3 ? g.postOpAttr() : EMPTY]), (d) => {
    expect(d.status).toBe(v === 2 ? 'NFSERR_ACCES' : 'NFS3ERR_ACCES');
    expect(d.statusCode).toBe(13);
  });
  call(`NFS_ACL v${v} SETACL`, nfsAclDecoder, v, 2, Buffer.concat([g.aclFh(v, fh), g.secattr(15, ACL, DFACL)]), (d) => {
    expect(d.mainOp).toBe('SETACL');
    expect(d.args).toEqual({ fh: fhHex, ...ACL_OUT });
  });
  reply(`NFS_ACL v${v} SETACL`, nfsAclDecoder, v, 2, Buffer.concat([g.xdrU32(0), attr]), (d) => {
    expect(d.status).toBe(okName);
    expect(d.results).toEqual({ attr: ATTR3 });
  });
  const gx = v === 2 ? 5 : 3;
  call(`NFS_ACL v${v} GETXATTRDIR`, nfsAclDecoder, v, gx, Buffer.concat([g.aclFh(v, fh), g.xdrU32(1)]), (d) => {
    expect(d.mainOp).toBe('GETXATTRDIR');
    expect(d.args).toEqual({ fh: fhHex, create: true });
  });
  reply(`NFS_ACL v${v} GETXATTRDIR`, nfsAclDecoder, v, gx, Buffer.concat([g.xdrU32(0), g.aclFh(v, fh), attr]), (d) => {
    expect(d.handles).toEqual([{ fh: fhHex }]);
    expect(d.results).toEqual({ fh: fhHex, attr: ATTR3 });
  });
  reply(`NFS_ACL v${v} GETXATTRDIR NOTSUPP`, nfsAclDecoder, v, gx, Buffer.concat([g.xdrU32(v === 2 ? 30 : 10004), v === 3 ? g.postOpAttr() : EMPTY]), (d) => {
    expect(d.status).toBe(v === 2 ? 'NFSERR_ROFS' : 'NFS3ERR_NOTSUPP');
    expect(d.handles).toBeUndefined();
  });
}
call('NFS_ACL v2 GETATTR', nfsAclDecoder, 2, 3, g.aclFh(2, FH32), (d) => {
  expect(d.mainOp).toBe('GETATTR');
  expect(d.fh).toBe(FH32.toString('hex'));
});
reply('NFS_ACL v2 GETATTR', nfsAclDecoder, 2, 3, Buffer.concat([g.xdrU32(0), g.aclFattr(2, 512, 99)]), (d) => expect(d.results).toEqual({ attr: ATTR3 }));
call('NFS_ACL v2 ACCESS', nfsAclDecoder, 2, 4, Buffer.concat([g.aclFh(2, FH32), g.xdrU32(0x1f)]), (d) => expect(d.args).toEqual({ fh: FH32.toString('hex'), access: 0x1f }));
reply('NFS_ACL v2 ACCESS', nfsAclDecoder, 2, 4, Buffer.concat([g.xdrU32(0), g.aclFattr(2, 512, 99), g.xdrU32(3)]), (d) => expect(d.results).toEqual({ attr: ATTR3, access: 3 }));

describe('side protocol decoders: every procedure', () => {
  for (const c of cases) {
    it(c.title, () => {
      const d = decode(c, XdrReader.over(c.body));
      expect(d.stop).toBeUndefined();
      c.check(d as DecodedCall & DecodedReply);
      if (c.kind === 'call') expect((d as DecodedCall).ops).toEqual([(d as DecodedCall).mainOp]);
    });
  }

  it('covers every procedure of every version', () => {
    const seen = new Set(cases.map((c) => `${c.dec.program}/${c.version}/${c.proc}/${c.kind}`));
    const expectProcs = (dec: ProgramDecoder, version: number, procs: number[]): void => {
      for (const p of procs) for (const k of ['call', 'reply']) expect(seen.has(`${dec.program}/${version}/${p}/${k}`), `${dec.program} v${version} proc ${p} ${k}`).toBe(true);
    };
    const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    for (const v of [1, 2]) expectProcs(mountDecoder, v, range(0, 7));
    expectProcs(mountDecoder, 3, range(0, 5));
    for (const v of [1, 3, 4]) expectProcs(nlmDecoder, v, [...range(0, 15), ...range(20, 23)]);
    expectProcs(nsmDecoder, 1, range(0, 6));
    expectProcs(portmapDecoder, 2, range(0, 5));
    expectProcs(portmapDecoder, 3, range(0, 8));
    expectProcs(portmapDecoder, 4, range(0, 12));
    expectProcs(nfsAclDecoder, 2, range(0, 5));
    expectProcs(nfsAclDecoder, 3, range(0, 3));
  });
});

describe('side protocol decoders: truncation at every offset', () => {
  for (const c of cases.filter((x) => x.body.length > 0)) {
    it(c.title, () => {
      const full = decode(c, XdrReader.over(c.body));
      const fullData = c.kind === 'call' ? (full as DecodedCall).args : (full as DecodedReply).results;
      let prevLeaves = 0;
      for (let cut = 0; cut < c.body.length; cut++) {
        const d = decode(c, reader(c.body, cut));
        const data = c.kind === 'call' ? (d as DecodedCall).args : (d as DecodedReply).results;
        if (d.stop === undefined) {
          // Only XDR padding was cut (it is stepped over, never read): the decoding is whole.
          expect(cut, `cut ${cut}`).toBeGreaterThan(c.body.length - 4);
          expect(data).toEqual(fullData);
          continue;
        }
        expect(d.stop.reason, `cut ${cut}`).toBe('truncated');
        // The failing read starts at or before the cut (or after padding that was cut).
        expect(d.stop.at, `cut ${cut}`).toBeLessThanOrEqual((cut + 3) & ~3);
        expect(isPrefix(data, fullData), `cut ${cut}: ${JSON.stringify(data)}`).toBe(true);
        const n = leaves(data);
        expect(n, `cut ${cut}`).toBeGreaterThanOrEqual(prevLeaves);
        prevLeaves = n;
        if (c.kind === 'reply') {
          const r = d as DecodedReply;
          const f = full as DecodedReply;
          // A reply cut before its status says UNKNOWN / -1; after it, the status stands.
          if (r.status === 'UNKNOWN') expect(r.statusCode).toBe(-1);
          else expect([r.status, r.statusCode]).toEqual([f.status, f.statusCode]);
          if (cut < 4 && f.status !== null) expect(r.status).toBe('UNKNOWN');
        }
      }
    });
  }

  it('keeps the fields before the cut', () => {
    // NLM v4 LOCK cut just after the caller name: cookie, block, exclusive and the name, no handle.
    const body = g.nlmLockArgs(4, COOKIE, true, false, LOCK, false, 1);
    const afterName = 4 + 8 + 4 + 4 + 4 + 16;
    const d = nlmDecoder.decodeCall(reader(body, afterName + 2), 4, 2);
    expect(d.args).toEqual({ cookie: COOKIE.toString('hex'), block: true, exclusive: false, lock: { callerName: 'client.example' } });
    expect(d.fh).toBeUndefined();
    expect(d.stop).toEqual({ reason: 'truncated', at: afterName });
    // MNT reply cut inside the flavor list: status and handle decoded.
    const mnt = g.mountRes3(0, FH, [1, 6]);
    const r = mountDecoder.decodeReply(reader(mnt, mnt.length - 2), 3, 1, MNT_CALL);
    expect(r.status).toBe('MNT3_OK');
    expect(r.handles).toEqual([{ fh: FH_HEX, name: '/export' }]);
    expect(r.results).toEqual({ fh: FH_HEX });
    expect(r.stop?.reason).toBe('truncated');
    // TEST denied cut inside the holder: the status stands.
    const t = g.nlmTestRes(4, COOKIE, 1, HOLDER);
    const tr = nlmDecoder.decodeReply(reader(t, t.length - 4), 4, 1, undefined);
    expect(tr.status).toBe('NLM4_DENIED');
    expect((tr.results as { holder: unknown }).holder).toEqual({ exclusive: true, svid: 77, owner: OH.toString('hex'), offset: 0 });
  });
});

describe('side protocol decoders: malformed bodies', () => {
  const u32s = (...v: number[]): Buffer => {
    const x = new XdrWriter();
    for (const n of v) x.u32(n);
    return x.bytes();
  };
  const malformed: [string, () => DecodedCall | DecodedReply, number][] = [
    ['MNT path of 4 GB', () => mountDecoder.decodeCall(XdrReader.over(u32s(0xffffffff, 0)), 3, 1), 0],
    ['MNT path above MNTPATHLEN', () => mountDecoder.decodeCall(XdrReader.over(Buffer.concat([u32s(2000), Buffer.alloc(2000)])), 3, 1), 0],
    ['MNT3 handle above FHSIZE3', () => mountDecoder.decodeReply(XdrReader.over(Buffer.concat([u32s(0, 65), Buffer.alloc(68)])), 3, 1, MNT_CALL), 4],
    ['MNT3 flavor count absurd', () => mountDecoder.decodeReply(XdrReader.over(Buffer.concat([u32s(0, 4), Buffer.alloc(4), u32s(1_000_000, 1)])), 3, 1, MNT_CALL), 12],
    ['EXPORT more-flag 7', () => mountDecoder.decodeReply(XdrReader.over(u32s(7)), 3, 5, undefined), 0],
    ['MOUNT v3 EXPORTALL (no such procedure)', () => mountDecoder.decodeCall(XdrReader.over(EMPTY), 3, 6), 0],
    ['NLM cookie above MAXNETOBJ_SZ', () => nlmDecoder.decodeCall(XdrReader.over(Buffer.concat([u32s(5000), Buffer.alloc(5000)])), 4, 1), 0],
    ['NLM exclusive not a bool', () => nlmDecoder.decodeCall(XdrReader.over(Buffer.concat([u32s(0, 2), Buffer.alloc(64)])), 4, 1), 4],
    ['NLM unknown procedure', () => nlmDecoder.decodeReply(XdrReader.over(u32s(0)), 4, 17, undefined), 0],
    ['NSM mon_name of 4 GB', () => nsmDecoder.decodeCall(XdrReader.over(u32s(0xfffffff0)), 1, 1), 0],
    ['NSM unknown procedure', () => nsmDecoder.decodeCall(XdrReader.over(EMPTY), 1, 9), 0],
    ['portmap DUMP more-flag 2', () => portmapDecoder.decodeReply(XdrReader.over(u32s(2)), 2, 4, undefined), 0],
    ['rpcbind netid of 4 GB', () => portmapDecoder.decodeCall(XdrReader.over(u32s(100003, 3, 0xffffffff)), 3, 3), 8],
    ['portmap v2 GETTIME (no such procedure)', () => portmapDecoder.decodeCall(XdrReader.over(EMPTY), 2, 6), 0],
    ['NFS_ACL ACL count absurd', () => nfsAclDecoder.decodeCall(XdrReader.over(Buffer.concat([u32s(4), Buffer.alloc(4), u32s(15, 1, 0x10000000, 0)])), 3, 2), 16],
    ['NFS_ACL v3 handle above 64', () => nfsAclDecoder.decodeCall(XdrReader.over(Buffer.concat([u32s(100), Buffer.alloc(100)])), 3, 1), 0],
    ['NFS_ACL v3 proc 4', () => nfsAclDecoder.decodeReply(XdrReader.over(u32s(0)), 3, 4, undefined), 0],
  ];
  for (const [title, fn, at] of malformed) {
    it(title, () => {
      const d = fn();
      expect(d.stop).toEqual({ reason: 'malformed', at });
    });
  }

  it('fuzz (asserts only that nothing throws): random bytes to every procedure', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (const c of cases) {
      for (let i = 0; i < 20; i++) {
        const len = rnd() % 96;
        const buf = Buffer.alloc(len);
        for (let j = 0; j < len; j++) buf[j] = rnd() & 0xff;
        // Small words now and then, so that lengths and counts are plausible.
        for (let j = 0; j + 4 <= len; j += 4) if (rnd() % 2 === 0) buf.writeUInt32BE(rnd() % 8, j);
        expect(() => decode({ ...c, body: buf }, XdrReader.over(buf))).not.toThrow();
      }
    }
  });
});

describe('side protocol registry', () => {
  it('lists one decoder per program with the versions that exist', () => {
    expect(sideDecoders.map((d) => [d.program, [...d.versions]])).toEqual([
      [100005, [1, 2, 3]],
      [100021, [1, 2, 3, 4]],
      [100024, [1]],
      [100000, [2, 3, 4]],
      [100227, [2, 3]],
    ]);
    expect(decoderFor(100021, 4, false)).toBe(nlmDecoder);
    expect(decoderFor(100000, 4, false)).toBe(portmapDecoder);
    expect(decoderFor(100005, 1, false)).toBe(mountDecoder);
    expect(decoderFor(100227, 3, false)).toBe(nfsAclDecoder);
    expect(decoderFor(100024, 1, false)).toBe(nsmDecoder);
  });

  it('reads ports from universal addresses', () => {
    expect(uaddrPort('192.168.1.5.0.111')).toBe(111);
    expect(uaddrPort('::1.8.1')).toBe(2049);
    expect(uaddrPort('/run/rpcbind.sock')).toBeUndefined();
    expect(uaddrPort('1.2.3.4.300.1')).toBeUndefined();
  });
});

/**
 * A generated UDP capture with NLM, NSM, rpcbind and NFS_ACL exchanges,
 * through the whole pipeline (analyze → decode stage). Its layouts were
 * checked once against tshark 4.0, which decodes every frame without a
 * malformed mark and agrees on each field decoded here:
 *   SIDE_PCAP_OUT=/tmp/side.pcap npx vitest run test/side-protocols-decode.test.ts
 *   tshark -r /tmp/side.pcap -T fields -e frame.number -e rpc.procedure -e nlm.stat -e nlm.test_stat.stat \
 *     -e nlm.lock.l_offset64 -e nlm.lock.svid -e nlm.state -e stat.stat_res.res -e stat.stat_res.state \
 *     -e portmap.uaddr -e nfsacl.aclcnt -e nfsacl.dfaclcnt -e nfsacl.aclent.type -e nfs.fattr3.fileid
 * gave LOCK offset 1099511627776, state 3, nlm.stat 4 (DENIED_GRACE_PERIOD);
 * TEST reply test_stat 1 with holder svid 77; LOCK_RES stat 0; v1 UNLOCK
 * 32-bit offset 4096; MON stat_res 0 state 5; GETADDR uaddr
 * 10.0.0.2.15.205; GETACL aclcnt 3, dfaclcnt 1, types 1,2,32,4097, fileid 99.
 */
function sideCapture(): Buffer {
  const cap = new Capture();
  const client = (port: number): Host => ({ addr: '10.0.0.1', port });
  const server = (port: number): Host => ({ addr: '10.0.0.2', port });
  let xid = 0x5100;
  const exchange = (port: number, prog: number, vers: number, proc: number, args: Buffer, res: Buffer): void => {
    xid++;
    cap.udp(client(800 + (xid & 0xff)), server(port), rpcCall({ xid, prog, vers, proc, cred: { machine: 'client.example', uid: 0, gid: 0 } }, args));
    cap.udp(server(port), client(800 + (xid & 0xff)), rpcAcceptedReply(xid, res));
  };
  const big = { ...LOCK, offset: 2n ** 40n, length: 0 };
  exchange(111, 100000, 4, 3, g.rpcb(100021, 4, 'udp', '', ''), g.xdrString('10.0.0.2.15.205'));
  exchange(4045, 100021, 4, 2, g.nlmLockArgs(4, COOKIE, true, true, big, false, 3), g.nlmRes(COOKIE, 4));
  exchange(4045, 100021, 4, 1, g.nlmTestArgs(4, COOKIE, true, LOCK), g.nlmTestRes(4, COOKIE, 1, HOLDER));
  exchange(4045, 100021, 4, 7, g.nlmLockArgs(4, COOKIE, false, false, LOCK, true, 3), EMPTY);
  exchange(4045, 100021, 4, 12, g.nlmRes(COOKIE, 0), EMPTY);
  exchange(4045, 100021, 1, 4, g.nlmUnlockArgs(1, COOKIE, LOCK), g.nlmRes(COOKIE, 0));
  exchange(32765, 100024, 1, 2, g.smMon('server.example', MY_ID, PRIV), g.smStatRes(0, 5));
  exchange(32765, 100024, 1, 6, g.smStatChge('client.example', 7), EMPTY);
  exchange(2049, 100227, 3, 1, Buffer.concat([g.aclFh(3, FH), g.xdrU32(15)]), Buffer.concat([g.xdrU32(0), g.postOpAttr(512, 99), g.secattr(15, ACL, DFACL)]));
  return writePcap(cap.frames, { linkType: 1 });
}

describe('side protocols through the pipeline', () => {
  it('decodes a generated UDP capture', async () => {
    const pcap = sideCapture();
    if (process.env.SIDE_PCAP_OUT) writeFileSync(process.env.SIDE_PCAP_OUT, pcap);
    const file = writeTemp(tempDir(), 'side.pcap', pcap);
    const got: string[] = [];
    const onTransaction = (t: Transaction): void => {
      const c = t.decoded?.call;
      const r = t.decoded?.reply;
      expect(c?.stop).toBeUndefined();
      expect(r?.stop).toBeUndefined();
      got.push(`${t.program}/${t.version} ${c?.mainOp} ${r?.status}`);
      if (t.program === 100021 && t.procedure === 2) expect(c?.args).toMatchObject({ lock: { offset: 2 ** 40, length: 0 }, block: true, exclusive: true, state: 3 });
      if (t.program === 100021 && t.procedure === 1) expect(r?.results).toMatchObject({ holder: HOLDER_OUT });
      if (t.program === 100021 && t.procedure === 12) expect(c?.args).toMatchObject({ status: 'NLM4_GRANTED' });
      if (t.program === 100000) expect([c?.args, r?.results]).toMatchObject([{ program: 'NLM', vers: 4, netid: 'udp' }, { port: 4045 }]);
      if (t.program === 100227) expect(r?.results).toMatchObject({ aclCount: 3, defaultAclCount: 1, attr: { fileid: 99 } });
    };
    await analyze(file, { onTransaction, nfsPorts: [4045, 32765] });
    expect(got).toEqual([
      '100000/4 GETADDR null',
      '100021/4 LOCK NLM4_DENIED_GRACE_PERIOD',
      '100021/4 TEST NLM4_DENIED',
      '100021/4 LOCK_MSG null',
      '100021/4 LOCK_RES null',
      '100021/1 UNLOCK LCK_GRANTED',
      '100024/1 MON STAT_SUCC',
      '100024/1 NOTIFY null',
      '100227/3 GETACL NFS3_OK',
    ]);
  });
});
