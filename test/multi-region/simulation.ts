import { DynamoDBServiceException, ReplicatedWriteConflictException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_SERVER_DYNAMODB_SETTINGS } from '../../functions/adapters/aws/client-config';
import { createDocumentClient } from '../../functions/adapters/dynamodb/document-client';

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
 * - a region cut off (`isolate`), and a region's process dying right after
 *   a write (`crashAfter`).
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

type AttributeValue = { S?: string; N?: string; B?: string };
type Body = Record<string, unknown>;

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
  /** Writes to an MRSC table that DynamoDB accepted. */
  mrscWrites: number;
  /** Writes to an MRSC table refused by their condition. */
  mrscConditionFailures: number;
  replicatedWriteConflicts: number;
  refusedOnMrsc: number;
  partitioned: number;
  crashed: number;
}

const noCounts = (): RegionCounters => ({
  calls: 0,
  mrscReads: 0,
  mrscWrites: 0,
  mrscConditionFailures: 0,
  replicatedWriteConflicts: 0,
  refusedOnMrsc: 0,
  partitioned: 0,
  crashed: 0,
});

/** One region: its own client, its own latency, its own faults. */
export class SimulatedRegion {
  readonly db: DynamoDBDocumentClient;
  readonly counters = noCounts();
  private isolated = false;
  /** Writes to MRSC tables left before the process dies; undefined: it does not. */
  private writesBeforeCrash: number | undefined;
  private crashPoint = 0;
  private dead = false;

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

  destroy(): void {
    this.db.destroy();
  }

  private async call<Args extends { request: unknown }, Output>(args: Args, next: (args: Args) => Promise<Output>): Promise<Output> {
    const request = args.request as { headers: Record<string, string>; body?: unknown };
    const shape = describeCall(operationOf(request.headers), bodyOf(request.body));
    this.counters.calls++;
    this.simulation.record(this.name, shape);
    if (this.dead) throw new SimulatedCrash(this.name, this.crashPoint);
    if (this.isolated) {
      this.counters.partitioned++;
      throw partitioned(this.name);
    }
    const mrsc = shape.tables.filter((table) => this.simulation.isMrsc(table));
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
    const contested = items.find((item) => this.simulation.writtenElsewhere(item, this.name));
    if (contested) {
      this.counters.replicatedWriteConflicts++;
      throw replicatedWriteConflict(contested);
    }
    const release = this.simulation.beginWrite(items, this.name);
    try {
      await sleep(this.options.latencyMs / 2);
      let result: Output;
      try {
        result = await next(args);
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') this.counters.mrscConditionFailures++;
        throw error;
      }
      this.counters.mrscWrites++;
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

/**
 * The regions of one MRSC global table set-up, over one DynamoDB Local.
 * Tables named with `markMrsc` are the global ones; any other table a
 * region uses is its own (a regional codes table), with transactions and TTL.
 */
export class MrscSimulation {
  private readonly mrscTables = new Set<string>();
  /** `table|pk` -> region -> writes in flight. */
  private readonly inFlight = new Map<string, Map<string, number>>();
  readonly regions: SimulatedRegion[] = [];
  /** Every call's shape, by region, when recording. */
  readonly log: { region: string; shape: CallShape }[] = [];
  recording = false;

  constructor(readonly endpoint: string) {}

  markMrsc(table: string): void {
    this.mrscTables.add(table);
  }

  isMrsc(table: string): boolean {
    return this.mrscTables.has(table);
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
  }
}
