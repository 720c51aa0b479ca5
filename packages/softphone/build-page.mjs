// Builds the softphone page into dist/page: one bundled script (esbuild) beside index.html and
// style.css. The gateway serves this folder at /.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

mkdirSync('dist/page', { recursive: true });
await build({
  entryPoints: ['src/ui/main.ts'],
  outfile: 'dist/page/app.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) copyFileSync(`src/ui/${file}`, `dist/page/${file}`);
