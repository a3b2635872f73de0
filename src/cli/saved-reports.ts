/**
 * Saved JSON reports as input (`merge`, and `check`/`diff` given `.json`
 * files): read, validated and merged into one. A file that is not a
 * report (a capture given by mistake, another JSON) or a report of another
 * schema version is refused in one line naming it; so is the same capture
 * in two reports (its calls would count twice).
 */
import { readFile } from 'node:fs/promises';
import { mergeReports, sameCapture, validateReport } from '../report/merge.js';
import type { Report } from '../report/model.js';

/** First bytes of the capture formats nfsight reads (pcap in both orders and resolutions, pcapng, gzip). */
const CAPTURE_MAGICS = ['d4c3b2a1', 'a1b2c3d4', '4d3cb2a1', 'a1b23c4d', '0a0d0d0a'];

/** Why `bytes` are not JSON, in one printable line. */
function notJson(bytes: Buffer, err: Error): string {
  const head = bytes.subarray(0, 4).toString('hex');
  if (CAPTURE_MAGICS.includes(head) || head.startsWith('1f8b')) {
    return 'a capture, not a JSON report (give it to nfsight report; merge takes what nfsight report --format json wrote)';
  }
  // JSON.parse quotes the text it choked on: keep the message printable and short.
  const why = err.message.replace(/[^\x20-\x7e]/g, '?');
  return `not JSON (${why.length > 100 ? `${why.slice(0, 99)}…` : why})`;
}

/** The reports in `files`, merged; throws an Error whose message names the file and what is wrong. */
export async function readSavedReports(files: readonly string[]): Promise<Report> {
  const parsed: Report[] = [];
  for (const f of files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(f);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(`${f}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a folder' : e.message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new Error(`${f}: ${notJson(bytes, err as Error)}`);
    }
    validateReport(json, f);
    parsed.push(json);
  }
  const twice = sameCapture(parsed, files);
  if (twice !== undefined) throw new Error(twice);
  return mergeReports(parsed, files);
}
