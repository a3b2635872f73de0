/**
 * Per-call lookups by procedure without a key string per call: values kept
 * by (program, version, procedure, variant), then by a name (an NFSv4 op),
 * in nested maps of numbers. Tables keyed by text (for their order, merging
 * and output) keep their keys; this finds their rows again.
 */
export class ProcedureKeyed<V> {
  private readonly byProgram = new Map<number, Map<number, Map<string, V>>>();

  /**
   * The values of one procedure by name, made when first asked; undefined
   * when version or procedure is too large to be a key here (the caller
   * then builds its text key).
   */
  names(program: number, version: number, procedure: number, variant = 0): Map<string, V> | undefined {
    if (!keyable(version, procedure, variant)) return undefined;
    let byProcedure = this.byProgram.get(program);
    if (byProcedure === undefined) {
      byProcedure = new Map();
      this.byProgram.set(program, byProcedure);
    }
    const k = (version * 0x10000 + procedure) * 4 + variant;
    let byName = byProcedure.get(k);
    if (byName === undefined) {
      byName = new Map();
      byProcedure.set(k, byName);
    }
    return byName;
  }

  /**
   * The value of one procedure and name, or undefined, making nothing: the
   * tables capped at MAX_OPERATIONS look a call up here first, and keep
   * nothing here for the calls they fold (operation-cap.ts).
   */
  find(program: number, version: number, procedure: number, variant: number, name: string): V | undefined {
    if (!keyable(version, procedure, variant)) return undefined;
    return this.byProgram.get(program)?.get((version * 0x10000 + procedure) * 4 + variant)?.get(name);
  }
}

function keyable(version: number, procedure: number, variant: number): boolean {
  return version >= 0 && version < 0x10000 && procedure >= 0 && procedure < 0x10000 && variant >= 0 && variant < 4;
}

/** The name under which a call that is no COMPOUND is kept. */
export const NO_NAME = '\u0000';
