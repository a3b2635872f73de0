/**
 * Finding and driving the system's Chromium for the browser tests
 * (playwright-core, never a downloaded browser): the executable from
 * NFSIGHT_CHROMIUM, else /usr/bin/chromium or chromium-browser.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export function findChromium(): string | undefined {
  const candidates = [process.env['NFSIGHT_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((x): x is string => !!x);
  return candidates.find((p) => existsSync(p));
}

/** The flags the project's guide prescribes, with a fresh profile. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launch(executablePath: string): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'nfsight-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 900 },
  });
}
