// Script of the verifier's pages. Every page works without it; with it:
// - the service worker is registered, so the pages work offline;
// - the home page can scan a QR code with the camera;
// - the page a QR code opens checks the compact form in the link's
//   fragment, on the server when online and in the browser when offline.
// Text from a credential is only ever placed with textContent, without
// its hidden controls (withoutHiddenControls).

'use strict';

const LANGUAGES = ['ar', 'fr', 'zgh', 'en'];
const RIGHT_TO_LEFT = ['ar'];
const HEADER_PARAMETERS = ['alg', 'kid', 'typ'];
const CLAIMS = ['iss', 'jti', 'nbf', 'exp', 'n', 'a', 's', 'h'];
// Clock tolerance in seconds, as on the server.
const CLOCK_SKEW = 300;
const MAX_COMPACT_LENGTH = 4096;
const TOKEN = /^\/[vV]\/([0-9]{39}|[0-9a-fA-F]{32})$/;
// The QR form: COSE_Sign1 in CBOR, written as digits (docs/compact-form.md).
const MAX_QR_DIGITS = 1200;
const CHUNK_DIGITS = [0, 3, 5, 8, 10, 13, 15, 17];
const QR_CLAIMS = [4, 5, 'a', 'h', 'n', 's'];

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

// ---- The QR form: digits, CBOR, COSE_Sign1 -------------------------------

/** Reads the digits of the QR form back into bytes; throws on any other spelling. */
function fromDigits(digits) {
  if (!/^[0-9]+$/.test(digits)) throw new Error('not digits');
  const full = CHUNK_DIGITS[7];
  const rest = digits.length % full;
  const last = CHUNK_DIGITS.indexOf(rest);
  if (last < 0) throw new Error('not a whole number of chunks');
  const bytes = [];
  for (let position = 0; position < digits.length; ) {
    const width = digits.length - position === rest ? rest : full;
    const count = width === full ? 7 : last;
    const value = BigInt(digits.slice(position, position + width));
    if (value >> BigInt(8 * count) !== 0n) throw new Error('chunk too large');
    for (let shift = count - 1; shift >= 0; shift--) bytes.push(Number((value >> BigInt(8 * shift)) & 0xffn));
    position += width;
  }
  return Uint8Array.from(bytes);
}

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Decodes one CBOR item in deterministic encoding (RFC 8949 §4.2.1) that
 * fills `bytes`: integers, byte and text strings, arrays and maps with
 * integer or text keys in increasing order. Anything else throws.
 */
function decodeCbor(bytes) {
  let at = 0;
  const fail = () => {
    throw new Error('not the accepted CBOR');
  };
  const head = () => {
    if (at >= bytes.length) fail();
    const initial = bytes[at++];
    const info = initial & 31;
    let value = info;
    if (info >= 24) {
      if (info > 27) fail();
      const size = 1 << (info - 24);
      if (at + size > bytes.length) fail();
      value = 0;
      for (let i = 0; i < size; i++) value = value * 256 + bytes[at++];
      if (value < [24, 256, 65536, 4294967296][info - 24] || value > Number.MAX_SAFE_INTEGER) fail();
    }
    return [initial >> 5, value];
  };
  const item = (depth) => {
    if (depth > 8) fail();
    const [major, value] = head();
    if (major === 0) return value;
    if (major === 1) return -1 - value;
    if (major === 2 || major === 3) {
      if (at + value > bytes.length) fail();
      const slice = bytes.slice(at, at + value);
      at += value;
      return major === 2 ? slice : new TextDecoder('utf-8', { fatal: true }).decode(slice);
    }
    if (major === 4) {
      const items = [];
      for (let i = 0; i < value; i++) items.push(item(depth + 1));
      return items;
    }
    if (major === 5) {
      const map = new Map();
      let previous = null;
      for (let i = 0; i < value; i++) {
        const start = at;
        const key = item(depth + 1);
        const encoded = bytes.slice(start, at);
        if ((typeof key !== 'number' && typeof key !== 'string') || (previous && compareBytes(previous, encoded) >= 0)) fail();
        previous = encoded;
        map.set(key, item(depth + 1));
      }
      return map;
    }
    return fail();
  };
  const value = item(0);
  if (at !== bytes.length) fail();
  return value;
}

function cborHead(major, length) {
  if (length < 24) return [(major << 5) | length];
  if (length < 256) return [(major << 5) | 24, length];
  return [(major << 5) | 25, length >> 8, length & 0xff];
}

/** Builds the COSE Sig_structure: ["Signature1", protected, h'', payload]. */
function sigStructure(protectedBytes, payload) {
  const context = new TextEncoder().encode('Signature1');
  return Uint8Array.from([
    ...cborHead(4, 4),
    ...cborHead(3, context.length),
    ...context,
    ...cborHead(2, protectedBytes.length),
    ...protectedBytes,
    ...cborHead(2, 0),
    ...cborHead(2, payload.length),
    ...payload,
  ]);
}

function toHex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function toBase64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Reads the claims of a QR form's payload in the shape of the JWS claims, or returns null. */
function qrClaims(payload, issuer) {
  if (!(payload instanceof Map) || ![...payload.keys()].every((key) => QR_CLAIMS.includes(key))) return null;
  const seconds = (value) => Number.isInteger(value) && value >= 0;
  const names = payload.get('n');
  const status = payload.get('s') ?? [];
  const digest = payload.get('h');
  const valid =
    seconds(payload.get(5)) &&
    (!payload.has(4) || seconds(payload.get(4))) &&
    typeof payload.get('a') === 'string' &&
    digest instanceof Uint8Array &&
    digest.length === 16 &&
    Array.isArray(names) &&
    names.length > 0 &&
    names.every((name) => typeof name === 'string') &&
    Array.isArray(status) &&
    (!payload.has('s') || status.length > 0);
  if (!valid) return null;

  const entries = [];
  for (const entry of status) {
    if (!Array.isArray(entry) || entry.length !== 3) return null;
    const [purpose, list, index] = entry;
    const prefix = { r: 'revocation', s: 'suspension' }[purpose];
    if (!prefix || !seconds(index)) return null;
    const listId = Number.isInteger(list) && list >= 0 ? `${prefix}-${list}` : list;
    if (typeof list === 'string' && new RegExp(`^${prefix}-[1-9][0-9]*$`).test(list)) return null;
    entries.push([purpose, listId, index]);
  }
  const claims = { iss: issuer, nbf: payload.get(5), n: names, a: payload.get('a'), s: entries, h: toBase64url(digest) };
  if (payload.has(4)) claims.exp = payload.get(4);
  return entries.every(validStatusRef) ? claims : null;
}

/** Checks the QR form (digits) against the bundle, as `verifyCompact` does a JWS. */
async function verifyQrForm(digits, bundle) {
  if (digits.length > MAX_QR_DIGITS) return { outcome: 'malformed' };
  let parts;
  let header;
  let payload;
  try {
    parts = decodeCbor(fromDigits(digits));
    const shaped =
      Array.isArray(parts) &&
      parts.length === 4 &&
      parts[0] instanceof Uint8Array &&
      parts[1] instanceof Map &&
      parts[1].size === 0 &&
      parts[2] instanceof Uint8Array &&
      parts[3] instanceof Uint8Array &&
      parts[3].length === 64;
    if (!shaped) return { outcome: 'malformed' };
    header = decodeCbor(parts[0]);
    payload = decodeCbor(parts[2]);
  } catch {
    return { outcome: 'malformed' };
  }
  const kid = header instanceof Map ? header.get(4) : null;
  const headerAccepted = header instanceof Map && header.size === 2 && header.get(1) === -8 && kid instanceof Uint8Array && kid.length === 4;
  if (!headerAccepted) return { outcome: 'malformed' };

  const candidates = bundle.issuers.flatMap((issuer) =>
    issuer.keys.filter((entry) => entry.qr_kid === toHex(kid)).map((entry) => [issuer, entry]),
  );
  if (!candidates.length) return { outcome: 'issuer_not_recognised' };
  const signed = sigStructure(parts[0], parts[2]);
  let signer = null;
  for (const [issuer, published] of candidates) {
    let key;
    try {
      key = await crypto.subtle.importKey('jwk', published.jwk, { name: 'Ed25519' }, false, ['verify']);
    } catch {
      return { outcome: 'cannot_check' };
    }
    if (await crypto.subtle.verify({ name: 'Ed25519' }, key, parts[3], signed)) {
      signer = issuer;
      break;
    }
  }
  if (!signer) return { outcome: 'altered' };
  const claims = qrClaims(payload, signer.id);
  if (!claims) return { outcome: 'malformed' };
  return judge(claims, signer, bundle);
}

/** Decides the verdict on genuine claims: status first, then the validity period. */
async function judge(claims, issuer, bundle) {
  const status = await checkStatus(claims, issuer, bundle);
  const now = Date.now() / 1000;
  let outcome = 'genuine';
  if (status.revoked) outcome = 'revoked';
  else if (status.suspended) outcome = 'suspended';
  else if (claims.exp !== undefined && claims.exp <= now - CLOCK_SKEW) outcome = 'expired';
  else if (claims.nbf > now + CLOCK_SKEW) outcome = 'not_yet_valid';
  return { outcome, claims, issuer, status };
}

/**
 * Checks the compact form against the bundle. Returns `{ outcome, claims,
 * issuer, status }`; `outcome` names a verdict text.
 */
async function verifyCompact(compact, bundle) {
  if (/^[0-9]+$/.test(compact)) return verifyQrForm(compact, bundle);
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
  return judge(claims, issuer, bundle);
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

// The bidirectional and zero-width controls that the server's
// credentials::i18n::is_hidden_control lists.
const HIDDEN_CONTROL = /[\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/;

/**
 * Removes hidden controls from a credential's text, as the server's pages
 * do: a name reads as it is stored and cannot reorder or hide letters. A
 * zero-width non-joiner or joiner stays between two non-ASCII characters,
 * where Arabic, Persian and Indic words and emoji sequences need it.
 */
function withoutHiddenControls(value) {
  const chars = Array.from(value);
  const visible = (c) => c !== undefined && c.codePointAt(0) > 0x7f && !HIDDEN_CONTROL.test(c);
  return chars
    .filter((c, position) => {
      if (!HIDDEN_CONTROL.test(c)) return true;
      const joiner = c === '\u200C' || c === '\u200D';
      return joiner && visible(chars[position - 1]) && visible(chars[position + 1]);
    })
    .join('');
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
        cell.append(element('bdi', {}, [withoutHiddenControls(value)]));
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
