/** Runs a script in-process as its CLI would, capturing what it prints. */
import { runScript, type Options, type ScriptContext, type ScriptSpec } from '../../scripts/lib/cli';

export interface ScriptRun {
  code: number;
  stdout: string[];
  stderr: string[];
}

/**
 * The script with the test process's environment plus `env` (a value of `undefined`
 * removes a variable). The script reads that environment once, as a value: nothing in
 * `process.env` changes.
 */
export async function runScriptInProcess<O extends Options>(
  script: { spec: ScriptSpec<O>; main: (context: ScriptContext<O>) => Promise<number | void> },
  argv: string[] = [],
  env: Record<string, string | undefined> = {},
): Promise<ScriptRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const scriptEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete scriptEnv[key];
    else scriptEnv[key] = value;
  }
  const code = await runScript(script.spec, argv, script.main, { log: (line) => stdout.push(line), error: (line) => stderr.push(line) }, scriptEnv);
  return { code, stdout, stderr };
}
