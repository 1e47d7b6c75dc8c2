/**
 * `npm run reset`: deletes the local data directory (`.data/`, or `CRUDDUR_DATA_DIR`):
 * tables, users, the user pool, the stream checkpoint and dead letters. The next
 * `npm start` seeds everything afresh. Refuses while `npm start` is using the directory.
 */
import { runAsMain, UsageError, type ScriptContext, type ScriptSpec, type NoOptions } from './lib/cli';
import { DataDirInUseError, localDataDir, wipeDataDir } from '../local/paths';

export const spec: ScriptSpec<NoOptions> = {
  name: 'reset',
  summary: 'Delete all local data (.data/, or CRUDDUR_DATA_DIR); the next npm start seeds afresh. Stop npm start first.',
};

export async function main({ prod, env, out }: ScriptContext<NoOptions>): Promise<number> {
  if (prod) throw new UsageError('reset deletes local data only; it never touches AWS');
  const dataDir = localDataDir(env);
  try {
    out.log(wipeDataDir(dataDir) ? `Deleted ${dataDir}` : `Nothing to delete: ${dataDir} does not exist`);
    return 0;
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error;
    out.error(`reset: ${error.message}`);
    return 1;
  }
}

if (require.main === module) runAsMain(spec, main);
