/**
 * Terraform itself judges the synthesized stacks, with no provider and no AWS account: every
 * AWS resource becomes a `terraform_data` stand-in (Terraform's built-in provider, nothing to
 * download) whose computed attributes are unknown until apply, exactly as a new resource's ids
 * are; every AWS data source becomes locals computed from a fixture (a small fake account:
 * its VPCs, subnets, route tables, endpoints, database); remote state stays real and reads the
 * stand-in state of the stacks applied before. Then `terraform plan` and `apply` run stack by
 * stack in dependency order, as a deploy does. What only Terraform decides is decided by
 * Terraform: whether `for_each`/`count` keys are known at plan, whether every reference
 * resolves, cycles, types of expressions, and the preconditions and postconditions the stacks
 * carry (evaluated against the fixture).
 *
 * What a stand-in keeps of its resource: the configured arguments stay known at plan (as the
 * AWS provider plans them), read through a local of the resource's configuration; attributes
 * the configuration does not set (ids, ARNs, endpoints) are unknown until apply, then take
 * placeholder values of the usual shape.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The account the fixture describes; placeholders of ARNs use it too. */
const STANDIN_ACCOUNT = '123456789012';

/**
 * A fake account for the data sources, keyed the way the data sources look things up. Every
 * attribute the stacks read must be here; a missing one fails the plan with Terraform's own
 * "unsupported attribute" error.
 */
export interface StandinFixture {
  region: string;
  zones: { zone_id: string; name: string }[];
  vpcs?: Record<string, JsonObject>;
  subnets?: Record<string, JsonObject>;
  route_tables?: Record<string, JsonObject & { vpc_id: string; associations: JsonObject[] }>;
  vpc_endpoints?: (JsonObject & { vpc_id: string; service_name: string })[];
  db_instances?: Record<string, JsonObject>;
  db_subnet_groups?: Record<string, JsonObject>;
}

/**
 * How each AWS data source the stacks use is computed from the fixture: an HCL expression
 * over `CFG` (the data source's own configuration) and `FIX` (the fixture). A data source of
 * another type fails the conversion, so a new one gets its stand-in here first.
 */
const DATA_SOURCES: Record<string, string> = {
  aws_availability_zones:
    '{ zone_ids = [for z in FIX.zones : z.zone_id if !contains(try(CFG.exclude_zone_ids, []), z.zone_id)], names = [for z in FIX.zones : z.name if !contains(try(CFG.exclude_zone_ids, []), z.zone_id)] }',
  aws_caller_identity: `{ account_id = "${STANDIN_ACCOUNT}", arn = "arn:aws:iam::${STANDIN_ACCOUNT}:user/deployer", user_id = "AIDASTANDIN", id = "${STANDIN_ACCOUNT}" }`,
  aws_db_instance: 'FIX.db_instances[CFG.db_instance_identifier]',
  aws_db_subnet_group: 'FIX.db_subnet_groups[CFG.name]',
  aws_iam_policy_document: '{ json = jsonencode(CFG), minified_json = jsonencode(CFG) }',
  aws_route_table: 'FIX.route_tables[CFG.route_table_id]',
  // Only the filter the network stack uses: the route tables explicitly associated with any of the subnets.
  aws_route_tables:
    '{ ids = sort([for id, table in FIX.route_tables : id if table.vpc_id == CFG.vpc_id && length(setintersection(toset([for association in table.associations : try(association.subnet_id, "")]), toset(one([for f in CFG.filter : f.values if f.name == "association.subnet-id"])))) > 0]) }',
  aws_subnet: 'FIX.subnets[CFG.id]',
  aws_vpc: 'FIX.vpcs[CFG.id]',
  aws_vpc_endpoint:
    'one([for endpoint in FIX.vpc_endpoints : endpoint if endpoint.vpc_id == CFG.vpc_id && endpoint.service_name == CFG.service_name && (length([for f in try(CFG.filter, []) : f if f.name == "vpc-endpoint-type" && !contains(f.values, endpoint.vpc_endpoint_type)]) == 0)])',
};

/** Id prefixes AWS gives, so placeholders read like the real thing in plans and outputs. */
const ID_PREFIXES: Record<string, string> = {
  aws_vpc: 'vpc',
  aws_subnet: 'subnet',
  aws_route_table: 'rtb',
  aws_route_table_association: 'rtbassoc',
  aws_security_group: 'sg',
  aws_default_security_group: 'sg',
  aws_vpc_endpoint: 'vpce',
  aws_vpc_security_group_egress_rule: 'sgr',
  aws_vpc_security_group_ingress_rule: 'sgr',
};

/** Meta-arguments: they drive Terraform, not the resource, so they are not part of a configuration. */
const META_ARGUMENTS = new Set(['//', 'for_each', 'count', 'depends_on', 'lifecycle', 'provider', 'provisioner', 'connection']);

// ---------------------------------------------------------------------------------------------
// Templates and expressions of Terraform's JSON syntax

type Segment = { literal: string } | { expression: string };

/** Where the interpolation opened just before `start` closes: the index of its `}`. */
function interpolationEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = stringEnd(text, i + 1);
    else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  throw new Error(`Unterminated interpolation in ${JSON.stringify(text)}`);
}

/** The index of the `"` closing a quoted template whose content starts at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') return i;
    else if ((c === '$' || c === '%') && text[i + 1] === '{') {
      if (text[i - 1] === c) continue; // $${ and %%{ are escapes
      i = interpolationEnd(text, i + 2);
    }
  }
  throw new Error(`Unterminated string in ${JSON.stringify(text)}`);
}

function segments(template: string): Segment[] {
  const parts: Segment[] = [];
  let literal = '';
  for (let i = 0; i < template.length; i++) {
    if (template.startsWith('$${', i) || template.startsWith('%%{', i)) {
      literal += template.slice(i, i + 3);
      i += 2;
    } else if (template.startsWith('${', i)) {
      const end = interpolationEnd(template, i + 2);
      if (literal) parts.push({ literal });
      literal = '';
      parts.push({ expression: template.slice(i + 2, end) });
      i = end;
    } else if (template.startsWith('%{', i)) {
      throw new Error(`Template directives are not supported: ${JSON.stringify(template)}`);
    } else {
      literal += template[i];
    }
  }
  if (literal) parts.push({ literal });
  return parts;
}

/** Applies `rewrite` to the code of an HCL expression, outside string literals and inside their interpolations. */
function mapCode(expression: string, rewrite: (code: string) => string): string {
  let out = '';
  let code = '';
  for (let i = 0; i < expression.length; i++) {
    if (expression[i] !== '"') {
      code += expression[i];
      continue;
    }
    out += rewrite(code);
    code = '';
    const end = stringEnd(expression, i + 1);
    out += `"${mapTemplate(expression.slice(i + 1, end), rewrite)}"`;
    i = end;
  }
  return out + rewrite(code);
}

/** The same inside the content of a quoted template (already HCL-escaped). */
function mapTemplate(content: string, rewrite: (code: string) => string): string {
  return segments(content)
    .map((part) => ('literal' in part ? part.literal : `\${${mapCode(part.expression, rewrite)}}`))
    .join('');
}

function escapeLiteral(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

/** A value of Terraform's JSON syntax as an HCL expression, its interpolations rewritten. */
function toHcl(value: Json, rewrite: (code: string) => string): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    const parts = segments(value);
    if (parts.length === 1 && 'expression' in parts[0]!) return `(${mapCode(parts[0].expression, rewrite)})`;
    return `"${parts.map((part) => ('literal' in part ? escapeLiteral(part.literal) : `\${${mapCode(part.expression, rewrite)}}`)).join('')}"`;
  }
  if (Array.isArray(value)) return `[${value.map((item) => toHcl(item, rewrite)).join(', ')}]`;
  const entries = Object.entries(value).filter(([key]) => key !== '//');
  return `{ ${entries.map(([key, item]) => `${JSON.stringify(key)} = ${toHcl(item, rewrite)}`).join(', ')} }`;
}

// ---------------------------------------------------------------------------------------------
// One stack

export interface StandinStack {
  name: string;
  /** The stack's synthesized Terraform JSON (`cdk.tf.json`). */
  config: JsonObject;
}

interface Block {
  type: string;
  name: string;
  body: JsonObject;
}

const standinName = (type: string, name: string) => `${type}__${name}`;
const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

function blocksOf(section: Json | undefined): Block[] {
  if (!section || typeof section !== 'object' || Array.isArray(section)) return [];
  return Object.entries(section).flatMap(([type, byName]) =>
    Object.entries(byName as JsonObject).map(([name, body]) => ({ type, name, body: body as JsonObject })),
  );
}

/**
 * The stack as HCL over stand-ins. `statePaths` maps a stack name to the state file its
 * stand-in writes (this stack's own backend, and the remote state it reads).
 */
function standinConfiguration(stack: StandinStack, fixture: StandinFixture, statePaths: Record<string, string>): string {
  const known = new Set(['//', 'data', 'resource', 'output', 'provider', 'terraform', 'locals', 'import']);
  for (const key of Object.keys(stack.config)) {
    if (!known.has(key)) throw new Error(`${stack.name}: top-level "${key}" has no stand-in`);
  }
  const resources = blocksOf(stack.config.resource);
  const dataSources = blocksOf(stack.config.data);
  const resourceByAddress = new Map(resources.map((block) => [`${block.type}.${block.name}`, block]));
  const dataByAddress = new Map(dataSources.map((block) => [`data.${block.type}.${block.name}`, block]));
  /** Computed (unconfigured) attributes referenced, by resource address: they become placeholders. */
  const computed = new Map<string, Set<string>>();
  const noteComputed = (address: string, attribute: string) => {
    if (!computed.has(address)) computed.set(address, new Set());
    computed.get(address)!.add(attribute);
  };

  const reference = /(?<![\w.-])(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z_][\w-]*)((?:\[[^\]]*\])?)(?:\.([A-Za-z_][\w-]*))?/g;
  const rewrite = (code: string): string =>
    code.replace(reference, (match, data: string | undefined, type: string, name: string, index: string, attribute: string | undefined) => {
      if (data) {
        if (!dataByAddress.has(`data.${type}.${name}`)) throw new Error(`${stack.name}: reference to an unknown data source ${match}`);
        return `local.${standinName(`data__${type}`, name)}${index}${attribute ? `.${attribute}` : ''}`;
      }
      const block = resourceByAddress.get(`${type}.${name}`);
      if (!block) throw new Error(`${stack.name}: reference to an unknown resource ${match}`);
      if (attribute === undefined) return `terraform_data.${standinName(type, name)}${index}`;
      if (attribute in block.body && !META_ARGUMENTS.has(attribute)) return `local.${standinName(`cfg__${type}`, name)}${index}.${attribute}`;
      noteComputed(`${type}.${name}`, attribute);
      return `terraform_data.${standinName(type, name)}${index}.output.${attribute}`;
    });
  const hcl = (value: Json) => toHcl(value, rewrite);

  /** `each.key`/`each.value`/`count.index` become the variables of the for expression that replaces the repetition. */
  const loopVariables = (code: string) =>
    rewrite(code)
      .replace(/\beach\.key\b/g, 'each_key')
      .replace(/\beach\.value\b/g, 'each_value')
      .replace(/\bcount\.index\b/g, 'count_index');
  /** The block's configuration (or the mock computed from it), repeated as the block's for_each or count repeats it. */
  const repeated = (body: JsonObject, expression: (value: Json) => string): string => {
    const configuration: JsonObject = Object.fromEntries(Object.entries(body).filter(([key]) => !META_ARGUMENTS.has(key)));
    const value = expression(configuration);
    if (body.for_each !== undefined) return `{ for each_key, each_value in ${hcl(body.for_each)} : each_key => ${value} }`;
    if (body.count !== undefined) return `[for count_index in range(${hcl(body.count)}) : ${value}]`;
    return value;
  };
  const instance = (body: JsonObject) => (body.for_each !== undefined ? '[each.key]' : body.count !== undefined ? '[count.index]' : '');
  const repetition = (body: JsonObject) =>
    body.for_each !== undefined ? `  for_each = ${hcl(body.for_each)}\n` : body.count !== undefined ? `  count = ${hcl(body.count)}\n` : '';
  const conditions = (kind: 'precondition' | 'postcondition', list: Json | undefined, selfTo: string, transform: (code: string) => string = rewrite) =>
    ((list ?? []) as JsonObject[])
      .map((condition) => {
        const expression = toHcl(condition.condition!, (code) =>
          transform(code).replace(/\bself\.([A-Za-z_][\w-]*)/g, (_, attribute: string) => `${selfTo}.${attribute}`),
        );
        return `    ${kind} {\n      condition = ${expression}\n      error_message = ${JSON.stringify(condition.error_message)}\n    }\n`;
      })
      .join('');

  const out: string[] = [];
  // No backend block: the state is the working directory's terraform.tfstate (statePaths says where), and with
  // no backend and only the built-in provider, Terraform needs no `init`.
  out.push(`locals {\n  standin_fixture = ${toHcl(fixture as unknown as Json, (code) => code)}\n}\n`);

  for (const [name, value] of Object.entries((stack.config.locals ?? {}) as JsonObject)) {
    out.push(`locals {\n  ${name} = ${hcl(value)}\n}\n`);
  }

  for (const { type, name, body } of dataSources) {
    if (type === 'terraform_remote_state') {
      const source = path.basename(String((body.config as JsonObject | undefined)?.path ?? '')).replace(/^terraform\.(.*)\.tfstate$/, '$1');
      const statePath = statePaths[source];
      if (body.backend !== 'local' || !statePath)
        throw new Error(`${stack.name}: remote state ${name} does not read a stack of this set (${JSON.stringify(body.config)})`);
      out.push(`data "terraform_remote_state" "${name}" {\n  backend = "local"\n  config = { path = ${JSON.stringify(statePath)} }\n}\n`);
      continue;
    }
    const mock = DATA_SOURCES[type];
    if (!mock) throw new Error(`${stack.name}: data source ${type} has no stand-in; add one to DATA_SOURCES in test/support/terraform-standins.ts`);
    const local = standinName(`data__${type}`, name);
    const value = repeated(body, (configuration) => {
      const cfg = toHcl(configuration, body.for_each !== undefined || body.count !== undefined ? loopVariables : rewrite);
      return `(${mock.replace(/\bFIX\b/g, 'local.standin_fixture').replace(/\bCFG\b/g, `(${cfg})`)})`;
    });
    out.push(`locals {\n  ${local} = ${value}\n}\n`);
    // Its postconditions, on an assertion per instance: evaluated at plan against the fixture.
    const postconditions = (body.lifecycle as JsonObject | undefined)?.postcondition;
    if (postconditions) {
      out.push(
        `resource "terraform_data" "${standinName(`check__data__${type}`, name)}" {\n${repetition(body)}` +
          `  lifecycle {\n${conditions('precondition', postconditions, `local.${local}${instance(body)}`)}  }\n}\n`,
      );
    }
  }

  for (const { type, name, body } of resources) {
    out.push(
      `locals {\n  ${standinName(`cfg__${type}`, name)} = ${repeated(body, (configuration) => toHcl(configuration, body.for_each !== undefined || body.count !== undefined ? loopVariables : rewrite))}\n}\n`,
    );
  }
  for (const importBlock of (stack.config.import ?? []) as JsonObject[]) {
    const [type, name] = String(importBlock.to).split('.');
    if (!resourceByAddress.has(String(importBlock.to))) throw new Error(`${stack.name}: import names an unknown resource ${String(importBlock.to)}`);
    out.push(`import {\n  to = terraform_data.${standinName(type!, name!)}\n  id = ${hcl(importBlock.id!)}\n}\n`);
  }

  for (const [name, body] of Object.entries((stack.config.output ?? {}) as Record<string, JsonObject>)) {
    out.push(`output "${name}" {\n  value = ${hcl(body.value!)}\n${body.sensitive ? '  sensitive = true\n' : ''}}\n`);
  }
  // Resources last: only now, every reference rewritten, are all their computed attributes known.
  for (const { type, name, body } of resources) {
    const attributes = [...(computed.get(`${type}.${name}`) ?? [])].sort();
    const lifecycle = (body.lifecycle ?? {}) as JsonObject;
    const postconditions = conditions('postcondition', lifecycle.postcondition, 'self.output');
    for (const attribute of ((lifecycle.postcondition as JsonObject[] | undefined) ?? []).flatMap((condition) =>
      [...String(condition.condition).matchAll(/\bself\.([A-Za-z_][\w-]*)/g)].map((m) => m[1]!),
    )) {
      if (!(attribute in body)) attributes.push(attribute);
    }
    const placeholders = attributes
      .map((attribute) => `${JSON.stringify(attribute)} = ${placeholder(type, name, attribute, body.for_each !== undefined || body.count !== undefined)}`)
      .join(', ');
    const dependsOn = ((body.depends_on ?? []) as string[])
      .filter((address) => !address.startsWith('data.'))
      .map((address) => {
        const [dependencyType, dependencyName] = address.split('.');
        if (!resourceByAddress.has(address)) throw new Error(`${stack.name}: depends_on names an unknown resource ${address}`);
        return `terraform_data.${standinName(dependencyType!, dependencyName!)}`;
      });
    out.push(
      `resource "terraform_data" "${standinName(type, name)}" {\n${repetition(body)}` +
        `  input = merge(local.${standinName(`cfg__${type}`, name)}${instance(body)}, { ${placeholders} })\n` +
        (dependsOn.length > 0 ? `  depends_on = [${dependsOn.join(', ')}]\n` : '') +
        (lifecycle.precondition || postconditions
          ? `  lifecycle {\n${conditions('precondition', lifecycle.precondition, 'self.output')}${postconditions}  }\n`
          : '') +
        '}\n',
    );
  }

  return out.join('\n');
}

/** What an unconfigured attribute reads after apply: an id, an ARN or a name of the usual shape. */
function placeholder(type: string, name: string, attribute: string, repeated: boolean): string {
  const suffix = repeated ? '-${each.key}' : '';
  const unique = shortHash(`${type}.${name}`);
  if (attribute === 'id' && ID_PREFIXES[type]) return `"${ID_PREFIXES[type]}-${unique}${suffix}"`;
  if (attribute.endsWith('arn')) return `"arn:aws:${type.replace(/^aws_/, '').split('_')[0]}:us-east-1:${STANDIN_ACCOUNT}:${type}/${name}${suffix}"`;
  if (attribute === 'prefix_list_id') return `"pl-${unique}"`;
  if (attribute === 'api_endpoint') return `"https://${unique}.execute-api.us-east-1.amazonaws.com"`;
  if (attribute === 'url') return `"https://sqs.us-east-1.amazonaws.com/${STANDIN_ACCOUNT}/${name}"`;
  return `"${type}.${name}.${attribute}${suffix}"`;
}

// ---------------------------------------------------------------------------------------------
// Running Terraform

export interface StandinRun {
  /** Each stack's plan, as Terraform printed it. */
  plans: Record<string, string>;
  /** Each stack's outputs after apply. */
  outputs: Record<string, Record<string, unknown>>;
}

/** Terraform's own error, with the stack and the step, and never the plan's whole text. */
export class TerraformStandinError extends Error {
  constructor(
    public readonly stackName: string,
    public readonly step: string,
    public readonly output: string,
  ) {
    super(`terraform ${step} failed for ${stackName}:\n${output}`);
    this.name = 'TerraformStandinError';
  }
}

const TERRAFORM_ENV = {
  ...process.env,
  // No CLI configuration, no version check-in call, no colours in what the tests read.
  TF_CLI_CONFIG_FILE: '/dev/null',
  CHECKPOINT_DISABLE: '1',
  TF_IN_AUTOMATION: '1',
  TF_INPUT: '0',
};

/**
 * `describe` where Terraform is on the PATH. Where it is not, one line says the tests are
 * skipped and why; in CI (which has Terraform, as `npm run deploy` needs it) it is a failure.
 */
export function describeWithTerraform(what: string): jest.Describe {
  const version = spawnSync('terraform', ['version'], { env: TERRAFORM_ENV });
  if (version.error === undefined && version.status === 0) return describe;
  const reason = `terraform is not on the PATH: ${what} needs Terraform >= 1.5 (docs/deploy.md, Prerequisites)`;
  if (process.env.CI) throw new Error(reason);
  console.warn(`skipped: ${reason}`);
  return describe.skip;
}

async function terraform(directory: string, stack: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('terraform', [...args], { cwd: directory, env: TERRAFORM_ENV, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    // An apply that stops before applying anything stopped at its plan phase.
    const step = args[0] === 'apply' && !/Apply complete|Creating\.\.\.|Modifying\.\.\./.test(failure.stdout ?? '') ? 'plan' : args[0]!;
    throw new TerraformStandinError(stack, step, `${failure.stderr ?? ''}${failure.stdout ? `\n${failure.stdout.slice(-4000)}` : ''}` || failure.message);
  }
}

/**
 * Plans and applies the stacks' stand-ins in `directory`, in the order given (dependencies
 * first, as `npm run deploy` applies them): one `terraform apply` per stack, whose plan phase
 * is the plan (printed before it applies, and returned). @throws TerraformStandinError at the
 * first failure, with the step (`plan` when nothing was applied).
 */
export async function planAndApply(stacks: StandinStack[], fixture: StandinFixture, directory: string): Promise<StandinRun> {
  const statePaths = Object.fromEntries(stacks.map((stack) => [stack.name, path.join(directory, stack.name, 'terraform.tfstate')]));
  const result: StandinRun = { plans: {}, outputs: {} };
  for (const stack of stacks) {
    const stackDirectory = path.join(directory, stack.name);
    mkdirSync(stackDirectory, { recursive: true });
    writeFileSync(path.join(stackDirectory, 'main.tf'), standinConfiguration(stack, fixture, statePaths));
    result.plans[stack.name] = await terraform(stackDirectory, stack.name, ['apply', '-auto-approve', '-input=false', '-no-color', '-lock=false']);
    const state = JSON.parse(readFileSync(statePaths[stack.name]!, 'utf8')) as { outputs?: Record<string, { value: unknown }> };
    result.outputs[stack.name] = Object.fromEntries(Object.entries(state.outputs ?? {}).map(([name, output]) => [name, output.value]));
  }
  return result;
}
