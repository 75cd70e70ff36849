import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withoutNpmEnv } from './registry.js';
import { repoRoot } from './servers.js';
import { runCommand } from './spawn.js';

/**
 * The Claude Code release the host test runs: pinned, so that CI changes only when we move it
 * (`CLAUDE_CODE_VERSION` overrides it for a try).
 */
export const CLAUDE_CODE_VERSION = '2.1.332';

/**
 * Claude Code from the npm registry, installed once per version under `node_modules/.cache` (a fresh CI
 * machine downloads it once; a developer's re-runs reuse it). The package ships a native binary per
 * platform: that is what runs, so no particular Node version is needed and no install script either.
 */
export async function claudeCode(
  version = process.env.CLAUDE_CODE_VERSION ?? CLAUDE_CODE_VERSION,
): Promise<{ bin: string; version: string }> {
  const dir = join(repoRoot, 'node_modules', '.cache', 'switchyard-claude-code', version);
  const platform = `${process.platform}-${process.arch}`;
  const binary = (root: string) =>
    join(
      root,
      'node_modules',
      '@anthropic-ai',
      `claude-code-${platform}`,
      process.platform === 'win32' ? 'claude.exe' : 'claude',
    );
  if (!existsSync(binary(dir))) {
    const staging = `${dir}.${process.pid}.tmp`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    writeFileSync(
      join(staging, 'package.json'),
      JSON.stringify({ name: 'claude-code-for-tests', private: true }),
    );
    const install = await runCommand(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        '--ignore-scripts',
        '--engine-strict=false',
        `@anthropic-ai/claude-code@${version}`,
      ],
      { cwd: staging, env: withoutNpmEnv(process.env), timeoutMs: 600_000 },
    );
    if (install.code !== 0 || !existsSync(binary(staging))) {
      rmSync(staging, { recursive: true, force: true });
      throw new Error(`Claude Code ${version} did not install for ${platform}:\n${install.stderr}`);
    }
    mkdirSync(join(dir, '..'), { recursive: true });
    try {
      renameSync(staging, dir);
    } catch (err) {
      // Another run installed the same version meanwhile: use theirs.
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(binary(dir))) throw err;
    }
  }
  return { bin: binary(dir), version };
}
