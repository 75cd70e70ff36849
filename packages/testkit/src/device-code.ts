import { spawn } from 'node:child_process';
import type { FakeAuthority } from './fake-authority.js';
import type { CommandResult } from './spawn.js';

/** The sentence the fake authority's device-code answer carries (`message`), which the CLI shows on stderr. */
const PROMPT = /enter the code ([0-9A-F]{8})/;

export interface DeviceCodeLogin extends CommandResult {
  /** The code the CLI showed, or undefined when it ended before showing one. */
  userCode: string | undefined;
}

/**
 * Run a server's `login` to the end as a person would: read the device code it shows on stderr and approve it in
 * the fake authority as `username` (no approval with `username: undefined`, so the sign-in waits and expires).
 */
export function deviceCodeLogin(
  authority: FakeAuthority,
  bin: string,
  options: { args?: string[]; env: Record<string, string>; username: string | undefined; timeoutMs?: number },
): Promise<DeviceCodeLogin> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'login', ...(options.args ?? [])], {
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let userCode: string | undefined;
    let approveError: unknown;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (userCode !== undefined) return;
      userCode = PROMPT.exec(stderr)?.[1];
      if (userCode === undefined || options.username === undefined) return;
      try {
        authority.approve(userCode, options.username);
      } catch (error) {
        approveError = error;
        child.kill('SIGKILL');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (approveError) reject(approveError as Error);
      else resolve({ code, stdout, stderr, userCode });
    });
    child.stdin.end();
  });
}
