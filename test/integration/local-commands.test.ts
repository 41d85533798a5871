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
