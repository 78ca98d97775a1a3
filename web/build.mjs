// build.mjs — builds the browser app into web/dist/: bundles web/src/main.js
// (and @msgpack/msgpack) into app.js, minified with a source map, and copies
// web/public/* (index.html, style.css, favicon.svg) next to it.
//   node web/build.mjs            build once (from any directory)
//   node web/build.mjs --watch    rebuild app.js on change (public/ is copied once)
import { context } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const watch = process.argv.includes('--watch');

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync(join(here, 'public'), dist, { recursive: true });

const ctx = await context({
  entryPoints: [join(here, 'src/main.js')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  minify: true,
  sourcemap: true,
  // A classic deferred script: works whatever MIME type the static server sends.
  format: 'iife',
  target: ['es2020'],
  logLevel: 'warning',
});
if (watch) {
  await ctx.watch();
  console.log('watching web/src …');
} else {
  await ctx.rebuild();
  await ctx.dispose();
}
