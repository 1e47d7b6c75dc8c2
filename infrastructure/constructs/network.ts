/**
 * Where the functions run and how they reach what they use: private subnets without NAT,
 * DynamoDB through a gateway endpoint associated with their route tables (the original's
 * endpoint had none, defect 9), Secrets Manager through an interface endpoint, PostgreSQL
 * through exactly one security-group path. The placement is one of the three shapes of
 * `NetworkSettings` (infrastructure/config/network.ts); what the settings cannot know before
 * Terraform runs (zones, DNS attributes, association of an existing endpoint) is checked by
 * Terraform conditions, which fail the plan with a message instead of the apply.
 */
import { Construct } from 'constructs';
import { Fn, Op, TerraformIterator, TerraformLocal, Token, ref, type DynamicListTerraformIterator } from 'cdktf';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { DataAwsDbInstance } from '@cdktf/provider-aws/lib/data-aws-db-instance';
import { DataAwsDbSubnetGroup } from '@cdktf/provider-aws/lib/data-aws-db-subnet-group';
import { DataAwsRouteTable } from '@cdktf/provider-aws/lib/data-aws-route-table';
import { DataAwsRouteTables } from '@cdktf/provider-aws/lib/data-aws-route-tables';
import { DataAwsSubnet } from '@cdktf/provider-aws/lib/data-aws-subnet';
import { DataAwsVpc } from '@cdktf/provider-aws/lib/data-aws-vpc';
import { DataAwsVpcEndpoint } from '@cdktf/provider-aws/lib/data-aws-vpc-endpoint';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { VpcEndpointRouteTableAssociation } from '@cdktf/provider-aws/lib/vpc-endpoint-route-table-association';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import {
  SUBNET_NEWBITS,
  type DatabaseInstanceNetwork,
  type EndpointChoices,
  type ExistingVpcNetwork,
  type NetworkSettings,
  type NewVpcNetwork,
} from '../config/network';

/** Number of AZs (and private subnets) of a new VPC. */
const AVAILABILITY_ZONES = 2;
/**
 * Zones the Secrets Manager endpoint is placed in. It is billed per zone-hour, and the
 * functions read the secret once per cold start, so two zones (for availability) serve
 * functions in any zone: a database subnet group spanning five zones would cost 2.5 times more.
 */
const ENDPOINT_ZONES = 2;
const HTTPS = 443;
const POSTGRES = 5432;

/** How the functions reach the database, once the placement is known. */
type DatabasePath = { kind: 'security-group'; securityGroupId: string; port: number } | { kind: 'cidr'; cidr: string; port: number } | { kind: 'none' };

interface Placement {
  vpcId: string;
  /** Every IPv4 range of the VPC, keyed for for_each; the Secrets Manager endpoint admits them all on 443. */
  vpcCidrs?: DynamicListTerraformIterator;
  subnetIds: string[];
  /** Where the Secrets Manager endpoint goes: one subnet per zone, at most ENDPOINT_ZONES of them. */
  endpointSubnetIds: string[];
  routeTableIds: string[];
  /**
   * The same route tables keyed for `for_each`, whose keys Terraform must know at plan: a new
   * VPC's tables (ids unknown until apply) by their place, the others (read or given) by id.
   */
  routeTablesByKey: Record<string, string>;
  database: DatabasePath;
  endpoints: EndpointChoices;
  /** What the functions need of the subnets (checked at plan on their security group). */
  subnetConditions: Condition[];
  /** What an interface endpoint needs of them besides (one subnet per zone). */
  endpointSubnetConditions: Condition[];
}

interface Condition {
  condition: unknown;
  errorMessage: string;
}
// Conditions compare counts with 1, never 0: CDKTF 0.21's operators render a literal 0 as "undefined".

export interface NetworkOptions {
  /** Prefix of resource names, e.g. `cruddur-dev`. */
  namePrefix: string;
  region: string;
  settings: NetworkSettings;
}

export class Network extends Construct {
  public readonly vpcId: string;
  /** Subnets the functions (and the Secrets Manager endpoint) live in. */
  public readonly privateSubnetIds: string[];
  /** Route tables of those subnets, each associated with the DynamoDB gateway endpoint. */
  public readonly routeTableIds: string[];
  /** The functions' security group: egress to the endpoints and the database only. */
  public readonly functionSecurityGroupId: string;
  /** How the functions reach PostgreSQL (what the synth tests follow). */
  public readonly databasePath: DatabasePath;

  constructor(
    scope: Construct,
    id: string,
    private readonly options: NetworkOptions,
  ) {
    super(scope, id);
    const { namePrefix, settings } = options;
    const placement =
      settings.kind === 'new-vpc' ? this.createVpc(settings) : settings.kind === 'existing-vpc' ? this.adoptVpc(settings) : this.adoptDatabaseVpc(settings);
    this.vpcId = placement.vpcId;
    this.privateSubnetIds = placement.subnetIds;
    this.routeTableIds = placement.routeTableIds;
    this.databasePath = placement.database;

    const functionSecurityGroup = new SecurityGroup(this, 'function-security-group', {
      name: `${namePrefix}-functions`,
      description: 'Cruddur messaging functions: egress to the VPC endpoints and the users database only',
      vpcId: this.vpcId,
      tags: { Name: `${namePrefix}-functions` },
      ...(placement.subnetConditions.length > 0 ? { lifecycle: { precondition: placement.subnetConditions } } : {}),
    });
    this.functionSecurityGroupId = functionSecurityGroup.id;

    this.dynamoDbAccess(placement, functionSecurityGroup);
    this.secretsManagerAccess(placement, functionSecurityGroup);
    this.databaseAccess(placement.database, functionSecurityGroup);
  }

  /** The gateway endpoint (ours, or the VPC's) on every function route table, and egress 443 to its prefix list. */
  private dynamoDbAccess(placement: Placement, functions: SecurityGroup): void {
    const { namePrefix, region } = this.options;
    const serviceName = `com.amazonaws.${region}.dynamodb`;
    let prefixListId: string;
    if (placement.endpoints.dynamoDb === 'create') {
      const endpoint = new VpcEndpoint(this, 'dynamodb-endpoint', {
        vpcId: this.vpcId,
        serviceName,
        vpcEndpointType: 'Gateway',
        tags: { Name: `${namePrefix}-dynamodb` },
      });
      // One association per route table (not the endpoint's route_table_ids), so route tables
      // that are not ours are associated without the endpoint owning their list.
      const routeTables = TerraformIterator.fromMap(placement.routeTablesByKey);
      new VpcEndpointRouteTableAssociation(this, 'dynamodb-endpoint-route-table', {
        forEach: routeTables,
        vpcEndpointId: endpoint.id,
        routeTableId: Token.asString(routeTables.value),
      });
      prefixListId = endpoint.prefixListId;
    } else {
      const existing = new DataAwsVpcEndpoint(this, 'existing-dynamodb-endpoint', {
        vpcId: this.vpcId,
        serviceName,
        filter: [{ name: 'vpc-endpoint-type', values: ['Gateway'] }],
        lifecycle: {
          postcondition: [
            {
              condition: Op.lt(Fn.lengthOf(Fn.setsubtract(placement.routeTableIds, Token.asList(ref('self.route_table_ids')))), 1),
              errorMessage:
                "CRUDDUR_DYNAMODB_ENDPOINT=existing: the VPC's DynamoDB gateway endpoint is not associated with every route table of the functions' subnets; associate it with them, or remove it and use CRUDDUR_DYNAMODB_ENDPOINT=create.",
            },
          ],
        },
      });
      prefixListId = existing.prefixListId;
    }
    new VpcSecurityGroupEgressRule(this, 'functions-to-dynamodb', {
      securityGroupId: functions.id,
      description: 'DynamoDB through the gateway endpoint',
      ipProtocol: 'tcp',
      fromPort: HTTPS,
      toPort: HTTPS,
      prefixListId,
    });
  }

  /**
   * The interface endpoint with private DNS answers `secretsmanager.{region}` for the whole
   * VPC, so in an adopted VPC it admits the VPC's own ranges too: other workloads there keep
   * reaching Secrets Manager. Or the VPC's existing endpoint, which then admits the functions.
   */
  private secretsManagerAccess(placement: Placement, functions: SecurityGroup): void {
    const { namePrefix, region } = this.options;
    const serviceName = `com.amazonaws.${region}.secretsmanager`;
    if (placement.endpoints.secretsManager === 'existing') {
      const existing = new DataAwsVpcEndpoint(this, 'existing-secretsmanager-endpoint', {
        vpcId: this.vpcId,
        serviceName,
        lifecycle: {
          postcondition: [
            {
              condition: ref('self.private_dns_enabled'),
              errorMessage:
                "CRUDDUR_SECRETS_MANAGER_ENDPOINT=existing: the VPC's Secrets Manager endpoint has private DNS off, so the functions would call the public endpoint they cannot reach; turn private DNS on.",
            },
          ],
        },
      });
      const groups = TerraformIterator.fromList(existing.securityGroupIds);
      new VpcSecurityGroupEgressRule(this, 'functions-to-endpoints', {
        forEach: groups,
        securityGroupId: functions.id,
        description: "The VPC's Secrets Manager endpoint",
        ipProtocol: 'tcp',
        fromPort: HTTPS,
        toPort: HTTPS,
        referencedSecurityGroupId: Token.asString(groups.value),
      });
      const admitted = TerraformIterator.fromList(existing.securityGroupIds);
      new VpcSecurityGroupIngressRule(this, 'endpoints-from-functions', {
        forEach: admitted,
        securityGroupId: Token.asString(admitted.value),
        description: `HTTPS from the ${namePrefix} messaging functions`,
        ipProtocol: 'tcp',
        fromPort: HTTPS,
        toPort: HTTPS,
        referencedSecurityGroupId: functions.id,
      });
      return;
    }

    const endpoints = new SecurityGroup(this, 'endpoint-security-group', {
      name: `${namePrefix}-endpoints`,
      description: 'Interface VPC endpoints: HTTPS from the Cruddur functions and the VPC',
      vpcId: this.vpcId,
      tags: { Name: `${namePrefix}-endpoints` },
    });
    new VpcSecurityGroupEgressRule(this, 'functions-to-endpoints', {
      securityGroupId: functions.id,
      description: 'Interface endpoints (Secrets Manager)',
      ipProtocol: 'tcp',
      fromPort: HTTPS,
      toPort: HTTPS,
      referencedSecurityGroupId: endpoints.id,
    });
    new VpcSecurityGroupIngressRule(this, 'endpoints-from-functions', {
      securityGroupId: endpoints.id,
      description: 'HTTPS from the Cruddur functions',
      ipProtocol: 'tcp',
      fromPort: HTTPS,
      toPort: HTTPS,
      referencedSecurityGroupId: functions.id,
    });
    if (placement.vpcCidrs) {
      new VpcSecurityGroupIngressRule(this, 'endpoints-from-vpc', {
        forEach: placement.vpcCidrs,
        securityGroupId: endpoints.id,
        description: 'HTTPS from the rest of the VPC: private DNS sends all its Secrets Manager calls here',
        ipProtocol: 'tcp',
        fromPort: HTTPS,
        toPort: HTTPS,
        cidrIpv4: placement.vpcCidrs.getString('cidr_block'),
      });
    }
    new VpcEndpoint(this, 'secretsmanager-endpoint', {
      vpcId: this.vpcId,
      serviceName,
      vpcEndpointType: 'Interface',
      privateDnsEnabled: true,
      subnetIds: placement.endpointSubnetIds,
      securityGroupIds: [endpoints.id],
      tags: { Name: `${namePrefix}-secretsmanager` },
      ...(placement.endpointSubnetConditions.length > 0 ? { lifecycle: { precondition: placement.endpointSubnetConditions } } : {}),
    });
  }

  /** Exactly one path to PostgreSQL: egress from the functions and, with a group, its ingress rule. */
  private databaseAccess(path: DatabasePath, functions: SecurityGroup): void {
    if (path.kind === 'none') return;
    const port = { ipProtocol: 'tcp', fromPort: path.port, toPort: path.port };
    if (path.kind === 'cidr') {
      new VpcSecurityGroupEgressRule(this, 'functions-to-database', {
        securityGroupId: functions.id,
        description: 'PostgreSQL (users database)',
        ...port,
        cidrIpv4: path.cidr,
      });
      return;
    }
    new VpcSecurityGroupEgressRule(this, 'functions-to-database', {
      securityGroupId: functions.id,
      description: 'PostgreSQL (users database)',
      ...port,
      referencedSecurityGroupId: path.securityGroupId,
    });
    new VpcSecurityGroupIngressRule(this, 'database-from-functions', {
      securityGroupId: path.securityGroupId,
      description: `PostgreSQL from the ${this.options.namePrefix} messaging functions`,
      ...port,
      referencedSecurityGroupId: functions.id,
    });
  }

  /** A new VPC with one private subnet and route table per zone, and the stated route to the database. */
  private createVpc(settings: NewVpcNetwork): Placement {
    const { namePrefix } = this.options;
    const vpc = new Vpc(this, 'vpc', {
      cidrBlock: settings.vpcCidr,
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
      excludeZoneIds: settings.excludedZoneIds,
      lifecycle: {
        postcondition: [
          {
            condition: Op.gte(Fn.lengthOf(ref('self.zone_ids')), AVAILABILITY_ZONES),
            errorMessage: `The region has fewer than ${AVAILABILITY_ZONES} zones where Lambda runs (excluded: ${settings.excludedZoneIds.join(', ') || 'none'}); check CRUDDUR_EXCLUDED_ZONE_IDS.`,
          },
        ],
      },
    });
    const subnetIds: string[] = [];
    const routeTableIds: string[] = [];
    const routeTablesByKey: Record<string, string> = {};
    for (let index = 0; index < AVAILABILITY_ZONES; index++) {
      const subnet = new Subnet(this, `private-subnet-${index}`, {
        vpcId: vpc.id,
        availabilityZoneId: Fn.element(zones.zoneIds, index),
        cidrBlock: Fn.cidrsubnet(vpc.cidrBlock, SUBNET_NEWBITS, index),
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
      const target = settings.database?.routeTarget;
      if (target) {
        new Route(this, `database-route-${index}`, {
          routeTableId: routeTable.id,
          destinationCidrBlock: settings.database!.cidr,
          ...(target.startsWith('pcx-') ? { vpcPeeringConnectionId: target } : { transitGatewayId: target }),
        });
      }
      subnetIds.push(subnet.id);
      routeTableIds.push(routeTable.id);
      routeTablesByKey[`private-${index}`] = routeTable.id;
    }
    return {
      vpcId: vpc.id,
      subnetIds,
      endpointSubnetIds: subnetIds,
      routeTableIds,
      routeTablesByKey,
      database: settings.database ? { kind: 'cidr', cidr: settings.database.cidr, port: POSTGRES } : { kind: 'none' },
      endpoints: { dynamoDb: 'create', secretsManager: 'create' },
      subnetConditions: [],
      endpointSubnetConditions: [],
    };
  }

  /** The configured VPC, subnets and route tables, each checked against what AWS says of it. */
  private adoptVpc(settings: ExistingVpcNetwork): Placement {
    const vpc = this.adoptedVpc(settings.vpcId);
    const subnets = TerraformIterator.fromList(settings.subnetIds);
    const subnetData = new DataAwsSubnet(this, 'subnet', {
      forEach: subnets,
      id: Token.asString(subnets.value),
      lifecycle: {
        postcondition: [
          {
            condition: Op.eq(ref('self.vpc_id'), settings.vpcId),
            errorMessage: `CRUDDUR_SUBNET_IDS: a subnet is not in ${settings.vpcId} (CRUDDUR_VPC_ID).`,
          },
          {
            condition: Op.not(Fn.contains(settings.excludedZoneIds, ref('self.availability_zone_id'))),
            errorMessage: `CRUDDUR_SUBNET_IDS: a subnet is in a zone where Lambda does not run (${settings.excludedZoneIds.join(', ')}); choose subnets in other zones.`,
          },
        ],
      },
    });
    const routeTables = TerraformIterator.fromList(settings.routeTableIds);
    new DataAwsRouteTable(this, 'route-table', {
      forEach: routeTables,
      routeTableId: Token.asString(routeTables.value),
      lifecycle: {
        postcondition: [
          {
            condition: Op.eq(ref('self.vpc_id'), settings.vpcId),
            errorMessage: `CRUDDUR_ROUTE_TABLE_IDS: a route table is not in ${settings.vpcId} (CRUDDUR_VPC_ID).`,
          },
        ],
      },
    });
    const zoneIds = TerraformIterator.fromDataSources(subnetData).pluckProperty('availability_zone_id');
    const database: DatabasePath =
      settings.database.kind === 'security-group'
        ? { kind: 'security-group', securityGroupId: settings.database.securityGroupId, port: POSTGRES }
        : { kind: 'cidr', cidr: settings.database.kind === 'cidr' ? settings.database.cidr : vpc.cidrBlock, port: POSTGRES };
    return {
      vpcId: settings.vpcId,
      vpcCidrs: TerraformIterator.fromComplexList(vpc.cidrBlockAssociations, 'cidr_block'),
      subnetIds: [...settings.subnetIds],
      // The subnets were chosen one per zone by the user; all of them take the endpoint.
      endpointSubnetIds: [...settings.subnetIds],
      routeTableIds: [...settings.routeTableIds],
      routeTablesByKey: Object.fromEntries(settings.routeTableIds.map((id) => [id, id])),
      database,
      endpoints: settings.endpoints,
      subnetConditions: [],
      endpointSubnetConditions: [
        {
          condition: Op.eq(Fn.lengthOf(Fn.distinct(Token.asList(zoneIds))), settings.subnetIds.length),
          errorMessage: 'CRUDDUR_SUBNET_IDS: two subnets are in the same zone; an interface endpoint takes at most one subnet per zone.',
        },
      ],
    };
  }

  /**
   * The RDS instance's VPC: the subnets of its subnet group (one per zone where Lambda runs),
   * the route tables those subnets use (their own, or the VPC's main one), and its security group.
   */
  private adoptDatabaseVpc(settings: DatabaseInstanceNetwork): Placement {
    const instance = new DataAwsDbInstance(this, 'database', {
      dbInstanceIdentifier: settings.instanceId,
      lifecycle: {
        postcondition: [
          {
            condition: Op.gte(Fn.lengthOf(ref('self.vpc_security_groups')), 1),
            errorMessage: `CRUDDUR_DATABASE_INSTANCE: ${settings.instanceId} has no VPC security group to admit the functions.`,
          },
        ],
      },
    });
    const subnetGroup = new DataAwsDbSubnetGroup(this, 'database-subnet-group', { name: instance.dbSubnetGroup });
    const vpc = this.adoptedVpc(subnetGroup.vpcId);

    const groupSubnets = TerraformIterator.fromList(subnetGroup.subnetIds);
    const subnetData = new DataAwsSubnet(this, 'database-subnet', { forEach: groupSubnets, id: Token.asString(groupSubnets.value) });
    // { zone id => [subnet ids] } over the zones where Lambda runs, then the first subnet of each zone.
    const byZone = new TerraformLocal(
      this,
      'function-subnets-by-zone',
      TerraformIterator.fromDataSources(subnetData).forExpressionForMap(
        'val.availability_zone_id',
        `val.id... if !contains(${JSON.stringify(settings.excludedZoneIds)}, val.availability_zone_id)`,
      ),
    );
    const subnetIds = new TerraformLocal(this, 'function-subnet-ids', TerraformIterator.fromMap(byZone.asAnyMap).forExpressionForList('sort(val)[0]'));

    // A subnet without an explicit association uses the VPC's main route table.
    const explicit = new DataAwsRouteTables(this, 'database-subnet-route-tables', {
      vpcId: subnetGroup.vpcId,
      filter: [{ name: 'association.subnet-id', values: subnetIds.asList }],
    });
    const explicitTables = TerraformIterator.fromList(explicit.ids);
    const explicitData = new DataAwsRouteTable(this, 'database-subnet-route-table', {
      forEach: explicitTables,
      routeTableId: Token.asString(explicitTables.value),
    });
    const associated = Fn.flatten(TerraformIterator.fromDataSources(explicitData).forExpressionForList('val.associations[*].subnet_id'));
    const routeTableIds = new TerraformLocal(
      this,
      'function-route-table-ids',
      Fn.concat([explicit.ids, Token.asList(Fn.conditional(Op.gte(Fn.lengthOf(Fn.setsubtract(subnetIds.asList, associated)), 1), [vpc.mainRouteTableId], []))]),
    );

    const securityGroupId = Fn.element(Fn.sort(Token.asList(instance.vpcSecurityGroups)), 0);
    return {
      vpcId: subnetGroup.vpcId,
      vpcCidrs: TerraformIterator.fromComplexList(vpc.cidrBlockAssociations, 'cidr_block'),
      subnetIds: subnetIds.asList,
      endpointSubnetIds: Fn.slice(subnetIds.asList, 0, Fn.min([ENDPOINT_ZONES, Fn.lengthOf(subnetIds.asList)])),
      routeTableIds: routeTableIds.asList,
      // Read by data sources at plan, so their ids are known keys.
      routeTablesByKey: Token.asStringMap(Fn.zipmap(routeTableIds.asList, routeTableIds.asList)),
      database: { kind: 'security-group', securityGroupId, port: Token.asNumber(instance.port) },
      endpoints: settings.endpoints,
      endpointSubnetConditions: [],
      subnetConditions: [
        {
          condition: Op.gte(Fn.lengthOf(subnetIds.asList), 1),
          errorMessage: `CRUDDUR_DATABASE_INSTANCE: no subnet of ${settings.instanceId}'s subnet group is in a zone where Lambda runs (excluded: ${settings.excludedZoneIds.join(', ') || 'none'}).`,
        },
      ],
    };
  }

  /** An existing VPC, which must resolve DNS names and hostnames for interface endpoints' private DNS. */
  private adoptedVpc(vpcId: string): DataAwsVpc {
    return new DataAwsVpc(this, 'vpc', {
      id: vpcId,
      lifecycle: {
        postcondition: [
          {
            condition: Op.and(ref('self.enable_dns_support'), ref('self.enable_dns_hostnames')),
            errorMessage:
              'The VPC must have enableDnsSupport and enableDnsHostnames on (private DNS of the Secrets Manager endpoint needs both); turn them on with aws ec2 modify-vpc-attribute.',
          },
        ],
      },
    });
  }
}
