import { defineProject } from 'vitest/config';
import { workspaceAliases } from '../vitest.shared.ts';

export default defineProject({
  resolve: { alias: workspaceAliases },
  test: {
    name: 'spec-examples',
    include: ['spec/**/*.test.ts'],
    typecheck: { enabled: true, include: ['spec/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
