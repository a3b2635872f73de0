/** A call as tshark decodes it (scripts/tshark-reference.mjs tsharkCalls, expected.json `calls`). */
export interface TsharkCall {
  frame: number;
  xid: string;
  program: number;
  version: number;
  procedure: number;
  replyFrame: number | null;
  /** rpc.time as tshark prints it (9 decimals). */
  time: string | null;
  /** The program's status code; null where the reply has none. */
  status: number | null;
}

/** The fields of an nfsight calls row that are compared. */
export interface ComparedRow extends Pick<TsharkCall, 'frame' | 'xid' | 'program' | 'version' | 'procedure' | 'replyFrame'> {
  latency: number | null;
  statusCode: number | null;
  retransmitFrames?: number[];
}

export interface CallComparison {
  calls: number;
  fields: number;
  equal: number;
  differences: string[];
  extra: string[];
}

export function compareCalls(theirs: TsharkCall[], rows: ComparedRow[]): CallComparison;
