/**
 * Collects the diagnostics of a run: keeps the first ones whole, counts all
 * of them per code, and forwards each to an optional live listener (the CLI
 * prints them on stderr as they come).
 */
import type { Diagnostic, DiagnosticSink } from './frame.js';

export interface DiagnosticSummary {
  errors: number;
  warnings: number;
  /** Count per diagnostic code, sorted by code. */
  byCode: Record<string, number>;
  /** The first diagnostics, in order of appearance. */
  items: Diagnostic[];
  /** How many were counted but not kept in items. */
  omitted: number;
}

export class DiagnosticCollector implements DiagnosticSink {
  private readonly items: Diagnostic[] = [];
  private readonly byCode = new Map<string, number>();
  private errors = 0;
  private warnings = 0;
  private omitted = 0;

  constructor(
    private readonly keep = 200,
    private readonly listener?: (d: Diagnostic) => void,
  ) {}

  report(d: Diagnostic): void {
    if (d.severity === 'error') this.errors++;
    else if (d.severity === 'warning') this.warnings++;
    this.byCode.set(d.code, (this.byCode.get(d.code) ?? 0) + 1);
    if (this.items.length < this.keep) this.items.push(d);
    else this.omitted++;
    this.listener?.(d);
  }

  hasErrors(): boolean {
    return this.errors > 0;
  }

  summary(): DiagnosticSummary {
    const byCode: Record<string, number> = {};
    for (const code of [...this.byCode.keys()].sort()) byCode[code] = this.byCode.get(code)!;
    return { errors: this.errors, warnings: this.warnings, byCode, items: [...this.items], omitted: this.omitted };
  }
}
