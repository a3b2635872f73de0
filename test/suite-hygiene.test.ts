/**
 * The suite itself: no test is left out by `.only`, `.skip` or `.todo`, and a
 * test whose only assertions are that nothing throws says it is a fuzz test
 * in its name (or its describe's), so that nobody reads it as checking
 * values. Read from the test sources with the TypeScript parser; a test that
 * makes no assertion at all fails at run time (test/setup-assertions.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { fullName, unassertedTestError } from './setup-assertions.js';

const TEST_DIR = fileURLToPath(new URL('.', import.meta.url));
const FILES = readdirSync(TEST_DIR).filter((f) => f.endsWith('.test.ts')).sort();

interface TestCase {
  file: string;
  line: number;
  /** The describe names and the test's name, joined by ' > '. */
  name: string;
  /** Each assertion as written after expect(…): 'toBe', 'not.toThrow', 'resolves.toEqual', … */
  assertions: string[];
}

const isSuiteCall = (callee: string): boolean => /^(describe|it|test)$/.test(callee);

/** The text of a test's name argument: the string, or the template's source text. */
function nameOf(arg: ts.Expression, src: ts.SourceFile): string {
  return ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg) ? arg.text : arg.getText(src);
}

/** The assertion chain of an expect(…).a.b(…) call: 'a.b'; undefined when `call` is not one. */
function assertionOf(call: ts.CallExpression): string | undefined {
  const parts: string[] = [];
  let e: ts.Expression = call.expression;
  while (ts.isPropertyAccessExpression(e)) {
    parts.unshift(e.name.text);
    e = e.expression;
  }
  if (!ts.isCallExpression(e) || !ts.isIdentifier(e.expression) || e.expression.text !== 'expect' || parts.length === 0) return undefined;
  return parts.join('.');
}

function testsOf(file: string): { cases: TestCase[]; modifiers: string[] } {
  const src = ts.createSourceFile(file, readFileSync(join(TEST_DIR, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const cases: TestCase[] = [];
  const modifiers: string[] = [];
  const line = (n: ts.Node): number => src.getLineAndCharacterOfPosition(n.getStart(src)).line + 1;
  const visit = (n: ts.Node, path: string[]): void => {
    if (ts.isCallExpression(n)) {
      const callee = n.expression;
      if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && isSuiteCall(callee.expression.text) && /^(only|skip|todo)$/.test(callee.name.text)) {
        modifiers.push(`${file}:${line(n)} ${callee.expression.text}.${callee.name.text}`);
      }
      if (ts.isIdentifier(callee) && isSuiteCall(callee.text) && n.arguments.length >= 2) {
        const inner = [...path, nameOf(n.arguments[0]!, src)];
        if (callee.text === 'describe') {
          ts.forEachChild(n.arguments[1]!, (c) => visit(c, inner));
          return;
        }
        const assertions: string[] = [];
        const collect = (m: ts.Node): void => {
          if (ts.isCallExpression(m)) {
            const a = assertionOf(m);
            if (a !== undefined) assertions.push(a);
          }
          ts.forEachChild(m, collect);
        };
        collect(n.arguments[1]!);
        cases.push({ file, line: line(n), name: inner.join(' > '), assertions });
        return;
      }
    }
    ts.forEachChild(n, (c) => visit(c, path));
  };
  visit(src, []);
  return { cases, modifiers };
}

/** A test that asserts only that nothing throws (assertions in helpers it calls are not seen, so a test without any is not judged). */
const onlyNothingThrows = (t: TestCase): boolean => t.assertions.length > 0 && t.assertions.every((a) => a === 'not.toThrow');

describe('the test suite', () => {
  const all = FILES.map(testsOf);
  const cases = all.flatMap((f) => f.cases);

  it('reads the tests of every file (this file among them)', () => {
    expect(FILES.length).toBeGreaterThan(40);
    expect(cases.length).toBeGreaterThan(600);
    expect(cases.find((t) => t.file === 'suite-hygiene.test.ts' && t.name === 'the test suite > reads the tests of every file (this file among them)')?.assertions).toEqual([
      'toBeGreaterThan',
      'toBeGreaterThan',
      'toEqual',
    ]);
  });

  it('leaves no test out with .only, .skip or .todo', () => {
    expect(all.flatMap((f) => f.modifiers)).toEqual([]);
  });

  it('names as fuzz every test that asserts only that nothing throws', () => {
    const unnamed = cases.filter((t) => onlyNothingThrows(t) && !/fuzz/i.test(t.name)).map((t) => `${t.file}:${t.line} ${t.name}`);
    expect(unnamed).toEqual([]);
  });

  it('tells a test asserting only that nothing throws from one that checks values', () => {
    const t = (assertions: string[]): TestCase => ({ file: 'x', line: 1, name: 'x', assertions });
    expect(onlyNothingThrows(t(['not.toThrow', 'not.toThrow']))).toBe(true);
    expect(onlyNothingThrows(t(['not.toThrow', 'toBe']))).toBe(false);
    expect(onlyNothingThrows(t(['toThrow']))).toBe(false);
    expect(onlyNothingThrows(t([]))).toBe(false);
    const src = ts.createSourceFile('x.ts', 'expect(f).not.toThrow(); expect(await p).resolves.toEqual(1); other(x).not.toThrow();', ts.ScriptTarget.Latest, true);
    const found: (string | undefined)[] = [];
    const walk = (n: ts.Node): void => {
      if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression)) found.push(assertionOf(n));
      ts.forEachChild(n, walk);
    };
    walk(src);
    expect(found).toEqual(['not.toThrow', 'resolves.toEqual', undefined]);
  });

  it('fails at run time a test that made no assertion, unless it is named a fuzz test', () => {
    const file = { name: 'test/x.test.ts', type: 'file' };
    const task = { name: 'cut at every offset', type: 'test', suite: { name: 'NULL', type: 'suite', suite: { name: '', type: 'suite', suite: file } } };
    expect(fullName(task)).toBe('NULL > cut at every offset');
    expect(unassertedTestError('NULL > cut at every offset', 0)?.message).toBe(
      '"NULL > cut at every offset" made no assertion: check a value, or name it a fuzz test if it only shows that nothing throws',
    );
    expect(unassertedTestError('NULL > cut at every offset', 1)).toBeUndefined();
    expect(unassertedTestError('fuzz: random bytes > calls', 0)).toBeUndefined();
    expect(unassertedTestError('Fuzz of headers', 0)).toBeUndefined();
  });
});
