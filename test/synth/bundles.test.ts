/**
 * The bundler (infrastructure/bundling/bundle.ts): what each bundle holds, zips that are the
 * same bytes wherever and whenever they are made, and a pass that is skipped only when none
 * of its inputs changed.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { FUNCTIONS } from '../../functions/catalog';
import { bundleFunctions, REPO_ROOT } from '../../infrastructure/bundling/bundle';
import { CACHE_DIR } from '../../local/services/pglite-snapshot';
import { sharedBundles } from '../support/bundles';

const run = promisify(execFile);

/** Each central-directory entry of a zip: name, Unix mode, DOS date and time. */
function centralDirectory(zip: Buffer): { name: string; mode: number; dosDate: number; dosTime: number }[] {
  const entries = [];
  for (let at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); at >= 0; at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 46)) {
    const nameLength = zip.readUInt16LE(at + 28);
    entries.push({
      name: zip.subarray(at + 46, at + 46 + nameLength).toString(),
      mode: zip.readUInt32LE(at + 38) >>> 16,
      dosTime: zip.readUInt16LE(at + 12),
      dosDate: zip.readUInt16LE(at + 14),
    });
  }
  return entries;
}

describe('what each bundle holds', () => {
  it('gives pg (a file beside the bundle, loaded on a miss) and the Secrets Manager client only to the functions that read users', () => {
    const { bundles } = sharedBundles();
    for (const fn of FUNCTIONS) {
      const bundle = bundles[fn.name]!;
      const packages = bundle.packages.map(([name]) => name);
      expect({
        fn: fn.name,
        pgInBundle: packages.includes('pg'),
        lazyFiles: bundle.lazyFiles,
        secrets: packages.includes('@aws-sdk/client-secrets-manager'),
      }).toEqual({
        fn: fn.name,
        pgInBundle: false,
        lazyFiles: fn.usersDatabase ? ['pg.mjs'] : [],
        secrets: fn.usersDatabase === true,
      });
      expect(packages).toContain('(ours)');
      if (fn.usersDatabase) expect(readFileSync(bundle.file, 'utf8')).toContain('import("./pg.mjs")');
    }
  });

  it('zips exactly the bundle, the files it loads lazily and their maps, world-readable, dated 2000-01-01 00:00 whatever the time zone', () => {
    const { bundles } = sharedBundles();
    for (const fn of FUNCTIONS) {
      const bundle = bundles[fn.name]!;
      const zip = readFileSync(bundle.zipFile);
      const DOS_2000_01_01 = ((2000 - 1980) << 9) | (1 << 5) | 1;
      const names = ['index.mjs', ...(fn.usersDatabase ? ['pg.mjs'] : [])].flatMap((name) => [name, `${name}.map`]);
      expect(centralDirectory(zip)).toEqual(names.map((name) => ({ name, mode: 0o100644, dosDate: DOS_2000_01_01, dosTime: 0 })));
      const files = unzipSync(zip);
      for (const name of names)
        expect({ name, same: Buffer.from(files[name]!).equals(readFileSync(path.join(bundle.dir, name))) }).toEqual({ name, same: true });
    }
  });
});

describe('a pass that does only what changed', () => {
  // A function of its own, so editing its source touches nothing of the repository.
  const dir = path.join(CACHE_DIR, `bundle-test-${process.pid}`);
  const entryFile = path.join(dir, 'entry.ts');
  const distDir = path.join(dir, 'dist');
  const fn = { name: 'probe', entry: path.relative(REPO_ROOT, entryFile) };
  const write = (text: string) => writeFileSync(entryFile, `export const handler = async () => ${JSON.stringify(text)};\n`);

  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    write('one');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('skips esbuild and the zip when no input changed, and redoes both when one did', async () => {
    // Act
    const first = (await bundleFunctions(distDir, [fn])).probe!;
    const firstWritten = statSync(first.file).mtimeMs;
    const again = (await bundleFunctions(distDir, [fn])).probe!;
    const againWritten = statSync(first.file).mtimeMs;
    write('two');
    const changed = (await bundleFunctions(distDir, [fn])).probe!;

    // Assess
    expect(again).toEqual(first);
    expect(againWritten).toBe(firstWritten);
    expect(readFileSync(changed.file, 'utf8')).toContain('"two"');
    expect(changed.zipSha256).not.toBe(first.zipSha256);
    expect(changed.zipFile).not.toBe(first.zipFile);
  });

  it('makes the same zip, byte for byte, when forced to rebuild, in a process in another time zone', async () => {
    // Prepare
    write('same');
    const before = (await bundleFunctions(distDir, [fn], { force: true })).probe!;
    rmSync(before.zipFile);

    // Act: Kiritimati is 14 hours ahead of UTC.
    const script = `require(${JSON.stringify(path.join(REPO_ROOT, 'infrastructure/bundling/bundle.ts'))}).bundleFunctions(${JSON.stringify(distDir)}, [${JSON.stringify(fn)}], { force: true }).then((r) => console.log(r.probe.zipSha256))`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, TZ: 'Pacific/Kiritimati' }, cwd: REPO_ROOT });

    // Assess
    expect(stdout.trim()).toBe(before.zipSha256);
    expect(readFileSync(before.zipFile).length).toBeGreaterThan(0);
  });
});
