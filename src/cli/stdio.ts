/**
 * Standard output and standard error (and the terminal test) without Node's
 * stream objects while a command does not need them. The first use of
 * `process.stdout` or `process.stderr` builds a stream and loads Node's
 * streams with it: 5 ms of CPU when the output is a file or /dev/null,
 * 11 ms (17 ms of wall time) when it is a pipe, paid by every short run.
 * Here text is written with `writeSync` on fd 1 or 2, and whether a fd is
 * a terminal is first asked of `fstat`: a pipe, a socket, a file or
 * /dev/null is none. Only a character device that may be a terminal builds
 * the stream, as does a write that fails otherwise than by EPIPE (a
 * non-blocking pipe that is full, a closed fd), from which point every
 * write to that fd goes through the stream, in order.
 *
 * Knowing which streams exist also tells when the process may end at once
 * (`outputPending`): a stream's write to a full pipe waits in the stream,
 * and would be lost by process.exit.
 */
import { fstatSync, statSync, writeSync } from 'node:fs';

/** Set once the stream is in use: later writes go through it too. */
let stream: NodeJS.WriteStream | undefined;

/** `process.stdout`, with the handler that ends quietly (status 0) when the reader of a pipe went away, as `head` does. */
export function stdoutStream(): NodeJS.WriteStream {
  if (stream === undefined) {
    stream = process.stdout;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
    });
  }
  return stream;
}

/** Whether `fd` is surely no terminal, from fstat alone: not a character device, or /dev/null. */
function surelyNoTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return !st.isCharacterDevice() || st.rdev === statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}

/** Set once standard error's stream is in use: later writes to fd 2 go through it too. */
let errStream: NodeJS.WriteStream | undefined;

/** `process.stderr`, noted as in use. */
export function stderrStream(): NodeJS.WriteStream {
  errStream ??= process.stderr;
  return errStream;
}

/** Whether standard output (1) or standard error (2) is a terminal. */
export function isTerminal(fd: 1 | 2): boolean {
  if (surelyNoTerminal(fd)) return false;
  return Boolean((fd === 1 ? stdoutStream() : stderrStream()).isTTY);
}

/** Whether a stream still holds text it has not written (a full pipe): the process must not end before it has. */
export function outputPending(): boolean {
  return (stream !== undefined && stream.writableLength > 0) || (errStream !== undefined && errStream.writableLength > 0);
}

/** Writes `text` to standard output: all of it, before returning (unless the stream took over). */
export function writeStdout(text: string): void {
  writeFd(1, text);
}

/** Writes `text` to standard error, as writeStdout does to standard output. */
export function writeStderr(text: string): void {
  writeFd(2, text);
}

function writeFd(fd: 1 | 2, text: string): void {
  const s = fd === 1 ? stream : errStream;
  if (s !== undefined) {
    s.write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let at = 0;
  try {
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') {
      // The reader went away: standard output is done, as its stream's
      // handler does; a line for standard error has nowhere to go.
      if (fd === 1) process.exit(0);
      return;
    }
    // A non-blocking pipe that is full (EAGAIN), or anything odd (a closed fd, for which
    // Node's stream discards): the stream takes over, and does what it always did.
    (fd === 1 ? stdoutStream() : stderrStream()).write(bytes.subarray(at));
  }
}
