/**
 * JUnit XML for `nfsight check --format junit`, as CI systems (GitLab,
 * Jenkins, GitHub test reporters) display it: one testsuite per check, one
 * testcase per rule, a <failure> for each rule that failed. No timestamps,
 * so the same input gives the same bytes.
 */
import type { CheckResult } from './evaluate.js';

/** Escapes text for XML content and attribute values; drops characters XML 1.0 cannot hold. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const actualText = (r: { actual: number | null; unit?: string }): string =>
  r.actual === null ? 'none' : `${r.actual}${r.unit ? ` ${r.unit}` : ''}`;

/** The check's results as a JUnit XML document; `suite` names the testsuite (the inputs). */
export function renderJunit(result: CheckResult, suite: string): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="nfsight check" tests="${result.total}" failures="${result.failed}" errors="0">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${result.total}" failures="${result.failed}" errors="0" skipped="0">`,
  ];
  result.results.forEach((r, i) => {
    const open = `    <testcase classname="nfsight.check.${r.type}" name="${xmlEscape(`${i + 1}. ${r.rule}`)}"`;
    if (r.passed) {
      lines.push(`${open}>`, `      <system-out>${xmlEscape(`actual ${actualText(r)} (limit ${r.limit}): ${r.detail}`)}</system-out>`, '    </testcase>');
    } else {
      lines.push(
        `${open}>`,
        `      <failure message="${xmlEscape(`actual ${actualText(r)}, limit ${r.limit}`)}" type="RuleFailed">${xmlEscape(r.detail)}</failure>`,
        '    </testcase>',
      );
    }
  });
  lines.push('  </testsuite>', '</testsuites>');
  return lines.join('\n') + '\n';
}
