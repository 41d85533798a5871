import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// Every TypeScript file a document or a comment names (`ordered-phone-links.ts`,
// `functions/config.ts`, `cdk/phone-link-stack.test.ts`) exists: a file moved
// or renamed takes the README's "Where things are", the docs and the comments
// that point at it along. And no comment carries a price or a measured figure:
// those go stale with the next upgrade, and belong in docs/PERFORMANCE.md.

const ROOT = path.resolve(__dirname, '../..');
const SKIPPED = new Set(['node_modules', 'cdk.out', 'coverage', '.git', '.local-data']);

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : filesUnder(file);
    return [file];
  });
}

const repositoryFiles = filesUnder('.').map((file) => path.posix.normalize(file));
const documents = ['README.md', ...repositoryFiles.filter((file) => /^docs\/.*\.md$/.test(file))];
const sources = repositoryFiles.filter((file) => /^(functions|lib|local|bin|bench|test)\/.*\.ts$/.test(file) && !file.endsWith('.generated.ts'));

/** A name ending in `.ts`, with the folders before it if any; not inside a URL or a longer path. */
const NAMED_FILE = /(?<![\w./-])(\w[\w.-]*(?:\/[\w.-]+)*\.ts)(?![\w/])/g;
const isComment = (line: string): boolean => /^\s*(\/\/|\/\*|\*)/.test(line);

/** Whether the name is a file: from the root, from the naming file's folder, or as the end of a path (`unit/phone.test.ts`). */
const exists = (name: string, namedIn: string): boolean =>
  repositoryFiles.includes(path.posix.normalize(path.posix.join(path.posix.dirname(namedIn), name))) ||
  repositoryFiles.some((file) => file === name || file.endsWith(`/${name}`));

/** The lines of a document, or the comment lines of a source file, with where each is. */
function proseLines(file: string): { where: string; text: string }[] {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  return lines.flatMap((text, index) => (file.endsWith('.ts') && !isComment(text) ? [] : [{ where: `${file}:${index + 1}`, text }]));
}

const namesIn = (file: string): { where: string; name: string }[] =>
  proseLines(file).flatMap(({ where, text }) => [...text.matchAll(NAMED_FILE)].map((match) => ({ where, name: match[1]! })));

/** A price (a dollar sign before a number), a percentage, or an estimate ("about", "around", "roughly" or a tilde before a number). */
const FIGURE = /\$ ?\d|\d(?:\.\d+)? ?%|\b(?:about|around|roughly) \d|~ ?\d/i;

describe('file names in the docs and comments', () => {
  const named = [...documents, ...sources].flatMap(namesIn);

  it('finds them, in the README, the docs and the comments', () => {
    const where = new Set(named.map((found) => found.where.split(':')[0]));
    expect(where).toContain('README.md');
    expect(where).toContain('docs/MULTI-REGION.md');
    expect(named.length).toBeGreaterThan(100);
  });

  it('names only files that exist', () => {
    expect(named.filter((found) => !exists(found.name, found.where.split(':')[0]!)).map((found) => `${found.where}: ${found.name}`)).toEqual([]);
  });
});

describe('figures in comments', () => {
  it('none: a price, a share or a measured time goes in docs/PERFORMANCE.md', () => {
    const comments = sources.flatMap(proseLines);
    expect(comments.length).toBeGreaterThan(1000);
    expect(comments.filter(({ text }) => FIGURE.test(text)).map(({ where, text }) => `${where}: ${text.trim()}`)).toEqual([]);
  });
});
