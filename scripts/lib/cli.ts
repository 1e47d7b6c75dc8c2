/**
 * The frame every script runs in: `--help`, `--prod` (as the original's Python scripts parsed it with argparse),
 * the targets read from the environment once, clear one-line errors instead of stack
 * traces, and a non-zero exit on failure.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AppError } from '../../functions/errors';
import { describeConnectionFailure, resolveTargets, type Targets } from './targets';

// The lockfile pins SDK versions that support Node 20 (the README's minimum); the SDK's
// notice about future versions would otherwise open every script's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** A script without options of its own (besides --prod and --help). */
export type NoOptions = Record<string, never>;

export interface ScriptSpec<O extends Options> {
  /** The npm script name, e.g. `ddb:seed`. */
  name: string;
  summary: string;
  /** Extra options besides --prod and --help. */
  options?: O;
  /** Lines describing positionals and options, shown by --help. */
  usage?: string[];
  allowPositionals?: boolean;
}

/** What a script writes; tests pass their own to read it. */
export interface Output {
  log(line: string): void;
  error(line: string): void;
}

export const consoleOutput: Output = { log: (line) => console.log(line), error: (line) => console.error(line) };

export interface ScriptContext<O extends Options> {
  prod: boolean;
  /** Where the script points (the environment, read once). */
  targets: Targets;
  /** The environment the script was started with, for settings of its own. */
  env: NodeJS.ProcessEnv;
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  positionals: string[];
  out: Output;
}

/** Thrown for bad command-line usage; exits with 2 like other CLIs. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A one-line explanation of a failure, for people. */
export function describeError(error: unknown, targets?: Pick<Targets, 'ports'>): string {
  const connection = targets === undefined ? undefined : describeConnectionFailure(error, targets.ports);
  if (connection) return connection;
  if (error instanceof UsageError || error instanceof AppError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Parses `argv` and runs `main`; returns the exit code instead of exiting, so tests can
 * run a script in-process.
 */
export async function runScript<O extends Options>(
  spec: ScriptSpec<O>,
  argv: string[],
  main: (context: ScriptContext<O>) => Promise<number | void>,
  out: Output = consoleOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let context: ScriptContext<O>;
  let parsedArgs: { values: Record<string, unknown>; positionals: string[] };
  try {
    const parsed = parseArgs({
      args: argv,
      options: { ...spec.options, prod: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: spec.allowPositionals ?? false,
      strict: true,
    });
    if (parsed.values.help) {
      out.log(helpText(spec));
      return 0;
    }
    parsedArgs = parsed;
  } catch (error) {
    out.error(`${spec.name}: ${(error as Error).message}\nRun with --help for usage.`);
    return 2;
  }
  try {
    const prod = Boolean(parsedArgs.values.prod);
    context = {
      prod,
      targets: resolveTargets(prod, env),
      env,
      values: parsedArgs.values as ScriptContext<O>['values'],
      positionals: parsedArgs.positionals,
      out,
    };
  } catch (error) {
    out.error(`${spec.name}: ${describeError(error)}`);
    return 1;
  }
  try {
    return (await main(context)) ?? 0;
  } catch (error) {
    out.error(`${spec.name}: ${describeError(error, context.targets)}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

function helpText(spec: ScriptSpec<Options>): string {
  return [
    `npm run ${spec.name} -- [options]`,
    '',
    spec.summary,
    '',
    'Options:',
    ...(spec.usage ?? []).map((line) => `  ${line}`),
    '  --prod        target AWS (credentials and region from the usual AWS settings) instead of the local services',
    '  -h, --help    show this help',
  ].join('\n');
}

/** Runs a script as the process's main module and exits with its code. */
export function runAsMain<O extends Options>(spec: ScriptSpec<O>, main: (context: ScriptContext<O>) => Promise<number | void>): void {
  runScript(spec, process.argv.slice(2), main).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`${spec.name}: ${describeError(error)}`);
      process.exit(1);
    },
  );
}
