import { spawn } from 'node:child_process';
import path from 'node:path';

// The local commands a newcomer runs first, as child processes: what they
// say and how they exit when something is missing or help is asked for.
// None of these starts DynamoDB Local.

const ROOT = path.resolve(__dirname, '../..');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node --import tsx <script> <args>` with only the environment given (plus PATH). */
function runScript(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run docs:check', () => {
  it('without a browser, says how to get one and exits 2 before starting anything', async () => {
    const run = await runScript('local/check-docs.ts', [], { CHROMIUM_PATH: '/nonexistent/chromium' });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Docs check needs Chromium, and there is none at /nonexistent/chromium (CHROMIUM_PATH)');
    expect(run.stderr).toContain('apt-get install chromium');
    expect(run.stderr).toContain('CHROMIUM_PATH=');
    expect(run.stdout).toBe('');
  });
});

describe('npm start', () => {
  it('--help lists the settings that matter locally, with the defaults the functions apply, and starts nothing', async () => {
    // No java on PATH: help must not need DynamoDB Local.
    const run = await runScript('local/start.ts', ['--help'], { PATH: '' });

    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('PORT=3001 npm start');
    for (const name of ['PORT', 'USER_DOMAIN', 'USER_DOMAIN_SECRET', 'LOCAL_DATA_DIR', '--persist', 'JWKS_URL', 'JWT_ISSUER', 'PHONE_LINKS_MODE', 'USER_PROVISIONING']) {
      expect(run.stdout).toContain(name);
    }
    const defaults = Object.fromEntries([...run.stdout.matchAll(/^ {2}((?:SMS|CODE)_[A-Z_]+)\s+(\S+)\s/gm)].map((match) => [match[1], match[2]]));
    expect(defaults).toEqual({
      SMS_COOLDOWN_SECONDS: '60',
      SMS_MAX_PER_PHONE_PER_DAY: '10',
      SMS_MAX_PER_IP_PER_HOUR: '50',
      SMS_MAX_PER_MINUTE: '300',
      SMS_MAX_PER_COUNTRY_PER_MINUTE: '100',
      SMS_ALLOWED_COUNTRIES: 'all',
      CODE_TTL_SECONDS: '300',
      CODE_MAX_WRONG_TRIES: '5',
    });
    expect(run.stdout).toContain('README.md, "Configuration"');
    expect(run.stdout).not.toContain('ready');
  });

  it('points an unknown argument to --help', async () => {
    const run = await runScript('local/start.ts', ['--prot=3001'], { PATH: '' });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Unknown argument --prot=3001');
    expect(run.stderr).toContain('npm start -- --help');
  });
});
