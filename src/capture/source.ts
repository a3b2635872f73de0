/**
 * Capture source: opens each input (a file or `-` for standard input),
 * undoes gzip compression when the bytes say so, recognises pcap or pcapng
 * by magic, and streams the file through the matching record reader in
 * 1 MiB chunks (a plain file through two reused buffers, see readPlainFile). Several inputs are read one after the other as one
 * continuous capture (a rotated `tcpdump -C/-W` set); frame numbers restart
 * in each file, as Wireshark numbers them.
 *
 * Memory is bounded by the chunk size: no file is ever held whole.
 */
import { closeSync, createReadStream, fstatSync, open, read } from 'node:fs';
import { AnalysisBug, InternalError } from '../internal-error.js';
import type { DiagnosticSink } from './frame.js';
import { GunzipError, gunzipChunks, GZIP_MAGIC_0, GZIP_MAGIC_1 } from './gunzip.js';
import { isPcapMagic, PcapReader } from './pcap.js';
import { newSparseReadStats, SparsePcapWalk, type SparseReadStats } from './pcap-sparse.js';
import { PcapngReader } from './pcapng.js';
import type { FrameCallback, RecordReader, RecordReaderOptions } from './record-reader.js';

export const CHUNK_SIZE = 1 << 20;
const PCAPNG_SHB_TYPE = 0x0a0d0d0a;

export type CaptureFormat = 'pcap' | 'pcapng' | 'unknown';

/** What reading one input gave. */
export interface CaptureFileInfo {
  /** The input as the user named it. */
  name: string;
  format: CaptureFormat;
  /** Microsecond or nanosecond pcap, or the pcapng resolution of its first interface. */
  timestampPrecision?: 'microseconds' | 'nanoseconds';
  gzip: boolean;
  /** Frames read. */
  frames: number;
  /** Bytes of capture data read (after decompression). */
  bytes: number;
  /** The file ended inside a record (a warning was reported). */
  truncated: boolean;
  /** Reading stopped at an error (could not open, not a capture, corrupt). */
  failed: boolean;
  /** Where the input was named among the inputs (1-based): a rotated set is read by first packet, not as named. */
  givenPosition?: number;
  /** ISO times of the file's first and last frame analysed (null when none). */
  firstTime?: string | null;
  lastTime?: string | null;
}

export interface ReadProgress {
  file: string;
  fileIndex: number;
  files: number;
  /** Bytes of the file read so far (as stored: compressed for gzip). */
  bytes: number;
  /** The file's size, when it is a regular file. */
  size: number | undefined;
}

export interface ReadOptions {
  /** Chunk size of the reads (default 1 MiB). */
  chunkSize?: number;
  /** Replaces process.stdin for `-` (tests). */
  stdin?: NodeJS.ReadableStream;
  /** Called after every chunk read from a file (a progress display). */
  onProgress?: (p: ReadProgress) => void;
  /** Number of files in the run, for ReadProgress.files (set by readCaptures). */
  fileCount?: number;
  /**
   * Large records of a plain classic pcap file are read sparsely (default),
   * or every byte is read (`false`): the results are the same.
   */
  sparse?: boolean;
  /** Counts what sparse reading read (tests, the benchmark). */
  sparseStats?: SparseReadStats;
}

/** Passes chunks through, reporting the bytes read so far. */
async function* countingChunks(source: AsyncIterable<Buffer>, report: (bytes: number) => void): AsyncGenerator<Buffer> {
  let bytes = 0;
  for await (const chunk of source) {
    bytes += chunk.length;
    report(bytes);
    yield chunk;
  }
}

/**
 * A cursor over an async chunk iterator that can gather the first few bytes
 * of a stream without losing them.
 */
class ChunkCursor {
  private readonly it: AsyncIterator<Buffer>;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private done = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Reads until at least n bytes are held (or the input ends); returns the head. */
  async peek(n: number): Promise<Buffer> {
    while (this.heldBytes < n && !this.done) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      this.held.push(chunk);
      this.heldBytes += chunk.length;
    }
    if (this.held.length > 1) this.held = [Buffer.concat(this.held)];
    return this.held[0] ?? Buffer.alloc(0);
  }

  async *chunks(): AsyncGenerator<Buffer> {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    try {
      yield* held;
      if (this.done) return;
      for (;;) {
        const r = await this.it.next();
        if (r.done) {
          this.done = true;
          return;
        }
        yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      }
    } finally {
      // Left early (the reader stopped): the source stops too (a decompression, a stream).
      if (!this.done) {
        this.done = true;
        await this.it.return?.();
      }
    }
  }
}

function describeError(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: string; message?: string };
    if (e.code === 'ENOENT') return 'no such file';
    if (e.code === 'EACCES') return 'permission denied';
    if (e.code === 'EISDIR') return 'is a directory';
    if (e.message) return e.message;
  }
  return String(err);
}

/** What reading settled on for an input: the reader, or the error already reported. */
type Opened = { reader: RecordReader } | { reader: undefined };

/**
 * Picks the record reader by the magic at the head of the (decompressed)
 * bytes, or reports why the input is not a capture.
 */
function openReader(head: Buffer, name: string, readerOptions: RecordReaderOptions, info: CaptureFileInfo): Opened {
  const sink = readerOptions.diag;
  if (head.length === 0) {
    sink.report({ severity: 'error', code: 'empty-file', file: name, offset: 0, message: 'the file is empty' });
    return { reader: undefined };
  }
  const magic = head.length >= 4 ? head.readUInt32BE(0) : -1;
  if (magic === PCAPNG_SHB_TYPE) {
    info.format = 'pcapng';
    return { reader: new PcapngReader(readerOptions) };
  }
  if (isPcapMagic(magic)) {
    info.format = 'pcap';
    return { reader: new PcapReader(readerOptions) };
  }
  const shown = head.subarray(0, 4).toString('hex');
  sink.report({
    severity: 'error',
    code: 'not-a-capture',
    file: name,
    offset: 0,
    message: `not a pcap or pcapng capture (first bytes ${shown}; expected a1b2c3d4, a1b23c4d or 0a0d0d0a, possibly gzip-compressed)`,
  });
  return { reader: undefined };
}

function readInto(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/**
 * Hands a chunk to the reader. Whatever it throws comes from the record walk
 * or the analysis behind onFrame, not from reading: an nfsight bug, wrapped
 * so that the catch of readCaptureFile does not report it as a read error.
 */
function push(reader: RecordReader, chunk: Buffer, file: string): void {
  try {
    reader.push(chunk);
  } catch (err) {
    throw err instanceof AnalysisBug ? err : new AnalysisBug(file, reader.frames, err);
  }
}

/**
 * An uncompressed file, read with positioned reads into two reused buffers:
 * while the reader walks one chunk (synchronously, on this thread), the next
 * read fills the other in libuv's thread pool, so the kernel's copy runs on
 * the second core. No chunk is allocated per read, and the reader copies
 * nothing but a record that straddles two chunks.
 *
 * A classic pcap file whose bytes are mostly in large records (TSO/GRO
 * frames) is read sparsely instead (pcap-sparse.ts): the chunk where they
 * dominate ends the chunked reading, and the walk goes on from the record
 * being gathered; when the walk meets a run of small records, or anything
 * it leaves to the chunks (the end of the file, a corrupt length), chunked
 * reading resumes there.
 */
async function readPlainFile(
  fd: number,
  chunkSize: number,
  reader: RecordReader,
  file: string,
  progress: ((bytes: number) => void) | undefined,
  size: number,
  sparse: SparseReadStats | undefined,
): Promise<void> {
  const first = Buffer.allocUnsafeSlow(chunkSize);
  const second = Buffer.allocUnsafeSlow(chunkSize);
  const walk = sparse !== undefined && reader instanceof PcapReader ? new SparsePcapWalk(fd, reader, file, sparse) : undefined;
  let from = 0;
  // The walk gave up at this offset: chunks read on at least past it before it is tried again.
  let walkedTo = -1;
  for (;;) {
    const resume = await readChunks(fd, first, second, reader, file, progress, from, walk === undefined ? undefined : walkedTo);
    if (resume < 0 || walk === undefined || reader.stopped) return;
    // Each walk starts beyond where the last one stopped, so the loop ends.
    if (resume <= walkedTo) throw new AnalysisBug(file, reader.frames, new InternalError('source.ts: readPlainFile', `sparse reading made no progress at byte ${resume}`));
    walkedTo = walk.walk(resume, size, progress);
    from = walkedTo;
  }
}

/**
 * Reads the file in chunks from offset `from` (a record boundary past the
 * file header, or 0) to its end, pushing them to the reader. The reads keep
 * to the grid of chunkSize from the file's start (the first chunk is pushed
 * from `from`), so the reader counts the same bytes read wherever it stops.
 * When `walkAfter` is given and a chunk is mostly large records, stops and
 * returns the offset of the next record to emit (beyond `walkAfter`) for
 * the sparse walk; otherwise returns -1 at the end.
 */
async function readChunks(
  fd: number,
  first: Buffer,
  second: Buffer,
  reader: RecordReader,
  file: string,
  progress: ((bytes: number) => void) | undefined,
  from: number,
  walkAfter: number | undefined,
): Promise<number> {
  const chunkSize = first.length;
  const pcap = walkAfter !== undefined && reader instanceof PcapReader ? reader : undefined;
  let current = first;
  let other = second;
  let position = from - (from % chunkSize);
  let skip = from - position;
  let length = await readInto(fd, current, position);
  position += length;
  while (length > 0) {
    progress?.(position);
    const next = readInto(fd, other, position);
    // A read error is reported where it is awaited, after this chunk is analysed.
    next.catch(() => undefined);
    const large = pcap?.largeRecordBytes ?? 0;
    if (skip < length) {
      // The reader counts the bytes pushed: as if the chunk had been pushed whole.
      setBytesRead(reader, position - length + skip);
      push(reader, skip === 0 && length === current.length ? current : current.subarray(skip, length), file);
    } else {
      setBytesRead(reader, position);
    }
    if (reader.stopped) {
      // The file is closed next: let the read in flight finish first.
      await next.catch(() => 0);
      return -1;
    }
    if (pcap !== undefined && pcap.header !== undefined && 2 * (pcap.largeRecordBytes - large) >= length - skip && pcap.nextRecordOffset > walkAfter!) {
      await next.catch(() => 0);
      const resume = pcap.nextRecordOffset;
      pcap.dropGathered();
      setBytesRead(reader, resume);
      return resume;
    }
    skip = 0;
    length = await next;
    position += length;
    const done = current;
    current = other;
    other = done;
  }
  return -1;
}

function setBytesRead(reader: RecordReader, bytes: number): void {
  (reader as { bytesRead: number }).bytesRead = bytes;
}

/**
 * Reads one capture input, calling onFrame for every frame. Never throws for
 * bad input: problems are reported through diag and summarised in the result.
 * An exception out of onFrame (or the record walk) is an AnalysisBug, thrown.
 */
export async function readCaptureFile(
  name: string,
  fileIndex: number,
  onFrame: FrameCallback,
  diag: DiagnosticSink,
  options: ReadOptions = {},
): Promise<CaptureFileInfo> {
  const chunkSize = options.chunkSize ?? CHUNK_SIZE;
  const info: CaptureFileInfo = { name, format: 'unknown', gzip: false, frames: 0, bytes: 0, truncated: false, failed: false };
  let truncatedReported = false;
  /** zlib failed (gzipFailed says so): the reader's own word that the capture ends inside a record would say it again. */
  let gzipStopped = false;
  const sink: DiagnosticSink = {
    report(d) {
      if (d.code === 'truncated-file') {
        if (gzipStopped) return;
        truncatedReported = true;
      }
      diag.report(d);
    },
  };
  const readerOptions: RecordReaderOptions = { file: name, fileIndex, onFrame, diag: sink };
  const onProgress = options.onProgress;
  const files = options.fileCount ?? 1;
  let size: number | undefined;
  const progressOf = (bytes: number): void => onProgress?.({ file: name, fileIndex, files, bytes, size });
  let reader: RecordReader | undefined;
  let fd: number | undefined;
  let raw: NodeJS.ReadableStream | undefined;
  try {
    let source: AsyncIterable<Buffer> | undefined;
    if (name === '-') {
      raw = options.stdin ?? process.stdin;
      source = raw as AsyncIterable<Buffer>;
    } else {
      fd = await new Promise<number>((resolve, reject) => open(name, 'r', (err, f) => (err ? reject(err) : resolve(f))));
      size = fstatSync(fd).size;
      // The magic first (the chunks may be smaller than it).
      const magic = Buffer.alloc(4);
      const m = await readInto(fd, magic, 0);
      if (!(m >= 2 && magic[0] === GZIP_MAGIC_0 && magic[1] === GZIP_MAGIC_1)) {
        reader = openReader(magic.subarray(0, m), name, readerOptions, info).reader;
        if (reader === undefined) {
          info.failed = true;
          return info;
        }
        const sparse = options.sparse === false ? undefined : (options.sparseStats ?? newSparseReadStats());
        await readPlainFile(fd, chunkSize, reader, name, onProgress && progressOf, size, sparse);
        reader.end();
        return finishInfo(info, reader, truncatedReported);
      }
      // Compressed: through a stream and zlib, from the start.
      closeSync(fd);
      fd = undefined;
      raw = createReadStream(name, { highWaterMark: chunkSize });
      source = raw as AsyncIterable<Buffer>;
    }
    if (onProgress !== undefined) source = countingChunks(source, progressOf);
    let cursor = new ChunkCursor(source);
    let head = await cursor.peek(4);
    if (head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1) {
      info.gzip = true;
      cursor = new ChunkCursor(gunzipChunks(cursor.chunks()));
      head = await cursor.peek(4);
    }
    reader = openReader(head, name, readerOptions, info).reader;
    if (reader === undefined) {
      info.failed = true;
      return info;
    }
    for await (const chunk of cursor.chunks()) {
      push(reader, chunk, name);
      if (reader.stopped) break;
    }
    reader.end();
  } catch (err) {
    // Not a read error: the run stops, the CLI says "nfsight bug" and exits 2.
    if (err instanceof AnalysisBug) throw err;
    if (err instanceof GunzipError) {
      // Said once, by gzipFailed (straight to diag), not again by the reader through sink.
      gzipStopped = true;
      return gzipFailed(err, info, reader, diag, name);
    }
    if (reader === undefined) {
      sink.report({ severity: 'error', code: 'cannot-read', file: name, message: `cannot read: ${describeError(err)}` });
      info.failed = true;
      return info;
    }
    // A read error mid-file: what came before is analysed.
    const offset = reader.bytesRead;
    sink.report({
      severity: 'warning',
      code: 'truncated-file',
      file: name,
      offset,
      message: `read error: ${describeError(err)} at byte ${offset} of the ${info.gzip ? 'decompressed ' : ''}capture; the ${reader.frames} frames before it are analysed`,
    });
    reader.end();
  } finally {
    // Stop reading a file we gave up on (corrupt header, absurd length).
    if (raw !== undefined && name !== '-' && 'destroy' in raw && typeof raw.destroy === 'function') raw.destroy();
    if (fd !== undefined) closeSync(fd);
  }
  return finishInfo(info, reader, truncatedReported);
}

/**
 * zlib failed on a gzip input. Everything it decompressed before has been
 * analysed; one line says where the compressed file went wrong and how
 * much of the capture came out of it:
 * - cut short ("unexpected end of file") or corrupt inside the data: the
 *   capture ends there (a cut file's warning, `truncated-file`);
 * - the data decompressed whole but does not match the CRC or length of
 *   the gzip trailer: every frame is analysed, and some bytes are damaged
 *   (`corrupt-gzip`).
 * The frame named is the one in progress; the positions are in the message,
 * since a diagnostic's offset is one in the decompressed capture. The
 * reader's own word that the capture ends inside a record is not repeated.
 */
function gzipFailed(err: GunzipError, info: CaptureFileInfo, reader: RecordReader | undefined, sink: DiagnosticSink, name: string): CaptureFileInfo {
  const zlib = `zlib: ${err.zlibMessage}`;
  const input = name === '-' ? 'standard input' : 'the file';
  if (reader === undefined) {
    const what = err.cut ? `the gzip data ends at byte ${err.fedBytes} of ${input}` : `the gzip data is corrupt after byte ${err.goodBytes} of ${input} (${zlib})`;
    sink.report({ severity: 'error', code: 'cannot-read', file: name, message: `${what}, before the capture's first bytes` });
    info.failed = true;
    return info;
  }
  const frame = reader.frames + 1;
  const capture = `${reader.bytesRead} bytes of capture decompressed`;
  if (err.trailerMismatch) {
    reader.end();
    sink.report({
      severity: 'warning',
      code: 'corrupt-gzip',
      file: name,
      message: `the gzip trailer at byte ${err.goodBytes} does not match the data (${zlib}): some of the ${capture} are damaged; all ${reader.frames} frames are analysed`,
    });
    info.failed = true;
    return finishInfo(info, reader, false);
  }
  const what = err.cut ? `the gzip data ends early, at byte ${err.fedBytes} of ${input}` : `the gzip data is corrupt after byte ${err.goodBytes} of ${input} (${zlib})`;
  sink.report({ severity: 'warning', code: 'truncated-file', file: name, frame, message: `${what}, ${capture}; the ${reader.frames} frames before it are analysed` });
  reader.end();
  return finishInfo(info, reader, true);
}

function finishInfo(info: CaptureFileInfo, reader: RecordReader | undefined, truncatedReported: boolean): CaptureFileInfo {
  if (reader) {
    info.frames = reader.frames;
    info.bytes = reader.bytesRead;
    info.failed = info.failed || reader.stopped;
    if (reader instanceof PcapReader && reader.header) {
      info.timestampPrecision = reader.header.nanosecond ? 'nanoseconds' : 'microseconds';
    } else if (reader instanceof PcapngReader && reader.timestampPrecision) {
      info.timestampPrecision = reader.timestampPrecision;
    }
  }
  info.truncated = truncatedReported;
  return info;
}

/** Thrown from onFrame to stop reading at the first frame. */
class FirstFrameFound extends Error {}

/**
 * The time of an input's first frame (reading no further than its first
 * chunk or record), or undefined when it holds none or cannot be read.
 */
export async function firstFrameTime(name: string, options: Pick<ReadOptions, 'chunkSize'> = {}): Promise<{ tsSec: number; tsNsec: number } | undefined> {
  let found: { tsSec: number; tsNsec: number } | undefined;
  const onFrame: FrameCallback = (f) => {
    found ??= { tsSec: f.tsSec, tsNsec: f.tsNsec };
    throw new FirstFrameFound();
  };
  try {
    await readCaptureFile(name, 0, onFrame, { report: () => undefined }, { chunkSize: options.chunkSize ?? 64 * 1024 });
  } catch (e) {
    // Thrown after the first frame is found, it is the stop signal (perhaps wrapped by the reading layer).
    if (found === undefined) throw e;
  }
  return found;
}

/**
 * The order to read a rotated set in: by the time of each file's first
 * frame (tcpdump -C names files cap, cap1, … cap10, which a shell's glob
 * sorts cap, cap1, cap10, cap2), ties and files without a frame keeping the
 * order given (those last). Standard input is never peeked: with `-` among
 * the inputs the order given stands. Returns indexes into `names`.
 */
export async function orderByFirstFrame(names: readonly string[], options: Pick<ReadOptions, 'chunkSize'> = {}): Promise<number[]> {
  return orderByTimes(await firstFrameTimes(names, options));
}

/** The first frame's time of each of several inputs (none peeked for one input, or with standard input among them; undefined for a file without frames). */
export async function firstFrameTimes(names: readonly string[], options: Pick<ReadOptions, 'chunkSize'> = {}): Promise<({ tsSec: number; tsNsec: number } | undefined)[]> {
  if (names.length < 2 || names.includes('-')) return names.map(() => undefined);
  const times: ({ tsSec: number; tsNsec: number } | undefined)[] = [];
  for (const n of names) times.push(await firstFrameTime(n, options));
  return times;
}

/** The order of orderByFirstFrame, given the times of firstFrameTimes. */
export function orderByTimes(firstTimes: readonly ({ tsSec: number; tsNsec: number } | undefined)[]): number[] {
  const times = firstTimes.map((t) => t ?? { tsSec: Infinity, tsNsec: 0 });
  // By seconds, then nanoseconds (as one number, nanoseconds since 1970 lose precision beyond 2^53).
  return times.map((_, i) => i).sort((a, b) => times[a]!.tsSec - times[b]!.tsSec || times[a]!.tsNsec - times[b]!.tsNsec || a - b);
}

/** Reads several inputs in order as one continuous capture. */
export async function readCaptures(
  names: readonly string[],
  onFrame: FrameCallback,
  diag: DiagnosticSink,
  options: ReadOptions = {},
): Promise<CaptureFileInfo[]> {
  const infos: CaptureFileInfo[] = [];
  for (let i = 0; i < names.length; i++) {
    infos.push(await readCaptureFile(names[i]!, i, onFrame, diag, { ...options, fileCount: names.length }));
  }
  return infos;
}
