/** Small shared helpers for the test suites. */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic, Frame } from '../src/capture/frame.js';
import { NetDecoder } from '../src/net/decoder.js';
import type { StreamConsumer, TcpEvent, TcpEventKind, TransportHandler } from '../src/transport/stream.js';
import { Transport } from '../src/transport/transport.js';
import { readCaptureFile, readCaptures, type CaptureFileInfo, type ReadOptions } from '../src/capture/source.js';

export const CAPTURES = fileURLToPath(new URL('../captures', import.meta.url));

export interface ExpectedStream {
  id: number;
  a: string;
  b: string;
  handshakeSeen: boolean;
  bytesAtoB: number;
  bytesBtoA: number;
}

/** What tshark decoded of a bundled capture (scripts/expected.mjs). */
export interface Expected {
  file: string;
  encapsulation: string;
  frames: number;
  wireBytes: number;
  capturedBytes: number;
  framesCutBySnaplen: number;
  first: { frame: number; sec: number; nsec: number };
  last: { frame: number; sec: number; nsec: number };
  udpDatagrams: number;
  tcp: { segments: number; flags: Record<string, number>; streams: ExpectedStream[] };
}

export function bundledCaptures(): string[] {
  return readdirSync(CAPTURES)
    .filter((f) => /\.(pcap|pcapng)$/.test(f))
    .sort();
}

export function expectedOf(name: string): Expected {
  return JSON.parse(readFileSync(join(CAPTURES, `${name}.expected.json`), 'utf8')) as Expected;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'nfsight-test-'));
}

export function writeTemp(dir: string, name: string, bytes: Buffer | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

export interface RecordedFrame {
  fileIndex: number;
  number: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  length: number;
  origLen: number;
  byteOffset: number;
  first16: string;
}

export interface ReadResult {
  frames: RecordedFrame[];
  diagnostics: Diagnostic[];
  infos: CaptureFileInfo[];
}

function recorder(): { frames: RecordedFrame[]; onFrame: (f: Frame) => void } {
  const frames: RecordedFrame[] = [];
  return {
    frames,
    onFrame: (f) =>
      frames.push({
        fileIndex: f.fileIndex,
        number: f.number,
        tsSec: f.tsSec,
        tsNsec: f.tsNsec,
        linkType: f.linkType,
        length: f.data.length,
        origLen: f.origLen,
        byteOffset: f.byteOffset,
        first16: f.data.subarray(0, 16).toString('hex'),
      }),
  };
}

/** Reads capture files through the real capture source, recording every frame and diagnostic. */
export async function readAll(paths: string[], options: ReadOptions = {}): Promise<ReadResult> {
  const { frames, onFrame } = recorder();
  const diagnostics: Diagnostic[] = [];
  const infos = await readCaptures(paths, onFrame, { report: (d) => diagnostics.push(d) }, options);
  return { frames, diagnostics, infos };
}

export async function readOne(path: string, options: ReadOptions = {}): Promise<ReadResult> {
  const { frames, onFrame } = recorder();
  const diagnostics: Diagnostic[] = [];
  const info = await readCaptureFile(path, 0, onFrame, { report: (d) => diagnostics.push(d) }, options);
  return { frames, diagnostics, infos: [info] };
}

/** Runs a bundled capture through the link/IP and transport layers into `handler`. */
export async function runTransport(name: string, handler: TransportHandler): Promise<void> {
  const diag = { report: () => undefined };
  const net = new NetDecoder(diag, () => name);
  const transport = new Transport(handler);
  const onFrame = (f: Frame): void => {
    const p = net.decode(f);
    if (p) transport.packet(p);
  };
  await readCaptureFile(join(CAPTURES, name), 0, onFrame, diag);
  net.finish();
  transport.finish();
}

/** A transport handler that records the TCP events (and consumes the streams without looking at them). */
export class TcpEventRecorder implements TransportHandler {
  events: TcpEvent[] = [];
  openConnection(): [StreamConsumer, StreamConsumer] {
    const c: StreamConsumer = { data: () => undefined, gap: () => undefined, end: () => undefined };
    return [c, c];
  }
  datagram(): void {}
  tcpEvent(e: TcpEvent): void {
    this.events.push(e);
  }
  /** Frame numbers of the events of one kind, in the order emitted. */
  frames(kind: TcpEventKind): number[] {
    return this.events.filter((e) => e.kind === kind).map((e) => e.at.number);
  }
}
