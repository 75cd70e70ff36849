import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'bench/results/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // The MCP SDK lives behind core: a new SDK major then touches one package.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@modelcontextprotocol/sdk',
                '@modelcontextprotocol/sdk/*',
                '@modelcontextprotocol/server',
                '@modelcontextprotocol/server/*',
                '@modelcontextprotocol/client',
                '@modelcontextprotocol/client/*',
                '@modelcontextprotocol/core',
                '@modelcontextprotocol/core/*',
              ],
              message: 'Use @switchyard/core; the SDK is imported in core only.',
            },
          ],
        },
      ],
    },
  },
  { files: ['packages/core/src/**'], rules: { 'no-restricted-imports': 'off' } },
  // The one place another SDK line is used on purpose: hosts still built on SDK 1.x must keep connecting.
  { files: ['packages/testkit/test/sdk1-client.test.ts'], rules: { 'no-restricted-imports': 'off' } },
  {
    // stdout carries JSON-RPC in a server: logs go to stderr through core's logger.
    files: ['packages/*/src/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
);
