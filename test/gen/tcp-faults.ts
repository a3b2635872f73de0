/**
 * TCP faults TcpSession does not make: a connection attempt refused (SYN
 * answered by RST), a segment sent again byte for byte (an RTO
 * retransmission of a frame already in the capture) with a backoff series,
 * and captures that lost a direction or some frames.
 */
import { ETHERTYPE_IPV4, ethernet, ipv4 } from './packets.js';
import { Capture, type Host } from './session.js';
import { ACK, RST, SYN, tcpSegment } from './tcp.js';

/** A SYN from `client` to `server` answered by RST|ACK; returns [syn, rst] frame numbers. */
export function refusedSyn(capture: Capture, client: Host, server: Host, isn = 7000): [number, number] {
  const syn = capture.push(ethernet({ ethertype: ETHERTYPE_IPV4 }, ipv4({ src: client.addr, dst: server.addr, protocol: 6 }, tcpSegment({ srcPort: client.port, dstPort: server.port, seq: isn, flags: SYN }))));
  const rst = capture.push(
    ethernet({ ethertype: ETHERTYPE_IPV4 }, ipv4({ src: server.addr, dst: client.addr, protocol: 6 }, tcpSegment({ srcPort: server.port, dstPort: client.port, seq: 0, ack: isn + 1, flags: RST | ACK, window: 0 }))),
  );
  return [syn, rst];
}

/** Appends an exact copy of an earlier frame (1-based number) at the current time: a retransmission of that segment. */
export function resendFrame(capture: Capture, frame: number): number {
  const original = capture.frames[frame - 1];
  if (original === undefined) throw new Error(`no frame ${frame}`);
  return capture.push(Buffer.from(original.data));
}

/** A bare TCP segment with the sequence and acknowledgement numbers given (e.g. an RST acknowledging less than was sent). */
export function rawSegment(capture: Capture, from: Host, to: Host, seq: number, ack: number, flags: number): number {
  return capture.push(ethernet({ ethertype: ETHERTYPE_IPV4 }, ipv4({ src: from.addr, dst: to.addr, protocol: 6 }, tcpSegment({ srcPort: from.port, dstPort: to.port, seq, ack, flags }))));
}

/**
 * Resends an earlier frame `times` times, the first after `firstRto`
 * seconds and each later one after twice the previous interval, capped at
 * `cap` seconds (Linux TCP's RTO backoff); returns the new frame numbers.
 */
export function rtoBackoff(capture: Capture, frame: number, times: number, firstRto = 0.2, cap = 120): number[] {
  const out: number[] = [];
  let rto = firstRto;
  for (let i = 0; i < times; i++) {
    capture.advance(rto);
    out.push(resendFrame(capture, frame));
    rto = Math.min(cap, rto * 2);
  }
  return out;
}

/** The IPv4 source address of an Ethernet/IPv4 frame. */
function ipv4Source(frame: Buffer): string {
  return `${frame[26]}.${frame[27]}.${frame[28]}.${frame[29]}`;
}

/**
 * A copy of a capture keeping only the frames sent by `from` (a capture that
 * saw one direction: a mirror port copying one way); frame numbers change.
 */
export function oneDirection(capture: Capture, from: Host): Capture {
  const out = new Capture();
  for (const f of capture.frames) if (ipv4Source(f.data) === from.addr) out.frames.push(f);
  return out;
}

/** A copy of a capture without the frames numbered in `drop` (1-based): packets the capture lost. */
export function withoutFrames(capture: Capture, drop: readonly number[]): Capture {
  const out = new Capture();
  const gone = new Set(drop);
  capture.frames.forEach((f, i) => {
    if (!gone.has(i + 1)) out.frames.push(f);
  });
  return out;
}
