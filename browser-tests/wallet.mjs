// Browser checks of a certificate's pages in the wallet: the detail page,
// the full-screen QR code, the PDF download, the public link switch (and
// the verifier's 404 once it is off), the Arabic pages, the offline copy
// and axe scans.
// `run.mjs` registers them after its own checks, with its helpers.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PHONE_VIEWPORT } from './lib/browser.mjs';
import { URLS } from './lib/services.mjs';

/**
 * Registers the checks. `context` brings run.mjs's `check`, `browser()`,
 * `signIn`, `scan`, `assertNoSevere`, `issued`, `texts` and `screenshots`.
 */
export function registerWalletChecks(context) {
  const { check, signIn, scan, assertNoSevere, issued, texts, screenshots } = context;
  const encodedId = () => encodeURIComponent(issued.pathCredentialId);
  const detailPath = () => `/certificates/${encodedId()}`;
  let page;

  async function attributes() {
    return page.evaluate(() => ({
      lang: document.documentElement.getAttribute('lang'),
      dir: document.documentElement.getAttribute('dir'),
      // A page wider than the screen scrolls sideways on a phone.
      overflow: document.documentElement.scrollWidth - window.innerWidth,
    }));
  }

  check('wallet: detail page of the path certificate', async () => {
    page = await context.browser().newPage();
    await signIn(page, 'en');
    await Promise.all([
      page.waitForURL(`${URLS.wallet}${detailPath()}`),
      page.locator(`article.card a[href="${detailPath()}"]`).click(),
    ]);
    assert.equal((await page.locator('main h1').textContent()).trim(), texts.pathTitles.en);
    const status = texts.wallet.en['status.label'].replace('{status}', texts.wallet.en['status.valid']);
    assert.equal((await page.locator('main p.status').textContent()).trim(), status);
    assert.ok(await page.locator('main a[href^="https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME"]').isVisible());
    const { overflow } = await attributes();
    assert.ok(overflow <= 0, `the detail page is ${overflow} px wider than a 360 px screen`);
    await page.screenshot({ path: join(screenshots, 'wallet-detail-en.png'), fullPage: true });
  });

  check('wallet: full-screen QR code', async () => {
    assert.ok(page, 'the detail page did not open');
    await Promise.all([
      page.waitForURL(`${URLS.wallet}${detailPath()}/qr`),
      page.locator(`main a[href="${detailPath()}/qr"]`).click(),
    ]);
    const image = page.locator('main img');
    await page.waitForFunction((element) => element.complete && element.naturalWidth > 0, await image.elementHandle());
    const box = await image.boundingBox();
    assert.ok(box.width >= 0.9 * PHONE_VIEWPORT.width, `the QR code is ${box.width} px wide on a ${PHONE_VIEWPORT.width} px screen`);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(background, 'rgb(255, 255, 255)');
    await page.screenshot({ path: join(screenshots, 'wallet-qr-full-screen-en.png') });
    await page.goto(`${URLS.wallet}${detailPath()}`);
  });

  check('wallet: download the PDF certificate', async () => {
    assert.ok(page, 'the detail page did not open');
    const link = page.locator(`main a[href="${detailPath()}.pdf"]`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.match(download.suggestedFilename(), /^certificate-[0-9a-f-]+\.pdf$/);
    const bytes = await readFile(await download.path());
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.ok(bytes.includes(Buffer.from('EmbeddedFiles')), 'the PDF has no attached file');
  });

  check('wallet: turning the public link off stops it', async () => {
    assert.ok(page, 'the detail page did not open');
    const publicUrl = `${URLS.issuer}/public/credentials/${issued.pathShareToken}`;
    assert.equal((await fetch(publicUrl)).status, 200, 'shared before');

    await Promise.all([
      page.waitForURL(`${URLS.wallet}${detailPath()}`),
      page.locator(`main form[action="${detailPath()}/sharing"] button`).click(),
    ]);
    assert.ok(await page.getByText(texts.wallet.en['sharing.off']).isVisible(), 'the page does not say the link is off');
    assert.equal((await fetch(publicUrl)).status, 404, 'issuer public credential after turning off');

    const verifier = await context.browser().newPage();
    const response = await verifier.goto(`${URLS.verifier}/v/${issued.pathShareToken}?lang=en`);
    assert.equal(response.status(), 404, 'verifier /v/{token} after turning off');
    assert.ok(await verifier.locator('main p.error[role=alert]').isVisible(), 'no error sentence on the verifier page');
    await verifier.screenshot({ path: join(screenshots, 'verifier-link-off-en.png') });
    await verifier.context().close();

    await Promise.all([
      page.waitForURL(`${URLS.wallet}${detailPath()}`),
      page.locator(`main form[action="${detailPath()}/sharing"] button`).click(),
    ]);
    assert.equal((await fetch(publicUrl)).status, 200, 'shared again after turning on');
  });

  check('wallet: Arabic detail and QR pages', async () => {
    assert.ok(page, 'the detail page did not open');
    await page.goto(`${URLS.wallet}${detailPath()}?lang=ar`);
    const { lang, dir, overflow } = await attributes();
    assert.deepEqual({ lang, dir }, { lang: 'ar', dir: 'rtl' });
    assert.ok(overflow <= 0, `the Arabic detail page is ${overflow} px wider than the screen`);
    assert.equal((await page.locator('main h1').textContent()).trim(), texts.pathTitles.ar);
    await page.screenshot({ path: join(screenshots, 'wallet-detail-ar.png'), fullPage: true });
    await page.goto(`${URLS.wallet}${detailPath()}/qr?lang=ar`);
    assert.equal((await attributes()).dir, 'rtl');
    await page.screenshot({ path: join(screenshots, 'wallet-qr-full-screen-ar.png') });
  });

  check('wallet: opened page readable offline', async () => {
    assert.ok(page, 'the detail page did not open');
    const url = `${URLS.wallet}${detailPath()}?lang=en`;
    await page.goto(url);
    await page.evaluate(() => navigator.serviceWorker.ready);
    // The worker controls pages loaded after it started: this load goes
    // through it and leaves a copy in its cache.
    await page.reload();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await page.waitForFunction(
      async (address) => Boolean(await caches.match(address, { ignoreVary: true })),
      url,
    );
    await page.context().setOffline(true);
    try {
      await page.reload();
      assert.equal((await page.locator('main h1').textContent()).trim(), texts.pathTitles.en);
    } finally {
      await page.context().setOffline(false);
    }
  });

  check('axe: detail and QR pages (en, ar)', async (t) => {
    assert.ok(page, 'the detail page did not open');
    const severe = [];
    for (const language of ['en', 'ar']) {
      for (const path of [detailPath(), `${detailPath()}/qr`]) {
        await page.goto(`${URLS.wallet}${path}?lang=${language}`);
        severe.push(...(await scan(t, page, `${path} (${language})`)));
      }
    }
    assertNoSevere(severe, 'detail and QR pages');
    await page.context().close();
  });
}
