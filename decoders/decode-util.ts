/** Small helpers every program decoder shares. */
import type { DecodedReply, DecodeStop } from './decoded.js';
import type { XdrReader } from './xdr.js';

const SAFE_HIGH = 0x200000;
const TWO_32 = 4294967296;

export type Obj = Record<string, unknown>;

/** Stores a field only while the reader is fine: values read after a stop are zeros, not data. */
export function put(r: XdrReader, o: Obj, k: string, v: unknown): void {
  if (r.ok) o[k] = v;
}

/** Where and why the reader stopped, or undefined while it is fine. */
export function stopOf(r: XdrReader): DecodeStop | undefined {
  if (r.ok) return undefined;
  // The reader's statuses are a subset of DecodeStop's reasons.
  return { reason: r.status as DecodeStop['reason'], at: r.errorAt };
}

/** uint64 (hyper) as a number when exact, else a decimal string. */
export function hyper(r: XdrReader): number | string {
  const hi = r.u32();
  const lo = r.u32();
  if (hi < SAFE_HIGH) return hi * TWO_32 + lo;
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** An XDR linked list (`*next` pointers, RFC 4506 §4.19): `fn` per element while the "more" flag is set. */
export function linkedList<T>(r: XdrReader, fn: (r: XdrReader) => T): T[] {
  const out: T[] = [];
  while (r.ok && r.bool()) {
    const v = fn(r);
    if (!r.ok) break;
    out.push(v);
  }
  return out;
}

/** A reply whose results have no status field (void results, lists, portmap's answers). */
export function statuslessReply(results: Obj = {}): DecodedReply {
  return { status: null, statusCode: null, results };
}

/** A reply whose status could not be read (cut short, or an unknown procedure marked malformed). */
export function undecodableReply(r: XdrReader): DecodedReply {
  return { status: 'UNKNOWN', statusCode: -1, results: {}, stop: stopOf(r) ?? { reason: 'malformed', at: r.pos } };
}
