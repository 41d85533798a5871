import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readStageConfig } from '../../lib/stage-config';

// Every cdk command the docs show (`cdk deploy|synth|destroy|diff`,
// `npm run synth`), in code blocks and inline code, is read as cdk would
// read it and its context run through the stage rules: a command copied
// from the docs must not fail as written. No synth: the rules alone.

const ROOT = path.resolve(__dirname, '../..');
/** Where the commands are: the README, every page under docs/, and the CDK app's own header. */
const DOCUMENTS = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((file) => file.endsWith('.md')).map((file) => `docs/${file}`), 'bin/app.ts'];
const COMMAND = /\b(?:cdk\s+(?:deploy|synth|destroy|diff)|npm\s+run\s+synth)\b/;

interface DocCommand {
  readonly where: string;
  readonly text: string;
}

/** Code lines: fenced in Markdown, comment lines in TypeScript; continuation lines (`\`) joined. */
function codeLines(file: string, text: string): { line: number; code: string; inline: boolean }[] {
  const lines = text.split('\n');
  const found: { line: number; code: string; inline: boolean }[] = [];
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (file.endsWith('.md') && /^\s*(```|~~~)/.test(raw)) {
      fenced = !fenced;
      continue;
    }
    const isCode = file.endsWith('.ts') ? /^\s*(\*|\/\/)/.test(raw) : fenced;
    const strip = (line: string) => (file.endsWith('.ts') ? line.replace(/^\s*(\*|\/\/)\s?/, '') : line);
    if (!isCode) {
      for (const span of raw.matchAll(/`([^`]+)`/g)) found.push({ line: i + 1, code: span[1]!, inline: true });
      continue;
    }
    let code = strip(raw);
    const start = i;
    while (/\\\s*$/.test(code) && i + 1 < lines.length) code = `${code.replace(/\\\s*$/, ' ')}${strip(lines[++i]!)}`;
    found.push({ line: start + 1, code: code.replace(/(^|\s)#.*$/, ''), inline: false });
  }
  return found;
}

function commandsIn(file: string): DocCommand[] {
  const commands: DocCommand[] = [];
  for (const { line, code } of codeLines(file, readFileSync(path.join(ROOT, file), 'utf8'))) {
    for (const part of code.split(/&&|;|\|\|/)) {
      if (COMMAND.test(part)) commands.push({ where: `${file}:${line}`, text: part.trim().replace(/\s+/g, ' ') });
    }
  }
  return commands;
}

/** The context cdk would pass: cdk.json's, then each `-c key=value` (or `--context`) of the command. */
function contextOf(command: string): Record<string, unknown> {
  const { context = {} } = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const merged: Record<string, unknown> = { ...context };
  const tokens = command.split(' ');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const pair = token === '-c' || token === '--context' ? tokens[++i] : /^--context=(.*)$/.exec(token)?.[1];
    if (pair === undefined) continue;
    const [key, ...value] = pair.split('=');
    merged[key!] = value.join('=');
  }
  return merged;
}

/** Why the command fails as written, or undefined: what the stage rules say of its context, and any elision. */
function problemOf(command: string): string | undefined {
  const problems: string[] = [];
  try {
    const context = contextOf(command);
    readStageConfig({ tryGetContext: (key: string): unknown => context[key] });
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  if (command.split(' ').some((token) => token.includes('...') || token.includes('…'))) {
    problems.push('elided ("..."): write the whole command, with example values that pass the stage rules');
  }
  return problems.length === 0 ? undefined : problems.join('\n');
}

describe('cdk commands in the docs', () => {
  const commands = DOCUMENTS.flatMap(commandsIn);

  it('finds them, prod ones with context among them', () => {
    const texts = commands.map((command) => command.text);
    expect(texts).toEqual(expect.arrayContaining([expect.stringMatching(/^npx cdk deploy -c stage=prod /), expect.stringMatching(/^npx cdk destroy -c stage=prod /)]));
    expect(texts).toEqual(expect.arrayContaining([expect.stringMatching(/^npm run synth -- -c stage=prod /), expect.stringMatching(/^npx cdk diff -c stage=prod /)]));
    expect(new Set(commands.map((command) => command.where.split(':')[0]))).toEqual(new Set(['README.md', 'docs/DEPLOY.md', 'docs/MULTI-REGION.md', 'docs/RUNBOOK.md', 'docs/API.md', 'docs/PERFORMANCE.md', 'bin/app.ts']));
  });

  it('each passes the stage rules as written', () => {
    const failing = commands.flatMap(({ where, text }) => {
      const problem = problemOf(text);
      return problem === undefined ? [] : [`${where}: ${text}\n    ${problem.replace(/\n/g, '\n    ')}`];
    });
    expect(failing).toEqual([]);
  });

  it('reads a command as cdk does: it would catch a missing issuer, a bad value and an elision', () => {
    expect(problemOf('npx cdk deploy -c stage=prod -c jwksUrl=https://login.example.com/.well-known/jwks.json -c userDomains=C.DM.5903.1')).toMatch(/needs context "jwtIssuer"/);
    expect(problemOf('npm run synth -- --context smsSenderId=12345')).toMatch(/"smsSenderId" must be/);
    expect(problemOf('npx cdk diff -c stage=prod ...')).toMatch(/elided/);
    expect(problemOf('npx cdk synth -c corsAllowedOrigins=https://app.example.com')).toBeUndefined();
  });
});
