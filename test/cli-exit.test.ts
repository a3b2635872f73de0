/**
 * The CLI ends with process.exit as soon as its command is done (main.ts),
 * not when Node's event loop is empty (which first waits for V8's
 * background compiler). No output may be lost by it: when standard output
 * is a non-blocking pipe whose reader is slow, a write that finds the pipe
 * full falls back to Node's stream (stdio.ts) and waits there, and the
 * process must then not end before the stream has written it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeWideFile } from './gen/wide.js';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

describe('the CLI ends early without losing output', () => {
  it('a listing into a non-blocking pipe whose reader waits a second: all of it arrives, exit 0', async () => {
    const file = join(tempDir(), 'wide.pcap');
    writeWideFile(file, { connections: 30, servers: 20, filesPerServer: 1000, targetBytes: 3e6 });
    const args = [CLI, 'calls', '--format', 'jsonl', file];
    const expected = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
    expect(expected.status).toBe(0);
    // Far beyond what a socket pair buffers, so that the writer finds it full.
    expect(expected.stdout.length).toBeGreaterThan(2 * 1024 * 1024);

    // The reader reads nothing for a second. The CLI's standard output is
    // its standard input, made non-blocking before the CLI starts (a child's
    // standard descriptors start blocking, and a parent that shares one may
    // make it non-blocking): writeSync meets EAGAIN once the pipe is full.
    const wrapper = join(tempDir(), 'nonblocking-stdout.mjs');
    writeFileSync(
      wrapper,
      [
        "import { Socket } from 'node:net';",
        '// libuv makes the descriptor of a socket it opens non-blocking.',
        'new Socket({ fd: 1, readable: false, writable: true });',
        'process.argv.splice(1, 1);',
        `await import(${JSON.stringify(pathToFileURL(CLI).href)});`,
      ].join('\n'),
    );
    const reader = spawn(process.execPath, ['-e', 'setTimeout(() => process.stdin.pipe(process.stdout), 1000)'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const got: Buffer[] = [];
    reader.stdout.on('data', (c: Buffer) => got.push(c));
    const readerDone = new Promise((resolve) => reader.on('close', resolve));
    const cli = spawn(process.execPath, [wrapper, ...args], { stdio: ['ignore', reader.stdin, 'pipe'] });
    let stderr = '';
    cli.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const status = await new Promise<number | null>((resolve) => cli.on('exit', resolve));
    reader.stdin.end();
    await readerDone;
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const text = Buffer.concat(got).toString('utf8');
    expect(text.length).toBe(expected.stdout.length);
    expect(text).toBe(expected.stdout);
  }, 60_000);
});
