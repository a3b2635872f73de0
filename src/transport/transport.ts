/**
 * The transport layer's entry point: IP packets in, TCP streams and UDP
 * datagrams out (see stream.ts for the contract with the layer above).
 */
import type { MemoryBudget } from '../memory/budget.js';
import { IPPROTO_IB_BTH, IPPROTO_TCP, IPPROTO_UDP, type IpPacket } from '../net/packet.js';
import { ROCE_V2_PORT, type RoceLayer } from './roce.js';
import type { TransportHandler } from './stream.js';
import { TcpReassembler, type TcpOptions, type TcpStats } from './tcp-reassembly.js';
import { UDP_HEADER_LEN, udpDatagramLength, udpDstPort, udpSrcPort } from './udp.js';

export interface TransportStats {
  tcp: TcpStats;
  /** UDP datagrams handed to the handler. */
  udpDatagrams: number;
  /** UDP payload bytes per the UDP headers (captured or not). */
  udpPayloadBytes: number;
  /** UDP datagrams whose header is cut or inconsistent with the IP length (dropped). */
  udpMalformed: number;
  /** Packets of another transport protocol (ignored). */
  otherProtocol: number;
}

/** TCP tuning, and the memory budget shared with the layers above (none: unlimited). */
export type TransportOptions = Partial<TcpOptions> & { budget?: MemoryBudget };

export class Transport {
  readonly stats: TransportStats;
  private readonly tcp: TcpReassembler;

  /**
   * `roce` takes RoCE traffic (UDP port 4791, and RoCEv1); without it that
   * traffic goes to the handler as plain UDP datagrams.
   */
  constructor(
    private readonly handler: TransportHandler,
    options?: TransportOptions,
    private readonly roce?: RoceLayer,
  ) {
    this.tcp = new TcpReassembler(handler, options);
    this.stats = { tcp: this.tcp.stats, udpDatagrams: 0, udpPayloadBytes: 0, udpMalformed: 0, otherProtocol: 0 };
  }

  /** Feeds one IP packet. Never throws on bad input (malformed headers are counted). */
  packet(pkt: IpPacket): void {
    if (pkt.protocol === IPPROTO_TCP) this.tcp.segment(pkt);
    else if (pkt.protocol === IPPROTO_UDP) this.udp(pkt);
    else if (pkt.protocol === IPPROTO_IB_BTH && this.roce !== undefined) this.roce.roceV1(pkt);
    else this.stats.otherProtocol++;
  }

  /** End of the capture: flushes and ends every TCP stream. */
  finish(): void {
    this.tcp.finish();
    this.roce?.finish();
  }

  private udp(pkt: IpPacket): void {
    const buf = pkt.buf;
    const o = pkt.l4Start;
    const captured = pkt.l4End - o;
    const len = udpDatagramLength(buf, pkt.l4WireLength, pkt.ipVersion, o, captured);
    if (len < 0) {
      this.stats.udpMalformed++;
      return;
    }
    // Captured payload stops at the UDP length (padding) or where the snaplen cut.
    const end = captured < len ? captured : len;
    const wireLength = len - UDP_HEADER_LEN;
    this.stats.udpDatagrams++;
    this.stats.udpPayloadBytes += wireLength;
    if (this.roce !== undefined && udpDstPort(buf, o) === ROCE_V2_PORT) {
      this.roce.udp(pkt, buf.subarray(o + UDP_HEADER_LEN, o + end), wireLength);
      return;
    }
    // A fresh object per datagram: the handler may keep the endpoints. `at` is the
    // reader's reused frame, valid during the call (snapshotFrameRef to keep it).
    this.handler.datagram({
      src: { addr: pkt.src, port: udpSrcPort(buf, o) },
      dst: { addr: pkt.dst, port: udpDstPort(buf, o) },
      payload: buf.subarray(o + UDP_HEADER_LEN, o + end),
      wireLength,
      at: pkt.frame,
    });
  }
}
