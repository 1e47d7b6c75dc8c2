/** `cruddur-{env}-network`: the VPC placement of the functions. */
import type { Construct } from 'constructs';
import { TerraformOutput, TerraformStack } from 'cdktf';
import type { CruddurConfig } from '../config';
import { Network } from '../constructs/network';
import { awsProvider } from './aws-provider';

export class NetworkStack extends TerraformStack {
  public readonly network: Network;

  constructor(scope: Construct, id: string, config: CruddurConfig) {
    super(scope, id);
    awsProvider(this, config);
    this.network = new Network(this, 'network', { namePrefix: config.namePrefix, region: config.region, settings: config.network });
    new TerraformOutput(this, 'vpc_id', { value: this.network.vpcId });
    new TerraformOutput(this, 'function_security_group_id', { value: this.network.functionSecurityGroupId });
  }
}
