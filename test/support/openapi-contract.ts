import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

/**
 * docs/openapi.yaml as a checker of responses: which operation a request
 * hits, whether its status and content type are documented, and whether the
 * body matches the schema, compiled by Ajv in JSON Schema 2020-12 (the
 * dialect of OpenAPI 3.1). Strict: a misspelt keyword in the document is an
 * error, not a constraint silently ignored.
 */

export const DOCUMENT_FILE = path.resolve(__dirname, '..', '..', 'docs', 'openapi.yaml');

/** A response as a client sees it. */
export interface HttpResponse {
  readonly method: string;
  /** Without the query string. */
  readonly path: string;
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

type Node = Record<string, unknown>;

export interface ContractOperation {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  /** The operation object, $refs of its responses resolved. */
  readonly responses: Record<string, { readonly pointer: string; readonly content: Record<string, Node> }>;
  readonly security: unknown;
}

const DOCUMENT_ID = 'openapi.yaml';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// The document is handed to Ajv whole so `#/components/...` refs resolve; these
// are OpenAPI's own keywords, annotations to JSON Schema.
const OPENAPI_KEYWORDS = ['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks', 'components', 'security', 'tags', 'externalDocs', 'discriminator', 'xml', 'example'];

const escapePointer = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');
const describe = (validate: ValidateFunction): string[] =>
  (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`.trim());

export class OpenApiContract {
  readonly document: Node;
  readonly operations: readonly ContractOperation[];
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly text: string = readFileSync(DOCUMENT_FILE, 'utf8')) {
    this.document = parse(text) as Node;
    this.ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addVocabulary(OPENAPI_KEYWORDS);
    this.ajv.addSchema(this.document, DOCUMENT_ID);
    this.operations = this.readOperations();
  }

  /**
   * The document itself against the official OpenAPI schema of its version,
   * by @seriousme/openapi-schema-validator (ESM only, so through its CLI).
   */
  static validateDocument(file = DOCUMENT_FILE): { valid: boolean; errors?: unknown } {
    const cli = path.resolve(__dirname, '..', '..', 'node_modules', '@seriousme', 'openapi-schema-validator', 'bin', 'validate-api-cli.js');
    try {
      return JSON.parse(execFileSync(process.execPath, [cli, file], { encoding: 'utf8' })) as { valid: boolean };
    } catch (error) {
      const stdout = (error as { stdout?: string }).stdout;
      if (stdout) return JSON.parse(stdout) as { valid: boolean; errors?: unknown };
      throw error;
    }
  }

  operation(operationId: string): ContractOperation {
    const found = this.operations.find((operation) => operation.operationId === operationId);
    if (!found) throw new Error(`no operation ${operationId} in the document`);
    return found;
  }

  /** The operation a request hits: its method and a path template (`{name}` matches one segment). */
  match(method: string, requestPath: string): ContractOperation | undefined {
    return this.operations.find((operation) => {
      if (operation.method !== method.toUpperCase()) return false;
      const template = operation.path.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      return new RegExp(`^${template.join('[^/]+')}$`).test(requestPath);
    });
  }

  /** Everything in a response that the document does not allow; [] when it matches. */
  violations(response: HttpResponse): string[] {
    const operation = this.match(response.method, response.path);
    if (!operation) return [`${response.method} ${response.path} is not in the document`];
    const documented = operation.responses[String(response.status)] ?? operation.responses[`${String(response.status)[0]}XX`] ?? operation.responses.default;
    if (!documented) return [`HTTP ${response.status} is not documented for ${operation.operationId}`];
    const mediaType = response.contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
    if (!(mediaType in documented.content)) {
      return [`content type ${response.contentType} is not documented for ${operation.operationId} HTTP ${response.status}`];
    }
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      return ['the body is not JSON'];
    }
    const schemaPointer = `${documented.pointer}/content/${escapePointer(mediaType)}/schema`;
    const validate = this.validator(schemaPointer);
    if (validate(body)) return [];
    return this.explain(schemaPointer, body) ?? describe(validate);
  }

  /**
   * A failed `oneOf` of envelopes reports every branch; the one that matters
   * is the branch of the body's code, or the fact that no branch has that code.
   */
  private explain(schemaPointer: string, body: unknown): string[] | undefined {
    const branches = this.resolve(schemaPointer).node.oneOf;
    if (!Array.isArray(branches)) return undefined;
    const code = (body as { code?: unknown } | null)?.code;
    const index = branches.findIndex((branch) => this.codesIn(branch).includes(code as number));
    if (index === -1) {
      const documented = branches.flatMap((branch) => this.codesIn(branch));
      return [`code ${JSON.stringify(code)} is not one of the documented codes ${JSON.stringify(documented)}`];
    }
    const validate = this.validator(`${schemaPointer}/oneOf/${index}`);
    return validate(body) ? undefined : describe(validate);
  }

  /** The envelope codes an operation's responses allow: every `code` const in their schemas. */
  codes(operationId: string): number[] {
    const codes = Object.values(this.operation(operationId).responses).flatMap((response) =>
      Object.values(response.content).flatMap((media) => this.codesIn(media.schema)),
    );
    return [...new Set(codes)].sort((a, b) => a - b);
  }

  /** `#/a/b` in the document, following $refs on the way. */
  resolve(pointer: string): { pointer: string; node: Node } {
    const normalized = pointer.replace(/^#/, '');
    let node: unknown = this.document;
    for (const token of normalized.replace(/^\//, '').split('/')) {
      node = (node as Node | undefined)?.[token.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    const ref = (node as Node | undefined)?.$ref;
    if (typeof ref === 'string') return this.resolve(ref);
    if (typeof node !== 'object' || node === null) throw new Error(`nothing at ${pointer} in the document`);
    return { pointer: normalized, node: node as Node };
  }

  private validator(pointer: string): ValidateFunction {
    let validate = this.compiled.get(pointer);
    if (!validate) {
      validate = this.ajv.getSchema(`${DOCUMENT_ID}#${pointer}`);
      if (!validate) throw new Error(`no schema at ${pointer}`);
      this.compiled.set(pointer, validate);
    }
    return validate;
  }

  private codesIn(schema: unknown): number[] {
    if (typeof schema !== 'object' || schema === null) return [];
    const node = schema as { $ref?: string; properties?: { code?: { const?: unknown } }; oneOf?: unknown[]; anyOf?: unknown[]; allOf?: unknown[] };
    if (typeof node.$ref === 'string') return this.codesIn(this.resolve(node.$ref).node);
    const own = typeof node.properties?.code?.const === 'number' ? [node.properties.code.const] : [];
    return [...own, ...[...(node.oneOf ?? []), ...(node.anyOf ?? []), ...(node.allOf ?? [])].flatMap((sub) => this.codesIn(sub))];
  }

  private readOperations(): ContractOperation[] {
    const paths = (this.document.paths ?? {}) as Record<string, Node>;
    return Object.entries(paths).flatMap(([route, item]) =>
      METHODS.filter((method) => method in item).map((method) => {
        const pointer = `/paths/${escapePointer(route)}/${method}`;
        const operation = item[method] as Node;
        const responses = Object.fromEntries(
          Object.keys((operation.responses ?? {}) as Node).map((status) => {
            const resolved = this.resolve(`${pointer}/responses/${status}`);
            return [status, { pointer: resolved.pointer, content: (resolved.node.content ?? {}) as Record<string, Node> }];
          }),
        );
        return { operationId: String(operation.operationId), method: method.toUpperCase(), path: route, responses, security: operation.security ?? this.document.security };
      }),
    );
  }
}
