/** Reading settings from the environment once, at cold start, with clear errors. */
import { ConfigurationError } from '../errors';

/** The value of a required environment variable. @throws ConfigurationError when unset or empty. */
export function getStringFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`Environment variable ${name} is required but not set`);
  }
  return value;
}

/** An optional environment variable, or the fallback. */
export function getOptionalStringFromEnv(name: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value;
}

/** A TCP port from the environment, or the fallback. @throws ConfigurationError for anything but 1–65535. */
export function getPortFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigurationError(`Environment variable ${name} must be a port number (1-65535), got "${raw}"`);
  }
  return port;
}
