// Browser tests of the verifier and wallet pages in Debian's Chromium.
//
// Run from anywhere after `cargo build -p issuer -p verifier -p wallet-web`:
//   node browser-tests/run.mjs
// It starts the three services on 127.0.0.1:28080-28082 with a fresh data
// folder, reports a learning path's completions to get credentials, then
// drives Chromium through the pages. Screenshots go to
// browser-tests/screenshots/.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Browser, describeViolations, PHONE_VIEWPORT, severeViolations } from './lib/browser.mjs';
import { Services, URLS } from './lib/services.mjs';
import { registerWalletChecks } from './wallet.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const SCREENSHOTS = join(HERE, 'screenshots');

// Khadija Oubella (m-0002 in catalogue/demo.json) completes the finance
// path, as in the README walk-through.
const MEMBER = {
  id: 'm-0002',
  email: 'khadija.oubella@example.org',
  nameLatin: 'Khadija Oubella',
  nameArabic: 'خديجة أوبلا',
};
const PATH_ID = 'path-finance';
const PATH_MODULES = ['fin-bookkeeping', 'fin-annual-accounts', 'fin-finance-microcredit'];

// The whole run, services included, must end within two minutes. The
// watchdog stops a hung run a little earlier, with the services.
const RUN_TIMEOUT_MS = 115_000;
const CHECK_TIMEOUT_MS = 30_000;

const services = new Services(ROOT);
let browser;
let anyCheckFailed = false;

// Filled by the `before` hook.
const issued = { pathCredentialId: '', pathShareToken: '' };
const texts = { verifier: {}, wallet: {}, pathTitles: {} };

const watchdog = setTimeout(() => {
  console.error(`browser tests timed out after ${RUN_TIMEOUT_MS} ms. Stopping the services.`);
  services.killNow();
  process.exit(1);
}, RUN_TIMEOUT_MS);
watchdog.unref();

// On Ctrl-C or SIGTERM, stop the services and delete their data folder.
// playwright-core closes Chromium itself.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    services.killNow();
    if (services.dataDir) rmSync(services.dataDir, { recursive: true, force: true });
    process.exit(128 + constants.signals[signal]);
  });
}
process.on('exit', () => services.killNow());

async function readJson(path) {
  return JSON.parse(await readFile(join(ROOT, path), 'utf8'));
}

/** Starts the services, issues the path credential and launches Chromium. */
async function prepare() {
  await mkdir(SCREENSHOTS, { recursive: true });
  for (const language of ['ar', 'fr', 'en']) {
    texts.verifier[language] = await readJson(`verifier/i18n/${language}.json`);
    texts.wallet[language] = await readJson(`wallet-web/i18n/${language}.json`);
  }
  const catalogue = await readJson('catalogue/catalogue.json');
  texts.pathTitles = catalogue.paths.find((path) => path.id === PATH_ID).title;

  await services.start();
  // The issuer rejects completion dates in the future, so use today (UTC).
  const today = new Date().toISOString().slice(0, 10);
  let outcome;
  for (const module of PATH_MODULES) {
    outcome = await services.reportCompletion(MEMBER.id, module, today);
  }
  const pathCredential = outcome.path_credentials.find((credential) => credential.achievement_id === PATH_ID);
  assert.ok(pathCredential, `the last completion issued no ${PATH_ID} credential: ${JSON.stringify(outcome)}`);
  issued.pathCredentialId = pathCredential.id;
  issued.pathShareToken = pathCredential.share_token;

  browser = await Browser.launch();
}

before(
  async () => {
    try {
      await prepare();
    } catch (error) {
      anyCheckFailed = true;
      throw error;
    }
  },
  { timeout: 90_000 },
);

after(async () => {
  await browser?.close();
  if (anyCheckFailed && services.dataDir) {
    for (const name of ['issuer', 'verifier', 'wallet']) {
      console.error(`--- last lines of the ${name} log ---\n${await services.logTail(name)}`);
    }
    console.error(`data folder kept for inspection: ${services.dataDir}`);
  }
  await services.stop({ keep: anyCheckFailed });
});

/** Declares one check, recording its failure for the `after` hook. */
function check(name, body) {
  test(name, { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    try {
      await body(t);
    } catch (error) {
      anyCheckFailed = true;
      throw error;
    }
  });
}

async function htmlAttributes(page) {
  return page.evaluate(() => ({
    lang: document.documentElement.getAttribute('lang'),
    dir: document.documentElement.getAttribute('dir'),
  }));
}

async function text(locator) {
  return (await locator.textContent()).trim();
}

function shareUrl(language) {
  return `${URLS.verifier}/v/${issued.pathShareToken}?lang=${language}`;
}

async function fetchCredentialText() {
  const response = await fetch(`${URLS.issuer}/public/credentials/${issued.pathShareToken}`);
  assert.equal(response.status, 200, 'GET /public/credentials/{token} status');
  return response.text();
}

/**
 * Signs `page` in to the wallet as the member with the code from the
 * outbox file, and waits for the certificates page.
 */
async function signIn(page, language) {
  await page.goto(`${URLS.wallet}/?lang=${language}`);
  const linesBefore = (await services.outboxLines()).length;
  await page.locator('#identifier').fill(MEMBER.email);
  await page.locator('main button[type=submit]').click();
  await page.locator('#code').waitFor();
  const code = await services.signInCode(MEMBER.email, linesBefore);
  await page.locator('#code').fill(code);
  // A rejected code renders the code form again at /sign-in/code.
  await Promise.all([
    page.waitForURL((url) => ['/certificates', '/sign-in/code'].includes(url.pathname)),
    page.locator('main button[type=submit]').click(),
  ]);
  if (new URL(page.url()).pathname !== '/certificates') {
    const error = await page.locator('main .error').textContent({ timeout: 1_000 }).catch(() => '');
    assert.fail(`sign-in with code ${code} from the outbox failed at ${page.url()}: ${error}`);
  }
}

/** Returns the card of the path certificate on the certificates page. */
function pathCard(page) {
  const download = `/certificates/${encodeURIComponent(issued.pathCredentialId)}.json`;
  return page.locator('article.card', { has: page.locator(`a[href="${download}"]`) });
}

/** Runs axe-core on `page` and returns its serious and critical violations. */
async function scan(t, page, label) {
  return severeViolations(page, label, (line) => t.diagnostic(line));
}

function assertNoSevere(severe, label) {
  assert.equal(severe.length, 0, `serious or critical accessibility violations on ${label}:\n${describeViolations(severe)}`);
}

// Verifier: the page a certificate's QR code opens, and the check form.

check('share page in French: genuine verdict', async () => {
  const page = await browser.newPage({ viewport: PHONE_VIEWPORT });
  const response = await page.goto(shareUrl('fr'));
  assert.equal(response.status(), 200, 'status of /v/{token}?lang=fr');
  assert.deepEqual(await htmlAttributes(page), { lang: 'fr', dir: 'ltr' });
  const verdict = page.locator('section.verdict');
  assert.equal(await verdict.getAttribute('class'), 'verdict good');
  assert.equal(await text(verdict.locator('h1')), texts.verifier.fr['verdict.genuine']);
  const name = page.locator('bdi', { hasText: MEMBER.nameLatin });
  assert.ok(await name.isVisible(), `${MEMBER.nameLatin} is not visible`);
  await page.screenshot({ path: join(SCREENSHOTS, 'verifier-share-fr.png') });
  await page.context().close();
});

check('share page in Arabic: right to left', async () => {
  const page = await browser.newPage({ viewport: PHONE_VIEWPORT });
  const response = await page.goto(shareUrl('ar'));
  assert.equal(response.status(), 200, 'status of /v/{token}?lang=ar');
  assert.deepEqual(await htmlAttributes(page), { lang: 'ar', dir: 'rtl' });
  const verdict = page.locator('section.verdict');
  assert.equal(await verdict.getAttribute('class'), 'verdict good');
  assert.equal(await text(verdict.locator('h1')), texts.verifier.ar['verdict.genuine']);
  // The Latin-script name must sit in its own <bdi>, so that the
  // surrounding right-to-left text does not reorder it.
  const latinName = page.locator('dd bdi', { hasText: MEMBER.nameLatin });
  assert.equal(await latinName.count(), 1, `no <bdi> holds ${MEMBER.nameLatin}`);
  assert.equal(await text(latinName), MEMBER.nameLatin);
  assert.ok(await latinName.isVisible(), `${MEMBER.nameLatin} is not visible`);
  await page.screenshot({ path: join(SCREENSHOTS, 'verifier-share-ar.png') });
  await page.context().close();
});

check('check form: pasted credential is genuine', async () => {
  const credential = await fetchCredentialText();
  const page = await browser.newPage();
  await page.goto(`${URLS.verifier}/?lang=en`);
  await page.locator('#credential').fill(credential);
  await Promise.all([page.waitForURL(`${URLS.verifier}/check?lang=en`), page.locator('main form[action^="/check"] button[type=submit]').click()]);
  const verdict = page.locator('section.verdict');
  assert.equal(await verdict.getAttribute('class'), 'verdict good');
  assert.equal(await text(verdict.locator('h1')), texts.verifier.en['verdict.genuine']);
  await page.context().close();
});

check('check form: altered name is flagged', async () => {
  const credential = await fetchCredentialText();
  // Change the last letter of the Latin name inside credentialSubject.
  const parsed = JSON.parse(credential);
  assert.match(JSON.stringify(parsed.credentialSubject), new RegExp(MEMBER.nameLatin), 'subject name in the credential');
  const alteredName = `${MEMBER.nameLatin.slice(0, -1)}b`;
  const altered = credential.replace(MEMBER.nameLatin, alteredName);
  assert.notEqual(altered, credential);
  assert.match(JSON.stringify(JSON.parse(altered).credentialSubject), new RegExp(alteredName));

  const page = await browser.newPage();
  await page.goto(`${URLS.verifier}/?lang=en`);
  await page.locator('#credential').fill(altered);
  await Promise.all([page.waitForURL(`${URLS.verifier}/check?lang=en`), page.locator('main form[action^="/check"] button[type=submit]').click()]);
  const verdict = page.locator('section.verdict');
  assert.equal(await verdict.getAttribute('class'), 'verdict bad');
  assert.equal(await text(verdict.locator('h1')), texts.verifier.en['verdict.altered']);
  await page.screenshot({ path: join(SCREENSHOTS, 'verifier-altered-en.png') });
  await page.context().close();
});

check('unknown share token: 404 page', async () => {
  const page = await browser.newPage();
  // A well-formed token the issuer does not know, then a malformed one.
  for (const token of [randomBytes(16).toString('hex'), 'not-a-token']) {
    const response = await page.goto(`${URLS.verifier}/v/${token}?lang=en`);
    assert.equal(response.status(), 404, `status of /v/${token}`);
    assert.equal(await text(page.locator('main p.error[role=alert]')), texts.verifier.en['error.not_found']);
    assert.equal(await page.locator('section.verdict').count(), 0, 'a 404 page shows no verdict');
  }
  await page.context().close();
});

// Wallet: sign-in, certificates, download, sign-out. The checks share one
// signed-in page, in this order.

let walletPage;

check('wallet: sign in with outbox code', async () => {
  walletPage = await browser.newPage();
  await signIn(walletPage, 'en');
  assert.equal(await text(walletPage.locator('main h1')), texts.wallet.en['wallet.heading']);
  assert.equal(await text(walletPage.locator('main bdi[lang="ar-Latn"]').first()), MEMBER.nameLatin);
});

check('wallet: path certificate and QR image', async () => {
  assert.ok(walletPage, 'sign-in did not run');
  const card = pathCard(walletPage);
  assert.equal(await card.count(), 1, `no card for ${issued.pathCredentialId}`);
  assert.equal(await text(card.locator('h3')), texts.pathTitles.en);
  const qr = card.locator('figure.qr img');
  const encodedId = encodeURIComponent(issued.pathCredentialId);
  assert.equal(await qr.getAttribute('src'), `/certificates/${encodedId}/qr.svg`);
  await qr.scrollIntoViewIfNeeded();
  await walletPage.waitForFunction((image) => image.complete, await qr.elementHandle());
  const naturalWidth = await qr.evaluate((image) => image.naturalWidth);
  assert.ok(naturalWidth > 0, `QR image did not load: naturalWidth ${naturalWidth}`);
});

check('wallet: download credential JSON', async () => {
  assert.ok(walletPage, 'sign-in did not run');
  const link = pathCard(walletPage).locator('a[download][href$=".json"]');
  const [download] = await Promise.all([walletPage.waitForEvent('download'), link.click()]);
  assert.match(download.suggestedFilename(), /^certificate-[0-9a-f-]+\.json$/);
  const credential = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(credential.id, issued.pathCredentialId);
  assert.ok(credential.proof, 'downloaded credential has no proof');
});

check('wallet: Arabic certificates page', async () => {
  assert.ok(walletPage, 'sign-in did not run');
  await walletPage.goto(`${URLS.wallet}/certificates?lang=ar`);
  assert.deepEqual(await htmlAttributes(walletPage), { lang: 'ar', dir: 'rtl' });
  assert.equal(await text(walletPage.locator('main h1')), texts.wallet.ar['wallet.heading']);
  assert.equal(await text(walletPage.locator('main bdi[lang="ar"]').first()), MEMBER.nameArabic);
  assert.equal(await text(pathCard(walletPage).locator('h3')), texts.pathTitles.ar);
  await walletPage.screenshot({ path: join(SCREENSHOTS, 'wallet-certificates-ar.png') });
  await walletPage.screenshot({ path: join(SCREENSHOTS, 'wallet-certificates-ar-full.png'), fullPage: true });
});

check('wallet: sign out ends the session', async () => {
  assert.ok(walletPage, 'sign-in did not run');
  await walletPage.goto(`${URLS.wallet}/certificates?lang=en`);
  await Promise.all([
    walletPage.waitForURL(`${URLS.wallet}/`),
    walletPage.locator('header form[action="/sign-out"] button').click(),
  ]);
  const response = await walletPage.goto(`${URLS.wallet}/certificates`);
  assert.equal(walletPage.url(), `${URLS.wallet}/`, 'signed-out /certificates did not redirect to the sign-in page');
  assert.equal(response.status(), 200);
  assert.equal(await text(walletPage.locator('main h1')), texts.wallet.en['signin.heading']);
  assert.ok(await walletPage.locator('#identifier').isVisible(), 'sign-in form is not visible');
  await walletPage.context().close();
});

// Accessibility: axe-core on each page. Violations of impact serious or
// critical fail the check, and every violation is printed.

check('axe: verifier home', async (t) => {
  const page = await browser.newPage();
  await page.goto(`${URLS.verifier}/?lang=en`);
  assertNoSevere(await scan(t, page, 'verifier home (en)'), 'verifier home (en)');
  await page.context().close();
});

for (const language of ['fr', 'ar']) {
  check(`axe: verdict page (${language})`, async (t) => {
    const page = await browser.newPage();
    await page.goto(shareUrl(language));
    await page.locator('section.verdict').waitFor();
    assertNoSevere(await scan(t, page, `verdict page (${language})`), `verdict page (${language})`);
    await page.context().close();
  });
}

check('axe: wallet sign-in page', async (t) => {
  const page = await browser.newPage();
  await page.goto(`${URLS.wallet}/?lang=en`);
  assertNoSevere(await scan(t, page, 'wallet sign-in (en)'), 'wallet sign-in (en)');
  await page.context().close();
});

check('axe: certificates page (en, ar)', async (t) => {
  const page = await browser.newPage();
  await signIn(page, 'en');
  const severe = await scan(t, page, 'certificates (en)');
  await page.goto(`${URLS.wallet}/certificates?lang=ar`);
  severe.push(...(await scan(t, page, 'certificates (ar)')));
  assertNoSevere(severe, 'certificates pages');
  await page.context().close();
});

// A certificate's own pages: wallet.mjs.
registerWalletChecks({
  check,
  browser: () => browser,
  signIn,
  scan,
  assertNoSevere,
  issued,
  texts,
  screenshots: SCREENSHOTS,
});
