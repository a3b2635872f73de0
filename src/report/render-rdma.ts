/**
 * The text report's NFS-over-RDMA section: what moved over RoCE (packets,
 * RPC-over-RDMA messages, bytes by RDMA WRITE and READ), the queue-pair
 * connections with their credits and trouble, chunk use per operation, and
 * rejected connection attempts. Nothing when the capture has no RoCE.
 */
import { PROG_NFS, programName } from '../../decoders/programs.js';
import type { RdmaSection } from '../analysis/rdma-summary.js';
import { fitTable, frameLabel, keyValues, wrapText, type ColumnSpec } from './terminal.js';
import { groupDigits } from '../number-text.js';

export interface RdmaTextOptions {
  width: number;
  color: boolean;
  multiFile: boolean;
  /** Rows per table. */
  top: number;
  /** Column headings left out for width are added here. */
  dropped: Set<string>;
  /** Bytes in short form (the text report's). */
  bytes: (n: number) => string;
}

const num = groupDigits;

export function renderRdmaText(x: RdmaSection, o: RdmaTextOptions): string[] {
  if (x.packets === 0) return [];
  const size = o.bytes;
  const table = (columns: readonly ColumnSpec[], rows: readonly (readonly string[])[]): string => {
    const t = fitTable(columns, rows, { width: o.width, color: o.color, noteDropped: false });
    for (const d of t.dropped) o.dropped.add(d);
    return t.text;
  };
  const heading = (text: string): string => wrapText(text, o.width).join('\n');
  const out: string[] = [heading('NFS over RDMA')];
  const m = x.messages;
  const kinds = (['RDMA_MSG', 'RDMA_NOMSG', 'RDMA_MSGP', 'RDMA_DONE', 'RDMA_ERROR'] as const).filter((k) => m[k] > 0).map((k) => `${k} ${num(m[k])}`);
  const b = x.bytesMoved;
  const chunkParts = (parts: [string, number][]): string => {
    const shown = parts.filter(([, v]) => v > 0).map(([k, v]) => `${k} ${size(v)}`);
    return shown.length > 0 ? ` (${shown.join(', ')})` : '';
  };
  const naks = Object.entries(x.naks).map(([k, v]) => `${k} ${num(v)}`);
  out.push(
    ...keyValues(
      [
        ['RoCE packets', `${num(x.packets)} (${size(x.bytes)})${x.roceV1Packets > 0 ? `, RoCEv1 ${num(x.roceV1Packets)}` : ''}`],
        ['queue-pair connections', `${num(x.connections.length + x.connectionsNotListed)}; CM: ${num(x.cm.requests)} requests, ${num(x.cm.replies)} accepted, ${num(x.cm.rejects)} rejected`],
        ['RPC-over-RDMA messages', kinds.join(', ') || 'none'],
        ['moved by RDMA WRITE', `${size(b.rdmaWrite)}${chunkParts([['write chunks', b.writeChunks], ['reply chunks', b.replyChunks]])}`],
        ['moved by RDMA READ', `${size(b.rdmaRead)}${chunkParts([['read chunks', b.readChunks]])}`],
        ['PSN gaps (capture loss)', `${num(x.psnGaps)} (${num(x.gapPackets)} packets)`],
        ['retransmitted packets', num(x.retransmittedPackets)],
        ['NAKs', naks.length > 0 ? naks.join(', ') : '0'],
        ['RNR NAKs', num(x.rnrNaks)],
      ],
      o.width,
      '  ',
    ),
  );
  if (x.connections.length > 0) {
    const conns = x.connections.slice(0, o.top);
    out.push(heading(`Queue pairs${conns.length < x.connections.length ? ` (first ${conns.length} of ${num(x.connections.length)})` : ''}`));
    out.push(
      table(
        [
          { head: 'client', min: 12 },
          { head: 'server', min: 12 },
          { head: 'QPs', drop: 2 },
          { head: 'calls', align: 'right' },
          { head: 'credits', align: 'right' },
          { head: 'max out.', align: 'right', drop: 4 },
          { head: 'WRITE', align: 'right', drop: 3 },
          { head: 'READ', align: 'right', drop: 3 },
          { head: 'gaps', align: 'right', drop: 5 },
          { head: 'NAKs', align: 'right', drop: 5 },
        ],
        conns.map((c) => [
          c.client,
          c.server,
          `${c.clientQp ?? '?'}/${c.serverQp ?? '?'}`,
          num(c.calls),
          c.creditsGranted >= 0 ? `${c.creditsRequested}/${c.creditsGranted}` : '-',
          num(c.maxOutstanding),
          size(c.rdmaWriteBytes),
          size(c.rdmaReadBytes),
          num(c.psnGaps),
          num(c.naks + c.rnrNaks),
        ]),
      ),
    );
  }
  if (x.operations.length > 0) {
    const ops = [...x.operations].sort((p, q) => q.calls - p.calls).slice(0, o.top);
    out.push(heading('Chunk use per operation'));
    out.push(
      table(
        [
          { head: 'operation', min: 10 },
          { head: 'calls', align: 'right' },
          { head: 'inline', align: 'right', drop: 3 },
          { head: 'read chunk', align: 'right' },
          { head: 'write chunk', align: 'right' },
          { head: 'reply chunk', align: 'right' },
          { head: 'chunk bytes', align: 'right', drop: 2 },
        ],
        ops.map((p) => [
          p.program === PROG_NFS ? p.name : `${programName(p.program)} ${p.name}`,
          num(p.calls),
          num(p.callsInline),
          num(p.callsReadChunk + p.callsPositionZero),
          num(p.repliesWriteChunk),
          num(p.repliesReplyChunk),
          size(p.readChunkBytes + p.writeChunkBytes + p.replyChunkBytes),
        ]),
      ),
    );
  }
  if (x.rejected.length > 0) {
    out.push(heading('Rejected RDMA connections (CM ConnectReject)'));
    out.push(
      table(
        [{ head: 'frame' }, { head: 'time', drop: 1 }, { head: 'client' }, { head: 'server' }, { head: 'reason', min: 10 }],
        x.rejected.slice(0, o.top).map((r) => [frameLabel(r.file, r.frame, o.multiFile), r.time, r.client, r.server, `${r.reason} ${r.reasonName}`]),
      ),
    );
  }
  return out;
}
