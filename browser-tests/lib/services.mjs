// Starts the issuer, the verifier and the wallet from the binaries that
// `cargo build -p issuer -p verifier -p wallet-web` wrote, on a fresh data
// folder with the academy's catalogue and demo members loaded.

import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Loopback addresses of the three services: ports BASE, BASE+1 and BASE+2,
// where BASE is BROWSER_TESTS_PORT (default 28080). Ports 8080-8082 and
// 18080-18082 are left to other services on the same machine.
const BASE_PORT = Number.parseInt(process.env.BROWSER_TESTS_PORT ?? '28080', 10);
if (!Number.isInteger(BASE_PORT) || BASE_PORT < 1024 || BASE_PORT > 65533) {
  throw new Error(`BROWSER_TESTS_PORT must be a port number from 1024 to 65533, got ${process.env.BROWSER_TESTS_PORT}`);
}
export const ADDRESSES = {
  issuer: `127.0.0.1:${BASE_PORT}`,
  verifier: `127.0.0.1:${BASE_PORT + 1}`,
  wallet: `127.0.0.1:${BASE_PORT + 2}`,
};

export const URLS = {
  issuer: `http://${ADDRESSES.issuer}`,
  verifier: `http://${ADDRESSES.verifier}`,
  wallet: `http://${ADDRESSES.wallet}`,
};

// Settings of the services that would otherwise come from the caller's
// environment and could point them at another database, key or address.
const PROJECT_VARIABLES = [
  'DATA_DIR',
  'DATABASE_URL',
  'ISSUER_ADDR',
  'ISSUER_DID',
  'ISSUER_MASTER_KEY',
  'ISSUER_PLATFORM_TOKEN',
  'ISSUER_PUBLIC_URL',
  'ISSUER_STAFF_TOKEN',
  'TRUSTED_ISSUERS',
  'VERIFIER_ADDR',
  'VERIFIER_PUBLIC_URL',
  'WALLET_ADDR',
  'WALLET_SECURE_COOKIES',
  'QR_MAX_VERSION',
];

const HEALTH_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

// Returns the folder of the debug binaries: `$CARGO_TARGET_DIR/debug`,
// or `target/debug` in the repository. A relative `CARGO_TARGET_DIR` is
// taken from the repository root, where `scripts/test.sh` runs cargo.
function binaryFolder(root) {
  const target = process.env.CARGO_TARGET_DIR || 'target';
  return join(isAbsolute(target) ? target : resolve(root, target), 'debug');
}

// The three services and the data folder they share.
export class Services {
  /** `settings` are environment variables added for every service. */
  constructor(root, settings = {}) {
    this.root = root;
    this.settings = settings;
    this.binaries = binaryFolder(root);
    this.platformToken = randomBytes(16).toString('hex');
    this.staffToken = randomBytes(16).toString('hex');
    this.children = [];
    this.dataDir = null;
  }

  // Returns the path of the sign-in code file the wallet's development
  // sender appends to.
  get outbox() {
    return join(this.dataDir, 'outbox', 'messages.log');
  }

  environment() {
    const env = { ...process.env };
    for (const name of PROJECT_VARIABLES) delete env[name];
    return {
      ...env,
      RUST_LOG: process.env.RUST_LOG || 'info,sqlx=warn',
      NO_COLOR: '1',
      DATA_DIR: this.dataDir,
      ISSUER_ADDR: ADDRESSES.issuer,
      VERIFIER_ADDR: ADDRESSES.verifier,
      WALLET_ADDR: ADDRESSES.wallet,
      ISSUER_PUBLIC_URL: URLS.issuer,
      VERIFIER_PUBLIC_URL: URLS.verifier,
      TRUSTED_ISSUERS: join(this.dataDir, 'trusted-issuers.json'),
      ISSUER_PLATFORM_TOKEN: this.platformToken,
      ISSUER_STAFF_TOKEN: this.staffToken,
      ...this.settings,
    };
  }

  // Creates the data folder, loads the catalogue and the demo members,
  // writes the trusted issuer file and starts the three services.
  async start() {
    for (const name of ['issuer', 'verifier', 'wallet-web']) {
      const path = join(this.binaries, name);
      await access(path).catch(() => {
        throw new Error(
          `binary not found: ${path}. Run cargo build -p issuer -p verifier -p wallet-web first.`,
        );
      });
    }
    for (const [name, url] of Object.entries(URLS)) {
      if (await isHealthy(url)) {
        throw new Error(`port of the ${name} is already in use: ${url}/health responds. Stop that server first.`);
      }
    }

    this.dataDir = await mkdtemp(join(tmpdir(), 'taawounya-browser-tests-'));
    await mkdir(join(this.dataDir, 'logs'));
    const env = this.environment();
    const issuer = join(this.binaries, 'issuer');
    const options = { cwd: this.root, env };
    await run(issuer, ['load-catalogue', 'catalogue/catalogue.json'], options);
    await run(issuer, ['load-demo', 'catalogue/demo.json'], options);
    await run(issuer, ['export-trust', env.TRUSTED_ISSUERS], options);

    this.spawn('issuer', issuer, ['serve'], env);
    this.spawn('verifier', join(this.binaries, 'verifier'), [], env);
    this.spawn('wallet', join(this.binaries, 'wallet-web'), [], env);
    for (const [name, url] of Object.entries(URLS)) {
      await this.waitForHealth(name, url);
    }
  }

  // Loads the cooperatives and members of another demo file, as
  // `issuer load-demo` does, while the services run.
  async loadDemo(path) {
    await run(join(this.binaries, 'issuer'), ['load-demo', path], { cwd: this.root, env: this.environment() });
  }

  spawn(name, binary, args, env) {
    const log = createWriteStream(join(this.dataDir, 'logs', `${name}.log`));
    const child = spawn(binary, args, { cwd: this.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    child.exited = new Promise((resolveExit) => child.once('exit', resolveExit));
    this.children.push({ name, child });
  }

  async waitForHealth(name, url) {
    const { child } = this.children.find((entry) => entry.name === name);
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the ${name} exited before responding to /health:\n${await this.logTail(name)}`);
      }
      if (await isHealthy(url)) return;
      await new Promise((wake) => setTimeout(wake, 200));
    }
    throw new Error(
      `the ${name} did not respond to ${url}/health within ${HEALTH_TIMEOUT_MS} ms:\n${await this.logTail(name)}`,
    );
  }

  // Returns the last lines the service `name` logged.
  async logTail(name, lines = 20) {
    const text = await readFile(join(this.dataDir, 'logs', `${name}.log`), 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  }

  // Stops every started service, with SIGKILL for any that ignores
  // SIGTERM for 5 seconds, then deletes the data folder unless `keep`.
  async stop({ keep = false } = {}) {
    await Promise.all(
      this.children.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await child.exited;
        clearTimeout(timer);
      }),
    );
    this.children = [];
    if (this.dataDir && !keep) await rm(this.dataDir, { recursive: true, force: true });
  }

  // Kills the services at once, for a process that is exiting and
  // cannot wait.
  killNow() {
    for (const { child } of this.children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  // Reports a completed module as the learning platform does and returns
  // the issuer's response: the module credential and any path credentials.
  async reportCompletion(memberId, moduleId, completedOn) {
    const response = await fetch(`${URLS.issuer}/completions`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${this.platformToken}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ member_id: memberId, module_id: moduleId, completed_on: completedOn, score: 85 }),
    });
    const body = await response.text();
    if (!response.ok) {
      throw new Error(`POST /completions for ${memberId} ${moduleId} failed with ${response.status}: ${body}`);
    }
    return JSON.parse(body);
  }

  // Sets the status of a credential through the VC API as staff do:
  // `revoked`, `suspended` or `active`.
  async setStatus(credentialId, status, reason) {
    const response = await fetch(`${URLS.issuer}/credentials/status`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.staffToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        credentialId,
        credentialStatus: [{ type: 'BitstringStatusListEntry', status }],
        reason,
      }),
    });
    if (!response.ok) {
      throw new Error(`POST /credentials/status ${status} failed with ${response.status}: ${await response.text()}`);
    }
  }

  // Reads the sign-in code of the last message sent to `to`, waiting up
  // to 5 seconds for a message newer than the first `skipLines` lines.
  async signInCode(to, skipLines) {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const lines = await this.outboxLines();
      const message = lines
        .slice(skipLines)
        .filter((line) => line.to === to)
        .at(-1);
      if (message) return message.code;
      await new Promise((wake) => setTimeout(wake, 100));
    }
    throw new Error(`no sign-in code for ${to} appeared in ${this.outbox}`);
  }

  // Returns the messages in the outbox file, one parsed JSON line each.
  async outboxLines() {
    const text = await readFile(this.outbox, 'utf8').catch((error) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line));
  }
}

async function isHealthy(url) {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
    return response.ok;
  } catch {
    return false;
  }
}
