// pcap-parser ships no types; this covers what nfsight uses of it.
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';

  export interface PcapGlobalHeader {
    magicNumber: number;
    majorVersion: number;
    minorVersion: number;
    gmtOffset: number;
    timestampAccuracy: number;
    snapshotLength: number;
    linkLayerType: number;
  }

  export interface PcapPacketHeader {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }

  export interface PcapPacket {
    header: PcapPacketHeader;
    data: Buffer;
  }

  export interface PcapParser extends EventEmitter {
    /** Unparsed bytes held by the parser (null before the first chunk). */
    buffer: Buffer | null;
    errored: boolean;
  }

  export function parse(input: string | NodeJS.ReadableStream | EventEmitter): PcapParser;
  const pcapParser: { parse: typeof parse };
  export default pcapParser;
}
