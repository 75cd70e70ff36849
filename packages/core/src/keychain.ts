import { createRequire } from 'node:module';

/** The keytar-compatible surface of `@napi-rs/keyring` that core uses. */
export interface Keychain {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
}

export type KeychainProbe =
  { keychain: Keychain; reason?: undefined } | { keychain: undefined; reason: string };

const require = createRequire(import.meta.url);
let probed: Promise<KeychainProbe> | undefined;

/**
 * Find out once per process whether an OS keychain answers. On Linux only the Secret Service counts:
 * the kernel keyring that keyring-rs falls back to forgets everything at logout, which would orphan
 * the encrypted file's key. `SWITCHYARD_KEYCHAIN=off` skips the keychain (containers, CI without dbus).
 */
export function openKeychain(env: NodeJS.ProcessEnv = process.env): Promise<KeychainProbe> {
  return (probed ??= probe(env));
}

/** Forget the probe result (tests switch environments within one process). */
export function resetKeychainProbe(): void {
  probed = undefined;
}

async function probe(env: NodeJS.ProcessEnv): Promise<KeychainProbe> {
  if (['off', '0', 'false', 'no'].includes((env.SWITCHYARD_KEYCHAIN ?? '').toLowerCase())) {
    return { keychain: undefined, reason: 'SWITCHYARD_KEYCHAIN is off' };
  }
  let keyring: typeof import('@napi-rs/keyring');
  let keytar: Keychain;
  try {
    keyring = require('@napi-rs/keyring') as typeof import('@napi-rs/keyring');
    keytar = require('@napi-rs/keyring/keytar.js') as Keychain;
  } catch (err) {
    return { keychain: undefined, reason: `the keyring module did not load (${(err as Error).message})` };
  }
  try {
    const entry = new keyring.AsyncEntry(
      'switchyard',
      'availability-probe',
      process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined,
    );
    await entry.getPassword(AbortSignal.timeout(5000));
    return { keychain: keytar };
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    return { keychain: undefined, reason: message.split('\n')[0]!.slice(0, 200) };
  }
}
