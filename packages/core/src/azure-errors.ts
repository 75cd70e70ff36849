/**
 * msal-node's failures in one sentence each: what failed, Azure AD's own code and description (the AADSTS text msal
 * drops, kept by AzureSignIn's network client), and what the user can do.
 */
import { AuthError, UpstreamError } from './errors.js';

/** The last error body Azure AD sent: `{error, error_description}` (RFC 6749 §5.2). */
export interface AadError {
  error: string;
  description: string;
}

/** An msal error (or any other) during `what` as an AuthError or, when the authority was not reached, an UpstreamError. */
export function signInFailure(
  err: unknown,
  what: string,
  aad: AadError | undefined,
  where: { authorityHost: string; loginHint: string },
): Error {
  const e = err as {
    errorCode?: string;
    errorMessage?: string;
    subError?: string;
    message?: string;
    name?: string;
  };
  const code = aad?.error ?? e.errorCode ?? '';
  // The on-behalf-of exchange acts for a user who signed in elsewhere: nothing to run here, so other advice.
  const onBehalf = what === 'on-behalf-of exchange';
  const detail = (aad?.description || e.errorMessage || e.message || '')
    .split(/\r?\n/)[0]!
    .replace(/Trace ID:.*$/i, '')
    .trim();
  const aadsts = /AADSTS\d+/.exec(detail)?.[0];
  const upstream = {
    service: 'Azure AD',
    ...(aadsts || code ? { code: aadsts ?? code } : {}),
    // Azure AD starts its description with the code; the code is shown once already.
    ...(detail ? { message: detail.replace(/^AADSTS\d+:\s*/, '').slice(0, 300) } : {}),
  };
  if (
    /network|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|fetch failed|endpoints_resolution_error/i.test(
      `${code} ${detail}`,
    )
  ) {
    return new UpstreamError(`Could not reach the Azure AD authority ${where.authorityHost} during ${what}`, {
      upstream,
      hint: 'Check the network and AZURE_AUTHORITY_HOST',
    });
  }
  if (aadsts === 'AADSTS65001' || /consent_required/i.test(`${code} ${e.subError ?? ''}`)) {
    const missing = /Missing: (.+)$/.exec(detail)?.[1];
    return new AuthError(
      `The account has not consented to ${missing ? `the scopes ${missing}` : 'all requested scopes'} for this app (AADSTS65001)`,
      {
        upstream,
        hint: onBehalf
          ? "Ask an administrator to grant the server's app registration consent to that API for the organisation"
          : `Ask an administrator to grant consent to the app registration, or ${where.loginHint.replace(/^Run/, 'run')} and accept the consent prompt`,
      },
    );
  }
  if (
    e.name === 'InteractionRequiredAuthError' ||
    /interaction_required|invalid_grant|consent_required|login_required|no_tokens_found/i.test(code)
  ) {
    if (onBehalf) {
      return new AuthError(`Azure AD refused to exchange this user's token (${aadsts ?? code})`, {
        upstream,
        hint: "Sign in to the calling app again for a fresh token; if it persists, check that the token is for this server's app",
      });
    }
    return new AuthError(`The saved sign-in can no longer be refreshed (${aadsts ?? code})`, {
      upstream,
      hint: where.loginHint,
    });
  }
  if (
    /invalid_client|unauthorized_client|AADSTS7000215|AADSTS700016|AADSTS7000222/i.test(`${code} ${detail}`)
  ) {
    return new AuthError(`Azure AD refused the app's credentials during ${what}`, {
      upstream,
      hint: 'Check the tenant id, client id and secret or certificate (an expired secret gives AADSTS7000222)',
    });
  }
  if (/expired_token|code_expired|authorization_declined|access_denied/i.test(code)) {
    return new AuthError(`The device code sign-in did not complete (${code})`, {
      upstream,
      hint: where.loginHint,
    });
  }
  return new AuthError(`Azure AD ${what} failed${code ? ` (${code})` : ''}`, {
    upstream,
    hint: where.loginHint,
  });
}
