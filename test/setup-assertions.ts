/**
 * Every test asserts something, unless its name says it is a fuzz test
 * (random inputs, only "nothing throws"): a test that made no assertion at
 * all fails here, so that no test passes without checking a value.
 * vitest.config.ts runs this file before each test file.
 */
import { afterEach, expect } from 'vitest';

interface Named {
  name: string;
  type?: string;
  suite?: Named;
}

/** The describe names and the test's name, joined by ' > '. */
export function fullName(task: Named): string {
  const names: string[] = [];
  for (let t: Named | undefined = task; t !== undefined; t = t.suite) if (t.type !== 'file' && t.name !== '') names.unshift(t.name);
  return names.join(' > ');
}

/** The error for a test that made `assertions` assertions; undefined when it is fine. */
export function unassertedTestError(name: string, assertions: number): Error | undefined {
  if (assertions > 0 || /fuzz/i.test(name)) return undefined;
  return new Error(`"${name}" made no assertion: check a value, or name it a fuzz test if it only shows that nothing throws`);
}

afterEach((ctx) => {
  // A test that already failed (thrown before any assertion) keeps its own error only.
  if (ctx.task.result?.state === 'fail') return;
  const err = unassertedTestError(fullName(ctx.task), expect.getState().assertionCalls);
  if (err !== undefined) throw err;
});
