import { readFileSync } from 'node:fs';
import path from 'node:path';

// npm 11 skips a dependency's install scripts unless package.json's
// `allowScripts` approves them, and warns about every one it has no entry
// for. The lockfile marks each package that has such a script, so a new one
// (an upgrade, a new dependency) fails here instead of warning in every
// clean install.

const ROOT = path.resolve(__dirname, '../..');
const readJson = (file: string): unknown => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));

interface LockEntry {
  readonly name?: string;
  readonly hasInstallScript?: boolean;
}

describe('install scripts', () => {
  it('package.json settles every dependency with an install script, so `npm ci` is quiet', () => {
    const { packages } = readJson('package-lock.json') as { packages: Record<string, LockEntry> };
    const { allowScripts = {} } = readJson('package.json') as { allowScripts?: Record<string, unknown> };
    const withScripts = Object.entries(packages)
      .filter(([location, entry]) => location !== '' && entry.hasInstallScript === true)
      .map(([location, entry]) => entry.name ?? location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length));

    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((name) => typeof allowScripts[name] !== 'boolean')).toEqual([]);
  });
});
