import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*'],
    globalSetup: ['./vitest.global-setup.ts'],
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
