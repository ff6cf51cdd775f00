// JSON-LD document loader that reads only local data: the pinned contexts in
// ../credentials/contexts, did:key DIDs derived from the key itself, and the
// DID documents or controller documents given by the caller. Any other URL
// is rejected, so verification never touches the network.
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import * as didMethodKey from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import jsonld from 'jsonld';

export const CONTEXTS_DIRECTORY = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)), '..', 'credentials', 'contexts');

// Context URL to file name in CONTEXTS_DIRECTORY.
export const CONTEXT_FILES = new Map([
  ['https://www.w3.org/ns/credentials/v2', 'credentials-v2.jsonld'],
  ['https://www.w3.org/2018/credentials/v1', 'credentials-v1.jsonld'],
  ['https://www.w3.org/ns/credentials/examples/v2',
    'credentials-examples-v2.jsonld'],
  ['https://w3id.org/security/data-integrity/v2', 'data-integrity-v2.jsonld'],
  ['https://w3id.org/security/data-integrity/v1', 'data-integrity-v1.jsonld'],
  ['https://w3id.org/security/multikey/v1', 'multikey-v1.jsonld'],
  ['https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json',
    'ob-v3p0-context-3.0.1.json'],
  ['https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json',
    'ob-v3p0-context-3.0.2.json'],
  ['https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
    'ob-v3p0-context-3.0.3.json'],
  ['https://w3id.org/security/suites/ed25519-2020/v1',
    'ed25519-2020-v1.jsonld'],
]);

const DID_CONTEXT_V1_URL = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_CONTEXT_V1_URL = 'https://w3id.org/security/multikey/v1';

// Properties of a DID document or controller document whose entries may be
// embedded verification methods.
const VERIFICATION_METHOD_PROPERTIES = [
  'verificationMethod', 'assertionMethod', 'authentication',
  'capabilityInvocation', 'capabilityDelegation', 'keyAgreement',
];

// jsonld.js (9.x) falls back to an HTTP loader whenever a caller passes no
// `documentLoader`. Replace that default so such a call fails instead of
// fetching.
jsonld.documentLoader = async url => {
  throw new Error(
    `Cannot load "${url}": the caller passed no document loader, and this ` +
    'harness disables network access.');
};

const didKeyDriver = didMethodKey.driver();
didKeyDriver.use({
  multibaseMultikeyHeader: 'z6Mk',
  fromMultibase: Ed25519Multikey.from,
});

/**
 * Reads a JSON file of DID documents or controller documents.
 *
 * @param {string} file - Path to a JSON array of documents.
 * @returns {Promise<object[]>} The parsed documents.
 */
export async function readControllerDocuments(file) {
  const documents = JSON.parse(await readFile(file, 'utf8'));
  if(!Array.isArray(documents)) {
    throw new TypeError(
      `Controllers file "${file}" must contain a JSON array of documents.`);
  }
  return documents;
}

/**
 * Creates a document loader for jsonld.js and jsonld-signatures.
 *
 * @param {object} [options] - Options.
 * @param {object[]} [options.controllerDocuments] - DID documents or
 *   controller documents, each with an absolute `id`. A document without
 *   `@context` gets the DID v1 and Multikey v1 contexts.
 * @returns {Function} `async url => ({contextUrl, documentUrl, document})`;
 *   it throws an error naming the URL for any URL it cannot serve locally.
 */
export function createDocumentLoader({controllerDocuments = []} = {}) {
  const {documentsById, methodsById} = indexControllerDocuments(
    controllerDocuments);
  const contextCache = new Map();

  return async function documentLoader(url) {
    if(typeof url !== 'string') {
      throw new TypeError(
        `Cannot load a document for a non-string URL: ${JSON.stringify(url)}.`);
    }

    let document;
    if(CONTEXT_FILES.has(url)) {
      document = await loadContext(url, contextCache);
    } else if(documentsById.has(url)) {
      document = structuredClone(documentsById.get(url));
    } else if(methodsById.has(url)) {
      document = structuredClone(methodsById.get(url));
    } else if(url.startsWith('did:key:')) {
      document = await resolveDidKey(url);
    } else {
      throw new Error(
        `Document "${url}" is not available locally: it is neither a pinned ` +
        'context, a did:key DID, nor a document or verification method in ' +
        'the controllers file.');
    }
    return {contextUrl: null, documentUrl: url, document};
  };
}

async function loadContext(url, contextCache) {
  if(!contextCache.has(url)) {
    const file = path.join(CONTEXTS_DIRECTORY, CONTEXT_FILES.get(url));
    let text;
    try {
      text = await readFile(file, 'utf8');
    } catch(error) {
      throw new Error(
        `Pinned context file "${file}" for "${url}" could not be read: ` +
        error.message);
    }
    contextCache.set(url, JSON.parse(text));
  }
  // Callers get a copy so that no caller can change the cached context.
  return structuredClone(contextCache.get(url));
}

async function resolveDidKey(url) {
  // An Ed25519 did:key DID has one verification method, whose fragment is the
  // key itself. Check this here because did-method-key 5.x returns the key
  // agreement key for any other fragment, or fails with a TypeError.
  const [did, fragment] = url.split('#', 2);
  const multibaseKey = did.slice('did:key:'.length);
  if(fragment !== undefined && fragment !== multibaseKey) {
    throw new Error(
      `did:key URL "${url}" does not name a verification method of its DID: ` +
      `the only one is "${did}#${multibaseKey}".`);
  }
  try {
    return await didKeyDriver.get({url});
  } catch(error) {
    throw new Error(`did:key URL "${url}" could not be resolved: ` +
      error.message);
  }
}

function indexControllerDocuments(controllerDocuments) {
  const documentsById = new Map();
  const methodsById = new Map();
  for(const [index, original] of controllerDocuments.entries()) {
    const where = `controller document ${index}`;
    if(!isPlainObject(original)) {
      throw new TypeError(`The ${where} must be a JSON object.`);
    }
    assertAbsoluteUrl(original.id, `"id" of the ${where}`);
    if(documentsById.has(original.id)) {
      throw new Error(`Controller document "${original.id}" is listed twice.`);
    }

    const document = structuredClone(original);
    if(document['@context'] === undefined) {
      // NOTE: jsonld-signatures 11.x reads verification relationships such as
      // `assertionMethod` as plain JSON only when the first context is the
      // DID v1 URL. Otherwise it frames the document as JSON-LD, which needs
      // contexts that are not pinned here, so verification fails with an
      // error naming the first one. This loader never serves the DID v1
      // context itself, and verification does not request it.
      document['@context'] = [DID_CONTEXT_V1_URL, MULTIKEY_CONTEXT_V1_URL];
    }
    documentsById.set(document.id, document);

    for(const property of VERIFICATION_METHOD_PROPERTIES) {
      const entries = document[property] === undefined ?
        [] : [].concat(document[property]);
      for(const method of entries) {
        // Plain strings are references to methods listed elsewhere.
        if(typeof method === 'string') {
          continue;
        }
        if(!isPlainObject(method)) {
          throw new TypeError(
            `Each "${property}" entry of "${document.id}" must be a string ` +
            'or an object.');
        }
        assertAbsoluteUrl(method.id, `"id" of a "${property}" entry of ` +
          `"${document.id}"`);
        methodsById.set(method.id, method);
      }
    }
  }
  return {documentsById, methodsById};
}

function assertAbsoluteUrl(value, description) {
  if(typeof value !== 'string' || !URL.canParse(value)) {
    throw new TypeError(
      `The ${description} must be an absolute URL, not ` +
      `${JSON.stringify(value)}.`);
  }
}

function isPlainObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
