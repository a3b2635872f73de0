// Compares nfsight's calls (rows of `nfsight calls`) with the calls tshark
// decodes (tsharkCalls in tshark-reference.mjs, or a capture's
// expected.json): every field of every call tshark decodes. Used by
// scripts/check-shared.mjs and by the tests on the bundled captures.

/**
 * For each call tshark decodes: the row nfsight lists at that frame with
 * that xid (or, for a client's retransmission, the row it retransmits, which
 * tshark leaves unanswered) must agree on program, version, procedure, reply
 * frame, rpc.time and status. Where tshark has no reply for a call, the
 * reply fields are not compared (nfsight may decode replies tshark loses:
 * those are listed in `extra`, as are rows tshark has no call for).
 *
 * Returns { calls, fields, equal, differences, extra }: calls compared,
 * fields compared and equal, a line per differing field, a line per extra.
 */
export function compareCalls(theirs, rows) {
  const byFrame = new Map();
  const byRetransmit = new Map();
  for (const r of rows) {
    byFrame.set(`${r.frame} ${r.xid}`, r);
    for (const f of r.retransmitFrames ?? []) byRetransmit.set(`${f} ${r.xid}`, r);
  }
  const out = { calls: 0, fields: 0, equal: 0, differences: [], extra: [] };
  const seen = new Set();
  const check = (t, what, ours, want) => {
    out.fields++;
    if (ours === want) out.equal++;
    else out.differences.push(`${t.frame} ${t.xid} ${what}: ${ours} vs tshark ${want}`);
  };
  for (const t of theirs) {
    out.calls++;
    const key = `${t.frame} ${t.xid}`;
    let r = byFrame.get(key);
    const retransmission = r === undefined ? byRetransmit.get(key) : undefined;
    if (r === undefined) r = retransmission;
    // frame and xid: the call is listed where tshark shows it.
    out.fields += 2;
    if (r === undefined) {
      out.differences.push(`${key}: call not listed`);
      continue;
    }
    seen.add(r);
    out.equal += 2;
    check(t, 'program', r.program, t.program);
    check(t, 'version', r.version, t.version);
    check(t, 'procedure', r.procedure, t.procedure);
    if (retransmission !== undefined) {
      // tshark answers the first call; its retransmission stays without a reply.
      check(t, 'reply of a retransmission', null, t.replyFrame);
      continue;
    }
    if (t.replyFrame === null) {
      if (r.replyFrame !== null) out.extra.push(`reply ${r.replyFrame} to call ${t.frame}`);
      continue;
    }
    check(t, 'reply frame', r.replyFrame, t.replyFrame);
    check(t, 'rpc.time', r.latency === null ? null : r.latency.toFixed(9), t.time);
    check(t, 'status', r.statusCode, t.status);
  }
  for (const r of rows) if (!seen.has(r)) out.extra.push(`call ${r.frame} ${r.xid}`);
  return out;
}
