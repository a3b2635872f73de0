/**
 * Bundles the built CLI (dist/src/cli/main.js and everything it imports,
 * commander and cli-table3 included) into one file, dist/nfsight.mjs: the
 * `nfsight` command. Node then loads one module instead of resolving,
 * reading and linking well over a hundred, which is most of the startup
 * time of a short run (docs/performance.md). The library (`import { analyze }
 * from 'nfsight'`) stays dist/src/, unbundled.
 *
 *   node scripts/bundle.mjs [OUT]      (npm run build runs it after tsc)
 */
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = process.argv[2] ?? join(root, 'dist', 'nfsight.mjs');
await build({
  entryPoints: [join(root, 'dist', 'src', 'cli', 'main.js')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The CommonJS packages (cli-table3 and its dependencies) call require();
  // an ES module has none, so the bundle makes one.
  banner: { js: "import { createRequire as nfsightCreateRequire } from 'node:module';\nconst require = nfsightCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
