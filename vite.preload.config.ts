import { defineConfig } from 'vite';

// The window's preload: a sandboxed preload must be one CommonJS file that requires nothing
// but 'electron', so the IPC contract it builds the API from is bundled in.
export default defineConfig({
  build: {
    outDir: 'out/preload',
    emptyOutDir: true,
    target: 'node22',
    minify: false,
    sourcemap: true,
    lib: { entry: 'electron/preload/preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rolldownOptions: { external: ['electron'] },
  },
});
