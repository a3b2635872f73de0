/**
 * The rules of `nfsight check`: their types, and the parsing and validation
 * of a rules file (JSON). A bad rules file throws a RulesError whose message
 * names the rule (`rules[2]`) and the field that is wrong.
 *
 * A rules file is `{ "description"?: string, "rules": [rule, …] }` (or just
 * the list). Every rule has a `type` and may have a `name` (shown instead of
 * the generated text) and a `comment` (ignored). The operation selectors
 * (`op`, `program`, `version`) match the rows of the report's operations
 * table: `op` is the row's name, case-insensitive (`READ`, `OPEN`,
 * `COMPOUND(OPEN)`), `program` a program name (`NFS`, `MOUNT`) or number,
 * `version` the program version. Operation, status, program and finding
 * kind names are checked against the names nfsight gives (names.ts): a
 * misspelt one is refused with the nearest valid name.
 */
import { findingKinds, GENERIC_OPERATION, GENERIC_STATUS, nearestName, operationNames, programNames, statusNames, unknownName } from './names.js';

export const LATENCY_STATS = ['min', 'mean', 'p50', 'p90', 'p99', 'max'] as const;
export type LatencyStat = (typeof LATENCY_STATS)[number];

export const SEVERITIES = ['info', 'warning', 'error'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Which operations rows a rule looks at. */
export interface OpSelector {
  op?: string;
  program?: string | number;
  version?: number;
}

interface RuleBase {
  /** Shown instead of the generated rule text. */
  name?: string;
}

/** The latency statistic of the operation at most `maxMs` (each matching row). */
export interface LatencyRule extends RuleBase, OpSelector {
  type: 'latency';
  op: string;
  stat: LatencyStat;
  maxMs: number;
}

/** Errors (by status and/or operation, or all) at most `maxCount` and/or `maxRatePercent` of the calls. */
export interface ErrorsRule extends RuleBase, OpSelector {
  type: 'errors';
  status?: string;
  maxCount?: number;
  maxRatePercent?: number;
}

/** No finding of these kinds and/or severities. */
export interface FindingsRule extends RuleBase {
  type: 'findings';
  kinds?: string[];
  severities?: Severity[];
}

/** Unanswered calls (all, or of the operation) at most `max`. */
export interface UnansweredRule extends RuleBase, OpSelector {
  type: 'unanswered';
  max: number;
}

/** Calls (all, or of the operation) at least `min` and/or at most `max`. */
export interface CallsRule extends RuleBase, OpSelector {
  type: 'calls';
  min?: number;
  max?: number;
}

export type Rule = LatencyRule | ErrorsRule | FindingsRule | UnansweredRule | CallsRule;
export const RULE_TYPES = ['latency', 'errors', 'findings', 'unanswered', 'calls'] as const;

export interface RuleSet {
  description?: string;
  rules: Rule[];
  /** false turns off the built-in RPC_TRAFFIC_RULE (default true). */
  requireRpcTraffic?: boolean;
}

/** The rules a check evaluates: the built-in traffic rule (unless turned off), then the set's. */
export function rulesToRun(set: RuleSet): Rule[] {
  return set.requireRpcTraffic === false ? set.rules : [RPC_TRAFFIC_RULE, ...set.rules];
}

/** The rules used when no rules file is given: no error-severity finding. */
export const DEFAULT_RULES: RuleSet = {
  description: 'default: no finding of severity error',
  rules: [{ type: 'findings', severities: ['error'] }],
};

/**
 * The rule every check runs first unless the rules file sets
 * `"requireRpcTraffic": false`: a capture with no RPC call at all (a filter
 * that caught nothing, the wrong interface, a window outside the capture)
 * passes no rule honestly.
 */
export const RPC_TRAFFIC_RULE: CallsRule = { type: 'calls', min: 1, name: 'the capture holds NFS/RPC traffic' };

/** A rules file that is not valid; the message names the rule and field. */
export class RulesError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The fields each type takes, beyond `type`, `name` and `comment`. */
const FIELDS: Record<Rule['type'], readonly string[]> = {
  latency: ['op', 'program', 'version', 'stat', 'maxMs'],
  errors: ['op', 'program', 'version', 'status', 'maxCount', 'maxRatePercent'],
  findings: ['kinds', 'severities'],
  unanswered: ['op', 'program', 'version', 'max'],
  calls: ['op', 'program', 'version', 'min', 'max'],
};

class Fields {
  constructor(
    private readonly o: Obj,
    private readonly at: string,
  ) {}

  fail(field: string, what: string): never {
    throw new RulesError(`${this.at}.${field}: ${what}, got ${JSON.stringify(this.o[field])}`);
  }

  str(field: string): string | undefined {
    const v = this.o[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') this.fail(field, 'expected a non-empty string');
    return v;
  }

  /** A number ≥ 0 (whole when `whole`). */
  num(field: string, whole: boolean): number | undefined {
    const v = this.o[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (whole && !Number.isInteger(v))) {
      this.fail(field, whole ? 'expected a whole number ≥ 0' : 'expected a number ≥ 0');
    }
    return v;
  }

  strings(field: string): string[] | undefined {
    const v = this.o[field];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || v.some((s) => typeof s !== 'string' || s === '')) {
      this.fail(field, 'expected a non-empty list of strings');
    }
    return v as string[];
  }

  /** A name that must be one of `known` (upper case), or match `generic`; else refused with the nearest. */
  known(field: string, value: string, what: string, known: Set<string>, generic?: RegExp): void {
    const why = unknownName(value, what, known, generic);
    if (why !== undefined) throw new RulesError(`${this.at}.${field}: ${why}`);
  }

  selector(): OpSelector {
    const sel: OpSelector = {};
    const op = this.str('op');
    if (op !== undefined) {
      // Numbers name procedures nfsight has no name for; OP_<n> NFSv4 ops.
      this.known('op', op, 'operation', operationNames(), GENERIC_OPERATION);
      sel.op = op;
    }
    const p = this.o['program'];
    if (p !== undefined) {
      if (!((typeof p === 'string' && p !== '') || (typeof p === 'number' && Number.isInteger(p) && p >= 0))) {
        this.fail('program', 'expected a program name (NFS, MOUNT…) or number');
      }
      if (typeof p === 'string') this.known('program', p, 'program', programNames(), /^\d+$/);
      sel.program = p;
    }
    const v = this.num('version', true);
    if (v !== undefined) sel.version = v;
    return sel;
  }
}

function parseRule(raw: unknown, at: string): Rule {
  if (!isObj(raw)) throw new RulesError(`${at}: expected an object, got ${JSON.stringify(raw)}`);
  const f = new Fields(raw, at);
  const type = raw['type'];
  if (typeof type !== 'string' || !(RULE_TYPES as readonly string[]).includes(type)) {
    f.fail('type', `expected one of ${RULE_TYPES.join(', ')}`);
  }
  const t = type as Rule['type'];
  const allowed = new Set(['type', 'name', 'comment', ...FIELDS[t]]);
  for (const k of Object.keys(raw).sort()) {
    if (!allowed.has(k)) {
      const near = nearestName(k, allowed);
      throw new RulesError(`${at}: unknown field "${k}" for a ${t} rule${near ? ` (nearest: ${near})` : ''} (fields: ${FIELDS[t].join(', ')}, name, comment)`);
    }
  }
  const base: RuleBase = {};
  const name = f.str('name');
  if (name !== undefined) base.name = name;
  f.str('comment');
  switch (t) {
    case 'latency': {
      const sel = f.selector();
      if (sel.op === undefined) throw new RulesError(`${at}.op: a latency rule needs the operation (e.g. "READ")`);
      const stat = raw['stat'] ?? 'p99';
      if (typeof stat !== 'string' || !(LATENCY_STATS as readonly string[]).includes(stat)) {
        f.fail('stat', `expected one of ${LATENCY_STATS.join(', ')}`);
      }
      const maxMs = f.num('maxMs', false);
      if (maxMs === undefined) throw new RulesError(`${at}.maxMs: a latency rule needs the limit in milliseconds`);
      return { ...base, type: t, ...sel, op: sel.op, stat: stat as LatencyStat, maxMs };
    }
    case 'errors': {
      const rule: ErrorsRule = { ...base, type: t, ...f.selector() };
      const status = f.str('status');
      if (status !== undefined) {
        // Numbered forms name statuses no RFC names (nfsstat4(10099), ACCEPT_STAT_9, AUTH_ERROR:16).
        f.known('status', status, 'status', statusNames(), GENERIC_STATUS);
        rule.status = status;
      }
      const maxCount = f.num('maxCount', true);
      if (maxCount !== undefined) rule.maxCount = maxCount;
      const maxRate = f.num('maxRatePercent', false);
      if (maxRate !== undefined) {
        if (maxRate > 100) f.fail('maxRatePercent', 'expected a percentage from 0 to 100');
        rule.maxRatePercent = maxRate;
      }
      if (maxCount === undefined && maxRate === undefined) {
        throw new RulesError(`${at}: an errors rule needs "maxCount" or "maxRatePercent"`);
      }
      return rule;
    }
    case 'findings': {
      const rule: FindingsRule = { ...base, type: t };
      const kinds = f.strings('kinds');
      if (kinds !== undefined) {
        for (const k of kinds) if (!findingKinds().has(k)) f.known('kinds', k, 'finding kind', findingKinds());
        rule.kinds = kinds;
      }
      const sev = f.strings('severities');
      if (sev !== undefined) {
        if (sev.some((s) => !(SEVERITIES as readonly string[]).includes(s))) f.fail('severities', `expected severities among ${SEVERITIES.join(', ')}`);
        rule.severities = sev as Severity[];
      }
      if (kinds === undefined && sev === undefined) throw new RulesError(`${at}: a findings rule needs "kinds" or "severities"`);
      return rule;
    }
    case 'unanswered': {
      const max = f.num('max', true);
      if (max === undefined) throw new RulesError(`${at}.max: an unanswered rule needs the maximum number of unanswered calls`);
      return { ...base, type: t, ...f.selector(), max };
    }
    case 'calls': {
      const rule: CallsRule = { ...base, type: t, ...f.selector() };
      const min = f.num('min', true);
      const max = f.num('max', true);
      if (min !== undefined) rule.min = min;
      if (max !== undefined) rule.max = max;
      if (min === undefined && max === undefined) throw new RulesError(`${at}: a calls rule needs "min" or "max"`);
      if (min !== undefined && max !== undefined && min > max) throw new RulesError(`${at}: "min" (${min}) is above "max" (${max})`);
      return rule;
    }
  }
}

/** Validates parsed JSON as a rule set; throws a RulesError naming the rule and field. */
export function parseRules(json: unknown): RuleSet {
  let list: unknown;
  const set: RuleSet = { rules: [] };
  if (Array.isArray(json)) list = json;
  else if (isObj(json)) {
    for (const k of Object.keys(json).sort()) {
      if (k !== 'rules' && k !== 'description' && k !== 'comment' && k !== 'requireRpcTraffic') {
        const near = nearestName(k, ['rules', 'description', 'comment', 'requireRpcTraffic']);
        throw new RulesError(`unknown top-level field "${k}"${near ? ` (nearest: ${near})` : ''} (fields: rules, description, comment, requireRpcTraffic)`);
      }
    }
    const require = json['requireRpcTraffic'];
    if (require !== undefined) {
      if (typeof require !== 'boolean') throw new RulesError(`requireRpcTraffic: expected true or false, got ${JSON.stringify(require)}`);
      set.requireRpcTraffic = require;
    }
    if (json['description'] !== undefined) {
      if (typeof json['description'] !== 'string') throw new RulesError('description: expected a string');
      set.description = json['description'];
    }
    list = json['rules'];
    if (!Array.isArray(list)) throw new RulesError('rules: expected a list of rules');
  } else throw new RulesError('expected an object with a "rules" list');
  const rules = list as unknown[];
  if (rules.length === 0) throw new RulesError('rules: the list is empty');
  set.rules = rules.map((r, i) => parseRule(r, `rules[${i}]`));
  return set;
}

/** Parses the text of a rules file (JSON); the message of a syntax error is a RulesError too. */
export function parseRulesText(text: string): RuleSet {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RulesError(`not JSON (${(e as Error).message})`);
  }
  return parseRules(json);
}

function selectorText(s: OpSelector): string {
  const prog = s.program === undefined ? '' : `${s.program}${s.version === undefined ? '' : ` v${s.version}`} `;
  const progOnly = s.program === undefined && s.version !== undefined ? `v${s.version} ` : '';
  return `${prog}${progOnly}${s.op ?? ''}`.trim();
}

/** The rule as one line of text ("READ p99 latency ≤ 50 ms"); its `name` when it has one. */
export function ruleText(r: Rule): string {
  if (r.name !== undefined) return r.name;
  switch (r.type) {
    case 'latency':
      return `${selectorText(r)} ${r.stat} latency ≤ ${r.maxMs} ms`;
    case 'errors': {
      const what = [r.status, selectorText(r)].filter((x) => x !== undefined && x !== '').join(' on ');
      const limits = [
        r.maxCount === undefined ? undefined : `≤ ${r.maxCount}`,
        r.maxRatePercent === undefined ? undefined : `≤ ${r.maxRatePercent}% of calls`,
      ].filter((x) => x !== undefined);
      return `${what === '' ? 'all' : what} errors ${limits.join(' and ')}`;
    }
    case 'findings': {
      const parts = [
        r.kinds === undefined ? undefined : `kind ${r.kinds.join(' or ')}`,
        r.severities === undefined ? undefined : `severity ${r.severities.join(' or ')}`,
      ].filter((x) => x !== undefined);
      return `no finding of ${parts.join(' and ')}`;
    }
    case 'unanswered': {
      const sel = selectorText(r);
      return `${sel === '' ? '' : `${sel} `}unanswered calls ≤ ${r.max}`;
    }
    case 'calls': {
      const sel = selectorText(r);
      const limits = [r.min === undefined ? undefined : `≥ ${r.min}`, r.max === undefined ? undefined : `≤ ${r.max}`].filter(
        (x) => x !== undefined,
      );
      return `${sel === '' ? 'all' : sel} calls ${limits.join(' and ')}`;
    }
  }
}
