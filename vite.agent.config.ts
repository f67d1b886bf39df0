import { defineConfig } from 'vite';

// The agent a database host runs (docs/remote.md): the CLI engine as one ES module with every
// package inlined, so a pinned Node runtime beside it is all the host needs. The keychain
// (keytar) and the Electron shell stay out: on the host, secrets arrive on stdin.
const outside = ['keytar', 'electron', 'cpu-features', /\.node$/];

export default defineConfig({
  ssr: { noExternal: true, external: ['keytar', 'electron', 'cpu-features'] },
  build: {
    ssr: 'electron/cli/quiesce.ts',
    outDir: 'out/agent',
    emptyOutDir: true,
    target: 'node22',
    minify: false,
    rolldownOptions: {
      external: outside,
      // CommonJS packages inlined (ssh2, mysql2) still name __dirname and require: an ES module has neither
      output: {
        format: 'esm',
        entryFileNames: 'quiesce.mjs',
        codeSplitting: false,
        banner: "import { createRequire as __agentRequire } from 'node:module'; import { fileURLToPath as __agentPath } from 'node:url'; const require = __agentRequire(import.meta.url); const __filename = __agentPath(import.meta.url); const __dirname = __agentPath(new URL('.', import.meta.url));",
      },
    },
  },
});
