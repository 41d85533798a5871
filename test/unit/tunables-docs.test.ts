import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultText, everyBinding, everyTunable } from '../../functions/tunables';
import { STAGE_PARAMETERS } from '../../lib/stage-config';
import { LOCAL_VARIABLES, type LocalVariable } from '../../local/local-variables';

// README.md's "Configuration" and docs/DEPLOY.md's parameters say what the
// registry holds (functions/tunables.ts, and the stage's own parameters in
// lib/stage-config.ts), so they cannot drift: every variable and key is
// there with its default, and nothing is there that the code does not read.

const ROOT = path.join(__dirname, '..', '..');

interface Row {
  readonly where: string;
  /** The backticked names of the first cell. */
  readonly names: string[];
  /** The backticked values of the default cell, or of the meaning cell where the table has no default column. */
  readonly defaults: string[];
  readonly defaultCell: string;
  /** Whether the table has a default column. */
  readonly withDefaults: boolean;
  /** The cell of a context-key column, where the table has one beside the variables. */
  readonly keyCell: string | undefined;
}

/** The rows of every table in `file` between the heading `from` and the next heading of its level (the whole file without one). */
function tableRows(file: string, from: string | undefined, name: RegExp): Row[] {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const start = from === undefined ? -1 : lines.indexOf(from);
  if (from !== undefined && start < 0) throw new Error(`${file} has no heading ${from}`);
  const level = from === undefined ? undefined : /^#+ /.exec(from)![0];
  const end = level === undefined ? -1 : lines.findIndex((line, index) => index > start && line.startsWith(level));
  const rows: Row[] = [];
  let columns: string[] = [];
  for (let index = start + 1; index < (end < 0 ? lines.length : end); index++) {
    const line = lines[index]!;
    if (!line.startsWith('|')) {
      columns = [];
      continue;
    }
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
    if (columns.length === 0) {
      columns = cells.map((cell) => cell.toLowerCase());
      continue;
    }
    if (cells.every((cell) => /^-+$/.test(cell))) continue;
    const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
    const defaultColumn = columns.indexOf('default');
    const defaultCell = cells[defaultColumn < 0 ? cells.length - 1 : defaultColumn]!;
    rows.push({
      where: `${file}:${index + 1}`,
      names: ticked(cells[0]!).filter((text) => name.test(text)),
      defaults: ticked(defaultCell),
      defaultCell,
      withDefaults: defaultColumn >= 0,
      keyCell: cells[columns.findIndex((column, position) => position > 0 && /context key/.test(column))],
    });
  }
  return rows;
}

/** Whether the row gives `fallback` as the default of its `position`-th name: in that place when it gives one per name, else anywhere. */
const givesDefault = (row: Row, position: number, fallback: string): boolean =>
  row.defaults.length === row.names.length ? row.defaults[position] === fallback : row.defaults.includes(fallback) || row.defaultCell.includes(fallback);

describe("README.md's Configuration", () => {
  const rows = tableRows('README.md', '## Configuration', /^[A-Z][A-Z0-9_]+$/);
  const rowOf = (name: string) => rows.find((row) => row.names.includes(name));

  it('is found: a table of variables', () => {
    expect(rows.length).toBeGreaterThan(20);
  });

  it('gives every tunable with its default: a value in backticks, else what unset means, in words (`all`)', () => {
    const wrong = everyTunable().flatMap((tunable) => {
      const row = rowOf(tunable.env);
      if (row === undefined) return [`${tunable.env}: missing`];
      const fallback = defaultText(tunable);
      if (tunable.default !== undefined && !row.defaults.includes(fallback)) return [`${row.where}: ${tunable.env}: default ${fallback}, not ${row.defaultCell}`];
      if (tunable.default === undefined && tunable.unset !== undefined && !row.defaultCell.includes(tunable.unset)) return [`${row.where}: ${tunable.env}: unset means ${tunable.unset}`];
      return [];
    });
    expect(wrong).toEqual([]);
  });

  it('gives the local variables with theirs', () => {
    const wrong = Object.values(LOCAL_VARIABLES).flatMap((variable: LocalVariable) => {
      const row = rowOf(variable.name);
      if (row === undefined) return [`${variable.name}: missing`];
      return variable.default !== undefined && !row.defaults.includes(variable.default) ? [`${row.where}: ${variable.name}: default ${variable.default}`] : [];
    });
    expect(wrong).toEqual([]);
  });

  it('names no variable that nothing reads', () => {
    const known = new Set([...everyTunable().map((tunable) => tunable.env), ...everyBinding(), ...Object.values(LOCAL_VARIABLES).map((variable) => variable.name)]);
    expect(rows.flatMap((row) => row.names.filter((name) => !known.has(name)).map((name) => `${row.where}: ${name}`))).toEqual([]);
  });
});

describe("docs/DEPLOY.md's parameters", () => {
  const rows = tableRows('docs/DEPLOY.md', '## Parameters (CDK context)', /^[a-z][A-Za-z0-9]+$/);
  const keys = [
    ...everyTunable().flatMap((tunable) => (tunable.context === undefined ? [] : [{ key: tunable.context, fallback: tunable.default === undefined ? undefined : defaultText(tunable) }])),
    ...Object.values(STAGE_PARAMETERS).map((parameter) => ({
      key: parameter.context,
      fallback: parameter.default === undefined ? undefined : (parameter.rule as { format(value: unknown): string }).format(parameter.default),
    })),
  ];

  it('is found: the tables of keys', () => {
    expect(rows.length).toBeGreaterThan(20);
  });

  it('gives every key with its default: in its place where a row gives one per key', () => {
    const wrong = keys.flatMap(({ key, fallback }) => {
      const row = rows.find((candidate) => candidate.names.includes(key));
      if (row === undefined) return [`${key}: missing`];
      return fallback !== undefined && !givesDefault(row, row.names.indexOf(key), fallback) ? [`${row.where}: ${key}: default ${fallback}, not ${row.defaultCell}`] : [];
    });
    expect(wrong).toEqual([]);
  });

  it('names no key that synth does not read', () => {
    const known = new Set(keys.map(({ key }) => key));
    expect(rows.flatMap((row) => row.names.filter((name) => !known.has(name)).map((name) => `${row.where}: ${name}`))).toEqual([]);
  });
});

describe('every other table of the docs that gives a tunable', () => {
  const documents = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((file) => file.endsWith('.md')).map((file) => `docs/${file}`)];
  const rows = documents.flatMap((file) => tableRows(file, undefined, /^[A-Z][A-Z0-9_]+$/)).filter((row) => row.withDefaults && row.names.length === 1);
  const tunableOf = new Map(everyTunable().map((tunable) => [tunable.env, tunable]));

  it('are found: in the API reference and the runbook too, with context keys in the runbook', () => {
    const found = rows.filter((row) => tunableOf.has(row.names[0]!));
    expect(new Set(found.map((row) => row.where.split(':')[0]))).toEqual(new Set(['README.md', 'docs/API.md', 'docs/RUNBOOK.md']));
    expect(found.filter((row) => row.keyCell !== undefined).length).toBeGreaterThan(5);
  });

  it('give its default, and its context key where they name one', () => {
    const wrong = rows.flatMap((row) => {
      const tunable = tunableOf.get(row.names[0]!);
      if (tunable === undefined) return [];
      const problems: string[] = [];
      const fallback = defaultText(tunable);
      const given = [...row.defaults, row.defaultCell];
      if (tunable.default !== undefined && !given.includes(fallback)) problems.push(`default ${fallback}, not ${row.defaultCell}`);
      const key = row.keyCell === undefined ? undefined : /^`([^`]+)`$/.exec(row.keyCell)?.[1];
      if (row.keyCell !== undefined && key !== tunable.context) problems.push(`context key ${tunable.context ?? 'none'}, not ${row.keyCell}`);
      return problems.map((problem) => `${row.where}: ${tunable.env}: ${problem}`);
    });
    expect(wrong).toEqual([]);
  });
});
