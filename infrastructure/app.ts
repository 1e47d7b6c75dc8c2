/**
 * The whole deployment of one environment: three stacks wired by passing construct fields,
 * and the bundling that has to happen before them.
 */
import type { Construct } from 'constructs';
import type { CruddurConfig } from './config';
import type { FunctionBundles } from './bundling/bundle';
import { AppStack } from './stacks/app-stack';
import { LambdasStack } from './stacks/lambdas-stack';
import { NetworkStack } from './stacks/network-stack';

export interface CruddurStacks {
  network: NetworkStack;
  app: AppStack;
  lambdas: LambdasStack;
}

/** Stack names carry the environment: `cruddur-dev-network`, `cruddur-dev-app`, `cruddur-dev-lambdas`. */
export function stackNames(config: CruddurConfig) {
  return {
    network: `${config.namePrefix}-network`,
    app: `${config.namePrefix}-app`,
    lambdas: `${config.namePrefix}-lambdas`,
  };
}

/** The environment's stacks in `scope` (an App). */
export function buildStacks(scope: Construct, config: CruddurConfig, bundles: FunctionBundles): CruddurStacks {
  const names = stackNames(config);
  const network = new NetworkStack(scope, names.network, config);
  const app = new AppStack(scope, names.app, config);
  const lambdas = new LambdasStack(scope, names.lambdas, {
    config,
    network: network.network,
    messagesTable: app.messagesTable,
    bundles,
  });
  return { network, app, lambdas };
}
