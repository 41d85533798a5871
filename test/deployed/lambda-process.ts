import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';

const RUNNER = path.join(__dirname, 'lambda-runner.mjs');

/** Variables Lambda sets itself; a function configuration that sets one is refused at deploy. */
export const LAMBDA_RESERVED_VARIABLES = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
];

export type Invocation = { result: unknown } | { error: { errorType: string; errorMessage: string; stack?: string } };

interface Pending {
  resolve(answer: Invocation): void;
  timer: NodeJS.Timeout;
}

/**
 * One function's execution environment: a `node` process running the
 * bundle in exactly `env` (nothing inherited from the test), invoked one
 * event at a time. Its stdout and stderr are its logs. An environment that
 * ended (killed, timed out) is replaced by a fresh one, cold start and all,
 * at the next invocation, as Lambda does.
 */
export class LambdaProcess {
  private child!: ChildProcess;
  private readonly pending = new Map<string, Pending>();
  private readonly logs: string[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private exited = false;
  private stopped = false;
  /** Resolves once the bundle is imported in the first environment: undefined, or the init error. */
  readonly initialised: Promise<string | undefined>;
  /** Execution environments started so far. */
  environments = 0;

  constructor(
    readonly name: string,
    private readonly bundleFile: string,
    private readonly env: Record<string, string>,
    private readonly timeoutMs: number,
  ) {
    this.initialised = this.start();
  }

  private start(): Promise<string | undefined> {
    this.environments++;
    this.exited = false;
    const child = spawn(process.execPath, [RUNNER, this.bundleFile], { env: this.env, cwd: path.dirname(this.bundleFile), stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => this.logs.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => this.logs.push(chunk.toString()));
    let init: (error: string | undefined) => void = () => undefined;
    const initialised = new Promise<string | undefined>((resolve) => (init = resolve));
    const reports = createInterface({ input: child.stdio[3] as NodeJS.ReadableStream });
    reports.on('line', (line) => {
      const message = JSON.parse(line) as { ready?: true; initError?: { errorMessage: string }; id?: string } & Invocation;
      if (message.ready) init(undefined);
      if (message.initError) init(`${message.initError.errorMessage}`);
      const waiting = message.id === undefined ? undefined : this.pending.get(message.id);
      if (waiting && message.id !== undefined) {
        clearTimeout(waiting.timer);
        this.pending.delete(message.id);
        waiting.resolve(message);
      }
    });
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.exited = true;
      init(`exited with ${code ?? signal}`);
      for (const [id, waiting] of this.pending) {
        clearTimeout(waiting.timer);
        waiting.resolve({ error: { errorType: 'Runtime.ExitError', errorMessage: `the process exited with ${code ?? signal}` } });
        this.pending.delete(id);
      }
    });
    return initialised;
  }

  /** Invokes the handler once, after any invocation in flight (one at a time, as in one Lambda environment). */
  invoke(event: unknown, context: Record<string, unknown>): Promise<Invocation> {
    const run = this.queue.then(() => this.invokeNow(event, context));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private invokeNow(event: unknown, context: Record<string, unknown>): Promise<Invocation> {
    if (this.stopped) return Promise.resolve({ error: { errorType: 'Runtime.ExitError', errorMessage: `${this.name} is not running` } });
    if (this.exited) void this.start();
    const id = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // Lambda ends an environment whose invocation timed out.
        this.crash();
        resolve({ error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${this.timeoutMs / 1000} seconds` } });
      }, this.timeoutMs);
      this.pending.set(id, { resolve, timer });
      this.child.stdin?.write(`${JSON.stringify({ id, event, context: { ...context, awsRequestId: id }, timeoutMs: this.timeoutMs })}\n`);
    });
  }

  /** Everything the function logged so far, in every environment. */
  output(): string {
    return this.logs.join('');
  }

  /** Ends the running environment abruptly, as a crash or Lambda's timeout does: the invocation in flight fails, the next one starts afresh. */
  crash(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** Ends the function for good. */
  stop(): void {
    this.stopped = true;
    this.crash();
  }
}
