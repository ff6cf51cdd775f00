// Prints the RDF Dataset Canonicalization (URDNA2015) N-Quads that jsonld.js
// produces for a JSON-LD file, with its `proof` removed, using the local
// document loader. Usage: node canonize.mjs FILE
import {readFile} from 'node:fs/promises';

import jsonld from 'jsonld';

import {createDocumentLoader} from './loader.mjs';

const file = process.argv[2];
if(!file) {
  process.stderr.write('usage: node canonize.mjs FILE\n');
  process.exit(2);
}
const document = JSON.parse(await readFile(file, 'utf8'));
delete document.proof;
const nquads = await jsonld.canonize(document, {
  algorithm: 'URDNA2015',
  format: 'application/n-quads',
  documentLoader: createDocumentLoader(),
  safe: true
});
process.stdout.write(nquads);
