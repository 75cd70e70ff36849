import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KEYCHAIN_VALUE_LIMIT,
  SecretKeyError,
  SecretStore,
  errorText,
  openKeychain,
  resetKeychainProbe,
  type AuthError,
  type KeychainProbe,
} from '@switchyard/core';
import { keychainStatus, runCommand, tempDir } from '@switchyard/testkit';

const writer = fileURLToPath(new URL('./fixtures/secret-writer.mjs', import.meta.url));
const noKeychain: Promise<KeychainProbe> = Promise.resolve({
  keychain: undefined,
  reason: 'disabled for this test',
});

function secretFiles(configDir: string): string[] {
  const root = join(configDir, 'secrets');
  return readdirSync(root).flatMap((d) => readdirSync(join(root, d)).map((f) => join(root, d, f)));
}

async function concurrentWriters(configDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const runs = await Promise.all(
    ['a', 'b'].map((who) =>
      runCommand(process.execPath, [writer, configDir, who, '15'], { env: env as Record<string, string> }),
    ),
  );
  for (const run of runs) expect(run.stderr.replace(/.*no OS keychain answered.*\n?/g, '')).toBe('');
  for (const run of runs) expect(run.stdout).toBe('done\n');
}

async function expectAllWritten(store: SecretStore): Promise<void> {
  const accounts = await store.list('concurrency');
  expect(accounts).toHaveLength(15 * 4 + 1);
  for (const who of ['a', 'b']) {
    for (let i = 0; i < 15; i++) {
      expect(await store.get('concurrency', `${who}-${i}`)).toBe(`${who}-value-${i}`);
      expect(await store.get('concurrency', `${who}-big-${i}`)).toBe(`${'x'.repeat(5000)}-${who}-${i}`);
    }
  }
  expect(['a-14', 'b-14']).toContain(await store.get('concurrency', 'shared'));
}

describe('SecretStore without a keychain (encrypted files, key in a 0600 key file)', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const logs: string[] = [];
  const log = {
    warn: (m: string) => logs.push(m),
    error() {},
    info() {},
    debug() {},
    level: 'debug',
    child() {
      return log;
    },
    enabled: () => true,
  } as never;
  const store = new SecretStore({ configDir: dir.path, keychain: noKeychain, log });

  it('round-trips values of any size, lists and deletes them', async () => {
    await store.set('svc', 'small', 's3cret-value');
    const large = 'L'.repeat(200_000) + '✓';
    await store.set('svc', 'large', large);
    expect(await store.get('svc', 'small')).toBe('s3cret-value');
    expect(await store.get('svc', 'large')).toBe(large);
    expect(await store.get('svc', 'missing')).toBeUndefined();
    expect(await store.get('other-svc', 'small')).toBeUndefined();
    expect(await store.list('svc')).toEqual(['large', 'small']);
    expect(await store.delete('svc', 'small')).toBe(true);
    expect(await store.delete('svc', 'small')).toBe(false);
    expect(await store.list('svc')).toEqual(['large']);
  });

  it('keeps the key in a 0600 file, never writes a value in the clear, and warns once', async () => {
    await store.set('svc', 'again', 'plain-text-must-not-appear');
    await store.set('svc', 'again2', 'plain-text-must-not-appear');
    expect(statSync(join(dir.path, 'secret.key')).mode & 0o777).toBe(0o600);
    for (const file of secretFiles(dir.path)) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readdirSync(join(file, '..')).some((f) => f.endsWith('.tmp'))).toBe(false);
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(file, 'utf8')).not.toContain('plain-text-must-not-appear');
    }
    expect(logs.filter((l) => l.includes('no OS keychain answered'))).toHaveLength(1);
    expect(logs[0]).toContain('secret.key');
  });

  it('prefers an env variable when resolving, and says where a value came from', async () => {
    const withEnv = new SecretStore({
      configDir: dir.path,
      keychain: noKeychain,
      env: { MY_SECRET: 'from-env-123' },
    });
    expect(await withEnv.resolve('svc', 'again', 'MY_SECRET')).toEqual({
      value: 'from-env-123',
      source: 'env',
    });
    expect(await withEnv.resolve('svc', 'again', 'UNSET')).toEqual({
      value: 'plain-text-must-not-appear',
      source: 'file',
    });
    expect(await withEnv.resolve('svc', 'nothing', 'UNSET')).toBeUndefined();
  });

  it('answers a damaged entry with a clear error and loses no other entry', async () => {
    await store.set('svc', 'victim', 'will-be-damaged');
    await store.set('svc', 'bystander', 'still-fine');
    const before = new Set(secretFiles(dir.path));
    await store.set('svc', 'probe', 'x');
    const probeFile = secretFiles(dir.path).find((f) => !before.has(f))!;
    await store.delete('svc', 'probe');
    // Damage the victim's file: find it as the file that changes when the victim is rewritten.
    const snapshot = new Map(secretFiles(dir.path).map((f) => [f, statSync(f).mtimeMs]));
    await new Promise((r) => setTimeout(r, 20));
    await store.set('svc', 'victim', 'will-be-damaged');
    const victimFile = secretFiles(dir.path).find((f) => statSync(f).mtimeMs !== snapshot.get(f))!;
    expect(victimFile).toBeDefined();
    expect(probeFile).toBeDefined();
    writeFileSync(victimFile, '{"v":1,"garbage');
    await expect(store.get('svc', 'victim')).rejects.toThrow(
      /The stored secret 'victim' of svc cannot be read: its file .* is damaged/,
    );
    expect(await store.get('svc', 'bystander')).toBe('still-fine');
    expect(await store.list('svc')).toContain('bystander');
    await store.set('svc', 'victim', 'repaired');
    expect(await store.get('svc', 'victim')).toBe('repaired');
  });

  it('does not read entries with another key', async () => {
    await store.set('svc', 'keyed', 'value-under-key-1');
    writeFileSync(join(dir.path, 'secret.key'), Buffer.alloc(32, 7).toString('base64'));
    chmodSync(join(dir.path, 'secret.key'), 0o600);
    const other = new SecretStore({ configDir: dir.path, keychain: noKeychain });
    await expect(other.get('svc', 'keyed')).rejects.toThrow(/damaged or was encrypted with another key/);
  });

  it('stays consistent when two processes write at once', async () => {
    const shared = tempDir();
    try {
      await concurrentWriters(shared.path, { ...process.env, SWITCHYARD_KEYCHAIN: 'off' });
      await expectAllWritten(new SecretStore({ configDir: shared.path, keychain: noKeychain }));
      expect(readdirSync(shared.path).filter((f) => f.endsWith('.lock'))).toEqual([]);
    } finally {
      shared.cleanup();
    }
  });
});

describe('SecretStore whose key file is lost or damaged', () => {
  const setup = async () => {
    const dir = tempDir();
    const store = new SecretStore({ configDir: dir.path, keychain: noKeychain });
    await store.set('switchyard/odoo/default', 'api_key', 'odoo-key-value-123');
    await store.set('switchyard/odoo/default', 'connection', '{"url":"https://acme.test"}');
    await store.set('switchyard/powerbi/work', 'msal-token-cache', 'T'.repeat(5000));
    const keyFile = join(dir.path, 'secret.key');
    const snapshot = () => new Map(secretFiles(dir.path).map((f) => [f, readFileSync(f, 'utf8')]));
    return {
      dir,
      keyFile,
      before: snapshot(),
      snapshot,
      fresh: () => new SecretStore({ configDir: dir.path, keychain: noKeychain }),
    };
  };
  const lostMessage = (why: string) =>
    `3 stored secrets can no longer be read because the key file ${why}: switchyard/odoo/default (api_key, connection); switchyard/powerbi/work (msal-token-cache). Run \`odoo-mcp logout\` and \`powerbi-mcp logout --profile work\`, then \`odoo-mcp login\` and \`powerbi-mcp login --profile work\`, to store them again under a new key (nothing was changed).`;

  it('says which secrets a deleted key file lost and how to replace them, and makes no new key', async () => {
    const { dir, keyFile, before, snapshot, fresh } = await setup();
    try {
      rmSync(keyFile);
      const store = fresh();
      const read = await store.get('switchyard/odoo/default', 'connection').catch((e: unknown) => e);
      expect(read).toBeInstanceOf(SecretKeyError);
      expect(errorText(read as AuthError)).toBe(lostMessage(`${keyFile} that encrypts them is missing`));
      expect(errorText(read as AuthError)).not.toMatch(/odoo-key-value|TTTT|acme\.test/);
      // A write needs a key too, and none is made while the entries exist.
      await expect(store.set('switchyard/odoo/default', 'api_key', 'new-value-456')).rejects.toThrow(
        /can no longer be read because the key file .* is missing/,
      );
      await expect(store.checkKey()).rejects.toBeInstanceOf(SecretKeyError);
      expect(existsSync(keyFile)).toBe(false);
      expect(snapshot()).toEqual(before);
      // A secret that was never stored is still simply absent.
      expect(await store.get('switchyard/ms365/default', 'settings')).toBeUndefined();
    } finally {
      dir.cleanup();
    }
  });

  it('reports a damaged key file as damaged, not as a RangeError, and overwrites nothing', async () => {
    for (const garbage of ['c2hvcnQ=', 'not base64 at all!!', '', Buffer.alloc(48, 1).toString('base64')]) {
      const { dir, keyFile, before, snapshot, fresh } = await setup();
      try {
        writeFileSync(keyFile, garbage, { mode: 0o600 });
        const store = fresh();
        const read = await store.get('switchyard/odoo/default', 'api_key').catch((e: unknown) => e);
        expect(read).toBeInstanceOf(SecretKeyError);
        expect(errorText(read as AuthError)).toBe(
          lostMessage(`${keyFile} that encrypts them is damaged (not a 32-byte key)`),
        );
        await expect(store.set('switchyard/odoo/default', 'api_key', 'x')).rejects.toBeInstanceOf(
          SecretKeyError,
        );
        expect(readFileSync(keyFile, 'utf8')).toBe(garbage);
        expect(snapshot()).toEqual(before);
      } finally {
        dir.cleanup();
      }
    }
  });

  it('lets logout remove the unreadable entries without the key, then stores anew under a new key', async () => {
    const { dir, keyFile, fresh } = await setup();
    try {
      writeFileSync(keyFile, 'garbage', { mode: 0o600 });
      const store = fresh();
      // An orphaned file of the service goes too.
      const odooDir = join(
        secretFiles(dir.path).find((f) => readFileSync(f, 'utf8').includes('"api_key"'))!,
        '..',
      );
      writeFileSync(join(odooDir, 'leftover.json'), '{"v":1,"garb');
      expect(await store.clear('switchyard/odoo/default')).toEqual(['api_key', 'connection']);
      expect(existsSync(odooDir)).toBe(false);
      expect(await store.clear('switchyard/odoo/default')).toEqual([]);
      // The other service's entry still blocks a new key, and the message now names only it.
      const err = await store
        .set('switchyard/odoo/default', 'api_key', 'new-value-456')
        .catch((e: unknown) => e);
      expect(errorText(err as AuthError)).toMatch(
        /^1 stored secret can no longer be read because .*: switchyard\/powerbi\/work \(msal-token-cache\)\. Run `powerbi-mcp logout --profile work`, then `powerbi-mcp login --profile work`, to store them again/,
      );
      expect(await store.delete('switchyard/powerbi/work', 'msal-token-cache')).toBe(true);
      await store.checkKey();
      await store.set('switchyard/odoo/default', 'api_key', 'new-value-456');
      expect(await fresh().get('switchyard/odoo/default', 'api_key')).toBe('new-value-456');
      expect(readFileSync(keyFile, 'utf8')).not.toBe('garbage');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      // The damaged key file was kept aside, not overwritten.
      const aside = readdirSync(dir.path).filter((f) => f.startsWith('secret.key.damaged-'));
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(dir.path, aside[0]!), 'utf8')).toBe('garbage');
    } finally {
      dir.cleanup();
    }
  });

  it('makes a new key silently when the key file is missing and nothing was encrypted with it', async () => {
    const dir = tempDir();
    try {
      const store = new SecretStore({ configDir: dir.path, keychain: noKeychain });
      await store.checkKey();
      expect(await store.get('svc', 'a')).toBeUndefined();
      expect(existsSync(join(dir.path, 'secret.key'))).toBe(false);
      await store.set('svc', 'a', 'first-value');
      expect(statSync(join(dir.path, 'secret.key')).mode & 0o777).toBe(0o600);
      // Its entries removed, a lost key is replaced silently too.
      rmSync(join(dir.path, 'secret.key'));
      expect(await store.clear('svc')).toEqual(['a']);
      const again = new SecretStore({ configDir: dir.path, keychain: noKeychain });
      await again.set('svc', 'b', 'second-value');
      expect(await again.get('svc', 'b')).toBe('second-value');
    } finally {
      dir.cleanup();
    }
  });
});

describe('SecretStore with a keychain that refuses', () => {
  it('says how to unlock it or do without it', async () => {
    const dismissed = async () => {
      throw new Error("Couldn't access platform storage: Secret Service: unlock prompt was dismissed");
    };
    const locked: Promise<KeychainProbe> = Promise.resolve({
      keychain: {
        getPassword: dismissed,
        setPassword: dismissed,
        deletePassword: dismissed,
        findCredentials: dismissed,
      },
    });
    const dir = tempDir();
    try {
      const err = await new SecretStore({ configDir: dir.path, keychain: locked })
        .set('svc', 'a', 'b')
        .catch((e: unknown) => e);
      expect(errorText(err as AuthError)).toBe(
        "The OS keychain did not answer (Couldn't access platform storage: Secret Service: unlock prompt was dismissed). Unlock the keychain (log in to the desktop session), or set SWITCHYARD_KEYCHAIN=off to keep secrets in an encrypted file instead.",
      );
    } finally {
      dir.cleanup();
    }
  });
});

describe('SecretStore with the real OS keychain', async () => {
  const status = await keychainStatus();
  const dir = tempDir();
  const service = `test-${process.pid}-${Date.now()}`;
  afterAll(async () => {
    if (status.available) {
      const store = new SecretStore({
        configDir: dir.path,
        env: { ...process.env, SWITCHYARD_KEYCHAIN: 'on' },
      });
      for (const svc of [service, 'concurrency'])
        for (const a of await store.list(svc)) await store.delete(svc, a);
    }
    dir.cleanup();
  });

  it.skipIf(!status.available)(
    'keeps small values in the keychain and large ones in files keyed from the keychain',
    async () => {
      resetKeychainProbe();
      const env = { ...process.env, SWITCHYARD_KEYCHAIN: 'on' };
      const probe = await openKeychain(env);
      expect(probe.keychain).toBeDefined();
      const store = new SecretStore({ configDir: dir.path, env });
      await store.set(service, 'token', 'small-secret-in-keychain');
      expect(await probe.keychain!.getPassword(`switchyard:${service}`, 'token')).toBe(
        'small-secret-in-keychain',
      );
      const big = 'B'.repeat(KEYCHAIN_VALUE_LIMIT * 20);
      await store.set(service, 'cache', big);
      expect(await probe.keychain!.getPassword(`switchyard:${service}`, 'cache')).toBeNull();
      expect(await store.get(service, 'cache')).toBe(big);
      expect(readdirSync(dir.path)).not.toContain('secret.key');
      expect(await store.list(service)).toEqual(['cache', 'token']);
      // A value that grows past the limit moves from the keychain to the file, and back.
      await store.set(service, 'token', big);
      expect(await probe.keychain!.getPassword(`switchyard:${service}`, 'token')).toBeNull();
      expect(await store.get(service, 'token')).toBe(big);
      await store.set(service, 'token', 'small-again');
      expect(await store.get(service, 'token')).toBe('small-again');
      expect(await store.list(service)).toEqual(['cache', 'token']);
      expect(await store.delete(service, 'token')).toBe(true);
      expect(await store.get(service, 'token')).toBeUndefined();
      expect(await store.describe()).toContain('OS keychain');
    },
  );

  it.skipIf(!status.available)('stays consistent when two processes write at once', async () => {
    const shared = tempDir();
    try {
      const env = { ...process.env, SWITCHYARD_KEYCHAIN: 'on' };
      await concurrentWriters(shared.path, env);
      await expectAllWritten(new SecretStore({ configDir: shared.path, env }));
    } finally {
      shared.cleanup();
    }
  });
});
