// The layering of docs/architecture.md, enforced for every file kind (.ts, .cts, .svelte):
// who may import whom. Each folder lists what it may NOT reach; tests may use anything.
//
//   shared    ← everyone; imports nothing (not even node:*)
//   core      the engine: shared only
//   desktop   the main process's decisions, Electron-free: core, shared
//   worker    the backup worker process: core, shared
//   cli       the `quiesce` command: core, shared
//   tools     demo, bench, browser bridge (development): core, shared, cli, desktop
//   main      Electron main process, wiring only: desktop, shared, 'electron'
//   preload   the window's fixed API: shared types, 'electron'
//   renderer  the Svelte UI: shared only, through window.quiesce
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const FOLDERS = ['shared', 'core', 'desktop', 'worker', 'cli', 'tools', 'main', 'preload'];
const electronOnly = "Only electron/main and electron/preload may import 'electron'; pass what you need in.";

/** A no-restricted-imports rule: none of `folders` (under electron/), nor `extra` patterns; 'electron' unless allowed. */
function mayNotImport(folders, why, { extra = [], electron = false } = {}) {
  const patterns = [];
  const group = [...folders.flatMap((f) => [`**/electron/${f}/**`, `../${f}/**`, `../../${f}/**`]), ...extra];
  if (group.length) patterns.push({ group, message: why });
  const paths = electron ? [] : [{ name: 'electron', message: electronOnly }];
  return { '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns }] };
}
const except = (...allowed) => FOLDERS.filter((f) => !allowed.includes(f));

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'bench-results/**', 'dist/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] }, globals: globals.browser },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      ...mayNotImport([], ''),
    },
  },
  {
    files: ['electron/shared/**'],
    rules: mayNotImport(except('shared'), 'electron/shared holds plain types and constants: it imports nothing.', { extra: ['node:*', 'mysql2', 'mysql2/*', 'zod', 'ws'] }),
  },
  {
    files: ['electron/core/**'],
    rules: mayNotImport(except('shared', 'core'), 'electron/core is the engine: processes use it, it uses none of them.'),
  },
  {
    files: ['electron/desktop/**'],
    rules: mayNotImport(except('shared', 'core', 'desktop'), 'electron/desktop is the main process’s logic without Electron: it uses core and shared.'),
  },
  {
    files: ['electron/worker/**'],
    rules: mayNotImport(except('shared', 'core', 'worker'), 'The worker uses core and shared only.'),
  },
  {
    files: ['electron/cli/**'],
    rules: mayNotImport(except('shared', 'core', 'cli'), 'The CLI uses core and shared only.'),
  },
  {
    files: ['electron/tools/**'],
    rules: mayNotImport(['main', 'preload', 'worker'], 'Development tools run the engine, the CLI’s output and the desktop services; never the Electron shell or the worker’s insides.'),
  },
  {
    files: ['electron/main/**'],
    rules: mayNotImport(except('shared', 'desktop', 'main'), 'electron/main is wiring: decisions live in electron/desktop (tested under Node), which reaches the engine.', {
      electron: true,
    }),
  },
  {
    files: ['electron/preload/**'],
    rules: mayNotImport(except('shared', 'preload'), 'The preload exposes the fixed API over IPC: shared types only.', { electron: true }),
  },
  {
    files: ['renderer/**'],
    rules: mayNotImport(FOLDERS.filter((f) => f !== 'shared'), 'The renderer talks to the rest only through window.quiesce; it may use electron/shared.', { extra: ['node:*'] }),
  },
  {
    // a sandboxed preload is CommonJS: `import x = require()` is the form TypeScript allows there
    files: ['electron/preload/**/*.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
