// A Secret Service that vanishes for a moment (gnome-keyring-daemon aborting on a race between clients, then
// started again by its supervisor) costs a retry, not the secret; any other keychain error passes at once.
import { describe, expect, it } from 'vitest';
import { retryingWhenServiceGone, type Keychain } from '@switchyard/core';

function flaky(failures: string[]): { keychain: Keychain; calls: () => number } {
  let calls = 0;
  const values = new Map<string, string>();
  const step = async () => {
    const failure = failures[calls++];
    if (failure) throw new Error(failure);
  };
  return {
    calls: () => calls,
    keychain: {
      getPassword: async (s, a) => (await step(), values.get(`${s}/${a}`) ?? null),
      setPassword: async (s, a, p) => (await step(), void values.set(`${s}/${a}`, p)),
      deletePassword: async (s, a) => (await step(), values.delete(`${s}/${a}`)),
      findCredentials: async () => (await step(), []),
    },
  };
}

const GONE =
  'Platform secure storage failure: org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files';

describe('a keychain whose service vanishes for a moment', () => {
  it('tries again and succeeds once the service is back', async () => {
    const { keychain, calls } = flaky([GONE, GONE]);
    const k = retryingWhenServiceGone(keychain, [1, 1, 1]);
    await k.setPassword('switchyard/x', 'a', 'secret-value');
    expect(calls()).toBe(3);
    expect(await k.getPassword('switchyard/x', 'a')).toBe('secret-value');
  });

  it('gives up after its last delay with the service error itself', async () => {
    const { keychain, calls } = flaky([GONE, GONE, GONE, GONE]);
    await expect(retryingWhenServiceGone(keychain, [1, 1, 1]).getPassword('s', 'a')).rejects.toThrow(
      /ServiceUnknown/,
    );
    expect(calls()).toBe(4);
  });

  it('does not repeat a call the keychain refused for another reason', async () => {
    const { keychain, calls } = flaky(['The collection is locked']);
    await expect(retryingWhenServiceGone(keychain, [1, 1, 1]).deletePassword('s', 'a')).rejects.toThrow(
      'The collection is locked',
    );
    expect(calls()).toBe(1);
  });
});
