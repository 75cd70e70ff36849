/** Where npm keeps what `npx` installs for a package that is not installed where it runs (`~/.npm/_npx/<hash>`). */
const NPX_FOLDER = /[\\/]_npx[\\/]/;

/**
 * True when this process is a bin that `npx` installed and started (the way a host runs
 * `npx -y @switchyard/<name>`): then the bin is not on the user's PATH. Decided by where the bin lies, not by
 * npm's variables (`npm_command=exec`): those are inherited by everything an npx-started program runs, such as
 * a host or a test runner started with npx, whose servers may well be on PATH.
 */
export function startedThroughNpx(script: string = process.argv[1] ?? ''): boolean {
  return NPX_FOLDER.test(script);
}

/**
 * A command of ours as the user can run it in a terminal, spelled the way they started the server:
 * `commandHint('powerbi-mcp login')` is `npx -y @switchyard/powerbi-mcp login` when the server runs through npx
 * (no `powerbi-mcp` on PATH then), and `powerbi-mcp login` when it is installed (globally, or on PATH).
 * The first word is the bin; every bin is published as `@switchyard/<bin>`.
 */
export function commandHint(command: string, script?: string): string {
  return startedThroughNpx(script) ? `npx -y @switchyard/${command}` : command;
}
