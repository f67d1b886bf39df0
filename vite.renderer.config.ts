import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vite';

// The renderer: Svelte 5, built into out/renderer, served as quiesce://app/ (or by the browser bridge).
export default defineConfig({
  root: 'renderer',
  base: '/',
  plugins: [svelte(), svelteTesting()],
  build: { outDir: '../out/renderer', emptyOutDir: true, sourcemap: true, target: 'chrome130' },
  test: {
    root: '.',
    include: ['test/renderer/**/*.test.ts'],
    environment: 'happy-dom',
  },
});
