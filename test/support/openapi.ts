/**
 * docs/openapi.yaml as a test oracle: which documented operation a request is, and whether an
 * answer (status, headers, JSON body) is one that operation documents. The schemas are JSON
 * Schema 2020-12, as OpenAPI 3.1 says, checked with Ajv; the document itself is checked against
 * the OpenAPI 3.1 schema by test/unit/openapi.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const OPENAPI_PATH = path.join(__dirname, '..', '..', 'docs', 'openapi.yaml');

type Json = Record<string, unknown>;

export const openApiDocument = parse(readFileSync(OPENAPI_PATH, 'utf8')) as Json & { paths: Record<string, Record<string, Json>> };

const DOCUMENT_ID = 'https://cruddur.test/openapi.yaml';
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema(openApiDocument, DOCUMENT_ID);

/** A JSON pointer segment (RFC 6901). */
const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/** Follows a local `$ref` (`#/components/...`): the object, and the pointer it is at. */
function resolve(value: Json, pointer: string): { value: Json; pointer: string } {
  const ref = value.$ref;
  if (typeof ref !== 'string') return { value, pointer };
  const target = ref.slice(1);
  const found = target
    .split('/')
    .slice(1)
    .reduce<unknown>((node, segment) => (node as Json)[segment.replace(/~1/g, '/').replace(/~0/g, '~')], openApiDocument) as Json;
  return resolve(found, target);
}

const validators = new Map<string, ValidateFunction>();
function validatorAt(pointer: string): ValidateFunction {
  let validate = validators.get(pointer);
  if (!validate) validators.set(pointer, (validate = ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` })));
  return validate;
}

/** The documented path template a concrete path is, literal segments preferred (`/api/message_groups/unread` before a parameter). */
export function documentedPath(urlPath: string): string | undefined {
  const bare = urlPath.split('?')[0]!;
  const candidates = Object.keys(openApiDocument.paths).filter((template) =>
    new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`).test(bare),
  );
  return candidates.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}

export interface ObservedAnswer {
  method: string;
  /** The request's path (a query string is ignored). */
  path: string;
  status: number;
  headers: Record<string, string | number | boolean | undefined>;
  /** The body as received. */
  text: string;
}

/**
 * What is wrong with an answer by the contract: an undocumented status, a body its schema
 * refuses (or not JSON), a required header missing or a documented one malformed. Empty when it
 * matches; undefined when the request is no documented operation (an unknown path or method,
 * which the gateway answers on its own).
 */
export function contractProblems(answer: ObservedAnswer): string[] | undefined {
  const template = documentedPath(answer.path);
  const method = answer.method.toLowerCase();
  const operation = template === undefined ? undefined : openApiDocument.paths[template]?.[method];
  if (template === undefined || operation === undefined) return undefined;
  const where = `${answer.method.toUpperCase()} ${template} ${answer.status}`;
  const responses = operation.responses as Record<string, Json>;
  const declared = responses[String(answer.status)];
  if (declared === undefined) return [`${where}: status not documented (documented: ${Object.keys(responses).join(', ')})`];
  const basePointer = `/paths/${escapePointer(template)}/${method}/responses/${answer.status}`;
  const { value: response, pointer } = resolve(declared, basePointer);
  const problems: string[] = [];

  const content = response.content as Record<string, Json> | undefined;
  if (content?.['application/json'] !== undefined) {
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      problems.push(`${where}: the body is not JSON: ${answer.text.slice(0, 120)}`);
    }
    if (problems.length === 0) {
      const validate = validatorAt(`${pointer}/content/application~1json/schema`);
      if (!validate(body)) problems.push(`${where}: the body ${JSON.stringify(body).slice(0, 200)} fails ${ajv.errorsText(validate.errors)}`);
    }
  }

  const received = Object.fromEntries(Object.entries(answer.headers).map(([name, value]) => [name.toLowerCase(), value]));
  for (const [name, declaredHeader] of Object.entries((response.headers as Record<string, Json> | undefined) ?? {})) {
    const { value: header, pointer: headerPointer } = resolve(declaredHeader, `${pointer}/headers/${escapePointer(name)}`);
    const value = received[name.toLowerCase()];
    if (value === undefined) {
      if (header.required === true) problems.push(`${where}: the ${name} header is missing`);
      continue;
    }
    const validate = validatorAt(`${headerPointer}/schema`);
    if (!validate(String(value))) problems.push(`${where}: the ${name} header "${value}" fails ${ajv.errorsText(validate.errors)}`);
  }
  return problems;
}

/** Asserts that a documented operation's answer matches the contract (answers of undocumented requests pass). */
export function expectAnswerInContract(answer: ObservedAnswer): void {
  const problems = contractProblems(answer) ?? [];
  if (problems.length > 0) throw new Error(`The answer breaks docs/openapi.yaml:\n${problems.join('\n')}`);
}

/** `fetch`, with each answer of a documented operation checked against the contract. */
export async function fetchInContract(url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, init);
  const text = await response.clone().text();
  expectAnswerInContract({
    method: init.method ?? 'GET',
    path: new URL(url).pathname,
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    text,
  });
  return response;
}
