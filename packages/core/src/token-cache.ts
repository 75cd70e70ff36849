/** A bearer token and when it stops being accepted (unknown for opaque tokens without a lifetime). */
export interface HeldToken {
  expiresOn: Date | undefined;
}

/** How long before its expiry a held token is renewed: msal's own margin (`tokenRenewalOffsetSeconds`). */
export const TOKEN_RENEWAL_MARGIN_MS = 5 * 60_000;

/**
 * The tokens this process holds, by key (who and for which scopes), reused until 5 minutes before they expire.
 * One fetch per key is under way at a time: callers that arrive meanwhile wait for it instead of asking again.
 * A token without a known expiry is not held (nothing tells when it stops working).
 */
export class TokenCache<T extends HeldToken> {
  private readonly held = new Map<string, T>();
  private readonly pending = new Map<string, Promise<T>>();

  constructor(private readonly marginMs = TOKEN_RENEWAL_MARGIN_MS) {}

  /** The held token for `key`, or a fresh one from `fetch`; `forceRefresh` after the upstream refused the held one. */
  async get(key: string, fetch: () => Promise<T>, options: { forceRefresh?: boolean } = {}): Promise<T> {
    if (!options.forceRefresh) {
      const held = this.held.get(key);
      if (held?.expiresOn && held.expiresOn.getTime() - Date.now() > this.marginMs) return held;
      const under = this.pending.get(key);
      if (under) return under;
    }
    this.held.delete(key);
    const fetching = fetch();
    this.pending.set(key, fetching);
    try {
      const token = await fetching;
      if (token.expiresOn) this.held.set(key, token);
      return token;
    } finally {
      if (this.pending.get(key) === fetching) this.pending.delete(key);
    }
  }

  /** Forget every held token (sign-out). */
  clear(): void {
    this.held.clear();
    this.pending.clear();
  }
}
