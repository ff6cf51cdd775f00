// Script of the verifier's pages. Every page works without it; with it:
// - the service worker is registered, so the pages work offline;
// - the home page can scan a QR code with the camera;
// - the page a QR code opens checks the compact form in the link's
//   fragment, on the server when online and in the browser when offline.
// Text from a credential is only ever placed with textContent.

'use strict';

const LANGUAGES = ['ar', 'fr', 'zgh', 'en'];
const RIGHT_TO_LEFT = ['ar'];
const HEADER_PARAMETERS = ['alg', 'kid', 'typ'];
const CLAIMS = ['iss', 'jti', 'nbf', 'exp', 'n', 'a', 's', 'h'];
// Clock tolerance in seconds, as on the server.
const CLOCK_SKEW = 300;
const MAX_COMPACT_LENGTH = 4096;
const TOKEN = /^\/v\/([0-9a-fA-F]{32})$/;

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch(() => {});
}

document.addEventListener('DOMContentLoaded', () => {
  const camera = document.getElementById('camera');
  if (camera) setUpCamera(camera);
  const compactCheck = document.getElementById('compact-check');
  if (compactCheck && location.hash.length > 1) checkOnline(compactCheck, location.hash.slice(1));
  const offline = document.getElementById('offline-verdict');
  if (offline) checkOffline(offline).catch(() => renderVerdict(offline, pageTexts(), 'malformed'));
});

// ---- Scanning ----------------------------------------------------------

/** Returns `/v/{token}#{fragment}` for a scanned certificate link, or null. */
function verificationTarget(content) {
  let url;
  try {
    url = new URL(content.trim());
  } catch {
    return null;
  }
  const match = TOKEN.exec(url.pathname);
  if (!match) return null;
  const fragment = url.hash.slice(1);
  const safe = fragment.length <= MAX_COMPACT_LENGTH && /^[A-Za-z0-9_.-]*$/.test(fragment);
  return `/v/${match[1]}${safe && fragment ? `#${fragment}` : ''}`;
}

function setUpCamera(camera) {
  if (!navigator.mediaDevices?.getUserMedia) return;
  camera.hidden = false;
  const button = document.getElementById('scan-start');
  button.addEventListener('click', () => {
    button.disabled = true;
    scan(camera).catch(() => {
      document.getElementById('scan-status').textContent = camera.dataset.noCamera;
      button.disabled = false;
    });
  });
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
}

/** Returns a function that reads a QR code from the video, or null. */
async function qrReader(video) {
  if ('BarcodeDetector' in window) {
    const formats = await window.BarcodeDetector.getSupportedFormats().catch(() => []);
    if (formats.includes('qr_code')) {
      const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
      return async () => (await detector.detect(video))[0]?.rawValue ?? null;
    }
  }
  // No BarcodeDetector (Firefox, desktop Chromium): our copy of jsQR.
  await loadScript('/static/vendor/jsQR.js');
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  return async () => {
    const scale = Math.min(1, 1280 / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    if (!canvas.width || !canvas.height) return null;
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    return window.jsQR(pixels.data, canvas.width, canvas.height, { inversionAttempts: 'attemptBoth' })?.data ?? null;
  };
}

async function scan(camera) {
  const status = document.getElementById('scan-status');
  const video = document.getElementById('scan-video');
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  status.textContent = camera.dataset.looking;
  const read = await qrReader(video);
  for (;;) {
    const content = await read().catch(() => null);
    if (content) {
      const target = verificationTarget(content);
      if (target) {
        stream.getTracks().forEach((track) => track.stop());
        location.assign(target);
        return;
      }
      status.textContent = camera.dataset.notLink;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// ---- Online check of the compact form ------------------------------------

async function checkOnline(element, compact) {
  let result = 'unavailable';
  try {
    const response = await fetch(`/v/${element.dataset.token}/compact`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ compact }),
    });
    if (response.ok) result = (await response.json()).result;
  } catch {
    // The page's own verdict is final, so nothing is added.
  }
  if (result === 'match' || result === 'mismatch') {
    element.textContent = element.dataset[result];
    element.className = result === 'match' ? 'note good' : 'verdict bad';
    element.hidden = false;
  }
}

// ---- Offline check in the browser ----------------------------------------

function pageTexts() {
  try {
    return JSON.parse(document.getElementById('page-texts').textContent);
  } catch {
    return {};
  }
}

function chosenLanguage() {
  const query = new URLSearchParams(location.search).get('lang');
  if (LANGUAGES.includes(query)) return query;
  const cookie = document.cookie.split(';').map((part) => part.trim()).find((part) => part.startsWith('lang='));
  const remembered = cookie?.slice(5);
  if (LANGUAGES.includes(remembered)) return remembered;
  return document.documentElement.lang;
}

function text(texts, key, values = {}) {
  let template = texts[key] ?? key;
  for (const [name, value] of Object.entries(values)) template = template.replace(`{${name}}`, value);
  return template;
}

function base64url(segment) {
  if (!/^[A-Za-z0-9_-]*$/.test(segment) || segment.length % 4 === 1) throw new Error('not base64url');
  const padded = segment.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (segment.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (character) => character.charCodeAt(0));
}

function jsonSegment(segment) {
  const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url(segment)));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
  return value;
}

function validClaims(claims) {
  return (
    Object.keys(claims).every((name) => CLAIMS.includes(name)) &&
    typeof claims.iss === 'string' &&
    typeof claims.jti === 'string' &&
    Number.isInteger(claims.nbf) &&
    (claims.exp === undefined || Number.isInteger(claims.exp)) &&
    Array.isArray(claims.n) &&
    claims.n.every((name) => typeof name === 'string') &&
    typeof claims.a === 'string' &&
    (claims.s === undefined || (Array.isArray(claims.s) && claims.s.every(validStatusRef))) &&
    typeof claims.h === 'string'
  );
}

function validStatusRef(entry) {
  return (
    Array.isArray(entry) &&
    entry.length === 3 &&
    ['r', 's'].includes(entry[0]) &&
    /^[A-Za-z0-9-]{1,64}$/.test(entry[1]) &&
    Number.isInteger(entry[2]) &&
    entry[2] >= 0
  );
}

/**
 * Checks the compact form against the bundle. Returns `{ outcome, claims,
 * issuer, status }`; `outcome` names a verdict text.
 */
async function verifyCompact(compact, bundle) {
  if (compact.length > MAX_COMPACT_LENGTH) return { outcome: 'malformed' };
  const parts = compact.split('.');
  if (parts.length !== 3) return { outcome: 'malformed' };
  let header;
  let claims;
  let signature;
  try {
    header = jsonSegment(parts[0]);
    claims = jsonSegment(parts[1]);
    signature = base64url(parts[2]);
  } catch {
    return { outcome: 'malformed' };
  }
  const headerAccepted =
    header.alg === 'EdDSA' &&
    typeof header.kid === 'string' &&
    Object.keys(header).every((name) => HEADER_PARAMETERS.includes(name));
  if (!headerAccepted || typeof claims.iss !== 'string') return { outcome: 'malformed' };

  const issuer = bundle.issuers.find((entry) => entry.id === claims.iss);
  if (!issuer) return { outcome: 'issuer_not_recognised' };
  const kid = header.kid.startsWith('#') ? `${issuer.id}${header.kid}` : header.kid;
  const published = issuer.keys.find((entry) => entry.kid === kid);
  if (!published) return { outcome: 'forged' };

  let key;
  try {
    key = await crypto.subtle.importKey('jwk', published.jwk, { name: 'Ed25519' }, false, ['verify']);
  } catch {
    return { outcome: 'cannot_check' };
  }
  const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
  const genuine = await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, signed);
  if (!genuine) return { outcome: 'altered' };
  if (!validClaims(claims)) return { outcome: 'malformed' };

  const status = await checkStatus(claims, issuer, bundle);
  const now = Date.now() / 1000;
  let outcome = 'genuine';
  if (status.revoked) outcome = 'revoked';
  else if (status.suspended) outcome = 'suspended';
  else if (claims.exp !== undefined && claims.exp <= now - CLOCK_SKEW) outcome = 'expired';
  else if (claims.nbf > now + CLOCK_SKEW) outcome = 'not_yet_valid';
  return { outcome, claims, issuer, status };
}

/** Reads a bit of a Bitstring Status List (v1.0 §3.2: index 0 is the most significant bit of the first byte). */
async function statusBit(encodedList, index) {
  if (!encodedList.startsWith('u') || typeof DecompressionStream === 'undefined') return null;
  const compressed = base64url(encodedList.slice(1));
  const stream = new Blob([compressed]).stream().pipeThrough(new DecompressionStream('gzip'));
  const bits = new Uint8Array(await new Response(stream).arrayBuffer());
  const byte = Math.floor(index / 8);
  if (byte >= bits.length) return null;
  return (bits[byte] >> (7 - (index % 8))) & 1;
}

/**
 * Looks up each status entry in the kept lists. `checkedAt` is the oldest
 * fetch time of the lists used, null when a list is missing.
 */
async function checkStatus(claims, issuer, bundle) {
  const result = { revoked: false, suspended: false, checkedAt: null, complete: true };
  const base = (issuer.credentials_url ?? '').replace(/\/$/, '');
  for (const [purpose, listId, index] of claims.s ?? []) {
    const list = bundle.status_lists.find((kept) => kept.url === `${base}/status/${listId}` && kept.issuer === issuer.id);
    const bit = list ? await statusBit(list.encodedList, index).catch(() => null) : null;
    if (bit === null) {
      result.complete = false;
      continue;
    }
    if (bit === 1 && purpose === 'r') result.revoked = true;
    if (bit === 1 && purpose === 's') result.suspended = true;
    if (!result.checkedAt || list.fetched_at < result.checkedAt) result.checkedAt = list.fetched_at;
  }
  if (!result.complete) result.checkedAt = null;
  return result;
}

const VERDICT_STYLE = {
  genuine: ['good', '✔'],
  expired: ['warn', '⚠'],
  not_yet_valid: ['warn', '⚠'],
  issuer_not_recognised: ['warn', '⚠'],
  revoked: ['bad', '✖'],
  suspended: ['bad', '✖'],
  altered: ['bad', '✖'],
  forged: ['bad', '✖'],
  malformed: ['bad', '✖'],
  cannot_check: ['unknown', '?'],
  no_summary: ['unknown', '?'],
  no_bundle: ['unknown', '?'],
};

function verdictKeys(outcome) {
  if (['revoked', 'suspended'].includes(outcome)) return [`offline.${outcome}`, `offline.${outcome}.detail`];
  if (['cannot_check', 'no_summary', 'no_bundle'].includes(outcome)) {
    return ['verdict.could_not_check', `offline.${outcome}`];
  }
  return [`verdict.${outcome}`, `verdict.${outcome}.detail`];
}

function element(name, properties = {}, children = []) {
  const node = document.createElement(name);
  Object.assign(node, properties);
  node.append(...children);
  return node;
}

function day(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

function minute(isoTime) {
  return isoTime.replace('T', ' ').slice(0, 16);
}

function renderVerdict(root, texts, outcome, result = {}, bundle = null) {
  const [style, symbol] = VERDICT_STYLE[outcome] ?? VERDICT_STYLE.malformed;
  const [titleKey, detailKey] = verdictKeys(outcome);
  const language = document.documentElement.lang;
  const issuerName = result.issuer ? (result.issuer.name[language] ?? result.issuer.name.fr ?? result.issuer.id) : '';
  const claims = result.claims;
  const dates = { expired: claims?.exp, not_yet_valid: claims?.nbf };
  const detail = text(texts, detailKey, { issuer: issuerName, date: dates[outcome] ? day(dates[outcome]) : '' });
  const title = text(texts, titleKey);
  document.title = title;

  const parts = [
    element('section', { className: `verdict ${style}`, role: 'status' }, [
      element('div', { className: 'symbol', ariaHidden: 'true' }, [symbol]),
      element('h1', {}, [title]),
      element('p', {}, [detail]),
    ]),
  ];
  if (claims && ['genuine', 'expired', 'not_yet_valid', 'revoked', 'suspended', 'issuer_not_recognised'].includes(outcome)) {
    parts.push(element('p', { className: 'note' }, [text(texts, 'offline.notice')]));
    const rows = [
      ['field.recipient', claims.n],
      ['field.achievement', [claims.a]],
      ['field.issuer', issuerName ? [issuerName] : []],
      ['field.valid_from', [day(claims.nbf)]],
      ['field.valid_until', [claims.exp === undefined ? text(texts, 'field.no_expiry') : day(claims.exp)]],
    ];
    const list = element('dl');
    for (const [label, values] of rows) {
      if (!values.length) continue;
      const cell = element('dd');
      values.forEach((value, position) => {
        if (position > 0) cell.append(' · ');
        cell.append(element('bdi', {}, [value]));
      });
      list.append(element('dt', {}, [text(texts, label)]), cell);
    }
    parts.push(list);
    const status = result.status;
    parts.push(
      element('p', { className: 'status-age' }, [
        status?.checkedAt
          ? text(texts, 'offline.status_checked', { time: minute(status.checkedAt) })
          : text(texts, 'offline.status_unknown'),
      ]),
    );
  }
  if (bundle?.generated_at) {
    parts.push(element('p', { className: 'data-age' }, [text(texts, 'offline.data_age', { time: minute(bundle.generated_at) })]));
  }
  root.replaceChildren(...parts);
}

/** Applies `language` to the page: direction, texts of the header, switch links. */
function applyLanguage(language, texts) {
  document.documentElement.lang = language;
  document.documentElement.dir = RIGHT_TO_LEFT.includes(language) ? 'rtl' : 'ltr';
  const app = document.querySelector('header .app');
  if (app && texts['app.name']) app.textContent = texts['app.name'];
  for (const link of document.querySelectorAll('header nav a[hreflang]')) {
    const code = link.getAttribute('hreflang');
    link.href = `${location.pathname}?lang=${code}${location.hash}`;
    if (code === language) link.setAttribute('aria-current', 'true');
    else link.removeAttribute('aria-current');
  }
}

async function checkOffline(root) {
  let bundle = null;
  try {
    const response = await fetch('/offline/bundle.json');
    if (response.ok) bundle = await response.json();
  } catch {
    bundle = null;
  }
  const language = chosenLanguage();
  const texts = bundle?.texts?.[language] ?? pageTexts();
  applyLanguage(bundle?.texts?.[language] ? language : document.documentElement.lang, texts);

  const compact = location.hash.slice(1);
  if (!compact) return renderVerdict(root, texts, 'no_summary', {}, bundle);
  if (!bundle) return renderVerdict(root, texts, 'no_bundle');
  if (!window.crypto?.subtle) return renderVerdict(root, texts, 'cannot_check', {}, bundle);
  const result = await verifyCompact(compact, bundle);
  renderVerdict(root, texts, result.outcome, result, bundle);
}
