// The layering of docs/architecture.md, enforced: who may import whom.
//   shared  ← everything; imports nothing
//   core    ← worker, cli, main; never 'electron', never a process folder
//   electron only in electron/main and electron/preload
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noElectron = { name: 'electron', message: "Only electron/main and electron/preload may import 'electron'; pass what you need in." };
const upward = (group, why) => ({ group, message: why });

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'bench-results/**', 'dist/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', URL: 'readonly', console: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [noElectron] }],
    },
  },
  {
    files: ['electron/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [noElectron], patterns: [upward(['../*', 'node:*', 'mysql2', 'mysql2/*'], 'electron/shared holds plain types and constants: it imports nothing.')] },
      ],
    },
  },
  {
    files: ['electron/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noElectron],
          patterns: [upward(['**/cli/**', '**/worker/**', '**/main/**', '**/preload/**', '**/renderer/**'], 'electron/core is the engine: processes use it, it uses none of them.')],
        },
      ],
    },
  },
  {
    files: ['electron/cli/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [noElectron], patterns: [upward(['**/main/**', '**/preload/**', '**/worker/**', '**/renderer/**'], 'The CLI uses core and shared only.')] }],
    },
  },
  {
    files: ['electron/worker/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [noElectron], patterns: [upward(['**/main/**', '**/preload/**', '**/cli/**', '**/renderer/**'], 'The worker uses core and shared only.')] }],
    },
  },
  {
    files: ['renderer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [noElectron], patterns: [upward(['**/electron/core/**', '**/electron/cli/**', '**/electron/worker/**', '**/electron/main/**', '**/electron/preload/**', 'node:*'], 'The renderer talks to the rest only through window.quiesce; it may use electron/shared.')] },
      ],
    },
  },
  {
    files: ['electron/main/**', 'electron/preload/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // a sandboxed preload is CommonJS: `import x = require()` is the form TypeScript allows there
    files: ['electron/preload/**/*.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
