import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createTableInput, type TableDefinition } from '../../functions/adapters/dynamodb/table-definitions';
import { operationOfCommand, renameOutput, renameTables, type Body } from './requests';

/**
 * The control: a global table as multi-Region *eventual* consistency makes
 * it (last writer wins), for tests only. Each region has its own copy of the
 * table (a table of its own in DynamoDB Local); a region's conditions
 * evaluate against its copy alone, and each write reaches the other copies
 * later, after a random replication delay, where the newer write by
 * timestamp wins. A region's client (one of the MRSC simulation's, so that
 * the control pays the same latency and meets the same
 * ReplicatedWriteConflictExceptions as the run it is compared with) calls
 * the table by its one logical name, so the code under test runs on it
 * unchanged.
 *
 * Simplification: the image shipped is the item as read right after the
 * write, and a replica applies it unless it saw a newer write; a local write
 * landing between that check and the apply can be overwritten. It can only
 * make the copies disagree more, which is what this control is for.
 */

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

/** A key attribute as the document client gives it (a string) or the plain client (`{ S }`). */
const pkOf = (record: unknown): string | undefined => {
  const value = (record as Record<string, unknown> | undefined)?.pk;
  if (typeof value === 'string') return value;
  const attribute = value as { S?: string } | undefined;
  return attribute?.S;
};

/** Whether a call's input names the table. */
function touches(input: Body, table: string): boolean {
  if (input.TableName === table) return true;
  if (input.RequestItems && Object.hasOwn(input.RequestItems, table)) return true;
  return ((input.TransactItems ?? []) as Record<string, { TableName?: string }>[]).some((entry) => Object.values(entry).some((action) => action.TableName === table));
}

/** The keys of the logical table's items a write touches. */
function writtenKeys(input: Body, table: string): string[] {
  const keys: (string | undefined)[] = [];
  if (input.TableName === table) keys.push(pkOf(input.Item ?? input.Key));
  const batch = (input.RequestItems as Record<string, { PutRequest?: { Item: unknown }; DeleteRequest?: { Key: unknown } }[]> | undefined)?.[table];
  for (const entry of batch ?? []) keys.push(pkOf(entry.PutRequest?.Item ?? entry.DeleteRequest?.Key));
  for (const entry of (input.TransactItems ?? []) as Record<string, { TableName?: string; Item?: unknown; Key?: unknown }>[]) {
    for (const [kind, action] of Object.entries(entry)) if (kind !== 'ConditionCheck' && action.TableName === table) keys.push(pkOf(action.Item ?? action.Key));
  }
  return keys.filter((key): key is string => key !== undefined);
}

export interface EventuallyConsistentOptions {
  /** Each write reaches each other copy after a delay drawn in this range. */
  readonly replicationDelayMs: { readonly min: number; readonly max: number };
}

export interface EcRegion {
  readonly name: string;
  readonly db: DynamoDBDocumentClient;
  readonly counters: { calls: number; writes: number; replicated: number; overwrittenByNewer: number };
}

/** One logical table replicated across regions with last-writer-wins. */
export class EventuallyConsistentTable {
  private readonly internal: DynamoDBDocumentClient;
  readonly regions: EcRegion[] = [];
  /** `copy|pk` -> timestamp of the newest write applied there. */
  private readonly versions = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  private clock = 0;

  constructor(
    endpoint: string,
    readonly logicalName: string,
    private readonly options: EventuallyConsistentOptions,
  ) {
    // The replication's own client, with the SDK's default timeouts: a busy DynamoDB Local must not lose a replicated write.
    this.internal = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }));
  }

  copyOf(region: string): string {
    return `${this.logicalName}--${region}`;
  }

  /** A copy of the table for each region, from the same definition. */
  async create(definition: TableDefinition, regions: readonly string[]): Promise<void> {
    await Promise.all(regions.map((region) => this.internal.send(new CreateTableCommand(createTableInput(definition, this.copyOf(region))))));
  }

  /** Sends the region's client's calls to the logical table to the region's copy, and replicates its writes. */
  region(name: string, db: DynamoDBDocumentClient): EcRegion {
    const region: EcRegion = { name, db, counters: { calls: 0, writes: 0, replicated: 0, overwrittenByNewer: 0 } };
    const copy = this.copyOf(name);
    const toCopy = (table: string) => (table === this.logicalName ? copy : table);
    const toLogical = (table: string) => (table === copy ? this.logicalName : table);
    db.middlewareStack.add(
      (next, context) => async (args) => {
        region.counters.calls++;
        const input = args.input as Body;
        const operation = operationOfCommand(context.commandName);
        const touchesTable = touches(input, this.logicalName);
        const result = await next({ ...args, input: renameTables(input, toCopy) });
        const output = { ...result, output: renameOutput(result.output as Body, toLogical) } as typeof result;
        if (touchesTable && WRITES.has(operation)) {
          region.counters.writes++;
          for (const pk of writtenKeys(input, this.logicalName)) await this.replicate(region, pk);
        }
        return output;
      },
      { step: 'initialize', name: `eventuallyConsistent-${name}` },
    );
    this.regions.push(region);
    return region;
  }

  /** Waits until every write made so far reached every copy. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Every item of a region's copy. */
  async scan(region: string): Promise<Record<string, unknown>[]> {
    const { Items = [] } = await this.internal.send(new ScanCommand({ TableName: this.copyOf(region), ConsistentRead: true }));
    return Items;
  }

  /** The regions' clients are their owner's to destroy. */
  destroy(): void {
    this.internal.destroy();
  }

  /** Ships the item as it now stands in the writer's copy to every other copy, later; the newer write wins. */
  private async replicate(from: EcRegion, pk: string): Promise<void> {
    const written = ++this.clock;
    this.versions.set(`${this.copyOf(from.name)}|${pk}`, written);
    const { Item: image } = await this.internal.send(new GetCommand({ TableName: this.copyOf(from.name), Key: { pk }, ConsistentRead: true }));
    const { min, max } = this.options.replicationDelayMs;
    const apply = async (to: string) => {
      await sleep(min + Math.random() * (max - min));
      const copy = this.copyOf(to);
      if ((this.versions.get(`${copy}|${pk}`) ?? 0) > written) {
        from.counters.overwrittenByNewer++;
        return;
      }
      this.versions.set(`${copy}|${pk}`, written);
      if (image) await this.internal.send(new PutCommand({ TableName: copy, Item: image }));
      else await this.internal.send(new DeleteCommand({ TableName: copy, Key: { pk } }));
      from.counters.replicated++;
    };
    for (const to of this.regions) {
      if (to.name === from.name) continue;
      const job = apply(to.name);
      this.pending.add(job);
      const forget = () => this.pending.delete(job);
      // A failed replication fails `settle`.
      job.then(forget, forget);
    }
  }
}
