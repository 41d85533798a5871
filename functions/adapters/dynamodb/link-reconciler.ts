import { randomInt } from 'node:crypto';
import { DeleteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { logger } from '../../observability';
import { allDueShards, keys } from './keys';
import { conditionalWrite } from './conditional-write';
import { OPERATION_LEASE_MS, PendingOperations, type Settlement } from './pending-operations';
import type { PhoneLinkTables } from './phone-links-shared';
import { DUE_INDEX } from './table-definitions';

export interface ReconcileReport {
  /** Operations left half-done after their commit, now finished. */
  readonly finished: number;
  /** Operations left half-done before their commit, now undone. */
  readonly rolledBack: number;
  readonly tombstonesRemoved: number;
  /** Items whose settling failed (logged): left for the next pass. */
  readonly failed: number;
  /** False when the pass stopped at its deadline: the next one carries on, every step being idempotent. */
  readonly complete: boolean;
}

type Item = Record<string, unknown>;

/**
 * The scheduled clean-up of ordered-writes mode: finishes or rolls back
 * whatever a crash left pending (by the same rules as a request that meets
 * it, PendingOperations), and deletes the tombstones of erased users whose
 * retention passed, since a multi-Region table has no TTL.
 */
export class LinkReconciler {
  private readonly pending: PendingOperations;
  private readonly graceMs: number;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: PhoneLinkTables,
    options: { graceMs?: number } = {},
  ) {
    this.graceMs = options.graceMs ?? OPERATION_LEASE_MS;
    this.pending = new PendingOperations(db, tables.usersTableName, this.graceMs);
  }

  /**
   * One pass: every operation left pending since before now - graceMs is
   * finished or rolled back; tombstones past their retention are deleted.
   * `stopAt` (epoch ms, real time) ends the pass early, between two items.
   */
  async reconcile(now: number, stopAt = Number.POSITIVE_INFINITY): Promise<ReconcileReport> {
    const finished = new Set<string>();
    const rolledBack = new Set<string>();
    let tombstonesRemoved = 0;
    let failed = 0;
    const report = (complete: boolean): ReconcileReport => ({ finished: finished.size, rolledBack: rolledBack.size, tombstonesRemoved, failed, complete });
    // Starting at a shard picked at random: a pass cut short by its deadline does not leave the same shards to wait every time.
    const shards = allDueShards();
    const first = randomInt(shards.length);
    for (const shard of [...shards.slice(first), ...shards.slice(0, first)]) {
      for await (const pk of this.dueKeys(shard, now)) {
        if (Date.now() >= stopAt) return report(false);
        try {
          // The index is eventually consistent: act on the item as it is now, and only under conditions.
          const item = await this.pending.read(pk);
          if (!item) continue;
          // A tombstone still marked is an erasure to finish first (settle); one that is not waits for its retention.
          if (typeof item.erasedAt === 'string' && item.pendingOperation === undefined) {
            if (await this.removeTombstone(item, now)) tombstonesRemoved++;
            continue;
          }
          const settled = await this.settle(item, now);
          if (settled?.outcome === 'finished') finished.add(settled.operation);
          if (settled?.outcome === 'rolled-back') rolledBack.add(settled.operation);
        } catch (error) {
          // One item's fault (a throttle, a conflict that kept colliding) must not stop the others.
          failed++;
          logger.error('Reconciling an item failed: left for the next pass', { key: pk.split('#')[0], error });
        }
      }
    }
    return report(true);
  }

  private async settle(item: Item, now: number): Promise<{ operation: string; outcome: Settlement } | undefined> {
    if (Number(item.dueAt) > now - this.graceMs) return undefined;
    const operation = item.pendingOperation;
    if (typeof operation !== 'string') return undefined;
    const isClaim = String(item.pk).startsWith(keys.phoneClaim(''));
    return { operation, outcome: isClaim ? await this.pending.settleClaim(item, now) : await this.pending.settleUser(item, now) };
  }

  /** Deletes a tombstone whose retention passed, unless the uid was registered again meanwhile. */
  private async removeTombstone(item: Item, now: number): Promise<boolean> {
    if (!(Number(item.retainUntil) <= now)) return false;
    return conditionalWrite(() =>
      this.db.send(
        new DeleteCommand({
          TableName: this.tables.usersTableName,
          Key: { pk: item.pk },
          ConditionExpression: 'attribute_exists(erasedAt) AND attribute_not_exists(pendingOperation) AND retainUntil <= :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      ),
    );
  }

  /** The keys of the items in one shard of the sparse index whose `dueAt` has come. */
  private async *dueKeys(shard: string, now: number): AsyncGenerator<string> {
    let startKey: Item | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tables.usersTableName,
          IndexName: DUE_INDEX.indexName,
          KeyConditionExpression: '#shard = :shard AND #dueAt <= :now',
          ExpressionAttributeNames: { '#shard': DUE_INDEX.partitionKey, '#dueAt': DUE_INDEX.sortKey },
          ExpressionAttributeValues: { ':shard': shard, ':now': now },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) yield String(item.pk);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}
