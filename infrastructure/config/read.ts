/**
 * How the settings modules read a `CRUDDUR_*` variable: every refusal is a
 * ConfigurationError that starts with the variable's name, so the message says what to fix.
 */
import { ConfigurationError } from '../../functions/errors';

export function fail(name: string, message: string): never {
  throw new ConfigurationError(`${name}: ${message}`);
}

/** The value when it matches `pattern`. @throws ConfigurationError saying which shape was expected. */
export function matching(name: string, value: string, pattern: RegExp, shape: string): string {
  if (!pattern.test(value)) fail(name, `expected ${shape}, got "${value}"`);
  return value;
}

/** The variable's trimmed value, or undefined when it is unset or blank. */
export function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

/** `1` or `0` (the default). */
export function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const text = value(env, name) ?? '0';
  if (text !== '0' && text !== '1') fail(name, `expected 1 or 0, got "${text}"`);
  return text === '1';
}

/** One of `choices`, the first being the default. */
export function choice<T extends string>(env: NodeJS.ProcessEnv, name: string, choices: readonly [T, ...T[]]): T {
  const text = value(env, name) ?? choices[0];
  if (!(choices as readonly string[]).includes(text)) fail(name, `expected ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}, got "${text}"`);
  return text as T;
}
