import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, ReplicatedWriteConflictException, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { codesTable, createTableInput, multiRegionUsersTable } from '../../functions/adapters/dynamodb/table-definitions';
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
  await client.send(new CreateTableCommand(createTableInput(multiRegionUsersTable, mrscTable)));
  await client.send(new CreateTableCommand(createTableInput(codesTable, regionalTable)));
  client.destroy();
  simulation = new MrscSimulation(endpoint);
  simulation.markMrsc(mrscTable);
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

describe('the eventually consistent control', () => {
  it('evaluates conditions on the local copy, and converges on the last writer', async () => {
    const table = new EventuallyConsistentTable(endpoint, `sim-ec-${suffix}`, { replicationDelayMs: { min: 100, max: 100 } });
    await table.create(multiRegionUsersTable, ['east', 'west']);
    const east = table.region('east', { latencyMs: 1 });
    const west = table.region('west', { latencyMs: 1 });
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
});
