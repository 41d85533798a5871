import { CreateTableCommand, DynamoDBClient, DynamoDBServiceException, ReplicatedWriteConflictException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_SERVER_DYNAMODB_SETTINGS } from '../../functions/adapters/aws/client-config';
import { createDocumentClient } from '../../functions/adapters/aws/clients';
import { createTableInput, type TableDefinition } from '../../functions/adapters/dynamodb/table-definitions';
import { operationOfCommand, renameOutput, renameTables, type Body } from './requests';

/**
 * A simulation of a DynamoDB global table with multi-Region strong
 * consistency (MRSC), for tests only. Every region's client reaches the same
 * DynamoDB Local, which stands for the linearizable truth that MRSC offers:
 * a write, once acknowledged, is what every region reads, and a condition
 * always evaluates against the latest version of the item.
 *
 * What MRSC adds, and what this simulates (below the SDK's retry middleware,
 * so that every attempt meets it, exactly as a real error answer would):
 * - latency: a write to an MRSC table pays a cross-region round trip (half on
 *   the way there, half on the way back), a read a smaller one; calls to a
 *   region's own tables pay nothing extra;
 * - ReplicatedWriteConflictException (retryable, as the SDK classifies it)
 *   when a write to an item starts while a write to the same item from
 *   another region is still in flight;
 * - TransactWriteItems, TransactGetItems and UpdateTimeToLive refused on an
 *   MRSC table: a ValidationException, whose wording here is ours, not AWS's;
 * - reads without `ConsistentRead`, and every query of an index (which
 *   DynamoDB serves eventually consistent only), answered from a replica of
 *   the table that each write reaches after a random lag: a read that needed
 *   the latest version and did not ask for it sees an older one;
 * - a region cut off (`isolate`), a region's process dying right after
 *   a write (`crashAfter`), and a region's operation frozen at a call and
 *   thawed later (`freeze`), as Lambda does with a function past its
 *   timeout, with the call's answer lost or not.
 */

/** `pk` is the only key attribute of the tables simulated. */
const KEY_ATTRIBUTE = 'pk';

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
const REFUSED_ON_MRSC = new Set(['TransactWriteItems', 'TransactGetItems', 'UpdateTimeToLive']);

/** What the region's process does once it died: nothing, every call fails with this. */
export class SimulatedCrash extends Error {
  constructor(region: string, afterWrites: number) {
    super(`simulated crash of region ${region} after its write ${afterWrites} to an MRSC table`);
    this.name = 'SimulatedCrash';
  }
}

/** Simulated: DynamoDB refuses these on MRSC tables; the exact message AWS sends may differ. */
const refusedOnMrsc = (operation: string, table: string) =>
  new DynamoDBServiceException({
    name: 'ValidationException',
    $fault: 'client',
    message: `${operation} is not supported for table ${table}, which has multi-Region strong consistency (simulated)`,
    $metadata: { httpStatusCode: 400 },
  });

const replicatedWriteConflict = (key: string) =>
  new ReplicatedWriteConflictException({
    message: `One or more items in the request are being modified by a request in another Region (simulated: ${key})`,
    $metadata: { httpStatusCode: 400 },
  });

/** A region that cannot reach DynamoDB: a timeout, which the SDK treats as transient and retries. */
const partitioned = (region: string) =>
  Object.assign(new Error(`connect ETIMEDOUT: region ${region} is isolated (simulated partition)`), { name: 'TimeoutError', code: 'ETIMEDOUT' });

/** The answer to a write that DynamoDB applied, lost on the way back: the SDK sends the write again. */
const answerLost = (region: string) => Object.assign(new Error(`socket hang up (simulated: the answer to a write from ${region} was lost)`), { code: 'ECONNRESET' });

type AttributeValue = { S?: string; N?: string; B?: string };

/** The tables and items one DynamoDB call touches, read from its serialized request. */
export interface CallShape {
  readonly operation: string;
  readonly tables: readonly string[];
  /** `table|pk` of each item written or read by key (none for Query and Scan). */
  readonly items: readonly string[];
}

const keyOf = (table: string, record: unknown): string | undefined => {
  const value = (record as Record<string, AttributeValue> | undefined)?.[KEY_ATTRIBUTE];
  const text = value?.S ?? value?.N ?? value?.B;
  return text === undefined ? undefined : `${table}|${text}`;
};

export function describeCall(operation: string, body: Body): CallShape {
  const tables = new Set<string>();
  const items: string[] = [];
  const touch = (table: unknown, record?: unknown) => {
    if (typeof table !== 'string') return;
    tables.add(table);
    const key = record === undefined ? undefined : keyOf(table, record);
    if (key) items.push(key);
  };
  touch(body.TableName, body.Item ?? body.Key);
  for (const [table, request] of Object.entries((body.RequestItems ?? {}) as Record<string, unknown>)) {
    // BatchGetItem: { Keys: [...] }; BatchWriteItem: [{ PutRequest: { Item } } | { DeleteRequest: { Key } }].
    if (Array.isArray(request)) {
      for (const entry of request as { PutRequest?: { Item: unknown }; DeleteRequest?: { Key: unknown } }[]) {
        touch(table, entry.PutRequest?.Item ?? entry.DeleteRequest?.Key);
      }
    } else {
      for (const key of (request as { Keys?: unknown[] }).Keys ?? []) touch(table, key);
    }
  }
  for (const entry of (body.TransactItems ?? []) as Record<string, { TableName?: string; Item?: unknown; Key?: unknown }>[]) {
    for (const action of Object.values(entry)) touch(action.TableName, action.Item ?? action.Key);
  }
  return { operation, tables: [...tables], items };
}

/** The operation of a serialized DynamoDB request: `DynamoDB_20120810.PutItem` -> `PutItem`. */
const operationOf = (headers: Record<string, string>): string => {
  const target = Object.entries(headers).find(([name]) => name.toLowerCase() === 'x-amz-target')?.[1] ?? '';
  return target.slice(target.indexOf('.') + 1);
};

/** The JSON body of a serialized request: a string, or bytes (the SDK's JSON protocol hands over a byte view). */
function bodyOf(body: unknown): Body {
  const text = typeof body === 'string' ? body : ArrayBuffer.isView(body) ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : '';
  return text ? (JSON.parse(text) as Body) : {};
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

export interface RegionOptions {
  /** The cross-region round trip a write to an MRSC table pays. */
  readonly latencyMs: number;
  /** What a read of an MRSC table pays; default a fifth of the write's. */
  readonly readLatencyMs?: number;
}

/** What a region's calls met, for the report. */
export interface RegionCounters {
  calls: number;
  mrscReads: number;
  /** Reads and index queries answered from the lagging replica. */
  laggingReads: number;
  /** Writes to an MRSC table that DynamoDB accepted. */
  mrscWrites: number;
  /** Writes to an MRSC table refused by their condition. */
  mrscConditionFailures: number;
  replicatedWriteConflicts: number;
  refusedOnMrsc: number;
  partitioned: number;
  crashed: number;
  frozen: number;
}

const noCounts = (): RegionCounters => ({
  calls: 0,
  mrscReads: 0,
  laggingReads: 0,
  mrscWrites: 0,
  mrscConditionFailures: 0,
  replicatedWriteConflicts: 0,
  refusedOnMrsc: 0,
  partitioned: 0,
  crashed: 0,
  frozen: 0,
});

/** Where a region's running operation stops until thawed. */
export interface FreezePlan {
  /** The call it stops at: its n-th write to an MRSC table from now, or the first call (to any table) that matches. */
  readonly at: number | ((call: CallShape) => boolean);
  /** 'before': the call is not sent until the thaw. 'after': DynamoDB has applied it, and its answer waits for the thaw. */
  readonly when: 'before' | 'after';
  /** With 'after': the answer is lost at the thaw, as when the connection drops, and the SDK sends the call again. */
  readonly loseAnswer?: boolean;
}

export interface Freeze {
  /** Settles once the operation reached the call and stopped there. */
  readonly reached: Promise<void>;
  /** Lets the operation go on. */
  thaw(): void;
}

class PlannedFreeze implements Freeze {
  readonly reached: Promise<void>;
  private readonly thawed: Promise<void>;
  private arrive = (): void => undefined;
  private release = (): void => undefined;
  private writesLeft: number | undefined;

  constructor(readonly plan: FreezePlan) {
    if (plan.loseAnswer && plan.when !== 'after') throw new Error('only an answer can be lost: loseAnswer goes with "after"');
    if (typeof plan.at === 'number' && plan.at < 1) throw new Error('freeze counts writes from 1');
    this.writesLeft = typeof plan.at === 'number' ? plan.at : undefined;
    this.reached = new Promise((resolve) => (this.arrive = resolve));
    this.thawed = new Promise((resolve) => (this.release = resolve));
  }

  /** Whether the call is the one to stop at; each call is offered once. */
  isAt(call: CallShape, mrscWrite: boolean): boolean {
    if (typeof this.plan.at === 'function') return this.plan.at(call);
    return mrscWrite && --this.writesLeft! === 0;
  }

  async hold(): Promise<void> {
    this.arrive();
    await this.thawed;
  }

  thaw(): void {
    this.release();
  }
}

/** One region: its own client, its own latency, its own faults. */
export class SimulatedRegion {
  readonly db: DynamoDBDocumentClient;
  readonly counters = noCounts();
  private isolated = false;
  /** Writes to MRSC tables left before the process dies; undefined: it does not. */
  private writesBeforeCrash: number | undefined;
  private crashPoint = 0;
  private dead = false;
  private planned: PlannedFreeze | undefined;

  constructor(
    readonly name: string,
    private readonly simulation: MrscSimulation,
    private readonly options: RegionOptions,
  ) {
    // The SDK's attempts as in the cloud, each with the local server's patience: one DynamoDB Local
    // carries three regions' traffic, and a timeout there is not a fault this simulation means to inject.
    this.db = createDocumentClient(simulation.endpoint, LOCAL_SERVER_DYNAMODB_SETTINGS);
    this.db.middlewareStack.add((next) => (args) => this.call(args, next), {
      step: 'finalizeRequest',
      // Below the SDK's retry middleware: each attempt meets the simulation.
      priority: 'low',
      name: `mrscSimulation-${name}`,
    });
    // Before serialization, where a call can still be sent to another table by name.
    this.db.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Body;
        const lagging = simulation.laggingReadTables(operationOfCommand(context.commandName), input);
        if (lagging.size === 0) return next(args);
        this.counters.laggingReads++;
        await simulation.replicaArrivals();
        const back = new Map([...lagging].map(([table, replica]) => [replica, table]));
        const result = await next({ ...args, input: renameTables(input, (table) => lagging.get(table) ?? table) });
        return { ...result, output: renameOutput(result.output as Body, (table) => back.get(table) ?? table) } as typeof result;
      },
      { step: 'initialize', name: `laggingReads-${name}` },
    );
  }

  /** Every call fails as if the region lost its network, until `heal`. */
  isolate(): void {
    this.isolated = true;
  }

  heal(): void {
    this.isolated = false;
  }

  /** The process dies right after its `n`-th write to an MRSC table from now: that write lands, its answer and every later call are lost. */
  crashAfter(n: number): void {
    if (n < 1) throw new Error('crashAfter counts writes from 1');
    this.writesBeforeCrash = n;
    this.crashPoint = n;
  }

  get crashed(): boolean {
    return this.dead;
  }

  /** A new process in the region, with nothing planned. */
  restart(): void {
    this.dead = false;
    this.writesBeforeCrash = undefined;
  }

  /**
   * The region's operation stops at the call planned, for as long as the
   * test likes (past its lease: the test moves the clock), while other
   * requests and the reconciler run; `thaw` lets it go on from there. Each
   * call is offered to a plan for 'before' when it is made, before anything
   * else here (so a call frozen there holds no write in flight), and to a
   * plan for 'after' once it is answered.
   */
  freeze(plan: FreezePlan): Freeze {
    if (this.planned) throw new Error(`region ${this.name} already has a freeze planned`);
    this.planned = new PlannedFreeze(plan);
    return this.planned;
  }

  destroy(): void {
    this.db.destroy();
  }

  private async call<Args extends { request: unknown }, Output>(args: Args, next: (args: Args) => Promise<Output>): Promise<Output> {
    const request = args.request as { headers: Record<string, string>; body?: unknown };
    const shape = describeCall(operationOf(request.headers), bodyOf(request.body));
    this.counters.calls++;
    this.simulation.record(this.name, shape);
    const mrsc = shape.tables.filter((table) => this.simulation.isMrsc(table));
    const mrscWrite = mrsc.length > 0 && WRITES.has(shape.operation);
    // A plan names the global table, whichever copy or replica answers the call.
    const planned = this.simulation.globalShape(shape);
    await this.frozenAt('before', planned, mrscWrite)?.hold();
    let answer: { output: Output } | { error: unknown };
    try {
      answer = { output: await this.send(args, next, shape, mrsc) };
    } catch (error) {
      answer = { error };
    }
    // Offered again once answered: a freeze planned while the call was held before it can take it here.
    const after = this.frozenAt('after', planned, mrscWrite);
    if (after) {
      await after.hold();
      if (after.plan.loseAnswer) throw answerLost(this.name);
    }
    if ('error' in answer) throw answer.error;
    return answer.output;
  }

  /** The freeze planned for this point of this call, taken off the plan. */
  private frozenAt(when: FreezePlan['when'], call: CallShape, mrscWrite: boolean): PlannedFreeze | undefined {
    const planned = this.planned;
    if (planned?.plan.when !== when || !planned.isAt(call, mrscWrite)) return undefined;
    this.planned = undefined;
    this.counters.frozen++;
    return planned;
  }

  private async send<Args, Output>(args: Args, next: (args: Args) => Promise<Output>, shape: CallShape, mrsc: readonly string[]): Promise<Output> {
    if (this.dead) throw new SimulatedCrash(this.name, this.crashPoint);
    if (this.isolated) {
      this.counters.partitioned++;
      throw partitioned(this.name);
    }
    if (mrsc.length === 0) return next(args);
    if (REFUSED_ON_MRSC.has(shape.operation)) {
      this.counters.refusedOnMrsc++;
      throw refusedOnMrsc(shape.operation, mrsc[0]!);
    }
    if (!WRITES.has(shape.operation)) {
      this.counters.mrscReads++;
      await sleep(this.options.readLatencyMs ?? this.options.latencyMs / 5);
      return next(args);
    }
    const items = shape.items.filter((item) => this.simulation.isMrsc(item.slice(0, item.indexOf('|'))));
    // Two regions' copies of one global table (the control) hold the same items.
    const globalItems = items.map((item) => this.simulation.globalItem(item));
    const contested = globalItems.find((item) => this.simulation.writtenElsewhere(item, this.name));
    if (contested) {
      this.counters.replicatedWriteConflicts++;
      throw replicatedWriteConflict(contested);
    }
    const release = this.simulation.beginWrite(globalItems, this.name);
    try {
      await sleep(this.options.latencyMs / 2);
      this.simulation.arrived(globalItems, this.name);
      let result: Output;
      try {
        result = await next(args);
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') this.counters.mrscConditionFailures++;
        throw error;
      }
      this.counters.mrscWrites++;
      this.simulation.written(items);
      if (this.writesBeforeCrash !== undefined && --this.writesBeforeCrash === 0) {
        this.dead = true;
        this.counters.crashed++;
        throw new SimulatedCrash(this.name, this.crashPoint);
      }
      await sleep(this.options.latencyMs / 2);
      return result;
    } finally {
      release();
    }
  }
}

export interface SimulationOptions {
  /** How long after a write its replica has it, drawn per write: what a read without ConsistentRead, or an index query, may miss. */
  readonly replicaLagMs?: { readonly min: number; readonly max: number };
}

/** The lag of an index or an eventually consistent read in DynamoDB is usually well under a second. */
const DEFAULT_REPLICA_LAG_MS = { min: 0, max: 1_000 };

/**
 * A replica of each MRSC table that lags: each write reaches it a random
 * delay after it landed. It answers what DynamoDB answers eventually
 * consistent: reads without ConsistentRead, and index queries. Copies are
 * made when the replica is read (or caught up), of the items whose every
 * write is due by then, as the item then stands, one batch after another:
 * the replica never goes back to an older version, and an item written
 * again before its last write was due stays as it was a while longer.
 */
class LaggingReplicas {
  private readonly replicaOf = new Map<string, string>();
  /** `table|pk` -> when the latest of its writes not copied yet is due at the replica. */
  private readonly due = new Map<string, number>();
  private copied: Promise<void> = Promise.resolve();
  private readonly failures: unknown[] = [];

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly lagMs: { readonly min: number; readonly max: number },
  ) {}

  async create(definition: TableDefinition, table: string): Promise<string> {
    const replica = `${table}--lagging-replica`;
    await this.db.send(new CreateTableCommand(createTableInput(definition, replica)));
    this.replicaOf.set(table, replica);
    return replica;
  }

  replicaFor(table: string): string | undefined {
    return this.replicaOf.get(table);
  }

  /** A write to the item landed: the replica has it after the lag. */
  written(item: string): void {
    if (!this.replicaOf.has(tableOf(item))) return;
    const dueAt = Date.now() + this.lagMs.min + Math.random() * (this.lagMs.max - this.lagMs.min);
    this.due.set(item, Math.max(this.due.get(item) ?? 0, dueAt));
  }

  /** Before a read of the replica: what is due by now reaches it. */
  arrive(): Promise<void> {
    const now = Date.now();
    return this.copy((dueAt) => dueAt <= now);
  }

  /** Every write so far reaches the replica now: for a test whose clock moved on by more than any lag. */
  async catchUp(): Promise<void> {
    await this.copy(() => true);
    if (this.failures.length > 0) throw new Error(`the lagging replica failed to copy: ${String(this.failures[0])}`);
  }

  private copy(ready: (dueAt: number) => boolean): Promise<void> {
    const items = [...this.due].filter(([, dueAt]) => ready(dueAt)).map(([item]) => item);
    for (const item of items) this.due.delete(item);
    this.copied = this.copied.then(() => Promise.all(items.map((item) => this.copyNow(item).catch((error: unknown) => void this.failures.push(error)))).then(() => undefined));
    return this.copied;
  }

  private async copyNow(item: string): Promise<void> {
    const table = tableOf(item);
    const Key = { [KEY_ATTRIBUTE]: item.slice(table.length + 1) };
    const TableName = this.replicaOf.get(table)!;
    const { Item } = await this.db.send(new GetCommand({ TableName: table, Key, ConsistentRead: true }));
    if (Item) await this.db.send(new PutCommand({ TableName, Item }));
    else await this.db.send(new DeleteCommand({ TableName, Key }));
  }
}

const tableOf = (item: string): string => item.slice(0, item.indexOf('|'));

/**
 * The regions of one MRSC global table set-up, over one DynamoDB Local.
 * Tables made with `createTable` or named with `markMrsc` are the global
 * ones; any other table a region uses is its own (a regional codes table),
 * with transactions and TTL.
 */
export class MrscSimulation {
  /** Each global table's name -> the name its items go by (its own, or the global table's of which it is a region's copy). */
  private readonly mrscTables = new Map<string, string>();
  /** `table|pk` -> region -> writes in flight. */
  private readonly inFlight = new Map<string, Map<string, number>>();
  /** `table|pk` -> the regions whose writes to it reached the table, in order. */
  private readonly arrivals = new Map<string, string[]>();
  private readonly internal: DynamoDBDocumentClient;
  private readonly replicas: LaggingReplicas;
  readonly regions: SimulatedRegion[] = [];
  /** Every call's shape, by region, when recording. */
  readonly log: { region: string; shape: CallShape }[] = [];
  recording = false;

  constructor(
    readonly endpoint: string,
    options: SimulationOptions = {},
  ) {
    // The simulation's own client, with the SDK's default timeouts: a busy DynamoDB Local must not lose a replica's copy.
    this.internal = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }));
    this.replicas = new LaggingReplicas(this.internal, options.replicaLagMs ?? DEFAULT_REPLICA_LAG_MS);
  }

  /** Creates an MRSC table, and its lagging replica. */
  async createTable(definition: TableDefinition, name: string): Promise<void> {
    await this.internal.send(new CreateTableCommand(createTableInput(definition, name)));
    const replica = await this.replicas.create(definition, name);
    this.markMrsc(name);
    this.mrscTables.set(replica, name);
  }

  /** A table made elsewhere that is global: for the control, a region's copy of a global table (`copyOf`), whose items are that table's. */
  markMrsc(table: string, options: { copyOf?: string } = {}): void {
    this.mrscTables.set(table, options.copyOf ?? table);
  }

  isMrsc(table: string): boolean {
    return this.mrscTables.has(table);
  }

  /** `table|pk` as the global table names it. */
  globalItem(item: string): string {
    const table = tableOf(item);
    return `${this.mrscTables.get(table) ?? table}${item.slice(table.length)}`;
  }

  /** The call as the global tables name it. */
  globalShape(shape: CallShape): CallShape {
    return { ...shape, tables: shape.tables.map((table) => this.mrscTables.get(table) ?? table), items: shape.items.map((item) => this.globalItem(item)) };
  }

  /** The tables of a read that DynamoDB answers eventually consistent, each with the replica that answers it here. */
  laggingReadTables(operation: string, input: Body): Map<string, string> {
    const lagging = new Map<string, string>();
    const add = (table: unknown, consistent: boolean) => {
      const replica = typeof table === 'string' && !consistent ? this.replicas.replicaFor(table) : undefined;
      if (replica) lagging.set(table as string, replica);
    };
    if (operation === 'GetItem') add(input.TableName, input.ConsistentRead === true);
    // An index is never read consistently.
    if (operation === 'Query' || operation === 'Scan') add(input.TableName, input.ConsistentRead === true && input.IndexName === undefined);
    if (operation === 'BatchGetItem') {
      for (const [table, request] of Object.entries((input.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>)) add(table, request.ConsistentRead === true);
    }
    return lagging;
  }

  /** Every write so far reaches the lagging replicas now. */
  catchUp(): Promise<void> {
    return this.replicas.catchUp();
  }

  /** The writes due at the lagging replicas by now reach them. */
  replicaArrivals(): Promise<void> {
    return this.replicas.arrive();
  }

  /** Writes to these items (`table|pk`) landed. */
  written(items: readonly string[]): void {
    for (const item of items) this.replicas.written(item);
  }

  region(name: string, options: RegionOptions): SimulatedRegion {
    const region = new SimulatedRegion(name, this, options);
    this.regions.push(region);
    return region;
  }

  /** Whether another region has a write to the item in flight. */
  writtenElsewhere(item: string, region: string): boolean {
    for (const [writer, count] of this.inFlight.get(item) ?? []) if (writer !== region && count > 0) return true;
    return false;
  }

  beginWrite(items: readonly string[], region: string): () => void {
    for (const item of items) {
      const writers = this.inFlight.get(item) ?? new Map<string, number>();
      writers.set(region, (writers.get(region) ?? 0) + 1);
      this.inFlight.set(item, writers);
    }
    return () => {
      for (const item of items) {
        const writers = this.inFlight.get(item)!;
        const left = writers.get(region)! - 1;
        if (left > 0) writers.set(region, left);
        else writers.delete(region);
        if (writers.size === 0) this.inFlight.delete(item);
      }
    };
  }

  /** The regions whose writes to the item reached the table from now on, in the order they did, as a live list. */
  watch(table: string, pk: string): readonly string[] {
    const arrivals: string[] = [];
    this.arrivals.set(`${table}|${pk}`, arrivals);
    return arrivals;
  }

  arrived(items: readonly string[], region: string): void {
    for (const item of items) this.arrivals.get(item)?.push(region);
  }

  record(region: string, shape: CallShape): void {
    if (this.recording) this.log.push({ region, shape });
  }

  /** The regions' counters added up. */
  totals(): RegionCounters {
    const sum = noCounts();
    for (const region of this.regions) {
      for (const name of Object.keys(sum) as (keyof RegionCounters)[]) sum[name] += region.counters[name];
    }
    return sum;
  }

  destroy(): void {
    for (const region of this.regions) region.destroy();
    this.internal.destroy();
  }
}
