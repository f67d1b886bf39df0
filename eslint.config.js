// The layering of docs/architecture.md, enforced for every file kind (.ts, .cts, .mjs, .svelte)
// by the file an import resolves to (eslint-rules/layering.js). Tests may use anything.
//
//   shared    ← everyone; imports nothing (not even node:*)
//   core      the engine: shared only; inside it, folders in layers (CORE_LAYERS), no loops
//   desktop   the main process's decisions, Electron-free: core, shared
//   worker    the backup worker process: core, shared
//   cli       the `quiesce` command: core, shared
//   tools     demo, bench, browser bridge, the sandbox pair (development): core, shared, cli, desktop
//   main      Electron main process, wiring only: desktop, shared, 'electron'
//   preload   the window's fixed API, built from shared/ipc-contract.ts (bundled in): shared, 'electron'
//   renderer  the Svelte UI: shared only, through window.quiesce
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import layering from './eslint-rules/layering.js';

const LAYERS = {
  areas: {
    shared: [],
    core: ['shared'],
    desktop: ['core', 'shared'],
    worker: ['core', 'shared'],
    cli: ['core', 'shared'],
    tools: ['core', 'shared', 'cli', 'desktop'],
    main: ['desktop', 'shared'],
    preload: ['shared'],
    renderer: ['shared'],
  },
  // electron/core bottom to top: a folder imports its own files and lower layers only
  coreLayers: [
    ['(base)'],
    ['progress', 'crypto', 'mysql', 'storage', 'remote'],
    ['server'],
    ['archive'],
    ['elevation', 'sandbox'],
    ['binlog'],
    ['restore'],
    ['jobs'],
    ['backup'],
    ['profiles'],
    ['pipelines'],
    ['schedule'],
  ],
  electron: ['main', 'preload'],
  noPackages: { shared: 'electron/shared holds plain types and constants: it imports nothing.' },
  noNode: { renderer: 'The renderer talks to the rest only through window.quiesce.' },
};

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
    plugins: { local: { rules: { layering } } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'local/layering': ['error', LAYERS],
    },
  },
  {
    // the IPC contract has one door on each side: main/ipc.ts and the preload
    files: ['**/*.ts', '**/*.cts', '**/*.svelte'],
    ignores: ['electron/main/ipc.ts', 'electron/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', importNames: ['ipcMain', 'ipcRenderer'], message: 'IPC goes through electron/main/ipc.ts (main) or the preload (renderer), built from shared/ipc-contract.ts.' }] }],
      'no-restricted-syntax': ['error', { selector: "MemberExpression[property.name='send'][object.property.name='webContents']", message: 'Events to the window go through sendTo() in electron/main/ipc.ts, typed by IpcEvents.' }],
    },
  },
  {
    // a function a reader takes in at once: longer ones are split where their steps part
    files: ['electron/**', 'renderer/**/*.ts', 'eslint-rules/**'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
);
