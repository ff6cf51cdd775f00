// Verification and command-line helpers shared by verify.mjs and bench.mjs.
import {readFile} from 'node:fs/promises';
import {parseArgs} from 'node:util';

import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {
  cryptosuite as eddsaRdfc2022CryptoSuite,
} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {verifyCredential} from '@digitalbazaar/vc';

import {createDocumentLoader, readControllerDocuments} from './loader.mjs';

/** Error for an unreadable or invalid input file or option value. */
export class InputError extends Error {}

/** Error for bad command-line arguments, reported together with the usage. */
export class UsageError extends InputError {}

/**
 * Creates the suites that verify DataIntegrityProof with eddsa-rdfc-2022
 * and Ed25519Signature2020 proofs.
 *
 * @returns {object[]} Suites for `verifyCredential`.
 */
export function createVerificationSuites() {
  return [
    new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite}),
    new Ed25519Signature2020(),
  ];
}

/**
 * Verifies a credential's proof with @digitalbazaar/vc.
 *
 * Status checking is out of scope: a `credentialStatus` entry is accepted
 * without being checked, because @digitalbazaar/vc rejects a credential that
 * has one unless a `checkStatus` function is given.
 *
 * @param {object} options - Options.
 * @param {object} options.credential - The verifiable credential.
 * @param {Function} options.documentLoader - From `createDocumentLoader`.
 * @param {object[]} [options.suites] - From `createVerificationSuites`.
 * @param {Date} [options.now] - Time for the validity checks (default: now).
 * @returns {Promise<{verified: boolean, errors: string[]}>} The outcome with
 *   every distinct error message that the library reported.
 */
export async function verifyWithLibrary({
  credential, documentLoader, suites = createVerificationSuites(), now,
}) {
  const result = await verifyCredential({
    credential,
    suite: suites,
    documentLoader,
    checkStatus: skipStatusCheck,
    now,
  });
  const messages = new Set();
  collectErrorMessages(result.error, messages);
  for(const proofResult of result.results ?? []) {
    collectErrorMessages(proofResult.error, messages);
    collectErrorMessages(proofResult.purposeResult?.error, messages);
  }
  if(!result.verified && messages.size === 0) {
    messages.add('Verification failed without an error message.');
  }
  return {verified: result.verified === true, errors: [...messages]};
}

async function skipStatusCheck() {
  return {verified: true};
}

// jsonld-signatures wraps per-proof errors in a VerificationError whose
// `errors` array contains the causes, so walk it to reach the messages.
// jsonld.js keeps a document loader's own error in `details.cause`.
function collectErrorMessages(error, messages) {
  if(!error) {
    return;
  }
  if(Array.isArray(error.errors) && error.errors.length > 0) {
    for(const inner of error.errors) {
      collectErrorMessages(inner, messages);
    }
    return;
  }
  let message = error.message || String(error);
  const cause = error.details?.cause?.message;
  if(cause) {
    message += ` Cause: ${cause}`;
  }
  messages.add(message);
}

/**
 * Reads and parses a JSON file.
 *
 * @param {string} file - The file path.
 * @param {string} role - What the file is, for error messages.
 * @returns {Promise<any>} The parsed value.
 * @throws {InputError} If the file cannot be read or is not JSON.
 */
export async function readJsonFile(file, role) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch(error) {
    throw new InputError(`Cannot read ${role} file "${file}": ${error.message}`);
  }
  try {
    return JSON.parse(text);
  } catch(error) {
    throw new InputError(
      `The ${role} file "${file}" is not valid JSON: ${error.message}`);
  }
}

/**
 * Builds the document loader from an optional controllers file.
 *
 * @param {string} [controllersFile] - Path to a JSON array of DID documents
 *   or controller documents.
 * @returns {Promise<Function>} The document loader.
 * @throws {InputError} If the file is unreadable or its documents invalid.
 */
export async function loadDocumentLoader(controllersFile) {
  if(controllersFile === undefined) {
    return createDocumentLoader();
  }
  try {
    const controllerDocuments = await readControllerDocuments(controllersFile);
    return createDocumentLoader({controllerDocuments});
  } catch(error) {
    throw new InputError(
      `Invalid controllers file "${controllersFile}": ${error.message}`);
  }
}

/**
 * Parses a `--now` value.
 *
 * @param {string} [value] - An ISO 8601 date-time, or undefined for now.
 * @returns {Date|undefined} The date, or undefined for the current time.
 * @throws {UsageError} If the value is not a date-time.
 */
export function parseNow(value) {
  if(value === undefined) {
    return undefined;
  }
  const date = new Date(value);
  if(Number.isNaN(date.getTime())) {
    throw new UsageError(
      `Invalid --now value "${value}": expected an ISO 8601 date-time ` +
      'such as 2025-01-01T00:00:00Z.');
  }
  return date;
}

/**
 * Parses command-line options, printing `usage` and exiting for --help.
 *
 * @param {string[]} args - Arguments after the script name.
 * @param {object} options - `parseArgs` option definitions. A required
 *   option also has `required: true`.
 * @param {string} usage - Help text.
 * @returns {object} The option values.
 * @throws {UsageError} On an unknown option, a missing value or a missing
 *   required option.
 */
export function parseCommandLine(args, options, usage) {
  const definitions = {help: {type: 'boolean', short: 'h'}};
  for(const [name, {required, ...definition}] of Object.entries(options)) {
    definitions[name] = definition;
  }
  let values;
  try {
    ({values} = parseArgs({args, options: definitions}));
  } catch(error) {
    throw new UsageError(error.message);
  }
  if(values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  for(const [name, {required}] of Object.entries(options)) {
    if(required && values[name] === undefined) {
      throw new UsageError(`Missing required option --${name}.`);
    }
  }
  return values;
}
