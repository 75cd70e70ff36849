import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthError } from './errors.js';
import { openKeychain, type Keychain, type KeychainProbe } from './keychain.js';
import { silentLogger, type Logger } from './log.js';
import { switchyardPaths } from './paths.js';
import { registerSecret } from './redact.js';

/** Values longer than this go to the encrypted file: Windows caps a credential near 2.5 KB of UTF-16. */
export const KEYCHAIN_VALUE_LIMIT = 1000;
const KEYCHAIN_PREFIX = 'switchyard:';

export type SecretSource = 'env' | 'keychain' | 'file';

export interface SecretStoreOptions {
  /** Folder for the encrypted file entries and, without a keychain, the key file. */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** The keychain probe to use instead of the process-wide one (tests). */
  keychain?: Promise<KeychainProbe>;
}

interface FileEntry {
  v: 1;
  service: string;
  account: string;
  iv: string;
  tag: string;
  data: string;
}

let warnedNoKeychain = false;

/**
 * Secrets by service and account. Small values live in the OS keychain; large ones (token caches) and,
 * when no keychain answers, all of them live in AES-256-GCM encrypted files, one per entry, so that a
 * damaged entry costs only itself and two processes never overwrite each other's entries. The file key
 * lives in the keychain, or in a 0600 key file when there is none (with one warning on stderr).
 */
export class SecretStore {
  readonly configDir: string;
  private readonly log: Logger;
  private readonly env: NodeJS.ProcessEnv;
  private readonly probe: Promise<KeychainProbe>;
  private key: Promise<Buffer> | undefined;

  constructor(options: SecretStoreOptions = {}) {
    this.env = options.env ?? process.env;
    this.configDir = options.configDir ?? switchyardPaths(this.env).config;
    this.log = options.log ?? silentLogger;
    this.probe = options.keychain ?? openKeychain(this.env);
  }

  /** Where secrets go on this machine, in words, for `status`. */
  async describe(): Promise<string> {
    const probe = await this.probe;
    return probe.keychain
      ? `OS keychain (large values in encrypted files under ${this.secretsDir()})`
      : `encrypted files under ${this.secretsDir()} with the key in ${this.keyFile()} (no OS keychain: ${probe.reason})`;
  }

  async get(service: string, account: string): Promise<string | undefined> {
    const keychain = await this.keychain();
    if (keychain) {
      const value = await keychain.getPassword(KEYCHAIN_PREFIX + service, account);
      if (value !== null) return remember(value);
    }
    const entry = await this.readEntry(service, account);
    return entry === undefined ? undefined : remember(entry);
  }

  /** The env variable first (when named and set), then the store; with where the value came from. */
  async resolve(
    service: string,
    account: string,
    envVar?: string,
  ): Promise<{ value: string; source: SecretSource } | undefined> {
    const fromEnv = envVar ? this.env[envVar] : undefined;
    if (fromEnv) return { value: remember(fromEnv), source: 'env' };
    const keychain = await this.keychain();
    if (keychain) {
      const value = await keychain.getPassword(KEYCHAIN_PREFIX + service, account);
      if (value !== null) return { value: remember(value), source: 'keychain' };
    }
    const entry = await this.readEntry(service, account);
    return entry === undefined ? undefined : { value: remember(entry), source: 'file' };
  }

  async set(service: string, account: string, value: string): Promise<void> {
    remember(value);
    const keychain = await this.keychain();
    if (keychain && value.length <= KEYCHAIN_VALUE_LIMIT) {
      await keychain.setPassword(KEYCHAIN_PREFIX + service, account, value);
      await rm(this.entryPath(service, account), { force: true });
      return;
    }
    await this.writeEntry(service, account, value);
    if (keychain) await keychain.deletePassword(KEYCHAIN_PREFIX + service, account).catch(() => false);
  }

  async delete(service: string, account: string): Promise<boolean> {
    const keychain = await this.keychain();
    const fromKeychain = keychain ? await keychain.deletePassword(KEYCHAIN_PREFIX + service, account) : false;
    const path = this.entryPath(service, account);
    const existed = await stat(path).then(
      () => true,
      () => false,
    );
    await rm(path, { force: true });
    return fromKeychain || existed;
  }

  /** The accounts stored for a service, from both places. */
  async list(service: string): Promise<string[]> {
    const accounts = new Set<string>();
    const keychain = await this.keychain();
    if (keychain) {
      for (const c of await keychain.findCredentials(KEYCHAIN_PREFIX + service)) accounts.add(c.account);
    }
    const dir = this.serviceDir(service);
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const file of files.filter((f) => f.endsWith('.json'))) {
      try {
        const entry = JSON.parse(await readFile(join(dir, file), 'utf8')) as Partial<FileEntry>;
        if (entry.service === service && typeof entry.account === 'string') accounts.add(entry.account);
      } catch {
        this.log.warn(`skipped a damaged secret file ${join(dir, file)}`);
      }
    }
    return [...accounts].sort();
  }

  private async keychain(): Promise<Keychain | undefined> {
    const probe = await this.probe;
    if (probe.keychain) return guarded(probe.keychain);
    if (!warnedNoKeychain) {
      warnedNoKeychain = true;
      this.log.warn(
        `no OS keychain answered (${probe.reason}); secrets are kept in encrypted files whose key is in ${this.keyFile()} (mode 0600). Start a Secret Service (e.g. gnome-keyring) to keep the key in a keychain.`,
      );
    }
    return undefined;
  }

  private secretsDir(): string {
    return join(this.configDir, 'secrets');
  }

  private keyFile(): string {
    return join(this.configDir, 'secret.key');
  }

  private serviceDir(service: string): string {
    return join(this.secretsDir(), hash(service, 16));
  }

  private entryPath(service: string, account: string): string {
    return join(this.serviceDir(service), `${hash(account, 32)}.json`);
  }

  private async readEntry(service: string, account: string): Promise<string | undefined> {
    const path = this.entryPath(service, account);
    let raw: string;
    try {
      raw = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const entry = JSON.parse(raw) as FileEntry;
      const decipher = createDecipheriv('aes-256-gcm', await this.fileKey(), Buffer.from(entry.iv, 'base64'));
      decipher.setAAD(aad(service, account));
      decipher.setAuthTag(Buffer.from(entry.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(entry.data, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new AuthError(
        `The stored secret '${account}' of ${service} cannot be read: its file ${path} is damaged or was encrypted with another key`,
        {
          hint: 'Sign in again to replace it (the login command of this server); other stored secrets are unaffected',
        },
      );
    }
  }

  private async writeEntry(service: string, account: string, value: string): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', await this.fileKey(), iv);
    cipher.setAAD(aad(service, account));
    const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const entry: FileEntry = {
      v: 1,
      service,
      account,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    const path = this.entryPath(service, account);
    await mkdir(this.serviceDir(service), { recursive: true, mode: 0o700 });
    await atomicWrite(path, JSON.stringify(entry));
  }

  private fileKey(): Promise<Buffer> {
    const loading = (this.key ??= this.loadOrCreateKey());
    loading.catch(() => (this.key = undefined));
    return loading;
  }

  private async loadOrCreateKey(): Promise<Buffer> {
    const keychain = await this.keychain();
    const account = `file-key:${hash(this.configDir, 16)}`;
    const read = async (): Promise<Buffer | undefined> => {
      const stored = keychain ? await keychain.getPassword('switchyard', account) : null;
      if (stored) return Buffer.from(stored, 'base64');
      const fromFile = await readFile(this.keyFile(), 'utf8').catch(() => undefined);
      return fromFile ? Buffer.from(fromFile.trim(), 'base64') : undefined;
    };
    const existing = await read();
    if (existing) return existing;
    await mkdir(this.configDir, { recursive: true, mode: 0o700 });
    // Two processes may both find no key: the lock makes exactly one create it.
    return withLock(`${this.keyFile()}.lock`, async () => {
      const again = await read();
      if (again) return again;
      const key = randomBytes(32);
      if (keychain) await keychain.setPassword('switchyard', account, key.toString('base64'));
      else await atomicWrite(this.keyFile(), key.toString('base64'));
      return key;
    });
  }
}

/** Keychain calls whose failures (a locked keyring, a dismissed prompt) say what to do. */
function guarded(keychain: Keychain): Keychain {
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (err) {
        const reason = ((err as Error).message ?? String(err)).split('\n')[0]!.slice(0, 200);
        throw new AuthError(`The OS keychain did not answer (${reason})`, {
          hint: 'Unlock the keychain (log in to the desktop session), or set SWITCHYARD_KEYCHAIN=off to keep secrets in an encrypted file instead',
        });
      }
    };
  return {
    getPassword: wrap(keychain.getPassword.bind(keychain)),
    setPassword: wrap(keychain.setPassword.bind(keychain)),
    deletePassword: wrap(keychain.deletePassword.bind(keychain)),
    findCredentials: wrap(keychain.findCredentials.bind(keychain)),
  };
}

function remember(value: string): string {
  if (value.length < 4096) registerSecret(value);
  return value;
}

function hash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

function aad(service: string, account: string): Buffer {
  return Buffer.from(`${service}\n${account}`, 'utf8');
}

/** Write to a temp file in the same folder, then rename over the target: readers never see half a file. */
export async function atomicWrite(path: string, content: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, content, { mode });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** A cross-process lock on a file created with O_EXCL; a lock older than `staleMs` is taken over. */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, staleMs = 10_000): Promise<T> {
  const deadline = Date.now() + staleMs * 2;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > staleMs || Date.now() > deadline) await rm(lockPath, { force: true });
      else await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}
