import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { readTunable } from '../../functions/config';
import { defaultText, everyBinding, everyTunable } from '../../functions/tunables';
import { FULL_CONTEXT, MULTI_REGION_CONTEXT, synthesize } from './synth';

// The stack writes each function's environment by the registry's names
// (functions/tunables.ts), never its own: every variable of every function is
// a tunable or a binding, every tunable the stage exposes reaches a function
// as the value synth read, and no name is written out in lib/.

const tunables = everyTunable();
const exposed = tunables.filter((tunable) => tunable.context !== undefined);

/** Prod with every optional feature, and every tunable the stage exposes set (to its default where it has one). */
const EVERY_TUNABLE: Record<string, string> = {
  ...FULL_CONTEXT,
  ...Object.fromEntries(exposed.filter((tunable) => tunable.default !== undefined).map((tunable) => [tunable.context, defaultText(tunable)])),
};

const environments = (template: Template): Record<string, unknown>[] =>
  Object.values(template.findResources('AWS::Lambda::Function')).map((fn) => fn.Properties.Environment?.Variables ?? {});

describe("the functions' environment", () => {
  const single = synthesize(EVERY_TUNABLE).template;
  const multiRegion = synthesize({ ...MULTI_REGION_CONTEXT, ...EVERY_TUNABLE }).template;

  it.each([
    ['one region', single],
    ['multi-region', multiRegion],
  ])('%s: holds only the variables of the registry: tunables and bindings', (_case, template) => {
    const known = new Set([...tunables.map((tunable) => tunable.env), ...everyBinding()]);
    const names = environments(template).flatMap((variables) => Object.keys(variables));

    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((name) => !known.has(name))).toEqual([]);
  });

  it('tells some function every tunable the stage exposes, as the value synth read from context', () => {
    expect(Object.keys(EVERY_TUNABLE)).toEqual(expect.arrayContaining(exposed.map((tunable) => tunable.context)));
    for (const tunable of exposed) {
      const given = environments(single).filter((variables) => typeof variables[tunable.env] === 'string');
      expect([tunable.env, given.length > 0]).toEqual([tunable.env, true]);
      const fromContext = readTunable({ [tunable.env]: EVERY_TUNABLE[tunable.context!] }, tunable);
      for (const variables of given) expect([tunable.env, readTunable(variables as Record<string, string>, tunable)]).toEqual([tunable.env, fromContext]);
    }
  });

  it('names no variable in lib/ itself: each comes from the registry', () => {
    const root = path.join(__dirname, '..', '..');
    const sources = (dir: string): string[] =>
      readdirSync(path.join(root, dir)).flatMap((name) => {
        const file = path.join(dir, name);
        return statSync(path.join(root, file)).isDirectory() ? sources(file) : file.endsWith('.ts') ? [file] : [];
      });
    const names = [...tunables.map((tunable) => tunable.env), ...everyBinding()];
    const written = sources('lib').flatMap((file) =>
      [...readFileSync(path.join(root, file), 'utf8').matchAll(/(['"`])([A-Z][A-Z0-9_]+)\1/g)].filter((match) => names.includes(match[2]!)).map((match) => `${file}: ${match[2]}`),
    );

    expect(written).toEqual([]);
  });
});
