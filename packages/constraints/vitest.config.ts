import { defineProject } from 'vitest/config';
import { workspaceAliases } from '../../vitest.shared.ts';

export default defineProject({
  resolve: { alias: workspaceAliases },
  test: {
    name: 'constraints',
    include: ['src/**/*.test.ts'],
    // cooldown-memory.test.ts measures the heap after forced collections.
    execArgv: ['--expose-gc'],
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
