/**
 * The `nfsight` command is the CLI bundled into one file (scripts/bundle.mjs,
 * for startup time): it must behave exactly as the unbundled CLI, output
 * and exit status, on every path a user takes first.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
let bundle = '';

function run(script: string, args: string[], nodeFlags: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...nodeFlags, script, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', COLUMNS: '100' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the bundled command', () => {
  beforeAll(() => {
    // Bundled afresh from the built CLI, as `npm run build` does, inside the
    // repository (where dist/nfsight.cjs finds node_modules).
    const dir = join(ROOT, 'dist', 'bundle-test');
    mkdirSync(dir, { recursive: true });
    bundle = join(mkdtempSync(join(dir, 'b-')), 'nfsight.cjs');
    const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), bundle], { encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
  });
  afterAll(() => rmSync(dirname(bundle), { recursive: true, force: true }));

  const cases: [string, string[]][] = [
    ['--version', ['--version']],
    ['-V', ['-V']],
    ['--version with an argument (not the launcher\'s shortcut)', ['--version', 'x']],
    ['report --version', ['report', '--version']],
    ['report (text)', ['report', 'captures/nfsv3-errors.pcap']],
    ['report --format json', ['report', '--format', 'json', 'captures/nfsv41-pynfs-errors.pcap']],
    ['findings', ['findings', 'captures/nfsv4-grace-restart.pcap']],
    ['calls', ['calls', '--format', 'jsonl', 'captures/linux-v3-basic-head.pcap']],
    ['a missing file', ['report', 'captures/no-such-file.pcap']],
    ['bad usage', ['report', '--format', 'xml', 'captures/nfsv3-errors.pcap']],
  ];
  for (const [name, args] of cases) {
    it(`${name}: same output and exit status as the unbundled CLI`, () => {
      const a = run(CLI, args);
      const b = run(bundle, args);
      expect(b.status).toBe(a.status);
      expect(b.stdout).toBe(a.stdout);
      expect(b.stderr).toBe(a.stderr);
      expect(a.stdout.length + a.stderr.length).toBeGreaterThan(0);
    });
  }

  it('with the shebang\'s V8 flags (its own code cache), with flags that make V8 refuse the cache, and run through a symlink (as npm installs it): the same', () => {
    const args = ['report', 'captures/nfsv3-errors.pcap'];
    const a = run(CLI, args);
    const shebangFlags = readFileSync(bundle, 'utf8').split('\n', 1)[0]!.replace(/^.*\bnode\b/, '').trim().split(/\s+/).filter(Boolean);
    expect(shebangFlags.length).toBeGreaterThan(0);
    const link = join(tempDir(), 'nfsight');
    symlinkSync(bundle, link);
    for (const [script, flags] of [
      [bundle, shebangFlags],
      [bundle, ['--no-opt']],
      [link, []],
    ] as const) {
      const b = run(script, args, [...flags]);
      expect([b.status, b.stdout, b.stderr], `${script} ${flags.join(' ')}`).toEqual([a.status, a.stdout, a.stderr]);
    }
    // Run as npm's bin link is, by its shebang.
    const direct = spawnSync(link, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', COLUMNS: '100' } });
    expect([direct.status, direct.stdout, direct.stderr]).toEqual([a.status, a.stdout, a.stderr]);
    const v = spawnSync(link, ['--version'], { encoding: 'utf8' });
    expect([v.status, v.stdout, v.stderr]).toEqual([0, `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`, '']);
  });

  it('a report to a pipe, a file or /dev/null loads none of Node\'s streams (written with writeSync), and ends quietly when the pipe closes', () => {
    const dir = tempDir();
    // Preloaded: at exit, says whether Node's writable streams were loaded.
    const probe = join(dir, 'probe.cjs');
    writeFileSync(probe, "process.on('exit', () => require('fs').writeSync(2, 'streams: ' + process.moduleLoadList.some((m) => m.endsWith('internal/streams/writable')) + '\\n'));\n");
    const args = [bundle, 'report', 'captures/nfsv3-errors.pcap'];
    const env = { ...process.env, NO_COLOR: '1', COLUMNS: '100' };
    const pipe = spawnSync(process.execPath, ['-r', probe, ...args], { cwd: ROOT, encoding: 'utf8', env });
    const fd = openSync(join(dir, 'out.txt'), 'w');
    const file = spawnSync(process.execPath, ['-r', probe, ...args], { cwd: ROOT, encoding: 'utf8', env, stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    const devNull = spawnSync(process.execPath, ['-r', probe, ...args], { cwd: ROOT, encoding: 'utf8', env, stdio: ['ignore', 'ignore', 'pipe'] });
    const unbundled = run(CLI, ['report', 'captures/nfsv3-errors.pcap']);
    expect(pipe.stdout).toBe(unbundled.stdout);
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe(unbundled.stdout);
    for (const r of [pipe, file, devNull]) expect([r.status, r.stderr]).toEqual([unbundled.status, 'streams: false\n']);
    // The reader goes away after the first line: status 0, nothing on stderr.
    const head = spawnSync('sh', ['-c', `"${process.execPath}" "${bundle}" calls captures/linux-v3-basic-head.pcap | head -1`], { cwd: ROOT, encoding: 'utf8', env });
    expect([head.status, head.stdout.split('\n').length, head.stderr]).toEqual([0, 2, '']);
  });

  it('report --format html: the same page, its script reprinted by the bundler (the chart library found from the bundle too)', () => {
    const dir = tempDir();
    const a = run(CLI, ['report', '--format', 'html', 'captures/nfsv3-errors.pcap', '-o', join(dir, 'a.html')]);
    const b = run(bundle, ['report', '--format', 'html', 'captures/nfsv3-errors.pcap', '-o', join(dir, 'b.html')]);
    expect([a.status, b.status]).toEqual([0, 0]);
    const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
    // The page's own code is a function's source text (pageMain.toString()),
    // which the bundler reprints: everything else is byte for byte the same.
    const PAGE_MAIN = /^<script>\((.*)\)\(JSON\.parse\(document\.getElementById\('nfsight-data'\)\.textContent\), uPlot\);<\/script>$/ms;
    const [pa, pb] = [read('a.html'), read('b.html')];
    const [ma, mb] = [PAGE_MAIN.exec(pa), PAGE_MAIN.exec(pb)];
    expect(ma).not.toBeNull();
    expect(mb).not.toBeNull();
    expect(pb.replace(mb![1]!, '')).toBe(pa.replace(ma![1]!, ''));
    expect(pa).toContain('uPlot');
    // The reprinted code is still one function expression.
    expect(() => new Function(`return (${mb![1]!});`)).not.toThrow();
  });
});

describe('the bundled library (the package entry, dist/nfsight.mjs)', () => {
  it('is what the package exports, exports what src/index.ts does, and gives the same reports and renderings', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; exports: { '.': { default: string } }; files: string[] };
    expect([pkg.main, pkg.exports['.'].default]).toEqual(['dist/nfsight.mjs', './dist/nfsight.mjs']);
    expect(pkg.files).toContain('dist/nfsight.mjs');
    // Bundled afresh by the build's own script into a folder of its own (the beforeAll above is another describe's).
    mkdirSync(join(ROOT, 'dist', 'bundle-test'), { recursive: true });
    const dir = mkdtempSync(join(ROOT, 'dist', 'bundle-test', 'lib-'));
    try {
      const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), join(dir, 'nfsight.cjs')], { encoding: 'utf8' });
      expect(b.status, b.stderr).toBe(0);
      const source = await import('../src/index.js');
      const bundled = (await import(pathToFileURL(join(dir, 'nfsight.mjs')).href)) as typeof source;
      expect(Object.keys(bundled).sort()).toEqual(Object.keys(source).sort());
      for (const name of ['nfsv3-errors.pcap', 'nfsv4-grace-restart.pcap', 'linux-v42-basic-head.pcap']) {
        const file = join(ROOT, 'captures', name);
        const [a, c] = [await source.analyze(file), await bundled.analyze(file)];
        // Peak bytes depend on the heap of the moment; everything else must match.
        a.memory.peakBytes = c.memory.peakBytes = 0;
        expect(JSON.stringify(c), name).toBe(JSON.stringify(a));
        expect(bundled.renderReportText(c, { width: 100 }), name).toBe(source.renderReportText(a, { width: 100 }));
        expect([...bundled.jsonChunks(c)].join(''), name).toBe([...source.jsonChunks(a)].join(''));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
