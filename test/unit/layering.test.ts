import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// The house's layers (STYLE.md): entry/ -> http/ -> use-cases/ -> ports.ts ->
// adapters/ and domain/, no arrow running back up, no circle; and CDK code
// (lib/, bin/) reaching only pure data in functions/, never a handler or middy.

const ROOT = path.join(__dirname, '..', '..');

interface Import {
  readonly from: string;
  /** A file of ours (relative to the root), or a package name. */
  readonly to: string;
  /** `import type`: erased, it runs nothing. */
  readonly typeOnly: boolean;
}

const sourceFiles = (dir: string): string[] =>
  readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const relative = path.posix.join(dir, name);
    if (statSync(path.join(ROOT, relative)).isDirectory()) return sourceFiles(relative);
    return relative.endsWith('.ts') ? [relative] : [];
  });

const FILES = ['functions', 'lib', 'bin'].flatMap(sourceFiles);

function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(path.join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest);
  const found: Import[] = [];
  for (const statement of source.statements) {
    if (!(ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement))) continue;
    const specifier = statement.moduleSpecifier;
    if (specifier === undefined || !ts.isStringLiteral(specifier)) continue;
    const typeOnly = ts.isImportDeclaration(statement)
      ? statement.importClause?.isTypeOnly === true ||
        (statement.importClause?.namedBindings !== undefined &&
          ts.isNamedImports(statement.importClause.namedBindings) &&
          statement.importClause.name === undefined &&
          statement.importClause.namedBindings.elements.length > 0 &&
          statement.importClause.namedBindings.elements.every((element) => element.isTypeOnly))
      : statement.isTypeOnly;
    const to = specifier.text.startsWith('.')
      ? path.posix.normalize(path.posix.join(path.posix.dirname(file), `${specifier.text}.ts`))
      : (/^(@[^/]+\/[^/]+|[^/]+)/.exec(specifier.text)?.[1] ?? specifier.text);
    found.push({ from: file, to, typeOnly });
  }
  return found;
}

const IMPORTS = FILES.flatMap(importsOf);
const runtimeImports = (file: string) => IMPORTS.filter((edge) => edge.from === file && !edge.typeOnly);

/** The layer of a file under functions/, highest first; undefined for what every layer may use (config, clock, logs, budget). */
function layerOf(file: string): number | undefined {
  const layers: [RegExp, number][] = [
    [/^functions\/entry\//, 5],
    [/^functions\/http\//, 4],
    [/^functions\/use-cases\//, 3],
    [/^functions\/ports\.ts$/, 2],
    [/^functions\/adapters\//, 1],
    [/^functions\/domain\//, 0],
  ];
  return layers.find(([pattern]) => pattern.test(file))?.[1];
}

describe('layering', () => {
  it('finds the source files and their imports', () => {
    expect(FILES).toEqual(expect.arrayContaining(['functions/entry/wiring.ts', 'functions/http/routes.ts', 'lib/phone-link-stack.ts']));
    expect(IMPORTS.filter((edge) => edge.from === 'functions/entry/wires.ts').map((edge) => edge.to)).toContain('functions/http/handlers.ts');
  });

  it('no import runs back up: entry -> http -> use cases -> ports -> adapters and domain', () => {
    const upward = IMPORTS.filter((edge) => {
      const from = layerOf(edge.from);
      const to = layerOf(edge.to);
      if (from === undefined || to === undefined) return false;
      // Adapters implement the ports: the one arrow from below, and only to ports.ts.
      if (from === 1 && to === 2) return false;
      return to > from;
    });
    expect(upward).toEqual([]);
  });

  it('the shared modules (config, clock, observability, budget) import no layer above the domain', () => {
    const shared = FILES.filter((file) => file.startsWith('functions/') && layerOf(file) === undefined);
    expect(shared).toEqual(expect.arrayContaining(['functions/config.ts', 'functions/observability.ts']));
    const upward = IMPORTS.filter((edge) => shared.includes(edge.from) && (layerOf(edge.to) ?? 0) > 0);
    expect(upward).toEqual([]);
  });

  it('no module imports itself round a circle', () => {
    const cycles: string[][] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file]);
        return;
      }
      state.set(file, 'open');
      for (const edge of runtimeImports(file)) if (FILES.includes(edge.to)) visit(edge.to, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of FILES) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('CDK code reaches no handler, use case or middy: only pure data of the functions', () => {
    const reached = new Set<string>();
    const walk = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const edge of runtimeImports(file)) (FILES.includes(edge.to) ? walk : (name: string) => reached.add(name))(edge.to);
    };
    for (const file of FILES.filter((name) => /^(lib|bin)\//.test(name))) walk(file);
    expect([...reached].filter((file) => /^@middy\/|^functions\/(entry|use-cases|adapters\/(?!dynamodb\/table-definitions))|^functions\/http\/(?!routes\.ts)/.test(file))).toEqual([]);
    expect(reached).toContain('functions/http/routes.ts');
    // An allow-list: the route table, the table definitions, the time budget, the registry of
    // settings and its rules, and the domain those rules are (pure: no SDK, no Powertools).
    const pureData = /^functions\/(tunables|request-budget)\.ts$|^functions\/domain\/|^functions\/http\/routes\.ts$|^functions\/adapters\/dynamodb\/table-definitions\.ts$/;
    expect([...reached].filter((file) => file.startsWith('functions/') && !pureData.test(file))).toEqual([]);
    expect([...reached].filter((name) => /^@aws-sdk\/|^@aws-lambda-powertools\//.test(name))).toEqual([]);
    expect(reached).toContain('functions/tunables.ts');
  });
});
