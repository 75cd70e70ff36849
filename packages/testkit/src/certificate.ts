import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TestCertificate {
  cert: string;
  key: string;
  /** A PEM file to hand to `NODE_EXTRA_CA_CERTS`. */
  certPath: string;
}

let cached: TestCertificate | undefined;

/**
 * The throw-away certificate every local HTTPS fake serves, for `localhost` and 127.0.0.1. Made once per
 * test run (by the global setup, which puts its folder in `SWITCHYARD_TEST_CERT_DIR` and its path in
 * `NODE_EXTRA_CA_CERTS`, so test workers and spawned servers trust it); made on the spot otherwise.
 */
export async function testCertificate(): Promise<TestCertificate> {
  if (cached) return cached;
  let dir = process.env.SWITCHYARD_TEST_CERT_DIR;
  if (dir && existsSync(join(dir, 'cert.pem'))) {
    cached = {
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      certPath: join(dir, 'cert.pem'),
    };
    return cached;
  }
  dir ??= mkdtempSync(join(tmpdir(), 'switchyard-cert-'));
  mkdirSync(dir, { recursive: true });
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  writeFileSync(join(dir, 'cert.pem'), pems.cert);
  writeFileSync(join(dir, 'key.pem'), pems.private, { mode: 0o600 });
  cached = { cert: pems.cert, key: pems.private, certPath: join(dir, 'cert.pem') };
  return cached;
}

/** Vitest global setup: one certificate for the whole run, trusted by every worker and spawned server. */
export async function setupTestCertificate(): Promise<void> {
  if (!process.env.SWITCHYARD_TEST_CERT_DIR)
    process.env.SWITCHYARD_TEST_CERT_DIR = mkdtempSync(join(tmpdir(), 'switchyard-cert-'));
  const cert = await testCertificate();
  // The machine's own extra CAs (a TLS-inspecting proxy's, which the registry uplink and npm go through)
  // stay trusted beside ours: NODE_EXTRA_CA_CERTS names one file, so both go in one bundle.
  const machine = process.env.NODE_EXTRA_CA_CERTS;
  if (machine && machine !== cert.certPath && existsSync(machine)) {
    const bundle = join(process.env.SWITCHYARD_TEST_CERT_DIR, 'trusted.pem');
    writeFileSync(bundle, `${readFileSync(machine, 'utf8').trimEnd()}\n${cert.cert}`);
    process.env.NODE_EXTRA_CA_CERTS = bundle;
  } else {
    process.env.NODE_EXTRA_CA_CERTS = cert.certPath;
  }
}
