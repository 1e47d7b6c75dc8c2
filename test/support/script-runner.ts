/** Runs a script in-process as its CLI would, capturing what it prints. */
import { runScript, type Options, type ScriptContext, type ScriptSpec } from '../../scripts/lib/cli';

export interface ScriptRun {
  code: number;
  stdout: string[];
  stderr: string[];
}

export async function runScriptInProcess<O extends Options>(
  script: { spec: ScriptSpec<O>; main: (context: ScriptContext<O>) => Promise<number | void> },
  argv: string[] = [],
  env: Record<string, string | undefined> = {},
): Promise<ScriptRun> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const stdout: string[] = [];
  const stderr: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    const code = await runScript(script.spec, argv, script.main, { log: (line) => stdout.push(line), error: (line) => stderr.push(line) });
    return { code, stdout, stderr };
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
