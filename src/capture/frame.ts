/**
 * The unit every capture format is turned into, and the diagnostics that
 * reading (and every later layer) reports.
 */

/** Where a frame came from and when: enough to name it to a user and to time it. */
export interface FrameRef {
  /** Index of the input file in the run (0-based), into `CaptureRun.files`. */
  fileIndex: number;
  /** Frame number within its file, 1-based, as Wireshark numbers it. */
  number: number;
  /** Capture timestamp: whole seconds since the epoch (may be negative for odd files). */
  tsSec: number;
  /** Capture timestamp: nanoseconds within the second, 0..999_999_999. */
  tsNsec: number;
}

/**
 * One captured packet. Readers reuse a single Frame object and mutate it for
 * every record, so a consumer must copy what it keeps beyond the callback
 * (`snapshotFrameRef`, and `Buffer.from(frame.data)` for bytes).
 *
 * The captured bytes are `buf[start, end)`: `buf` is the reader's chunk (or
 * its buffer for a record that straddled two chunks), never a copy made for
 * the frame. The hot path reads them there; `data` makes a view (an
 * allocation) for code off the hot path.
 */
export interface Frame extends FrameRef {
  /** Link-layer header type (LINKTYPE_* number). */
  linkType: number;
  /** The buffer holding the captured bytes at [start, end): the reader's, valid during the callback. */
  buf: Buffer;
  start: number;
  end: number;
  /** The captured bytes as a view of `buf` (allocates: not for the per-packet path). */
  readonly data: Buffer;
  /** Length of the packet on the wire; `end - start < origLen` when the snaplen cut it. */
  origLen: number;
  /** Byte offset of the record (its header) in the (decompressed) file. */
  byteOffset: number;
  /** Interface index within the file (pcapng), 0 for classic pcap. */
  interfaceId: number;
  /**
   * Sparse reading (a large record of a classic pcap file): not every
   * captured byte of `buf[start, end)` has been read from the file yet, and
   * what has not holds garbage. Code that reads bytes of the frame calls
   * `lazy.need(from, to)` first; code that does not know about sparse
   * frames calls `loadAll(frame)`. null when every byte is in `buf` (always,
   * for any other input). The lengths (`start`, `end`, `origLen`) are the
   * record's own either way.
   */
  lazy: LazyBytes | null;
}

/** The bytes of a sparse frame, read on demand (valid during the frame callback only). */
export interface LazyBytes {
  /** Makes `buf[from, to)` (positions in the frame's `buf`, within its captured bytes) hold the captured bytes. */
  need(from: number, to: number): void;
  /** `buf[start, readyEnd)` is read: the headers at least (a few hundred bytes, or the whole record). */
  readonly readyEnd: number;
}

/** Reads whatever a sparse frame has not read yet: the frame then holds every captured byte (`lazy` null). */
export function loadAll(frame: Frame): void {
  const lazy = frame.lazy;
  if (lazy !== null) {
    lazy.need(frame.start, frame.end);
    frame.lazy = null;
  }
}

const NO_BYTES = Buffer.alloc(0);

/** The Frame a reader reuses; also a convenient way to make one (tests). */
export class CaptureFrame implements Frame {
  number = 0;
  tsSec = 0;
  tsNsec = 0;
  linkType = 0;
  buf: Buffer = NO_BYTES;
  start = 0;
  end = 0;
  origLen = 0;
  byteOffset = 0;
  interfaceId = 0;
  lazy: LazyBytes | null = null;

  constructor(public fileIndex: number) {}

  get data(): Buffer {
    loadAll(this);
    return this.buf.subarray(this.start, this.end);
  }

  /** Points the frame at `bytes` (whole), e.g. a packet built by a test. */
  setBytes(bytes: Buffer, origLen = bytes.length): this {
    this.buf = bytes;
    this.start = 0;
    this.end = bytes.length;
    this.origLen = origLen;
    this.lazy = null;
    return this;
  }
}

export function snapshotFrameRef(f: FrameRef): FrameRef {
  return { fileIndex: f.fileIndex, number: f.number, tsSec: f.tsSec, tsNsec: f.tsNsec };
}

/** Copies a frame reference into an existing object (no allocation on the hot path). */
export function assignFrameRef(target: FrameRef, source: FrameRef): void {
  target.fileIndex = source.fileIndex;
  target.number = source.number;
  target.tsSec = source.tsSec;
  target.tsNsec = source.tsNsec;
}

export function newFrame(fileIndex: number): CaptureFrame {
  return new CaptureFrame(fileIndex);
}

/** Seconds between two frame times (b - a), exact to the nanosecond for spans of years. */
export function secondsBetween(a: FrameRef, b: FrameRef): number {
  return (b.tsSec - a.tsSec) + (b.tsNsec - a.tsNsec) / 1e9;
}

export type Severity = 'error' | 'warning' | 'info';

/**
 * A message about the input. Always names the file, and the frame or the
 * byte offset where it applies, so the user can find the place in Wireshark
 * or a hex editor.
 */
export interface Diagnostic {
  severity: Severity;
  /** Short machine-readable kind, e.g. `truncated-file`, `bad-record-length`, `unknown-linktype`. */
  code: string;
  /** The input file as the user named it (`-` for standard input). */
  file: string;
  /** Frame number (1-based) where it applies, if any. */
  frame?: number;
  /** Byte offset in the (decompressed) file, if it applies. */
  offset?: number;
  message: string;
}

export interface DiagnosticSink {
  report(d: Diagnostic): void;
}

/** Renders a diagnostic as one line for a terminal: `file: frame 12: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where: string[] = [d.file];
  if (d.frame !== undefined) where.push(`frame ${d.frame}`);
  if (d.offset !== undefined) where.push(`byte ${d.offset}`);
  return `${d.severity}: ${where.join(': ')}: ${d.message}`;
}
