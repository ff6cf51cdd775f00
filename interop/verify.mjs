// Verifies one credential with Digital Bazaar's @digitalbazaar/vc and prints
// {"verified": bool, "errors": [string]} as one JSON line on stdout.
// Exit code: 0 verified, 1 not verified, 2 usage or input error.
import {
  InputError, loadDocumentLoader, parseCommandLine, parseNow, readJsonFile,
  UsageError, verifyWithLibrary,
} from './verification.mjs';

const USAGE = `Usage: node verify.mjs --credential FILE [--controllers FILE] [--now DATE]

  --credential FILE   verifiable credential (JSON) whose proof is verified
  --controllers FILE  JSON array of DID documents or controller documents
                      that resolve verification methods other than did:key
  --now DATE          ISO 8601 date-time used for the validity-period checks
                      instead of the current time
`;

async function main() {
  const options = parseCommandLine(process.argv.slice(2), {
    credential: {type: 'string', required: true},
    controllers: {type: 'string'},
    now: {type: 'string'},
  }, USAGE);
  const now = parseNow(options.now);
  const credential = await readJsonFile(options.credential, 'credential');
  const documentLoader = await loadDocumentLoader(options.controllers);

  if(credential?.credentialStatus !== undefined) {
    console.error('verify.mjs: note: "credentialStatus" is present but ' +
      'status is not checked.');
  }
  const result = await verifyWithLibrary({credential, documentLoader, now});
  printResult(result);
  return result.verified ? 0 : 1;
}

function printResult({verified, errors}) {
  process.stdout.write(JSON.stringify({verified, errors}) + '\n');
}

try {
  process.exitCode = await main();
} catch(error) {
  if(error instanceof InputError) {
    const usage = error instanceof UsageError ? `\n\n${USAGE}` : '';
    console.error(`verify.mjs: ${error.message}${usage}`);
    printResult({verified: false, errors: [error.message]});
  } else {
    // The library reports a bad credential in its result instead of
    // throwing, so an exception here is a bug in this harness.
    console.error(error);
    printResult({verified: false, errors: [`Harness error: ${error.message}`]});
  }
  process.exitCode = 2;
}
