import { defineProject } from 'vitest/config';
import { testDefaults } from '../../vitest.shared.js';

export default defineProject({
  test: {
    ...testDefaults,
    name: 'lakehouse-demo',
  },
});
