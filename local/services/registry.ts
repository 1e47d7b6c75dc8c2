/**
 * The local services, one entry each: how it is named to people, which environment variable
 * moves its port, the URL clients use, and how it starts. `npm start`, the tests, the
 * benchmarks, the soak and the scripts' error messages all read this registry, so a new
 * service is a file beside this one and an entry here.
 */
import { startCognitoLocal } from './cognito';
import { startDynamoDbLocal } from './dynamodb';
import { startEmbeddedPostgres } from './postgres';
import { getPortFromEnv } from '../../functions/config/environment';
import { LOCAL_HOST, type RunningService } from './process';

interface ServiceStartOptions {
  port: number;
  /** Where to keep its data; undefined keeps it in memory when it can. */
  dataDir?: string;
  /** Cancels the start-up. */
  signal?: AbortSignal;
}

export interface LocalServiceDefinition {
  label: string;
  envVar: string;
  defaultPort: number;
  /** The URL the scripts use for the service at `port`. */
  clientUrl(port: number): string;
  /** False: it always needs a directory (a scratch one when nothing is kept). */
  inMemory: boolean;
  start(options: ServiceStartOptions): Promise<RunningService>;
}

export const LOCAL_SERVICES = {
  dynamodb: {
    label: 'DynamoDB Local',
    envVar: 'DYNAMODB_PORT',
    defaultPort: 8000,
    clientUrl: (port) => `http://localhost:${port}`,
    inMemory: true,
    start: startDynamoDbLocal,
  },
  postgres: {
    label: 'PostgreSQL',
    envVar: 'POSTGRES_PORT',
    defaultPort: 5433,
    clientUrl: (port) => `postgresql://postgres:postgres@${LOCAL_HOST}:${port}/postgres`,
    inMemory: true,
    start: startEmbeddedPostgres,
  },
  cognito: {
    label: 'Cognito (cognito-local)',
    envVar: 'COGNITO_PORT',
    defaultPort: 9229,
    clientUrl: (port) => `http://localhost:${port}`,
    inMemory: false,
    start: (options) => startCognitoLocal({ ...options, dataDir: options.dataDir! }),
  },
} as const satisfies Record<string, LocalServiceDefinition>;

export type LocalServiceName = keyof typeof LOCAL_SERVICES;
export type ServicePorts = Record<LocalServiceName, number>;

export const LOCAL_SERVICE_NAMES = Object.keys(LOCAL_SERVICES) as LocalServiceName[];

/** Every service's port, from its environment variable or the default. */
export function localPorts(env: NodeJS.ProcessEnv): ServicePorts {
  return Object.fromEntries(
    LOCAL_SERVICE_NAMES.map((name) => [name, getPortFromEnv(LOCAL_SERVICES[name].envVar, LOCAL_SERVICES[name].defaultPort, env)]),
  ) as ServicePorts;
}

/** The URLs the scripts use for services at these ports. */
export function localEndpoints(ports: ServicePorts): Record<LocalServiceName, string> {
  return Object.fromEntries(LOCAL_SERVICE_NAMES.map((name) => [name, LOCAL_SERVICES[name].clientUrl(ports[name])])) as Record<LocalServiceName, string>;
}
