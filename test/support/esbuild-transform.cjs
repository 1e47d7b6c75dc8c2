// Jest transform: TypeScript to CommonJS with esbuild (ts-jest needs the TypeScript 5 API
// and is slow; type-checking is `npm run typecheck`'s job, not the test run's).
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const result = transformSync(source, {
      loader: filename.endsWith('.ts') ? 'ts' : 'js',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      sourcefile: filename,
    });
    return { code: result.code };
  },
};
