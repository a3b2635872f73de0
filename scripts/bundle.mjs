/**
 * Bundles the built CLI (dist/src/cli/main.js and everything it imports,
 * commander and cli-table3 included) for a fast start: the `nfsight`
 * command. Node then loads one script instead of resolving, reading and
 * linking well over a hundred modules, which was most of the startup time
 * of a short run (docs/performance.md). The library (`import { analyze }
 * from 'nfsight'`) is bundled too, as one ES module: loading dist/src/
 * took 266 ms, and what survived of it grew V8's young generation to 8 MB
 * (a library user's process has no flags to fix it), 8-10 MB of peak RSS
 * on a large capture; bundled, 50 ms and 2 MB (docs/memory.md).
 *
 *   node scripts/bundle.mjs [OUT]      (npm run build runs it after tsc)
 *
 * writes, in OUT's folder (default dist/):
 *  - nfsight.mjs: the library (dist/src/index.js and what it imports; the
 *    packages it depends on stay packages, imported);
 *  - nfsight-cli.cjs: the CLI as one CommonJS script, the Node modules a
 *    short run does not need loaded on first use;
 *  - OUT (nfsight.cjs): the command, a small launcher that compiles that
 *    script with V8's code cache (node:vm), so the functions a run needs
 *    are not parsed and compiled again at every start;
 *  - nfsight-cli.cli.cache and nfsight-cli.node.cache: the code caches,
 *    made by running the command on a small capture, started with the
 *    shebang's V8 flags and without (V8 refuses a cache made with other
 *    flags; the launcher then compiles as usual).
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nodeRequire = createRequire(import.meta.url);
const outfile = process.argv[2] ?? join(root, 'dist', 'nfsight.cjs');
const outDir = dirname(outfile);
const script = join(outDir, 'nfsight-cli.cjs');
const main = join(root, 'dist', 'src', 'cli', 'main.js');
const shebang = readFileSync(main, 'utf8').split('\n', 1)[0];
if (!shebang.startsWith('#!')) throw new Error(`${main}: no shebang line`);
const shebangFlags = shebang.replace(/^.*\bnode\b/, '').trim();

/**
 * Node modules a short run never uses, loaded on first use rather than at
 * start: zlib and stream (gzip input), fs/promises (saved reports),
 * child_process (commander's executable subcommands, which nfsight does not
 * have) and v8 (the heap growth flag, set only when the memory budget fills;
 * node:v8 loads Node's heap snapshot utilities and its streams). The bundle reads their exports when it calls them (`m.name(...)`),
 * so an object whose properties (the module's export names, listed here)
 * are getters that require the module at the first read serves.
 */
const LAZY_BUILTINS = /^(node:)?(zlib|stream|fs\/promises|child_process|v8)$/;
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: LAZY_BUILTINS }, (args) =>
      // The proxy's own require is Node's.
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `let m;
for (const k of ${JSON.stringify(Object.getOwnPropertyNames(nodeRequire(`node:${args.path}`)))}) {
  Object.defineProperty(module.exports, k, { get: () => (m ??= require('node:${args.path}'))[k], enumerable: true });
}`,
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: [main],
  outfile: script,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // ASCII only (esbuild's default), so the launcher reads it as latin1 without decoding UTF-8.
  charset: 'ascii',
  // The HTML renderer finds uPlot's files from its own location.
  define: { 'import.meta.url': '__nfsightUrl' },
  banner: { js: "const __nfsightUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [lazyBuiltins],
  legalComments: 'none',
  logLevel: 'warning',
});
// The library: the same modules, one ES module (import.meta.url is its own: the HTML renderer resolves uPlot from it).
await build({
  entryPoints: [join(root, 'dist', 'src', 'index.js')],
  outfile: join(outDir, 'nfsight.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  legalComments: 'none',
  logLevel: 'warning',
});

// The script is not run directly: the shebang line esbuild kept is replaced
// by the CommonJS wrapper the launcher compiles it in, written here so that
// the launcher hands V8 the file's text as read (joining it to the wrapper at
// every start cost a flattened 1 MB copy).
writeFileSync(script, `(function (exports, require, module, __filename, __dirname) {${readFileSync(script, 'latin1').replace(/^#!.*\n/, '\n')}\n})`, 'latin1');

// --version and -V alone print the version without loading the bundle (commander prints the same line).
const { VERSION } = await import(pathToFileURL(join(root, 'dist', 'src', 'version.js')).href);
writeFileSync(
  outfile,
  `${shebang}
'use strict';
// The nfsight command: runs nfsight-cli.cjs (the bundled CLI) with V8's code cache (scripts/bundle.mjs).
// A CommonJS script: an ES module entry costs Node its ES module loader (~15 ms of CPU).
const { readFileSync, writeFileSync, writeSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const text = ${JSON.stringify(`${VERSION}
`)};
  try {
    writeSync(1, text);
  } catch (err) {
    // A pipe closed by its reader (EPIPE) is no error, as in the CLI; anything else: Node's stream.
    if (err.code !== 'EPIPE') process.stdout.write(text);
  }
  return;
}

const dir = __dirname;
const file = join(dir, 'nfsight-cli.cjs');
// Made with the shebang's V8 flags, or with none.
const cacheFile = join(dir, process.execArgv.some((a) => a.startsWith('--max-semi-space-size')) ? 'nfsight-cli.cli.cache' : 'nfsight-cli.node.cache');
const writeCache = process.env.NFSIGHT_WRITE_CODE_CACHE === '1';
let cachedData;
try {
  if (!writeCache) cachedData = readFileSync(cacheFile);
} catch {
  // No cache: compiled as usual.
}
const source = readFileSync(file, 'latin1');
const { Script } = require('node:vm');
// The file is the bundle inside CommonJS's function wrapper (scripts/bundle.mjs).
const compiled = new Script(source, { filename: file, cachedData });
if (writeCache) process.on('exit', () => writeFileSync(cacheFile, compiled.createCachedData()));
const bundle = { exports: {} };
compiled.runInThisContext()(bundle.exports, require('node:module').createRequire(file), bundle, file, dir);
`,
);
chmodSync(outfile, 0o755);

// The code caches: what a report on a small capture compiles.
const capture = join(root, 'captures', 'linux-v42-basic-head.pcap');
for (const [name, flags] of [
  ['cli', shebangFlags.split(/\s+/).filter(Boolean)],
  ['node', []],
]) {
  const cache = join(outDir, `nfsight-cli.${name}.cache`);
  rmSync(cache, { force: true });
  const r = spawnSync(process.execPath, [...flags, outfile, 'report', capture], { env: { ...process.env, NFSIGHT_WRITE_CODE_CACHE: '1' }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`making ${cache}: exit ${r.status}: ${r.stderr}`);
}
