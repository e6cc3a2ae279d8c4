// Bundles GraphiQL, React and the graphql-ws client into one script and one stylesheet,
// named by their content's hash (so they can be cached for good), gzipped copies of
// both, and manifest.json,
// which api/graphiql.py reads to name them in the page. Same lockfile, same bytes.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2] || join(here, '..', '..', 'api', 'static', 'graphiql');

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints: { graphiql: join(here, 'src', 'index.jsx') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  jsx: 'automatic',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'dataurl', '.png': 'dataurl' },
  define: { 'process.env.NODE_ENV': '"production"' },
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  outdir,
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
const manifest = {};
for (const file of Object.keys(result.metafile.outputs)) {
  const name = basename(file);
  if (name.endsWith('.js')) manifest.script = name;
  else if (name.endsWith('.css')) manifest.stylesheet = name;
}
if (!manifest.script || !manifest.stylesheet) throw new Error('the build made no script or stylesheet');
// gzipped once here, so the server sends a third of the bytes without compressing per request
for (const name of [manifest.script, manifest.stylesheet]) {
  const data = readFileSync(join(outdir, name));
  writeFileSync(join(outdir, `${name}.gz`), gzipSync(data, { level: constants.Z_BEST_COMPRESSION }));
}
writeFileSync(join(outdir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`GraphiQL built: ${manifest.script}, ${manifest.stylesheet}`);
