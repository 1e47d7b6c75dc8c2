// Jest transform: TypeScript to CommonJS with esbuild (ts-jest needs the TypeScript 5 API
// and is slow; type-checking is `npm run typecheck`'s job, not the test run's).
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { transformSync, version } = require('esbuild');

/** Changes with this file and esbuild's version, so Jest's cache never serves output of another transform. */
const TRANSFORM_KEY = createHash('sha256').update(readFileSync(__filename)).update(version).digest('hex');

module.exports = {
  getCacheKey(source, filename) {
    return createHash('sha256').update(TRANSFORM_KEY).update(filename).update(source).digest('hex');
  },
  process(source, filename) {
    const result = transformSync(source, {
      loader: filename.endsWith('.ts') ? 'ts' : 'js',
      format: 'cjs',
      target: 'node20',
      // import() becomes require() (Jest's module system runs CommonJS; it has no dynamic import without a flag).
      supported: { 'dynamic-import': false },
      sourcemap: 'inline',
      sourcefile: filename,
    });
    return { code: result.code };
  },
};
