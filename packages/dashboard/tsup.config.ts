import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library: Lit and core stay imports, so an app has one copy of each.
    entry: { index: 'src/index.ts', 'server/index': 'src/server/index.ts', 'testing/index': 'src/testing/index.ts' },
    format: ['esm'],
    dts: true,
    sourcemap: true,
    target: 'es2022',
    // One file per entry: `dist/index.js` is the module that defines the element (see `sideEffects`).
    splitting: false,
    external: ['lit', /^lit\//, '@taskbuffer/core', 'esbuild', 'vitest'],
  },
  {
    // The element with Lit in one ES module, served by `@taskbuffer/dashboard/server`.
    entry: { 'browser/taskbuffer-dashboard': 'src/index.ts' },
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    minify: true,
    noExternal: [/.*/],
    dts: false,
  },
]);
