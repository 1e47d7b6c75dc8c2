/**
 * Starts the local services of the registry together, each on its port, in parallel (the
 * JVM of DynamoDB Local and the WASM compile of PostgreSQL each take seconds on their own).
 * A service given by URL (`external`, e.g. a PostgreSQL of `DATABASE_URL`) is used instead
 * of started.
 */
import path from 'node:path';
import { assertPortFree, type RunningService } from './process';
import { LOCAL_SERVICE_NAMES, LOCAL_SERVICES, type LocalServiceName, type ServicePorts } from './registry';

export interface LocalServicesOptions {
  ports: ServicePorts;
  /** Persist under this directory (`.data`), a subdirectory per service; in memory otherwise. */
  dataDir?: string;
  /** Where services that always need a directory keep their files when nothing is persisted. */
  scratchDir: string;
  /** Services already running elsewhere, by URL. */
  external?: Partial<Record<LocalServiceName, string>>;
  onProgress?: (line: string) => void;
  /** Cancels the start-up: whatever started is stopped and the promise rejects. */
  signal?: AbortSignal;
}

export type LocalServices = Record<LocalServiceName, RunningService> & { stop(): Promise<void> };

const withoutCredentials = (url: string) => url.replace(/\/\/[^@]*@/, '//');

export async function startLocalServices(options: LocalServicesOptions): Promise<LocalServices> {
  const progress = options.onProgress ?? (() => {});
  const external = options.external ?? {};
  progress(
    `Starting ${LOCAL_SERVICE_NAMES.map((name) =>
      external[name]
        ? `the ${LOCAL_SERVICES[name].label} at ${withoutCredentials(external[name]!)}`
        : `${LOCAL_SERVICES[name].label} (port ${options.ports[name]})`,
    ).join(', ')}...`,
  );
  const start = async (name: LocalServiceName): Promise<RunningService> => {
    const service = LOCAL_SERVICES[name];
    const url = external[name];
    if (url !== undefined) return { url, stop: async () => {} };
    const began = Date.now();
    await assertPortFree(options.ports[name], service);
    const dataDir = options.dataDir ? path.join(options.dataDir, name) : service.inMemory ? undefined : path.join(options.scratchDir, name);
    const running = await service.start({ port: options.ports[name], dataDir, signal: options.signal });
    progress(`  ${service.label} up at ${withoutCredentials(running.url)} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
    return running;
  };
  const results = await Promise.allSettled(LOCAL_SERVICE_NAMES.map(start));
  const running = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  // Stop in reverse order; one failure must not leave the others running.
  const stop = async () => void (await Promise.allSettled([...running].reverse().map((service) => service.stop())));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const byName = Object.fromEntries(LOCAL_SERVICE_NAMES.map((name, index) => [name, (results[index] as PromiseFulfilledResult<RunningService>).value]));
  return { ...(byName as Record<LocalServiceName, RunningService>), stop };
}
