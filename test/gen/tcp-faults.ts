/**
 * TCP faults TcpSession does not make: a connection attempt refused (SYN
 * answered by RST) and a segment sent again byte for byte (an RTO
 * retransmission of a frame already in the capture).
 */
import { ETHERTYPE_IPV4, ethernet, ipv4 } from './packets.js';
import type { Capture, Host } from './session.js';
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
