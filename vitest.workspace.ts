/** The one list of test projects; `vitest.config.ts` reads it. */
export default ['packages/*/vitest.config.ts', 'packages/*/vitest.browser.config.ts', 'examples/vitest.config.ts', 'examples/readme/vitest.config.ts', 'scripts/vitest.config.ts'];
