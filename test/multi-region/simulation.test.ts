import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, ReplicatedWriteConflictException, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactGetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { codesTable, createTableInput, DUE_INDEX, multiRegionUsersTable } from '../../functions/adapters/dynamodb/table-definitions';
import { EventuallyConsistentTable } from './eventually-consistent';
import { MrscSimulation, SimulatedCrash } from './simulation';

// The simulation itself, before anything is proven with it: each of its
// behaviours shows, and only where it should.

const endpoint = process.env.DYNAMODB_ENDPOINT!;
const suffix = randomUUID().slice(0, 8);
const mrscTable = `sim-users-${suffix}`;
const regionalTable = `sim-codes-${suffix}`;

let simulation: MrscSimulation;

beforeAll(async () => {
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await client.send(new CreateTableCommand(createTableInput(codesTable, regionalTable)));
  client.destroy();
  // A replica a minute behind, unless caught up: what it answers is decided by the test, not by timing.
  simulation = new MrscSimulation(endpoint, { replicaLagMs: { min: 60_000, max: 60_000 } });
  await simulation.createTable(multiRegionUsersTable, mrscTable);
});

afterAll(() => simulation.destroy());

const put = (TableName: string, pk: string, extra: Record<string, unknown> = {}) => new PutCommand({ TableName, Item: { pk, ...extra } });
const read = (TableName: string, pk: string) => new GetCommand({ TableName, Key: { pk }, ConsistentRead: true });

describe('transactions and TTL on an MRSC table', () => {
  it('refuses TransactWriteItems, TransactGetItems and UpdateTimeToLive on the MRSC table, as a ValidationException', async () => {
    const region = simulation.region('tx-east', { latencyMs: 5 });
    const write = region.db.send(
      new TransactWriteCommand({ TransactItems: [{ Put: { TableName: regionalTable, Item: { pk: 'a' } } }, { Put: { TableName: mrscTable, Item: { pk: 'b' } } }] }),
    );
    await expect(write).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    await expect(region.db.send(new TransactGetCommand({ TransactItems: [{ Get: { TableName: mrscTable, Key: { pk: 'b' } } }] }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    const ttl = new UpdateTimeToLiveCommand({ TableName: mrscTable, TimeToLiveSpecification: { Enabled: true, AttributeName: 'ttl' } });
    await expect(region.db.send(ttl)).rejects.toMatchObject({ name: 'ValidationException' });
    expect(region.counters.refusedOnMrsc).toBe(3);
    // Nothing of the refused transaction landed, on either table.
    expect((await region.db.send(read(regionalTable, 'a'))).Item).toBeUndefined();
    expect((await region.db.send(read(mrscTable, 'b'))).Item).toBeUndefined();
  });

  it('allows transactions on a regional table', async () => {
    const region = simulation.region('tx-west', { latencyMs: 5 });
    await region.db.send(
      new TransactWriteCommand({ TransactItems: [{ Put: { TableName: regionalTable, Item: { pk: 'c' } } }, { Put: { TableName: regionalTable, Item: { pk: 'd' } } }] }),
    );
    expect((await region.db.send(read(regionalTable, 'd'))).Item).toEqual({ pk: 'd' });
    expect(region.counters.refusedOnMrsc).toBe(0);
  });
});

describe('ReplicatedWriteConflictException', () => {
  it('meets a write to an item that another region is writing, on every attempt while that write is in flight', async () => {
    const slow = simulation.region('conflict-slow', { latencyMs: 1_500 });
    const other = simulation.region('conflict-other', { latencyMs: 5 });
    const key = `conflict-${randomUUID()}`;
    const first = slow.db.send(put(mrscTable, key, { by: 'slow' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = other.db.send(put(mrscTable, key, { by: 'other' }));
    await expect(second).rejects.toBeInstanceOf(ReplicatedWriteConflictException);
    await first;
    // The SDK retried it (the error is retryable) and the retry met the same conflict.
    expect(other.counters.replicatedWriteConflicts).toBe(2);
    expect((await other.db.send(read(mrscTable, key))).Item).toEqual({ pk: key, by: 'slow' });
  });

  it('is ridden out by the SDK when the other write ends before the retry', async () => {
    const slowish = simulation.region('conflict-brief', { latencyMs: 30 });
    const other = simulation.region('conflict-retrier', { latencyMs: 5 });
    const key = `conflict-${randomUUID()}`;
    const first = slowish.db.send(put(mrscTable, key, { by: 'first' }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The SDK's retry pause (up to a few hundred ms) may or may not outlast the 30 ms write: either way the call ends in a definite outcome.
    const second = await other.db.send(put(mrscTable, key, { by: 'second' })).then(
      () => 'written',
      (error: Error) => error.name,
    );
    await first;
    expect(['written', 'ReplicatedWriteConflictException']).toContain(second);
    expect(other.counters.replicatedWriteConflicts).toBeGreaterThanOrEqual(1);
  });

  it('never meets writes from one region, nor writes to different items', async () => {
    const region = simulation.region('same-region', { latencyMs: 100 });
    const elsewhere = simulation.region('different-item', { latencyMs: 100 });
    const key = `same-${randomUUID()}`;
    await Promise.all([
      region.db.send(put(mrscTable, key, { n: 1 })),
      region.db.send(put(mrscTable, key, { n: 2 })),
      elsewhere.db.send(put(mrscTable, `${key}-other`, { n: 3 })),
    ]);
    expect(region.counters.replicatedWriteConflicts + elsewhere.counters.replicatedWriteConflicts).toBe(0);
    expect(region.counters.mrscWrites).toBe(2);
  });

  it('never meets writes to a regional table', async () => {
    const a = simulation.region('regional-a', { latencyMs: 200 });
    const b = simulation.region('regional-b', { latencyMs: 200 });
    await Promise.all([a.db.send(put(regionalTable, 'shared')), b.db.send(put(regionalTable, 'shared'))]);
    expect(a.counters.replicatedWriteConflicts + b.counters.replicatedWriteConflicts).toBe(0);
  });
});

describe('isolation', () => {
  it('fails every call of the isolated region (after the SDK retried it) while the others go on, until healed', async () => {
    const cut = simulation.region('isolated', { latencyMs: 5 });
    const fine = simulation.region('connected', { latencyMs: 5 });
    cut.isolate();
    await expect(cut.db.send(put(mrscTable, 'isolated-write'))).rejects.toMatchObject({ name: 'TimeoutError' });
    await expect(cut.db.send(read(regionalTable, 'c'))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(cut.counters.partitioned).toBe(4);
    await fine.db.send(put(mrscTable, 'connected-write'));
    expect((await fine.db.send(read(mrscTable, 'isolated-write'))).Item).toBeUndefined();
    cut.heal();
    await cut.db.send(put(mrscTable, 'isolated-write'));
    expect((await fine.db.send(read(mrscTable, 'isolated-write'))).Item).toEqual({ pk: 'isolated-write' });
  });
});

describe('crashAfter', () => {
  it('lands the n-th write to an MRSC table, loses its answer, and fails every later call until restarted', async () => {
    const region = simulation.region('crashing', { latencyMs: 5 });
    region.crashAfter(2);
    await region.db.send(put(regionalTable, 'not-counted'));
    await region.db.send(put(mrscTable, 'crash-1'));
    await expect(region.db.send(put(mrscTable, 'crash-2'))).rejects.toBeInstanceOf(SimulatedCrash);
    expect(region.crashed).toBe(true);
    await expect(region.db.send(read(mrscTable, 'crash-1'))).rejects.toBeInstanceOf(SimulatedCrash);
    region.restart();
    expect((await region.db.send(read(mrscTable, 'crash-2'))).Item).toEqual({ pk: 'crash-2' });
    await region.db.send(put(mrscTable, 'crash-3'));
    expect(region.crashed).toBe(false);
    expect(region.counters.mrscWrites).toBe(3);
  });
});

describe('the lagging replica', () => {
  const lagging = (pk: string) => new GetCommand({ TableName: mrscTable, Key: { pk } });
  const due = (shard: string) =>
    new QueryCommand({
      TableName: mrscTable,
      IndexName: DUE_INDEX.indexName,
      KeyConditionExpression: '#shard = :shard',
      ExpressionAttributeNames: { '#shard': DUE_INDEX.partitionKey },
      ExpressionAttributeValues: { ':shard': shard },
    });

  it('answers reads without ConsistentRead, and index queries, with the table as it was before the writes not yet replicated', async () => {
    const region = simulation.region('lagging', { latencyMs: 2 });
    const [pk, shard] = [`lag-${randomUUID()}`, `DUE#lag-${randomUUID()}`];
    await region.db.send(put(mrscTable, pk, { dueShard: shard, dueAt: 1 }));
    expect((await region.db.send(read(mrscTable, pk))).Item).toMatchObject({ pk });
    expect((await region.db.send(lagging(pk))).Item).toBeUndefined();
    expect((await region.db.send(due(shard))).Items).toEqual([]);
    const batch = await region.db.send(new BatchGetCommand({ RequestItems: { [mrscTable]: { Keys: [{ pk }] }, [regionalTable]: { Keys: [{ pk: 'c' }] } } }));
    // The regional table is read as it is: only global tables have a replica here.
    expect(batch.Responses).toEqual({ [mrscTable]: [], [regionalTable]: [{ pk: 'c' }] });

    await simulation.catchUp();
    expect((await region.db.send(lagging(pk))).Item).toMatchObject({ pk });
    expect((await region.db.send(due(shard))).Items).toEqual([expect.objectContaining({ pk })]);
    // A change, then a delete, each seen late; the replica never goes back to an older version.
    await region.db.send(new UpdateCommand({ TableName: mrscTable, Key: { pk }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 2 } }));
    await region.db.send(new DeleteCommand({ TableName: mrscTable, Key: { pk } }));
    expect((await region.db.send(lagging(pk))).Item).toEqual({ pk, dueShard: shard, dueAt: 1 });
    await simulation.catchUp();
    expect((await region.db.send(lagging(pk))).Item).toBeUndefined();
    expect(region.counters.laggingReads).toBe(7);
  });
});

describe('freeze', () => {
  it('stops an operation before its n-th write to an MRSC table until thawed, while other regions write', async () => {
    const frozen = simulation.region('frozen', { latencyMs: 2 });
    const other = simulation.region('unfrozen', { latencyMs: 2 });
    const key = `freeze-${randomUUID()}`;
    const freeze = frozen.freeze({ at: 2, when: 'before' });
    const operation = (async () => {
      // Regional writes are not counted.
      await frozen.db.send(put(regionalTable, `${key}-regional`));
      await frozen.db.send(put(mrscTable, key, { by: 'frozen', step: 1 }));
      await frozen.db.send(put(mrscTable, key, { by: 'frozen', step: 2 }));
    })();
    await freeze.reached;
    // Held before it was sent: no write in flight, so another region writes the item freely.
    await other.db.send(put(mrscTable, key, { by: 'other' }));
    expect((await other.db.send(read(mrscTable, key))).Item).toEqual({ pk: key, by: 'other' });
    freeze.thaw();
    await operation;
    expect((await other.db.send(read(mrscTable, key))).Item).toEqual({ pk: key, by: 'frozen', step: 2 });
    expect(other.counters.replicatedWriteConflicts + frozen.counters.replicatedWriteConflicts).toBe(0);
  });

  it('holds the answer of a write DynamoDB applied, and loses it at the thaw: the SDK sends the write again', async () => {
    const region = simulation.region('answer-lost', { latencyMs: 2 });
    const other = simulation.region('meanwhile', { latencyMs: 2 });
    const key = `lost-${randomUUID()}`;
    const freeze = region.freeze({ at: (call) => call.operation === 'PutItem' && call.items.includes(`${mrscTable}|${key}`), when: 'after', loseAnswer: true });
    const write = region.db.send(new PutCommand({ TableName: mrscTable, Item: { pk: key, by: 'first' }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await freeze.reached;
    expect((await other.db.send(read(mrscTable, key))).Item).toEqual({ pk: key, by: 'first' });
    freeze.thaw();
    // The retry meets its own first attempt: the condition fails, as a real lost answer's retry would.
    await expect(write).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(region.counters).toMatchObject({ mrscWrites: 1, mrscConditionFailures: 1, frozen: 1 });
  });
});

describe('the eventually consistent control', () => {
  it('evaluates conditions on the local copy, and converges on the last writer', async () => {
    const table = new EventuallyConsistentTable(endpoint, `sim-ec-${suffix}`, { replicationDelayMs: { min: 100, max: 100 } });
    await table.create(multiRegionUsersTable, ['east', 'west']);
    for (const region of ['east', 'west']) simulation.markMrsc(table.copyOf(region), { copyOf: table.logicalName });
    const east = table.region('east', simulation.region('ec-east', { latencyMs: 1 }).db);
    const west = table.region('west', simulation.region('ec-west', { latencyMs: 1 }).db);
    try {
      const claim = (by: string) =>
        new PutCommand({ TableName: table.logicalName, Item: { pk: 'PHONE#+1', uid: by }, ConditionExpression: 'attribute_not_exists(pk)' });
      // Both conditions pass: each region sees only its own copy.
      await east.db.send(claim('east'));
      await west.db.send(claim('west'));
      expect((await east.db.send(read(table.logicalName, 'PHONE#+1'))).Item).toEqual({ pk: 'PHONE#+1', uid: 'east' });
      await table.settle();
      // The later write wins everywhere.
      for (const region of ['east', 'west']) expect(await table.scan(region)).toEqual([{ pk: 'PHONE#+1', uid: 'west' }]);
      expect(east.counters.overwrittenByNewer).toBe(1);
    } finally {
      table.destroy();
    }
  });

  it("meets ReplicatedWriteConflictException, as the MRSC run does, when two regions write one item at once, each to its own copy", async () => {
    const table = new EventuallyConsistentTable(endpoint, `sim-ec-conflict-${suffix}`, { replicationDelayMs: { min: 10, max: 10 } });
    await table.create(multiRegionUsersTable, ['slow', 'quick']);
    for (const region of ['slow', 'quick']) simulation.markMrsc(table.copyOf(region), { copyOf: table.logicalName });
    const slow = simulation.region('ec-slow', { latencyMs: 1_500 });
    const quick = simulation.region('ec-quick', { latencyMs: 5 });
    table.region('slow', slow.db);
    table.region('quick', quick.db);
    try {
      const first = slow.db.send(put(table.logicalName, 'PHONE#+2', { by: 'slow' }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await expect(quick.db.send(put(table.logicalName, 'PHONE#+2', { by: 'quick' }))).rejects.toBeInstanceOf(ReplicatedWriteConflictException);
      await first;
      expect(quick.counters.replicatedWriteConflicts).toBe(2);
      await table.settle();
    } finally {
      table.destroy();
    }
  });
});
