/**
 * An nfsight bug noticed at run time, not a fault of the capture: above
 * all a loop over buffered data that stopped making progress and would
 * otherwise spin forever. Every such loop counts its turns against a bound
 * it can never reach when the code is right (`loopBound`). The module that
 * notices puts its state back into a shape it can go on from, then throws;
 * the pipeline (analyze) catches it, reports one warning naming the file
 * and frame, and goes on with the next frame.
 */
import type { DiagnosticSink, FrameRef } from './capture/frame.js';

export class InternalError extends Error {
  override readonly name = 'InternalError';

  constructor(
    /** The source file and loop, e.g. `tcp-reassembly.ts: flushAll`. */
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
  }
}

/**
 * An exception the analysis threw out of a frame (any error but an
 * InternalError, which the pipeline survives): an nfsight bug, never a fault
 * of the capture or of reading it. The capture source wraps it so that it is
 * not mistaken for a read error; the run stops and the CLI exits 2.
 */
export class AnalysisBug extends Error {
  override readonly name = 'AnalysisBug';

  constructor(
    readonly file: string,
    /** The frame being analysed (numbered from 1 in its file), 0 before the first. */
    readonly frame: number,
    override readonly cause: unknown,
  ) {
    const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`nfsight bug: ${file}: frame ${frame}: ${what.replace(/\.$/, '')}; please report it`);
  }
}

/** The error for a loop that went past its bound of `max` turns; `recovery` says what was given up to go on. */
export function loopBound(where: string, max: number, recovery: string): InternalError {
  return new InternalError(where, `a loop over buffered data made no progress in ${max} turns: stopped rather than spinning; ${recovery}`);
}

/**
 * Where the pipeline catches internal errors: the first becomes a warning
 * naming the file and frame; later ones are counted, and the count is
 * reported at the end. Anything that is not an InternalError is rethrown.
 */
export class InternalErrorCatcher {
  count = 0;
  private first: { file: string; frame: number | undefined } | undefined;

  constructor(
    private readonly diag: DiagnosticSink,
    private readonly fileName: (fileIndex: number) => string,
  ) {}

  /** Runs `step`; an InternalError it throws is reported against `at` (the frame being processed). */
  guard(step: () => void, at: FrameRef | undefined): void {
    try {
      step();
    } catch (err) {
      this.caught(err, at);
    }
  }

  caught(err: unknown, at: FrameRef | undefined): void {
    if (!(err instanceof InternalError)) throw err;
    if (this.count++ > 0) return;
    const file = this.fileName(at?.fileIndex ?? 0);
    this.first = { file, frame: at?.number };
    this.diag.report({
      severity: 'warning',
      code: 'internal-error',
      file,
      ...(at !== undefined ? { frame: at.number } : {}),
      message: `nfsight bug, please report it: ${err.message}; the analysis goes on (further internal errors are only counted)`,
    });
  }

  /** End of the run: how many there were, when more than the one reported. */
  finish(): void {
    if (this.count < 2 || this.first === undefined) return;
    this.diag.report({
      severity: 'warning',
      code: 'internal-error',
      file: this.first.file,
      message: `${this.count} internal errors in all (the first at frame ${this.first.frame ?? '?'})`,
    });
  }
}
