/**
 * Standard output (and the terminal test of standard error) without Node's
 * stream objects while a command does not need them. The first use of
 * `process.stdout` or `process.stderr` builds a stream and loads Node's
 * streams with it: 5 ms of CPU when the output is a file or /dev/null,
 * 11 ms (17 ms of wall time) when it is a pipe, paid by every short run.
 * Here results are written with `writeSync` on fd 1, and whether a fd is a
 * terminal is first asked of `fstat`: a pipe, a socket, a file or /dev/null
 * is none. Only a character device that may be a terminal builds the
 * stream, as does a write that fails otherwise than by EPIPE (a
 * non-blocking pipe that is full, a closed fd), from which point every
 * write goes through the stream, in order.
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

/** Whether standard output (1) or standard error (2) is a terminal. */
export function isTerminal(fd: 1 | 2): boolean {
  if (surelyNoTerminal(fd)) return false;
  return Boolean((fd === 1 ? stdoutStream() : process.stderr).isTTY);
}

/** Writes `text` to standard output: all of it, before returning (unless the stream took over). */
export function writeStdout(text: string): void {
  if (stream !== undefined) {
    stream.write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let at = 0;
  try {
    while (at < bytes.length) at += writeSync(1, bytes, at, bytes.length - at);
  } catch (e) {
    // The reader went away: done, as the stream's handler does.
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
    // A non-blocking pipe that is full (EAGAIN), or anything odd (a closed fd 1, for which
    // Node's stream discards): the stream takes over, and does what it always did.
    stdoutStream().write(bytes.subarray(at));
  }
}
