import { randomBytes, randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../functions/clock';
import type { CodeRules } from '../../functions/domain/code-rules';
import type { SendLimits } from '../../functions/domain/send-limits';
import { DomainError } from '../../functions/domain/errors';
import { normalizePhone } from '../../functions/domain/phone';
import { hashCode, type CodePurpose } from '../../functions/domain/verification-code';
import { DynamoCodeIssuer } from '../../functions/adapters/dynamodb/code-issuer';
import { LinkReconciler, type ReconcileReport } from '../../functions/adapters/dynamodb/link-reconciler';
import { OrderedPhoneLinks } from '../../functions/adapters/dynamodb/ordered-phone-links';
import { OPERATION_LEASE_MS } from '../../functions/adapters/dynamodb/pending-operations';
import type { PhoneLinkTables } from '../../functions/adapters/dynamodb/phone-links-shared';
import { codesTable, createTableInput, multiRegionUsersTable } from '../../functions/adapters/dynamodb/table-definitions';
import { DynamoUsers } from '../../functions/adapters/dynamodb/users';
import { DynamoVerificationCodes } from '../../functions/adapters/dynamodb/verification-codes';
import { createAdminHandler, createRelationPhoneHandler, ready } from '../../functions/http/handlers';
import type { PhoneLinks } from '../../functions/ports';
import { eraseUser, linkPhoneAsAdmin, type AdminDependencies } from '../../functions/use-cases/admin-users';
import { deletePhoneRelation } from '../../functions/use-cases/delete-phone-relation';
import { relationPhone } from '../../functions/use-cases/relation-phone';
import { pathTo, ROUTES } from '../../functions/http/routes';
import { lambdaContext, routedEvent, toApiGatewayEvent } from '../../local/api-gateway-event';
import type { HttpHandler } from '../../local/app';
import { EventuallyConsistentTable } from './eventually-consistent';
import { MrscSimulation, type RegionOptions, type SimulatedRegion } from './simulation';

/**
 * Three regions running the real use cases, each with its own DynamoDB
 * client, its own codes table (regional, transactions and TTL allowed) and
 * the one users table they share: an MRSC global table through the
 * simulation, or, for the control, an eventually consistent one.
 */

export const REGIONS: readonly { name: string; options: RegionOptions }[] = [
  { name: 'us-east-1', options: { latencyMs: 12 } },
  { name: 'us-east-2', options: { latencyMs: 20 } },
  { name: 'us-west-2', options: { latencyMs: 40 } },
];

const HOUR = 3_600_000;
export const PEPPER = 'multi-region-pepper';
const USER_DOMAIN = 'test.phonelink';

/** A clock the test moves by hand, from the next full hour (DynamoDB Local's TTL sweeper must find nothing expired on the codes tables). */
export class ManualClock implements Clock {
  constructor(private current = Math.ceil(Date.now() / HOUR) * HOUR) {}
  now = (): number => this.current;
  advance(ms: number): void {
    this.current += ms;
  }
}

/** A region's clock: the true time (the test's), off by the region's skew. */
export class SkewedClock implements Clock {
  /** How far ahead of the true time the region's clock runs (behind, if negative). */
  skewMs = 0;
  constructor(private readonly truth: Clock) {}
  now = (): number => this.truth.now() + this.skewMs;
}

const CODE_RULES: CodeRules = { codeTtlSeconds: 300, maxWrongTries: 5, domesticCallingCode: '86', allowedCountries: undefined, pepper: PEPPER };
/** Limits that never refuse the tests' sends. */
const NO_LIMITS: SendLimits = { cooldownSeconds: 0, maxPerPhonePerDay: 10_000, maxPerIpPerHour: 10_000, maxPerMinute: 100_000, maxPerCountryPerMinute: 100_000 };

/** What a request came to: done, refused by a rule (its code), or failed (a 500). */
export type Outcome = { readonly kind: 'ok' } | { readonly kind: 'refused'; readonly code: number } | { readonly kind: 'failed'; readonly error: Error };

async function outcomeOf(work: Promise<unknown>): Promise<Outcome> {
  try {
    await work;
    return { kind: 'ok' };
  } catch (error) {
    if (error instanceof DomainError) return { kind: 'refused', code: error.code };
    return { kind: 'failed', error: error instanceof Error ? error : new Error(String(error)) };
  }
}

export const describeOutcome = (outcome: Outcome): string =>
  outcome.kind === 'ok' ? 'ok' : outcome.kind === 'refused' ? String(outcome.code) : `failed (${outcome.error.name}: ${outcome.error.message})`;

/** A mobile number of its own per test, in national form (CN). */
let phones = 0;
export const newPhone = (): string => `1390${String(process.pid % 1000).padStart(3, '0')}${String(++phones).padStart(4, '0')}`;
export const e164 = (national: string): string => `+86${national}`;

/** The linking port over a region's client; `clock` is the region's, for the dates it writes and the time its requests have. */
export type LinksFactory = (db: DynamoDBDocumentClient, tables: PhoneLinkTables, clock: Clock) => PhoneLinks;
export interface Reconciler {
  reconcile(now: number): Promise<ReconcileReport>;
}
export type ReconcilerFactory = (db: DynamoDBDocumentClient, tables: PhoneLinkTables) => Reconciler;

/** The implementation under test: the ordered-writes linking port and its reconciler. */
export const ORDERED = {
  links: ((db, tables, clock) => new OrderedPhoneLinks(db, tables, { wallClock: clock.now })) as LinksFactory,
  reconciler: ((db, tables) => new LinkReconciler(db, tables)) as ReconcilerFactory,
};

/** When the reconciler may settle everything pending now: the lease (its default grace) over. */
export const afterTheLease = (clock: Clock): number => clock.now() + OPERATION_LEASE_MS + 1;

/** A user id of its own per test. */
export const newUid = (): string => `mr-${randomUUID()}`;

/** The HTTP answer: status and envelope code. */
export interface HttpAnswer {
  readonly status: number;
  readonly code: number;
}

/** One region's deployment: the use cases over its own client. */
export class RegionApp {
  readonly links: PhoneLinks;
  readonly users: DynamoUsers;
  private readonly codes: DynamoVerificationCodes;
  private readonly issuer: DynamoCodeIssuer;
  private readonly admin: AdminDependencies;
  /** The last code each phone got in this region, by purpose. */
  private readonly outbox = new Map<string, string>();

  constructor(
    readonly name: string,
    readonly db: DynamoDBDocumentClient,
    readonly tables: { usersTableName: string; codesTableName: string },
    links: LinksFactory,
    readonly clock: Clock,
  ) {
    this.links = links(db, tables, clock);
    this.users = new DynamoUsers(db, tables.usersTableName);
    this.codes = new DynamoVerificationCodes(db, tables.codesTableName);
    this.issuer = new DynamoCodeIssuer(db, tables.codesTableName);
    this.admin = { users: this.users, links: this.links, clock, phoneRules: { domesticCallingCode: '86' }, erasedUserRetentionDays: 30 };
  }

  /** Issues a code for the phone in this region's codes table, as a send does (without the SMS), and returns it. */
  async sendCode(national: string, purpose: CodePurpose): Promise<string> {
    const phone = normalizePhone(national, '86', CODE_RULES);
    const code = String(randomBytes(4).readUInt32BE() % 1_000_000).padStart(6, '0');
    const now = this.clock.now();
    const outcome = await this.issuer.issue(
      {
        phone,
        purpose,
        codeHash: hashCode(PEPPER, phone, purpose, code),
        issuedAt: now,
        expiresAt: now + CODE_RULES.codeTtlSeconds * 1000,
        sourceIp: '203.0.113.7',
        userDomain: USER_DOMAIN,
        random: randomUUID(),
        nonceExpiresAt: now + 1_200_000,
      },
      NO_LIMITS,
    );
    if (outcome.kind !== 'issued') throw new Error(`${this.name}: no code issued (${outcome.kind})`);
    this.outbox.set(`${purpose}|${national}`, code);
    return code;
  }

  register(uid: string): Promise<unknown> {
    return this.users.register(uid, this.clock.now());
  }

  /** relationPhone: the user links the phone with the code it got. */
  link(uid: string, national: string, code: string): Promise<Outcome> {
    return outcomeOf(
      relationPhone(
        { uid, phone: national, code, internationalCode: '86' },
        { links: this.links, codes: this.codes, clock: this.clock, codeRules: CODE_RULES, provisioning: 'on-first-use' },
      ),
    );
  }

  /** deletePhoneRelation with an unlink code. */
  unlink(uid: string, code: string): Promise<Outcome> {
    return outcomeOf(
      deletePhoneRelation(
        { uid, code },
        { users: this.users, links: this.links, codes: this.codes, clock: this.clock, codeRules: CODE_RULES, provisioning: 'on-first-use' },
      ),
    );
  }

  adminLink(uid: string, national: string): Promise<Outcome> {
    return outcomeOf(linkPhoneAsAdmin({ uid, phone: national, internationalCode: '86' }, this.admin));
  }

  erase(uid: string): Promise<Outcome> {
    return outcomeOf(eraseUser(uid, this.admin));
  }

  /** POST relationPhone through the real middy handler (a token is the uid here), as API Gateway calls it. */
  async linkOverHttp(uid: string, national: string, code: string): Promise<HttpAnswer> {
    const handler = createRelationPhoneHandler(
      { verify: (token) => Promise.resolve({ uid: token }) },
      ready({ links: this.links, codes: this.codes, clock: this.clock, codeRules: CODE_RULES, provisioning: 'on-first-use' }),
    ) as unknown as HttpHandler;
    const { method, path } = ROUTES.relationPhone;
    const event = toApiGatewayEvent({
      method,
      path,
      rawQueryString: new URLSearchParams({ phone: national, code, internationalCode: '86' }).toString(),
      headers: { authorization: `Bearer ${uid}` },
      sourceIp: '203.0.113.7',
    });
    return answerOf(await handler(event, lambdaContext(path)));
  }

  /** adminEraseUser through the real handler. */
  async eraseOverHttp(uid: string): Promise<HttpAnswer> {
    const handler = createAdminHandler(ready(this.admin)) as unknown as HttpHandler;
    const { method } = ROUTES.adminEraseUser;
    const routed = routedEvent({ method, path: pathTo(ROUTES.adminEraseUser, { uid }), rawQueryString: '', headers: {}, sourceIp: '203.0.113.9' });
    if (routed === undefined) throw new Error(`No route for erasing ${uid}`);
    return answerOf(await handler(routed.event, lambdaContext('admin')));
  }
}

const answerOf = (result: { statusCode: number; body: string }): HttpAnswer => ({
  status: result.statusCode,
  code: (JSON.parse(result.body) as { code: number }).code,
});

function endpoint(): string {
  const value = process.env.DYNAMODB_ENDPOINT;
  if (!value) throw new Error('DYNAMODB_ENDPOINT is not set: run through the integration project');
  return value;
}

/** A regional codes table per region, as the stack makes it (TTL on). */
async function createCodesTables(client: DynamoDBClient, names: readonly string[]): Promise<void> {
  await Promise.all(
    names.map(async (name) => {
      await client.send(new CreateTableCommand(createTableInput(codesTable, name)));
      await client.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { Enabled: true, AttributeName: 'ttl' } }));
    }),
  );
}

const admin = (): DynamoDBClient => new DynamoDBClient({ endpoint: endpoint(), region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

export interface MrscWorld {
  readonly simulation: MrscSimulation;
  readonly regions: readonly (RegionApp & { readonly sim: SimulatedRegion; readonly clock: SkewedClock })[];
  readonly usersTableName: string;
  /** The true time; each region reads it through its own clock, skewed or not. */
  readonly clock: ManualClock;
  /** Every item of the users table, read consistently. */
  items(): Promise<Record<string, unknown>[]>;
  /**
   * The reconciler, run from a healthy region of its own (a scheduled
   * function). It looks only at what is older than the lease, which the
   * index has long caught up with: the lagging replica catches up first.
   */
  reconcile(now: number): ReturnType<Reconciler['reconcile']>;
  /** The region the reconciler runs from, to freeze it mid-pass. */
  readonly reconcilerRegion: SimulatedRegion;
  destroy(): void;
}

/** Three regions over one MRSC users table and three regional codes tables. */
export async function createMrscWorld(factories: { links: LinksFactory; reconciler: ReconcilerFactory } = ORDERED): Promise<MrscWorld> {
  const suffix = randomUUID().slice(0, 8);
  const usersTableName = `mrsc-users-${suffix}`;
  const simulation = new MrscSimulation(endpoint());
  const client = admin();
  try {
    await simulation.createTable(multiRegionUsersTable, usersTableName);
    await createCodesTables(client, REGIONS.map((region) => `codes-${suffix}-${region.name}`));
  } finally {
    client.destroy();
  }
  const clock = new ManualClock();
  const regions = REGIONS.map(({ name, options }) => {
    const sim = simulation.region(name, options);
    const regionClock = new SkewedClock(clock);
    const app = new RegionApp(name, sim.db, { usersTableName, codesTableName: `codes-${suffix}-${name}` }, factories.links, regionClock);
    return Object.assign(app, { sim, clock: regionClock });
  });
  // The scheduled reconciler runs in a region of its own choosing: here a fourth client, never crashed nor isolated.
  const home = simulation.region('reconciler', REGIONS[0]!.options);
  const reconciler = factories.reconciler(home.db, { usersTableName, codesTableName: undefined });
  return {
    simulation,
    regions,
    usersTableName,
    clock,
    items: async () => {
      const { Items = [] } = await home.db.send(new ScanCommand({ TableName: usersTableName, ConsistentRead: true }));
      return Items;
    },
    reconcilerRegion: home,
    reconcile: async (now) => {
      await simulation.catchUp();
      return reconciler.reconcile(now);
    },
    destroy: () => simulation.destroy(),
  };
}

export interface EcWorld {
  readonly table: EventuallyConsistentTable;
  /** The same regions as the MRSC world's, for their latency and conflicts: only the consistency differs. */
  readonly simulation: MrscSimulation;
  readonly regions: readonly RegionApp[];
  readonly clock: ManualClock;
  destroy(): void;
}

/**
 * The control: the same three regions over an eventually consistent (last
 * writer wins) users table. Each region's client is the MRSC simulation's
 * (same latency, same ReplicatedWriteConflictException on an item another
 * region is writing), sending its calls to the region's own copy.
 */
export async function createEcWorld(factories: { links: LinksFactory } = ORDERED, replicationDelayMs = { min: 150, max: 400 }): Promise<EcWorld> {
  const suffix = randomUUID().slice(0, 8);
  const table = new EventuallyConsistentTable(endpoint(), `ec-users-${suffix}`, { replicationDelayMs });
  const client = admin();
  try {
    await table.create(multiRegionUsersTable, REGIONS.map((region) => region.name));
    await createCodesTables(client, REGIONS.map((region) => `codes-${suffix}-${region.name}`));
  } finally {
    client.destroy();
  }
  const simulation = new MrscSimulation(endpoint());
  const clock = new ManualClock();
  const regions = REGIONS.map(({ name, options }) => {
    simulation.markMrsc(table.copyOf(name), { copyOf: table.logicalName });
    const region = table.region(name, simulation.region(name, options).db);
    return new RegionApp(name, region.db, { usersTableName: table.logicalName, codesTableName: `codes-${suffix}-${name}` }, factories.links, clock);
  });
  return {
    table,
    simulation,
    regions,
    clock,
    destroy: () => {
      simulation.destroy();
      table.destroy();
    },
  };
}
