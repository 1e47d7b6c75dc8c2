/**
 * Which catalog route a request reaches, as an HTTP API matches it: method and path, with
 * `{name}` spanning exactly one non-empty segment.
 */
import type { HttpFunction } from '../../functions/catalog';

export interface RouteMatch {
  fn: HttpFunction;
  /** Raw (still percent-encoded) segments, as API Gateway passes them. */
  pathParameters: Record<string, string>;
}

/** Splits `url` into API Gateway's rawPath and rawQueryString. */
export function splitUrl(url: string): { rawPath: string; rawQueryString: string } {
  const question = url.indexOf('?');
  return question === -1 ? { rawPath: url, rawQueryString: '' } : { rawPath: url.slice(0, question), rawQueryString: url.slice(question + 1) };
}

/**
 * The route for a method and path. As in HTTP APIs, `{name}` spans exactly one non-empty
 * segment and the method must match (no route is a 404, whatever the method).
 */
export function matchRoute(routes: readonly HttpFunction[], method: string, rawPath: string): RouteMatch | undefined {
  const segments = rawPath.split('/');
  for (const fn of routes) {
    if (fn.route.method !== method) continue;
    const template = fn.route.path.split('/');
    if (template.length !== segments.length) continue;
    const pathParameters: Record<string, string> = {};
    const matches = template.every((part, index) => {
      const segment = segments[index]!;
      const parameter = /^\{([^}]+)\}$/.exec(part);
      if (parameter) {
        pathParameters[parameter[1]!] = segment;
        return segment !== '';
      }
      return part === segment;
    });
    if (matches) return { fn, pathParameters };
  }
  return undefined;
}

/** `routeKey` as API Gateway writes it: `GET /api/messages/{message_group_uuid}`. */
export const routeKeyOf = (fn: HttpFunction) => `${fn.route.method} ${fn.route.path}`;
