// Browser tests of scanning and offline checking on the verifier, in
// Debian's Chromium with a fake camera.
//
// Run after `cargo build -p issuer -p verifier -p wallet-web`:
//   node browser-tests/verifier-offline.mjs
// It starts the services on their own data folder (ports as in run.mjs),
// issues a path credential, turns its QR code into a Y4M video that
// Chromium's fake camera plays, and checks the verdicts online, offline
// and from a photo. Screenshots go to browser-tests/screenshots/.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Browser, describeViolations, PHONE_VIEWPORT, severeViolations } from './lib/browser.mjs';
import { Services, URLS } from './lib/services.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const SCREENSHOTS = join(HERE, 'screenshots');

const MEMBER = { id: 'm-0002', nameLatin: 'Khadija Oubella', nameArabic: 'خديجة أوبلا' };
const PATH_ID = 'path-finance';
const PATH_MODULES = ['fin-bookkeeping', 'fin-annual-accounts', 'fin-finance-microcredit'];

// As long as MEMBER.nameLatin, so the altered form keeps its length.
const OTHER_NAME = 'Someone Elsewho';

// A member whose names contain markup and the invisible characters that
// reorder or hide text, and the names the pages must show: the same
// text without those characters, never interpreted as markup. The names
// are short, so that the QR code still carries the compact form.
const HOSTILE_MEMBER = {
  id: 'm-0099',
  cooperative: 'coop-argan-tiznit',
  name_latin: 'Kha\u202Edija\u200B<img src=x>',
  name_ar: 'خديجة\u2067<b>x</b>\u2069',
  email: 'hostile.names@example.org',
  phone: '+212600000099',
  role: 'member',
};
const HOSTILE_SHOWN = ['Khadija<img src=x>', 'خديجة<b>x</b>'];
// The characters credentials::i18n::is_hidden_control lists.
const HIDDEN_CONTROL = /[\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/;

/** Bytes of the QR form's digits: chunks of 17 digits for 7 bytes (docs/compact-form.md). */
function fromDigits(digits) {
  const widths = [0, 3, 5, 8, 10, 13, 15, 17];
  const bytes = [];
  for (let position = 0; position < digits.length; ) {
    const width = Math.min(17, digits.length - position);
    const count = widths.indexOf(width);
    let value = BigInt(digits.slice(position, position + width));
    const chunk = [];
    for (let i = 0; i < count; i++, value >>= 8n) chunk.unshift(Number(value & 0xffn));
    bytes.push(...chunk);
    position += width;
  }
  return Buffer.from(bytes);
}

function toDigits(bytes) {
  const widths = [0, 3, 5, 8, 10, 13, 15, 17];
  let digits = '';
  for (let position = 0; position < bytes.length; position += 7) {
    const chunk = bytes.subarray(position, position + 7);
    const value = chunk.reduce((sum, byte) => (sum << 8n) | BigInt(byte), 0n);
    digits += value.toString().padStart(widths[chunk.length], '0');
  }
  return digits;
}

const RUN_TIMEOUT_MS = 150_000;
const CHECK_TIMEOUT_MS = 40_000;

// Frame of the fake camera video, in pixels (even numbers, as YUV 4:2:0
// requires), and the side of the QR code drawn in it.
const FRAME = { width: 1280, height: 960, code: 900 };

// The default QR_MAX_VERSION (12) fits the summary of this certificate.
const services = new Services(ROOT);
let browser;
let workDir;
let anyCheckFailed = false;
const issued = { shareToken: '', qrPng: null, link: '', revokedToken: '', revokedPng: null, hostileToken: '', hostilePng: null };
const texts = {};

const watchdog = setTimeout(() => {
  console.error(`verifier offline tests timed out after ${RUN_TIMEOUT_MS} ms. Stopping the services.`);
  services.killNow();
  process.exit(1);
}, RUN_TIMEOUT_MS);
watchdog.unref();

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    services.killNow();
    if (services.dataDir) rmSync(services.dataDir, { recursive: true, force: true });
    process.exit(128 + constants.signals[signal]);
  });
}
process.on('exit', () => services.killNow());

/**
 * Writes a Y4M (YUV4MPEG2, 4:2:0) video of one grey frame with the QR
 * code PNG in its middle, scaled by nearest neighbour. Chromium decodes
 * the PNG, so no image library is needed here.
 */
async function writeCameraVideo(page, png, path) {
  const luma = await page.evaluate(
    async ({ base64, frame }) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = frame.width;
      canvas.height = frame.height;
      const context = canvas.getContext('2d');
      context.fillStyle = '#c8c8c8';
      context.fillRect(0, 0, frame.width, frame.height);
      context.imageSmoothingEnabled = false;
      const left = (frame.width - frame.code) / 2;
      const top = (frame.height - frame.code) / 2;
      context.drawImage(image, left, top, frame.code, frame.code);
      const { data } = context.getImageData(0, 0, frame.width, frame.height);
      const grey = new Array(frame.width * frame.height);
      for (let i = 0; i < grey.length; i += 1) grey[i] = data[i * 4];
      return grey;
    },
    { base64: png.toString('base64'), frame: FRAME },
  );
  const header = Buffer.from(`YUV4MPEG2 W${FRAME.width} H${FRAME.height} F10:1 Ip A1:1 C420jpeg\n`);
  const chroma = Buffer.alloc((FRAME.width / 2) * (FRAME.height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), Buffer.from(luma), chroma]);
  await writeFile(path, Buffer.concat([header, frame, frame]));
}

async function prepare() {
  await mkdir(SCREENSHOTS, { recursive: true });
  for (const language of ['ar', 'fr', 'en']) {
    texts[language] = JSON.parse(await readFile(join(ROOT, `verifier/i18n/${language}.json`), 'utf8'));
  }
  await services.start();
  const today = new Date().toISOString().slice(0, 10);
  let outcome;
  for (const module of PATH_MODULES) outcome = await services.reportCompletion(MEMBER.id, module, today);
  const path = outcome.path_credentials.find((credential) => credential.achievement_id === PATH_ID);
  assert.ok(path, `no ${PATH_ID} credential: ${JSON.stringify(outcome)}`);
  issued.shareToken = path.share_token;
  const response = await fetch(`${URLS.issuer}/public/credentials/${issued.shareToken}/qr.png`);
  assert.equal(response.status, 200, 'GET qr.png');
  issued.qrPng = Buffer.from(await response.arrayBuffer());

  // A second certificate, revoked before the verifier reads any status
  // list: the verifier and CDNs may keep a list for its max-age (300 s).
  const revoked = (await services.reportCompletion('m-0003', 'gov-law-112-12', today)).module_credential;
  await services.setStatus(revoked.id, 'revoked', 'issued in error');
  issued.revokedToken = revoked.share_token;
  const revokedQr = await fetch(`${URLS.issuer}/public/credentials/${revoked.share_token}/qr.png`);
  assert.equal(revokedQr.status, 200, 'GET qr.png of the revoked credential');
  issued.revokedPng = Buffer.from(await revokedQr.arrayBuffer());

  workDir = await mkdtemp(join(tmpdir(), 'taawounya-camera-'));

  // A certificate of a member whose names are hostile.
  const demo = JSON.parse(await readFile(join(ROOT, 'catalogue/demo.json'), 'utf8'));
  const hostileDemo = join(workDir, 'hostile-demo.json');
  await writeFile(
    hostileDemo,
    JSON.stringify({
      cooperatives: demo.cooperatives.filter((cooperative) => cooperative.id === HOSTILE_MEMBER.cooperative),
      members: [HOSTILE_MEMBER],
    }),
  );
  await services.loadDemo(hostileDemo);
  const hostile = (await services.reportCompletion(HOSTILE_MEMBER.id, 'sell-online', today)).module_credential;
  issued.hostileToken = hostile.share_token;
  const hostileQr = await fetch(`${URLS.issuer}/public/credentials/${hostile.share_token}/qr.png`);
  assert.equal(hostileQr.status, 200, 'GET qr.png of the hostile names credential');
  issued.hostilePng = Buffer.from(await hostileQr.arrayBuffer());

  const video = join(workDir, 'qr.y4m');
  const plain = await Browser.launch();
  const page = await plain.newPage();
  await writeCameraVideo(page, issued.qrPng, video);
  await plain.close();

  browser = await Browser.launch({
    extraFlags: [
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
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
  if (workDir) await rm(workDir, { recursive: true, force: true });
  if (anyCheckFailed && services.dataDir) {
    for (const name of ['issuer', 'verifier']) {
      console.error(`--- last lines of the ${name} log ---\n${await services.logTail(name)}`);
    }
  }
  await services.stop({ keep: anyCheckFailed });
});

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

/**
 * Opens a page in a fresh context that may use the camera. No request
 * routing is set: it would stand between the page and its service
 * worker. The browser's host resolver rule keeps traffic on loopback.
 */
async function cameraPage() {
  const context = await browser.browser.newContext({ viewport: PHONE_VIEWPORT, locale: 'en-US' });
  context.setDefaultTimeout(15_000);
  await context.grantPermissions(['camera'], { origin: URLS.verifier });
  return context.newPage();
}

/** Visits the home page online and waits until the service worker controls it. */
async function firstVisit(page, language = 'en') {
  await page.goto(`${URLS.verifier}/?lang=${language}`);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  // A worker that took control while this page was loading may not control
  // it, and sends no further event; a reload is always controlled.
  if (!(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)))) {
    await page.reload();
    const controlled = await page.evaluate(() => Boolean(navigator.serviceWorker.controller));
    assert.ok(controlled, 'the service worker does not control the page');
  }
}

async function verdictOf(page) {
  const verdict = page.locator('section.verdict').first();
  await verdict.waitFor();
  return { className: await verdict.getAttribute('class'), title: (await verdict.locator('h1').textContent()).trim() };
}

/** Scans the fake camera from the home page and waits for the verdict page. */
async function scanWithCamera(page) {
  await page.locator('#scan-start').click();
  await page.waitForURL((url) => url.pathname === `/v/${issued.shareToken}`, { timeout: 20_000 });
}

check('camera scan online: genuine and summary matches', async () => {
  const page = await cameraPage();
  await firstVisit(page);
  await scanWithCamera(page);
  issued.link = page.url();
  const compact = new URL(issued.link).hash.slice(1);
  assert.match(compact, /^[0-9]{200,}$/, `the scanned link carries no QR form: ${issued.link}`);
  assert.deepEqual(await verdictOf(page), { className: 'verdict good', title: texts.en['verdict.genuine'] });
  const summary = page.locator('#compact-check');
  await summary.waitFor({ state: 'visible' });
  assert.equal((await summary.textContent()).trim(), texts.en['compact.match']);
  await page.screenshot({ path: join(SCREENSHOTS, 'verifier-scan-online-en.png') });
  await page.context().close();
});

check('camera scan offline: offline verdict', async () => {
  const page = await cameraPage();
  await firstVisit(page);
  await page.context().setOffline(true);
  await page.goto(`${URLS.verifier}/?lang=en`);
  await scanWithCamera(page);
  assert.deepEqual(await verdictOf(page), { className: 'verdict good', title: texts.en['verdict.genuine'] });
  assert.equal((await page.locator('p.note').textContent()).trim(), texts.en['offline.notice']);
  const name = page.locator('dd bdi', { hasText: MEMBER.nameLatin });
  assert.equal(await name.count(), 1, `no <bdi> holds ${MEMBER.nameLatin}`);
  const dataAge = (await page.locator('p.data-age').textContent()).trim();
  assert.match(dataAge, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/, 'the page does not say how old its data is');
  // The bundle of the first visit contains the issuer's status lists, read
  // from its index, so the page shows when the status was last checked.
  const statusAge = (await page.locator('p.status-age').textContent()).trim();
  const checkedPrefix = texts.en['offline.status_checked'].split('{time}')[0];
  assert.ok(statusAge.startsWith(checkedPrefix), `the status was not checked offline: ${statusAge}`);
  assert.match(statusAge, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/, 'the page does not say when the status was checked');
  await page.screenshot({ path: join(SCREENSHOTS, 'verifier-scan-offline-en.png') });
  await page.context().close();
});

check('offline in Arabic: right to left', async () => {
  assert.ok(issued.link, 'the online scan did not run');
  const page = await cameraPage();
  await firstVisit(page, 'ar');
  await page.context().setOffline(true);
  const url = new URL(issued.link);
  url.search = '?lang=ar';
  await page.goto(url.toString());
  // The page may show a first verdict before the saved status data is
  // read; wait for the settled one.
  await page.locator('section.verdict.good').first().waitFor({ timeout: 10_000 }).catch(() => {});
  assert.deepEqual(await verdictOf(page), { className: 'verdict good', title: texts.ar['verdict.genuine'] });
  const attributes = await page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));
  assert.deepEqual(attributes, { lang: 'ar', dir: 'rtl' });
  const latin = page.locator('dd bdi', { hasText: MEMBER.nameLatin });
  assert.equal(await latin.count(), 1);
  assert.ok(await latin.isVisible());
  await page.screenshot({ path: join(SCREENSHOTS, 'verifier-offline-ar.png') });
  await page.context().close();
});

check('altered compact form: rejected online and offline', async () => {
  assert.ok(issued.link, 'the online scan did not run');
  const url = new URL(issued.link);
  // Another name of the same length inside the signed payload: the CBOR
  // stays well formed and only the signature can tell.
  const bytes = fromDigits(url.hash.slice(1));
  const name = Buffer.from(MEMBER.nameLatin);
  const at = bytes.indexOf(name);
  assert.ok(at > 0, 'the Latin name is not in the QR form');
  Buffer.from(OTHER_NAME).copy(bytes, at);
  url.hash = toDigits(bytes);

  const page = await cameraPage();
  await page.goto(url.toString());
  const summary = page.locator('#compact-check');
  await summary.waitFor({ state: 'visible' });
  assert.equal((await summary.textContent()).trim(), texts.en['compact.mismatch']);

  await firstVisit(page);
  await page.context().setOffline(true);
  await page.goto(url.toString());
  await page.locator('section.verdict.bad').first().waitFor({ timeout: 10_000 }).catch(() => {});
  assert.deepEqual(await verdictOf(page), { className: 'verdict bad', title: texts.en['verdict.altered'] });
  assert.equal(await page.locator('bdi', { hasText: OTHER_NAME }).count(), 0, 'an altered name is shown');
  await page.screenshot({ path: join(SCREENSHOTS, 'verifier-altered-offline-en.png') });
  await page.context().close();
});

check('revoked certificate: revoked online and offline', async () => {
  const page = await cameraPage();
  await firstVisit(page);
  await page.locator('#photo').setInputFiles({ name: 'revoked.png', mimeType: 'image/png', buffer: issued.revokedPng });
  await Promise.all([
    page.waitForURL((url) => url.pathname === `/v/${issued.revokedToken}`),
    page.locator('form[action^="/scan/photo"] button[type=submit]').click(),
  ]);
  assert.deepEqual(await verdictOf(page), { className: 'verdict bad', title: texts.en['verdict.revoked'] });
  const link = page.url();

  // The bundle kept at the first visit carries the revoked bit. A blank
  // page first, so that the link is loaded again and not only scrolled to.
  await page.goto('about:blank');
  await page.context().setOffline(true);
  await page.goto(link);
  await page.locator('section.verdict.bad').first().waitFor({ timeout: 10_000 }).catch(() => {});
  assert.deepEqual(await verdictOf(page), { className: 'verdict bad', title: texts.en['offline.revoked'] });
  assert.equal((await page.locator('p.note').textContent()).trim(), texts.en['offline.notice']);
  await page.screenshot({ path: join(SCREENSHOTS, 'verifier-revoked-offline-en.png') });
  await page.context().close();
});

/** Reads the recipient names of the verdict and checks nothing in `main` was interpreted. */
async function assertHostileNamesInert(page, label) {
  const rendered = await page.evaluate(() => {
    const main = document.querySelector('main');
    return {
      names: [...main.querySelectorAll('dd bdi')].map((element) => element.textContent),
      // The offline page keeps its texts in script#page-texts.
      elements: main.querySelectorAll('img, b, svg, iframe, script:not(#page-texts)').length,
      text: main.textContent,
    };
  });
  assert.equal(rendered.elements, 0, `${label}: markup from the names became elements`);
  const control = rendered.text.match(HIDDEN_CONTROL);
  assert.equal(control, null, `${label}: hidden control U+${control?.[0].codePointAt(0).toString(16)} on the page`);
  for (const name of HOSTILE_SHOWN) {
    assert.ok(rendered.names.includes(name), `${label}: ${name} not shown as text: ${JSON.stringify(rendered.names)}`);
  }
}

check('hostile names: shown as text online and offline', async () => {
  const page = await cameraPage();
  await firstVisit(page);
  await page.locator('#photo').setInputFiles({ name: 'hostile.png', mimeType: 'image/png', buffer: issued.hostilePng });
  await Promise.all([
    page.waitForURL((url) => url.pathname === `/v/${issued.hostileToken}`),
    page.locator('form[action^="/scan/photo"] button[type=submit]').click(),
  ]);
  const link = page.url();
  assert.match(new URL(link).hash.slice(1), /^[0-9]{200,}$/, `the link carries no QR form: ${link}`);
  assert.deepEqual(await verdictOf(page), { className: 'verdict good', title: texts.en['verdict.genuine'] });
  await assertHostileNamesInert(page, 'online');

  // Offline, the script renders the names from the QR form.
  await page.goto('about:blank');
  await page.context().setOffline(true);
  await page.goto(link);
  await page.locator('p.note').waitFor({ timeout: 10_000 });
  assert.deepEqual(await verdictOf(page), { className: 'verdict good', title: texts.en['verdict.genuine'] });
  await assertHostileNamesInert(page, 'offline');
  await page.screenshot({ path: join(SCREENSHOTS, 'verifier-hostile-names-offline-en.png') });
  await page.context().close();
});

check('photo upload: decoded on the server', async () => {
  const page = await cameraPage();
  await page.goto(`${URLS.verifier}/?lang=en`);
  await page.locator('#photo').setInputFiles({ name: 'certificate.png', mimeType: 'image/png', buffer: issued.qrPng });
  await Promise.all([
    page.waitForURL((url) => url.pathname === `/v/${issued.shareToken}`),
    page.locator('form[action^="/scan/photo"] button[type=submit]').click(),
  ]);
  assert.match(new URL(page.url()).hash.slice(1), /^[0-9]{200,}$/, 'the redirect lost the QR form');
  assert.deepEqual(await verdictOf(page), { className: 'verdict good', title: texts.en['verdict.genuine'] });

  // A file that is not a photo gets one plain sentence.
  await page.goto(`${URLS.verifier}/?lang=fr`);
  const blank = Buffer.from('not a photo\n');
  await page.locator('#photo').setInputFiles({ name: 'note.png', mimeType: 'image/png', buffer: blank });
  await page.locator('form[action^="/scan/photo"] button[type=submit]').click();
  await page.locator('main p.error[role=alert]').waitFor();
  assert.equal((await page.locator('main p.error[role=alert]').textContent()).trim(), texts.fr['scan.photo_not_image']);
  await page.context().close();
});

/** Bytes sent for `path` to a client that accepts gzip, and bytes once decoded. */
function transferSizes(path) {
  return new Promise((resolve, reject) => {
    const request = http.get(`${URLS.verifier}${path}`, { headers: { 'accept-encoding': 'gzip' } }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        const encoding = response.headers['content-encoding'] ?? 'identity';
        const decoded = encoding === 'gzip' ? gunzipSync(body).length : body.length;
        resolve({ sent: body.length, decoded, encoding });
      });
    });
    request.on('error', reject);
  });
}

check('first visit transfer on a phone', async (t) => {
  const page = await cameraPage();
  const session = await page.context().newCDPSession(page);
  await session.send('Network.enable');
  let bytes = 0;
  session.on('Network.loadingFinished', (event) => {
    bytes += event.encodedDataLength;
  });
  await firstVisit(page);
  // What the service worker keeps, fetched by itself (not seen above), as
  // a phone receives it (gzip) and decoded.
  const kept = ['/offline', '/offline/bundle.json', '/sw.js', '/static/vendor/jsQR.js'];
  const sizes = {};
  for (const path of kept) sizes[path] = await transferSizes(path);
  t.diagnostic(`first visit: page and script ${bytes} bytes; kept by the service worker: ${JSON.stringify(sizes)}`);
  assert.ok(bytes > 0, 'nothing was transferred');
  assert.ok(bytes < 30_000, `the home page transfers ${bytes} bytes`);
  const bundle = sizes['/offline/bundle.json'];
  assert.equal(bundle.encoding, 'gzip', 'the offline bundle is not compressed');
  assert.ok(bundle.sent < bundle.decoded / 2, `the bundle shrinks too little: ${JSON.stringify(bundle)}`);
  await page.context().close();
});

for (const [label, path, offline] of [
  ['home with scan', '/?lang=en', false],
  ['offline verdict (ar)', null, true],
]) {
  check(`axe: ${label}`, async (t) => {
    const page = await cameraPage();
    await firstVisit(page);
    if (offline) {
      assert.ok(issued.link, 'the online scan did not run');
      await page.context().setOffline(true);
      const url = new URL(issued.link);
      url.search = '?lang=ar';
      await page.goto(url.toString());
      await page.locator('section.verdict.good').waitFor();
    } else {
      await page.goto(`${URLS.verifier}${path}`);
    }
    const severe = await severeViolations(page, label, (line) => t.diagnostic(line));
    assert.equal(severe.length, 0, `serious or critical violations on ${label}:\n${describeViolations(severe)}`);
    await page.context().close();
  });
}
