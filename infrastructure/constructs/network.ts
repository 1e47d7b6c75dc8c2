/**
 * Where the functions run: private subnets without NAT, reaching DynamoDB through a gateway
 * endpoint that is actually associated with their route tables (the original's endpoint had
 * none, defect 9), Secrets Manager through an interface endpoint, and PostgreSQL on 5432.
 * Either a new VPC (two AZs) or an existing VPC, subnets and route tables.
 */
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { DataAwsVpc } from '@cdktf/provider-aws/lib/data-aws-vpc';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { VpcEndpointRouteTableAssociation } from '@cdktf/provider-aws/lib/vpc-endpoint-route-table-association';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import type { ExistingVpc } from '../config';

/** Number of AZs (and private subnets) of a new VPC. */
const AVAILABILITY_ZONES = 2;
const HTTPS = 443;
const POSTGRES = 5432;

interface Placement {
  vpcId: string;
  cidrBlock: string;
  subnetIds: string[];
  routeTableIds: string[];
}

export interface NetworkOptions {
  /** Prefix of resource names, e.g. `cruddur-dev`. */
  namePrefix: string;
  region: string;
  /** CIDR of the new VPC; ignored with `existingVpc`. */
  vpcCidr: string;
  /** Use this VPC, its subnets and route tables instead of creating them. */
  existingVpc?: ExistingVpc;
  /** Security group of the users database; without it, 5432 is allowed to the VPC's CIDR. */
  databaseSecurityGroupId?: string;
}

export class Network extends Construct {
  public readonly vpcId: string;
  /** Subnets the functions (and the Secrets Manager endpoint) live in. */
  public readonly privateSubnetIds: string[];
  /** Route tables of those subnets, each associated with the DynamoDB gateway endpoint. */
  public readonly routeTableIds: string[];
  /** The functions' security group: egress to the endpoints and the database only. */
  public readonly functionSecurityGroupId: string;
  public readonly dynamoDbEndpoint: VpcEndpoint;
  public readonly secretsManagerEndpoint: VpcEndpoint;

  constructor(scope: Construct, id: string, options: NetworkOptions) {
    super(scope, id);
    const { namePrefix, region } = options;
    const placement = options.existingVpc ? this.adoptVpc(options.existingVpc) : this.createVpc(options);
    this.vpcId = placement.vpcId;
    this.privateSubnetIds = placement.subnetIds;
    this.routeTableIds = placement.routeTableIds;
    const vpcCidr = placement.cidrBlock;

    const dynamoDbEndpoint = new VpcEndpoint(this, 'dynamodb-endpoint', {
      vpcId: this.vpcId,
      serviceName: `com.amazonaws.${region}.dynamodb`,
      vpcEndpointType: 'Gateway',
      tags: { Name: `${namePrefix}-dynamodb` },
    });
    // One association resource per route table (not the endpoint's route_table_ids), so
    // route tables that are not ours can be associated without owning the endpoint's list.
    this.routeTableIds.forEach((routeTableId, index) => {
      new VpcEndpointRouteTableAssociation(this, `dynamodb-endpoint-route-table-${index}`, {
        vpcEndpointId: dynamoDbEndpoint.id,
        routeTableId,
      });
    });
    this.dynamoDbEndpoint = dynamoDbEndpoint;

    const functionSecurityGroup = new SecurityGroup(this, 'function-security-group', {
      name: `${namePrefix}-functions`,
      description: 'Cruddur messaging functions: egress to the VPC endpoints and the users database only',
      vpcId: this.vpcId,
      tags: { Name: `${namePrefix}-functions` },
    });
    const endpointSecurityGroup = new SecurityGroup(this, 'endpoint-security-group', {
      name: `${namePrefix}-endpoints`,
      description: 'Interface VPC endpoints: HTTPS from the Cruddur functions',
      vpcId: this.vpcId,
      tags: { Name: `${namePrefix}-endpoints` },
    });
    this.functionSecurityGroupId = functionSecurityGroup.id;

    new VpcSecurityGroupEgressRule(this, 'functions-to-dynamodb', {
      securityGroupId: functionSecurityGroup.id,
      description: 'DynamoDB through the gateway endpoint',
      ipProtocol: 'tcp',
      fromPort: HTTPS,
      toPort: HTTPS,
      prefixListId: dynamoDbEndpoint.prefixListId,
    });
    new VpcSecurityGroupEgressRule(this, 'functions-to-endpoints', {
      securityGroupId: functionSecurityGroup.id,
      description: 'Interface endpoints (Secrets Manager)',
      ipProtocol: 'tcp',
      fromPort: HTTPS,
      toPort: HTTPS,
      referencedSecurityGroupId: endpointSecurityGroup.id,
    });
    new VpcSecurityGroupIngressRule(this, 'endpoints-from-functions', {
      securityGroupId: endpointSecurityGroup.id,
      description: 'HTTPS from the Cruddur functions',
      ipProtocol: 'tcp',
      fromPort: HTTPS,
      toPort: HTTPS,
      referencedSecurityGroupId: functionSecurityGroup.id,
    });

    if (options.databaseSecurityGroupId) {
      new VpcSecurityGroupEgressRule(this, 'functions-to-database', {
        securityGroupId: functionSecurityGroup.id,
        description: 'PostgreSQL (users database)',
        ipProtocol: 'tcp',
        fromPort: POSTGRES,
        toPort: POSTGRES,
        referencedSecurityGroupId: options.databaseSecurityGroupId,
      });
      new VpcSecurityGroupIngressRule(this, 'database-from-functions', {
        securityGroupId: options.databaseSecurityGroupId,
        description: `PostgreSQL from the ${namePrefix} messaging functions`,
        ipProtocol: 'tcp',
        fromPort: POSTGRES,
        toPort: POSTGRES,
        referencedSecurityGroupId: functionSecurityGroup.id,
      });
    } else {
      new VpcSecurityGroupEgressRule(this, 'functions-to-database', {
        securityGroupId: functionSecurityGroup.id,
        description: 'PostgreSQL (users database) inside the VPC',
        ipProtocol: 'tcp',
        fromPort: POSTGRES,
        toPort: POSTGRES,
        cidrIpv4: vpcCidr,
      });
    }

    this.secretsManagerEndpoint = new VpcEndpoint(this, 'secretsmanager-endpoint', {
      vpcId: this.vpcId,
      serviceName: `com.amazonaws.${region}.secretsmanager`,
      vpcEndpointType: 'Interface',
      privateDnsEnabled: true,
      subnetIds: this.privateSubnetIds,
      securityGroupIds: [endpointSecurityGroup.id],
      tags: { Name: `${namePrefix}-secretsmanager` },
    });
  }

  /** A new VPC with one private subnet and route table per AZ. */
  private createVpc(options: NetworkOptions): Placement {
    const { namePrefix } = options;
    const vpc = new Vpc(this, 'vpc', {
      cidrBlock: options.vpcCidr,
      // Private DNS of interface endpoints needs both.
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: namePrefix },
    });
    // The default security group allows all traffic between its members; nothing uses it, so empty it.
    new DefaultSecurityGroup(this, 'default-security-group', { vpcId: vpc.id, tags: { Name: `${namePrefix}-default-unused` } });
    const zones = new DataAwsAvailabilityZones(this, 'zones', {
      state: 'available',
      filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }],
    });
    const subnetIds: string[] = [];
    const routeTableIds: string[] = [];
    for (let index = 0; index < AVAILABILITY_ZONES; index++) {
      const subnet = new Subnet(this, `private-subnet-${index}`, {
        vpcId: vpc.id,
        availabilityZone: Fn.element(zones.names, index),
        cidrBlock: Fn.cidrsubnet(vpc.cidrBlock, 4, index),
        mapPublicIpOnLaunch: false,
        tags: { Name: `${namePrefix}-private-${index}`, Tier: 'private' },
      });
      // No internet or NAT route: the functions reach AWS services through endpoints only.
      const routeTable = new RouteTable(this, `private-route-table-${index}`, {
        vpcId: vpc.id,
        tags: { Name: `${namePrefix}-private-${index}` },
      });
      new RouteTableAssociation(this, `private-route-table-association-${index}`, {
        subnetId: subnet.id,
        routeTableId: routeTable.id,
      });
      subnetIds.push(subnet.id);
      routeTableIds.push(routeTable.id);
    }
    return { vpcId: vpc.id, cidrBlock: vpc.cidrBlock, subnetIds, routeTableIds };
  }

  /** The configured VPC, subnets and route tables (the CIDR is looked up). */
  private adoptVpc(existing: ExistingVpc): Placement {
    const vpc = new DataAwsVpc(this, 'vpc', { id: existing.vpcId });
    return { vpcId: existing.vpcId, cidrBlock: vpc.cidrBlock, subnetIds: [...existing.subnetIds], routeTableIds: [...existing.routeTableIds] };
  }
}
