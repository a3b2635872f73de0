#!/usr/bin/env bash
# Copies the reference captures the tests use from ../shared/captures into
# captures/, cutting the big ones to the frames a test needs (editcap -r,
# from Debian's wireshark-common), then regenerates their expected values
# with tshark (scripts/expected.mjs). Run where ../shared and tshark exist;
# `npm test` itself needs neither.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${SHARED_CAPTURES:-../shared/captures}
dst=captures

# Small captures, whole.
for f in nfsv3-errors.pcap nfsv3-nanosec.pcap nfsv3-snaplen200.pcap nfsv4-dumpcap.pcapng \
         nfsv4-errors.pcap nfsv4-grace-restart.pcap nfs-rdma-refused.pcap; do
  cp "$src/$f" "$dst/$f"
  cp "$src/$f.notes" "$dst/$f.notes"
done
# NFS over RDMA, whole (2.5 MB: its 49 calls are the RDMA acceptance test), with
# tshark's two-pass call listing (X.calls.jsonl, made beside the capture).
cp "$src/nfs-rdma-v3.pcap" "$src/nfs-rdma-v3.pcap.notes" "$dst/"
for f in nfs-rdma-v3.pcap nfs-rdma-refused.pcap; do cp "$src/$f.calls.jsonl" "$dst/$f.calls.jsonl"; done

# Big captures, cut: name, frame range, why.
cut() { # cut <source> <range> <target> <why>
  editcap -F pcap -r "$src/$1" "$dst/$3" "$2"
  { cat "$src/$1.notes"; echo; echo "nfsight cut: frames $2 of $1 (editcap -r), renumbered from 1. Kept for: $4"; } >"$dst/$3.notes"
}
cut nfsv3-basic.pcap 1-200 nfsv3-basic-head.pcap "portmap, MOUNT and small NFSv3 calls of six connections"
cut lossy-read.pcap 3400-3900 lossy-read-cut.pcap "retransmissions, overlapping client retransmissions (3587/3590/3592 in the original), out-of-order and lost server segments, mid-stream start"
cut unanswered-read.pcap 2150-2538 unanswered-read-tail.pcap "the READ never answered, the server's unacknowledged retransmissions and the client's RST"
cut nfsv4-any-sll2.pcap 1-40 nfsv4-any-sll2-head.pcap "Linux cooked v2 link type (tcpdump -i any)"
cut linux-v3-basic.pcap 1-200 linux-v3-basic-head.pcap "Linux kernel client: portmap GETPORT, MNT, NFS_ACL"
cut linux-v42-basic.pcap 1-120 linux-v42-basic-head.pcap "Linux kernel NFSv4.2 client: EXCHANGE_ID, CREATE_SESSION (callback program), SEQUENCE"
cut linux-v3-basic.pcap 2229-2234 linux-v3-nfsacl-cut.pcap "NFS_ACL GETACL between a LOOKUP -> NFS3ERR_NOENT and a CREATE (mid-stream start)"
cut nfsv3-stale.pcap 80-87 nfsv3-stale-cut.pcap "the reconnected READ with the old handle -> NFS3ERR_STALE"
cut nfsv41-pynfs-all.pcap 1-400 nfsv41-pynfs-head.pcap "pynfs NFSv4.1: EXCHANGE_ID, CREATE_SESSION, SEQUENCE and the first error cases"
cut nfsv41-pynfs-all.pcap 590-1780 nfsv41-pynfs-mid.pcap "pynfs NFSv4.1 op -> status pairs (with -errors and -tail: all 73 of the full run)"
cut nfsv41-pynfs-all.pcap 2020-2760 nfsv41-pynfs-errors.pcap "pynfs NFSv4.1 error cases and READs"
cut nfsv41-pynfs-all.pcap 22900-23811 nfsv41-pynfs-tail.pcap "pynfs NFSv4.1 last tests, the COMPOUNDs with minor version 50"
cut nfsv40-pynfs-state-errors.pcap 8400-9700 nfsv40-pynfs-state-errors-cut.pcap "pynfs NFSv4.0 state and lock errors (74 of 85 op -> status pairs)"

node scripts/expected.mjs "$dst"/*.pcap "$dst"/*.pcapng
