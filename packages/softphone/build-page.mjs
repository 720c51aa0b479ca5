// Builds the softphone page into dist/page: one bundled script (esbuild) beside index.html and
// style.css, and the embedding examples under dist/page/examples/. The gateway serves this folder at /.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { build } from 'esbuild';

mkdirSync('dist/page', { recursive: true });
const browserBundle = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
};
await build({
  ...browserBundle,
  entryPoints: ['src/ui/main.ts'],
  outfile: 'dist/page/app.js',
  // V8's explicit compile hint (Chromium 136 and later; a comment to other browsers): every
  // function of the page is compiled while the script loads, rather than on its first call. The
  // first call of a freshly opened page otherwise compiles the whole call path (SIP.js's INVITE
  // handling, the call's state machine, the incoming-call view) between the INVITE and the ring:
  // dial → callee rings p90 127.5 → 102.6–107.7 ms, p50 ~94 → ~78, for ~15 ms more from page load
  // to registered (bench:first-call, alternating builds: docs/benchmarks.md).
  banner: { js: '//# allFunctionsCalledOnLoad' },
});
for (const file of ['index.html', 'style.css', 'favicon.svg'])
  copyFileSync(`src/ui/${file}`, `dist/page/${file}`);
// Each example is a folder with index.html and main.ts, built as the page is.
for (const example of readdirSync('examples')) {
  const out = `dist/page/examples/${example}`;
  mkdirSync(out, { recursive: true });
  await build({ ...browserBundle, entryPoints: [`examples/${example}/main.ts`], outfile: `${out}/main.js` });
  copyFileSync(`examples/${example}/index.html`, `${out}/index.html`);
}
