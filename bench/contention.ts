/**
 * One user's requests at once (docs/API.md, "One user's requests at once"):
 * 32 admin links of one uid, each to its own phone, fired together at the
 * real admin handler on fresh tables of the bench's DynamoDB Local, in each
 * way of writing links. The figure is the slowest answer of the 32, the one
 * whose turn came last, per round; and the answers other than a link. A
 * first round warms DynamoDB Local up (its first transactions run far
 * slower than later ones) and is not counted.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { LOCAL_SERVER_DYNAMODB_SETTINGS } from '../functions/adapters/aws/client-config';
import { multiRegionUsersTable, usersTable } from '../functions/adapters/dynamodb/table-definitions';
import { PHONE_LINKS_MODES, type PhoneLinksMode } from '../functions/tunables';
import { pathTo, ROUTES, routeKey } from '../functions/http/routes';
import { lambdaContext, toApiGatewayEvent } from '../local/api-gateway-event';
import { createLocalApp } from '../local/app';
import { createTables } from '../local/dynamodb-local';

const ROUNDS = Number(process.env.BENCH_CONTENTION_ROUNDS ?? 5);
/** The contract's "at least 32 in parallel". */
const AT_ONCE = 32;

export interface ContentionRun {
  readonly atOnce: number;
  /** Per mode, the slowest answer of each round, ms. */
  readonly slowestMs: Record<PhoneLinksMode, number[]>;
  /** Per mode, answers other than 200 over all rounds (5058 when a turn did not come in time; 500 never should). */
  readonly notLinked: Record<PhoneLinksMode, Record<string, number>>;
}

export async function measureContention(endpoint: string): Promise<ContentionRun> {
  const slowestMs = {} as Record<PhoneLinksMode, number[]>;
  const notLinked = {} as Record<PhoneLinksMode, Record<string, number>>;
  for (const mode of PHONE_LINKS_MODES) {
    const suffix = randomUUID().slice(0, 8);
    const tables = { codesTableName: `bench-turns-codes-${suffix}`, usersTableName: `bench-turns-users-${suffix}` };
    await createTables(endpoint, tables, mode === 'ordered-writes' ? multiRegionUsersTable : usersTable);
    // DynamoDB Local runs a burst's writes one at a time, slower than the cloud's 500 ms attempt allows: the local server's slack.
    const app = await createLocalApp({
      endpoint,
      userDomain: 'bench.phonelink',
      userDomainSecret: 'bench-turns-secret',
      env: { CODES_TABLE_NAME: tables.codesTableName, USERS_TABLE_NAME: tables.usersTableName, PHONE_LINKS_MODE: mode },
      dynamoDbSettings: LOCAL_SERVER_DYNAMODB_SETTINGS,
    });
    slowestMs[mode] = [];
    notLinked[mode] = {};
    try {
      for (let round = 0; round <= ROUNDS; round++) {
        const uid = `bench-turns-${randomUUID()}`;
        const started = performance.now();
        const answers = await Promise.all(
          Array.from({ length: AT_ONCE }, async (_, i) => {
            const phone = `137${String(round).padStart(2, '0')}${String(i).padStart(6, '0')}`;
            const result = await app.handlers.admin(adminLinkEvent(uid, phone), lambdaContext('admin'));
            return { code: (JSON.parse(result.body) as { code: number }).code, ms: performance.now() - started };
          }),
        );
        if (round === 0) continue;
        slowestMs[mode].push(Math.round(Math.max(...answers.map((answer) => answer.ms))));
        for (const { code } of answers.filter((answer) => answer.code !== 200)) notLinked[mode][code] = (notLinked[mode][code] ?? 0) + 1;
      }
    } finally {
      app.db.destroy();
    }
  }
  return { atOnce: AT_ONCE, slowestMs, notLinked };
}

/** adminLinkPhone as API Gateway hands it over after IAM authorization. */
function adminLinkEvent(uid: string, phone: string) {
  return toApiGatewayEvent({
    method: ROUTES.adminLinkPhone.method,
    path: pathTo(ROUTES.adminLinkPhone, { uid }),
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    sourceIp: '203.0.113.9',
    body: JSON.stringify({ phone, internationalCode: '86' }),
    routeKey: routeKey(ROUTES.adminLinkPhone),
    pathParameters: { uid },
  });
}
