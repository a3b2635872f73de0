/**
 * The push interface every capture-format reader implements: the capture
 * source pulls chunks from a (possibly decompressed) byte stream and pushes
 * them in; the reader emits frames synchronously through its callback.
 */
import type { DiagnosticSink, Frame } from './frame.js';

export type FrameCallback = (frame: Frame) => void;

export interface RecordReader {
  /** Feeds the next chunk of the file. Never throws on bad input: reports a diagnostic and stops. */
  push(chunk: Buffer): void;
  /** The input ended; reports a truncated last record, if any. */
  end(): void;
  /** True once the reader hit an error it cannot read past; further chunks are ignored. */
  readonly stopped: boolean;
  /** Frames emitted so far. */
  readonly frames: number;
  /** Bytes of the file pushed in so far (until the reader stopped): the offset reached. */
  readonly bytesRead: number;
}

export interface RecordReaderOptions {
  /** Name of the file for diagnostics (`-` for standard input). */
  file: string;
  fileIndex: number;
  onFrame: FrameCallback;
  diag: DiagnosticSink;
}

/**
 * Largest captured length accepted for a record when the file's snaplen is
 * smaller. Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD; bigger records are
 * taken to be corruption, so one bad length cannot make a reader buffer the
 * rest of the file.
 */
export const MAX_RECORD_LENGTH = 262_144;
