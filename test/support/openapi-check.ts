import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { AnswerRecord } from './answers.js';

// Checks recorded answers (test/support/answers.ts) against the OpenAPI document the service
// serves: the route each answer belongs to, whether its status is documented there, whether its
// content type is, and whether its JSON body validates against the documented schema (with ajv,
// OpenAPI 3.0.3 semantics: `nullable` adds null to the `type` of its own schema object only, and
// has no effect without one; an `enum` must list null to allow it). Every object schema that lists its properties and says
// nothing of others is checked with `additionalProperties: false`: an answer carries no field the
// document does not name.

// ajv-formats is CommonJS: its plugin is the module itself, or its `default` seen from TypeScript.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  addFormatsModule) as unknown as FormatsPlugin;

type Schema = Record<string, unknown>;
type Operation = { responses: Record<string, { content?: Record<string, { schema?: Schema }> }> };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
const COMPONENT_ID = 'urn:openapi:components:schemas:';
/** Swagger UI (/docs), its JSON (/docs-json), and the assets it loads from the root. */
const SWAGGER_UI = /^\/(docs(-json)?|swagger-ui[\w.-]*|favicon-\d+x\d+\.png)(\/|$)/i;

export interface DocumentedRoute {
  method: string;
  path: string;
  operation: Operation;
  pattern: RegExp;
  /** Literal characters of the template: the more, the more specific the route. */
  weight: number;
}

/** What became of one answer. */
export type Verdict =
  | { kind: 'ok'; route: string; bodyChecked: boolean }
  | { kind: 'wrong'; route: string; reason: string }
  | { kind: 'skipped'; why: string };

export class OpenApiCheck {
  readonly routes: DocumentedRoute[];
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(doc: OpenAPIObject) {
    this.routes = Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({
        method: method.toUpperCase(),
        path,
        operation: item[method] as unknown as Operation,
        pattern: templatePattern(path, wildcardsOf(item[method] as unknown as Operation)),
        weight: path.replace(/\{[^}]+\}/g, '').length,
      })),
    );
    this.ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
    addFormats(this.ajv);
    // OpenAPI's own formats and annotations.
    for (const format of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password']) {
      this.ajv.addFormat(format, true);
    }
    this.ajv.addKeyword('example');
    this.ajv.addKeyword('xml');
    this.ajv.addKeyword('externalDocs');
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
      this.ajv.addSchema(strict(schema as Schema), `${COMPONENT_ID}${name}`);
    }
  }

  /** The documented route of a request (the most specific template that matches), if any. */
  routeOf(method: string, url: string): DocumentedRoute | undefined {
    const path = url.split('?')[0];
    const wanted = method === 'HEAD' ? 'GET' : method;
    return this.routes
      .filter((route) => route.method === wanted && route.pattern.test(path))
      .sort((a, b) => b.weight - a.weight)[0];
  }

  /** Whether some documented route has this path, under another method. */
  pathKnown(url: string): boolean {
    const path = url.split('?')[0];
    return this.routes.some((route) => route.pattern.test(path));
  }

  check(answer: AnswerRecord): Verdict {
    if (answer.aborted) return { kind: 'skipped', why: 'the client hung up before the answer' };
    const route = this.routeOf(answer.method, answer.url);
    if (!route) {
      const path = answer.url.split('?')[0];
      if (SWAGGER_UI.test(path)) return { kind: 'skipped', why: 'Swagger UI, its JSON and assets' };
      // Unknown paths and methods answer 404 (in the shape of the family of the path).
      if (answer.status === 404) return { kind: 'skipped', why: 'unknown path or method, 404' };
      return {
        kind: 'wrong',
        route: `${answer.method} ${path}`,
        reason: `status ${answer.status} on a path or method the document does not have`,
      };
    }
    const name = `${route.method} ${route.path}`;
    const wrong = (reason: string): Verdict => ({ kind: 'wrong', route: name, reason });
    if (answer.route && !sameTemplate(answer.route, route.path)) {
      return wrong(`Express matched ${answer.route}, the document ${route.path}`);
    }
    const status = String(answer.status);
    const responses = route.operation.responses;
    const documented = responses[status] ?? responses[`${status[0]}XX`] ?? responses.default;
    if (!documented) return wrong(`status ${status} is not documented`);
    const mediaType = (answer.contentType ?? '').split(';')[0].trim().toLowerCase();
    const content = documented.content;
    if (!content || Object.keys(content).length === 0) {
      if (answer.body) return wrong(`status ${status} is documented without a body`);
      return { kind: 'ok', route: name, bodyChecked: false };
    }
    const key = Object.keys(content).find(
      (type) => type.split(';')[0].trim().toLowerCase() === mediaType,
    );
    if (key === undefined) {
      if (answer.method === 'HEAD') return { kind: 'ok', route: name, bodyChecked: false };
      return wrong(
        `status ${status} answered ${mediaType || 'no content type'}, documented ${Object.keys(content).join(', ')}`,
      );
    }
    const isJson = /[/+]json$/.test(mediaType);
    if (!isJson || answer.method === 'HEAD' || answer.truncated) {
      return { kind: 'ok', route: name, bodyChecked: false };
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.body ?? '');
    } catch {
      return wrong(`status ${status}: the body is not JSON`);
    }
    const schema = content[key].schema;
    if (!schema) return { kind: 'ok', route: name, bodyChecked: false };
    const validate = this.validator(`${name} ${status} ${key}`, schema);
    if (!validate(body)) {
      return wrong(`status ${status}: ${describe(validate.errors ?? [])}`);
    }
    return { kind: 'ok', route: name, bodyChecked: true };
  }

  private validator(key: string, schema: Schema): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(strict(schema));
      this.validators.set(key, validate);
    }
    return validate;
  }
}

/**
 * `/ocpi/{countryCode}/{partyId}/versions` as Express matches it: any case, optional final slash.
 * A wildcard parameter (Express `*path`) spans segments.
 */
function templatePattern(path: string, wildcards: Set<string> = new Set()): RegExp {
  const source = path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      if (!part.startsWith('{')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      return wildcards.has(part.slice(1, -1)) ? '.+' : '[^/]+';
    })
    .join('');
  return new RegExp(`^${source}/?$`, 'i');
}

/** The path parameters documented as spanning segments (`format: path`, Express `*name`). */
function wildcardsOf(operation: Operation): Set<string> {
  const { parameters = [] } = operation as {
    parameters?: { in?: string; name?: string; schema?: { format?: string } }[];
  };
  return new Set(
    parameters
      .filter((p) => p.in === 'path' && p.schema?.format === 'path')
      .map((p) => p.name ?? ''),
  );
}

function sameTemplate(expressRoute: string, template: string): boolean {
  const normalized = expressRoute.replace(/[:*](\w+)/g, '{$1}').replace(/\/$/, '');
  return normalized.toLowerCase() === template.toLowerCase();
}

/**
 * A copy of a schema for ajv: component references point to the components added to ajv, and an
 * object schema that lists its properties without a word on others allows no others.
 */
export function strict(schema: Schema): Schema {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    const copy: Schema = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') {
        copy[key] = item.replace('#/components/schemas/', COMPONENT_ID);
      } else if (key === 'properties' && typeof item === 'object' && item !== null) {
        // Property names are not schemas: only their values are walked.
        copy[key] = Object.fromEntries(Object.entries(item).map(([k, v]) => [k, walk(v)]));
      } else if (key === 'example' || key === 'examples') {
        copy[key] = item;
      } else if (key === 'nullable' && !('type' in value)) {
        // OpenAPI 3.0.3: `nullable` without a `type` beside it has no effect (ajv would refuse it).
        continue;
      } else {
        copy[key] = walk(item);
      }
    }
    if (
      typeof copy.properties === 'object' &&
      !('additionalProperties' in copy) &&
      !('allOf' in copy || 'oneOf' in copy || 'anyOf' in copy)
    ) {
      copy.additionalProperties = false;
    }
    return copy;
  };
  return walk(schema) as Schema;
}

function describe(errors: ErrorObject[]): string {
  return errors
    .slice(0, 3)
    .map((error) => {
      const extra =
        error.keyword === 'additionalProperties'
          ? ` (${(error.params as { additionalProperty: string }).additionalProperty})`
          : error.keyword === 'enum'
            ? ` (${JSON.stringify((error.params as { allowedValues: unknown }).allowedValues)})`
            : '';
      return `${error.instancePath || '/'} ${error.message ?? error.keyword}${extra}`;
    })
    .join('; ');
}

/** A body for a report: `token` fields blanked, at most `max` characters. */
export function redactedExcerpt(body: string | undefined, max = 240): string {
  if (body === undefined) return '';
  const text = body.replace(/("token"\s*:\s*")[^"]*"/g, '$1…"');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
