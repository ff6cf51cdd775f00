// Debian's Chromium driven by playwright-core, kept to loopback
// addresses, and the axe-core accessibility scan.

import { AxeBuilder } from '@axe-core/playwright';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

// Flags every run needs: no GPU or sandbox in a container, and no
// background requests to Google's services. The host resolver rule makes
// any host name other than loopback fail, so that a stray link cannot
// send traffic off the machine.
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-proxy-server',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

// Milliseconds any single page action or navigation may take.
const ACTION_TIMEOUT_MS = 15_000;

export const PHONE_VIEWPORT = { width: 360, height: 740 };

/**
 * A Chromium process. playwright-core starts it with a fresh profile
 * folder of its own (`--user-data-dir`) and deletes that folder on close.
 */
export class Browser {
  /** `extraFlags` are added to the flags every run needs. */
  static async launch({ extraFlags = [] } = {}) {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_FLAGS, ...extraFlags],
      timeout: 30_000,
    });
    return new Browser(browser);
  }

  constructor(browser) {
    this.browser = browser;
  }

  /**
   * Opens a page in a new context (empty cookie jar) that blocks every
   * request to an address other than 127.0.0.1.
   */
  async newPage({ viewport = PHONE_VIEWPORT, locale = 'en-US' } = {}) {
    const context = await this.browser.newContext({ viewport, locale, acceptDownloads: true });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.protocol === 'data:') return route.continue();
      return route.abort('blockedbyclient');
    });
    return context.newPage();
  }

  async close() {
    await this.browser.close();
  }
}

/**
 * Runs axe-core on the page and passes to `report` a summary line, then
 * one line per element of each violation (impact, rule id, target, help
 * text) and of each result axe could not decide ("needs review").
 * Returns the violations of impact `serious` or `critical`.
 */
export async function severeViolations(page, label, report) {
  const results = await new AxeBuilder({ page }).analyze();
  report(
    `axe ${label}: ${results.passes.length} rules passed, ${results.violations.length} violated, ` +
      `${results.incomplete.length} need review`,
  );
  const lines = (kind, result) =>
    result.nodes.map((node) => `axe ${label}: ${kind} ${result.impact} ${result.id} at ${JSON.stringify(node.target)}: ${result.help}`);
  for (const violation of results.violations) lines('violation', violation).forEach(report);
  for (const undecided of results.incomplete) lines('needs review', undecided).forEach(report);
  return results.violations.filter((violation) => ['serious', 'critical'].includes(violation.impact));
}

/**
 * Formats violations as one line per element, for an assertion message.
 */
export function describeViolations(violations) {
  return violations
    .flatMap((violation) =>
      violation.nodes.map((node) => `${violation.impact} ${violation.id} at ${JSON.stringify(node.target)}`),
    )
    .join('\n');
}
