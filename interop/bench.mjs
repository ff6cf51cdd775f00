// Measures @digitalbazaar/vc verification of one credential and
// eddsa-rdfc-2022 signing of the same claims in this process, and prints
// {"verify_per_second", "verify_ms_mean", "sign_per_second", "sign_ms_mean"}
// as one JSON line on stdout.
// Exit code: 0 done, 1 the credential or the signed copy did not verify,
// 2 usage or input error.
import {performance} from 'node:perf_hooks';

import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {
  cryptosuite as eddsaRdfc2022CryptoSuite,
} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {issue} from '@digitalbazaar/vc';

import {createDocumentLoader} from './loader.mjs';
import {
  createVerificationSuites, InputError, loadDocumentLoader, parseCommandLine,
  parseNow, readJsonFile, UsageError, verifyWithLibrary,
} from './verification.mjs';

const USAGE = `Usage: node bench.mjs --credential FILE [--controllers FILE] [--seconds N] [--now DATE]

  --credential FILE   verifiable credential (JSON) to verify and re-sign
  --controllers FILE  JSON array of DID documents or controller documents
                      that resolve verification methods other than did:key
  --seconds N         measured duration of each of the two loops, in seconds
                      (default 3); each loop also has a warm-up
  --now DATE          ISO 8601 date-time used for the validity-period checks
                      instead of the current time
`;

const DEFAULT_SECONDS = 3;
// A warm-up runs before each measured loop, so V8 has optimized the hot
// paths and jsonld.js has filled its resolved-context cache.
const WARM_UP_SECONDS = 0.5;
const WARM_UP_MIN_ITERATIONS = 5;

class VerificationFailure extends Error {
  constructor(message, errors) {
    super(message);
    this.errors = errors;
  }
}

async function main() {
  const options = parseCommandLine(process.argv.slice(2), {
    credential: {type: 'string', required: true},
    controllers: {type: 'string'},
    seconds: {type: 'string'},
    now: {type: 'string'},
  }, USAGE);
  const seconds = parseSeconds(options.seconds);
  const now = parseNow(options.now);
  const credential = await readJsonFile(options.credential, 'credential');
  const documentLoader = await loadDocumentLoader(options.controllers);

  const verify = await measureVerification({
    credential, documentLoader, now, seconds,
  });
  const sign = await measureSigning({credential, now, seconds});

  process.stdout.write(JSON.stringify({
    verify_per_second: round(verify.perSecond),
    verify_ms_mean: round(verify.msMean),
    sign_per_second: round(sign.perSecond),
    sign_ms_mean: round(sign.msMean),
  }) + '\n');
  return 0;
}

function parseSeconds(value) {
  if(value === undefined) {
    return DEFAULT_SECONDS;
  }
  const seconds = Number(value);
  if(!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(
      `Invalid --seconds value "${value}": expected a positive number.`);
  }
  return seconds;
}

async function measureVerification({credential, documentLoader, now, seconds}) {
  // The suites are reused across iterations, as a long-running verifier would.
  const suites = createVerificationSuites();
  const verifyOnce = async () => {
    const result = await verifyWithLibrary({
      credential, documentLoader, suites, now,
    });
    if(!result.verified) {
      throw new VerificationFailure(
        'The credential did not verify, so verification was not measured.',
        result.errors);
    }
  };
  return measure(verifyOnce, seconds);
}

async function measureSigning({credential, now, seconds}) {
  const key = await generateDidKey();
  const unsigned = structuredClone(credential);
  delete unsigned.proof;
  if(typeof unsigned.issuer === 'object' && unsigned.issuer !== null) {
    unsigned.issuer.id = key.controller;
  } else {
    unsigned.issuer = key.controller;
  }

  // did:key resolution needs no controllers file.
  const documentLoader = createDocumentLoader();
  const suite = new DataIntegrityProof({
    signer: key.signer(), cryptosuite: eddsaRdfc2022CryptoSuite,
  });
  const signOnce = async () => issue({
    // vc.issue adds `proof` to the object it is given, so each call signs a
    // fresh copy. Copying the Open Badges example took about 7 µs here,
    // against milliseconds for signing.
    credential: structuredClone(unsigned),
    suite,
    documentLoader,
    now,
  });

  // Check once that the output verifies before measuring.
  const signed = await signOnce();
  const result = await verifyWithLibrary({credential: signed, documentLoader, now});
  if(!result.verified) {
    throw new VerificationFailure(
      'The credential signed with a fresh did:key did not verify, so signing ' +
      'was not measured.', result.errors);
  }
  return measure(signOnce, seconds);
}

async function generateDidKey() {
  const generated = await Ed25519Multikey.generate();
  const {publicKeyMultibase} = generated;
  const controller = `did:key:${publicKeyMultibase}`;
  const exported = await generated.export({
    publicKey: true, secretKey: true, includeContext: true,
  });
  return Ed25519Multikey.from({
    ...exported, id: `${controller}#${publicKeyMultibase}`, controller,
  });
}

/**
 * Runs `operation` sequentially: a warm-up, then for `seconds`.
 *
 * @param {Function} operation - Async function to measure.
 * @param {number} seconds - Measured duration.
 * @returns {Promise<{perSecond: number, msMean: number}>} Throughput and
 *   mean wall-clock time per call over the measured loop.
 */
async function measure(operation, seconds) {
  const warmUpEnd = performance.now() + WARM_UP_SECONDS * 1000;
  for(let i = 0; i < WARM_UP_MIN_ITERATIONS || performance.now() < warmUpEnd;
    i++) {
    await operation();
  }

  // The last call may end after `seconds`; elapsedMs includes all of it, so
  // the mean is exact over the calls counted.
  const start = performance.now();
  let count = 0;
  let elapsedMs = 0;
  while(elapsedMs < seconds * 1000) {
    await operation();
    count++;
    elapsedMs = performance.now() - start;
  }
  return {perSecond: count / (elapsedMs / 1000), msMean: elapsedMs / count};
}

function round(value) {
  return Math.round(value * 1000) / 1000;
}

try {
  process.exitCode = await main();
} catch(error) {
  if(error instanceof VerificationFailure) {
    console.error(`bench.mjs: ${error.message}\n` +
      error.errors.map(message => `  ${message}`).join('\n'));
    process.exitCode = 1;
  } else if(error instanceof InputError) {
    const usage = error instanceof UsageError ? `\n\n${USAGE}` : '';
    console.error(`bench.mjs: ${error.message}${usage}`);
    process.exitCode = 2;
  } else {
    console.error(error);
    process.exitCode = 2;
  }
}
