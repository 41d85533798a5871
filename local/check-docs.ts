/**
 * `npm run docs:check [-- <base URL>]`: loads the local API docs
 * (/_local/docs) in headless Chromium and checks they render and work:
 *
 *   - the page shows the eight operations (the contract's four and the admin
 *     interface's four), with no script error and no request leaving the
 *     server (Swagger UI is served offline);
 *   - "Try it out" on userInfo, authorized through the Authorize dialog with a
 *     token from POST /_local/users, answers the 200 envelope with the user;
 *   - "Try it out" on the admin GET of that user, with no authorization (the
 *     local server asks for none), answers the user with `exists: true`;
 *   - "Try it out" on sendPhoneSmsCode, signed by the page's helper, answers 200
 *     (when the user-domain secret is known), with no body beside the query
 *     until the user types in the body form, and with it after;
 *   - screenshots go to .local-data/docs.png (the page) and
 *     .local-data/docs-userinfo.png (userInfo's live response), git-ignored.
 *
 * Without a URL it starts its own server (DynamoDB Local in memory, a free
 * port). With one (e.g. a running `npm start`), set USER_DOMAIN_SECRET (and
 * USER_DOMAIN if not the default) to check the signed send too.
 *
 * Needs Chromium: `apt-get install chromium` on Debian, or CHROMIUM_PATH.
 * Without one it exits 2 at once, saying so; a failed check exits 1.
 * Not part of `npm test`: CI does not need a browser.
 */
import { randomInt } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROUTE_NAMES, ROUTES, routeKey } from '../functions/http/routes';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Git-ignored: the whole page, and the userInfo operation with its live response.
const SCREENSHOT = path.resolve('.local-data', 'docs.png');
const USER_INFO_SCREENSHOT = path.resolve('.local-data', 'docs-userinfo.png');
// Every route the API serves: the page shows one operation per route.
const OPERATIONS = ROUTE_NAMES.map((name) => routeKey(ROUTES[name]));
// No network beyond this machine: nothing in the browser may try to call home.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface Target {
  readonly base: string;
  readonly userDomain: string;
  readonly secret: string | undefined;
  stop(): Promise<void>;
}

/** A server of our own, as `npm start` makes it, on a free port. */
async function startOwnServer(): Promise<Target> {
  const { createTables, startDynamoDbLocal } = await import('./dynamodb-local');
  const { LOCAL_TABLES, createLocalApp } = await import('./app');
  const { startLocalServer } = await import('./server');
  const dynamo = await startDynamoDbLocal();
  try {
    await createTables(dynamo.endpoint, LOCAL_TABLES);
    const userDomain = 'local.phonelink';
    const secret = 'docs-check-secret';
    const app = await createLocalApp({ endpoint: dynamo.endpoint, userDomain, userDomainSecret: secret, print: () => undefined });
    const server = await startLocalServer({ app, port: 0 });
    return {
      base: server.url,
      userDomain,
      secret,
      stop: async () => {
        await server.close();
        await dynamo.stop();
      },
    };
  } catch (error) {
    await dynamo.stop();
    throw error;
  }
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** The JSON body that Swagger UI shows as the live response of an operation. */
async function liveResponse(page: Page, operation: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const block = page.locator(`#${operation}`);
  const row = block.locator('.live-responses-table tbody tr.response').first();
  await row.waitFor({ timeout: 15_000 });
  const status = Number((await row.locator('td.response-col_status').innerText()).trim());
  const text = await row.locator('.response-col_description pre').first().innerText();
  return { status, body: JSON.parse(text) as Record<string, unknown> };
}

async function run(context: BrowserContext, target: Target): Promise<void> {
  const problems: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${target.base}/`) || url.startsWith('data:')) return route.continue();
    problems.push(`request outside the server: ${url}`);
    return route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.goto(`${target.base}/_local/docs`, { waitUntil: 'networkidle' });
  await page.locator('.opblock').nth(OPERATIONS.length - 1).waitFor({ timeout: 15_000 });
  const shown = await page
    .locator('.opblock')
    .evaluateAll((blocks) =>
      blocks.map((block) => `${block.querySelector('.opblock-summary-method')?.textContent?.trim()} ${block.querySelector('.opblock-summary-path')?.textContent?.trim()}`),
    );
  check(JSON.stringify([...shown].sort()) === JSON.stringify([...OPERATIONS].sort()), `operations shown: ${JSON.stringify(shown)}`);
  check((await page.locator('.info .title').innerText()).includes('Phone-link API'), 'no title');
  console.log(`ok   the page renders the ${OPERATIONS.length} operations:\n       ${shown.join('\n       ')}`);

  // userInfo: Authorize with a token from POST /_local/users, then Try it out.
  const user = (await (await fetch(`${target.base}/_local/users`, { method: 'POST' })).json()) as { uid: string; accessToken: string };
  await page.locator('.auth-wrapper .authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  // The dialog lists every scheme (bearerAuth, and awsSigV4 of the admin routes): fill the bearer one.
  const bearerForm = dialog.locator('form').filter({ hasText: 'bearerAuth' });
  await bearerForm.locator('input[type=text], input[type=password]').first().fill(user.accessToken);
  await bearerForm.locator('button.authorize').click();
  await bearerForm.locator('button.btn-done').click();
  const userInfoBlock = page.locator('#operations-End_user-userInfo');
  await userInfoBlock.locator('.opblock-summary').click();
  await userInfoBlock.locator('button.execute').click();
  const info = await liveResponse(page, 'operations-End_user-userInfo');
  check(info.status === 200, `userInfo answered HTTP ${info.status}`);
  check(info.body.code === 200 && (info.body.data as { uid?: unknown } | null)?.uid === user.uid, `userInfo answered ${JSON.stringify(info.body)}`);
  console.log(`ok   Try it out: userInfo with the Authorize dialog's token -> ${JSON.stringify(info.body)}`);

  // The admin GET of the same user: locally the admin routes take no authorization.
  const adminBlock = page.locator('#operations-Admin-adminGetUser');
  await adminBlock.locator('.opblock-summary').click();
  await adminBlock.locator('tr[data-param-name="uid"] input').first().fill(user.uid);
  await adminBlock.locator('button.execute').click();
  const admin = await liveResponse(page, 'operations-Admin-adminGetUser');
  const adminData = admin.body.data as { uid?: unknown; exists?: unknown } | null;
  check(admin.status === 200 && admin.body.code === 200 && adminData?.uid === user.uid && adminData.exists === true, `adminGetUser answered HTTP ${admin.status} ${JSON.stringify(admin.body)}`);
  console.log(`ok   Try it out: adminGetUser, unsigned on the local server -> ${JSON.stringify(admin.body)}`);

  // sendPhoneSmsCode: the page signs it with the secret.
  if (target.secret) {
    await page.locator('#secret').fill(target.secret);
    const sendBlock = page.locator('#operations-SMS-sendPhoneSmsCode');
    await sendBlock.locator('.opblock-summary').click();
    const param = (name: string) => sendBlock.locator(`tr[data-param-name="${name}"] input, tr[data-param-name="${name}"] select`).first();
    const phone = `1380013${String(randomInt(10_000)).padStart(4, '0')}`;
    await param('phone').fill(phone);
    await param('internationalCode').fill('86');
    await param('codeType').selectOption('3');
    await param('userDomain').fill(target.userDomain);
    // Placeholders that pass the document's patterns; the page replaces them on Execute.
    await param('random').fill('A'.repeat(16));
    await param('ts').fill('0');
    await param('signature').fill('0'.repeat(64));
    const request = page.waitForRequest((sending) => sending.url().includes(ROUTES.sendPhoneSmsCode.path));
    await sendBlock.locator('button.execute').click();
    const sent = await liveResponse(page, 'operations-SMS-sendPhoneSmsCode');
    check(sent.status === 200 && sent.body.code === 200, `sendPhoneSmsCode answered HTTP ${sent.status} ${JSON.stringify(sent.body)}`);
    // The body was left as the page showed it: its example fields (a stale ts, a made-up signature) must not go beside the query.
    const body = (await request).postData();
    check(!body, `sendPhoneSmsCode sent the body nobody filled: ${body}`);
    console.log(`ok   Try it out: sendPhoneSmsCode signed by the page, no body beside the query -> ${JSON.stringify(sent.body)}`);

    // Once the user types in the body form, the body goes (whatever the server then makes of a second send).
    await sendBlock.locator('.opblock-section-request-body input[type=text]').first().fill(phone);
    const edited = page.waitForRequest((sending) => sending.url().includes(ROUTES.sendPhoneSmsCode.path));
    await sendBlock.locator('button.execute').click();
    const editedBody = (await edited).postData();
    check(editedBody?.includes(`phone=${phone}`), `sendPhoneSmsCode left out the body the user filled: ${editedBody}`);
    console.log(`ok   Try it out: once the body form is typed in, it is sent -> ${editedBody}`);
  } else {
    console.log('skip sendPhoneSmsCode: set USER_DOMAIN_SECRET to the server\'s secret to check the signed send');
  }

  await mkdir(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  await userInfoBlock.screenshot({ path: USER_INFO_SCREENSHOT });
  console.log(`ok   screenshots: ${[SCREENSHOT, USER_INFO_SCREENSHOT].map((file) => path.relative(process.cwd(), file)).join(', ')}`);
  check(problems.length === 0, `the page had problems:\n  ${problems.join('\n  ')}`);
}

/** What to do when there is no browser: said before anything starts, instead of Playwright's "executable doesn't exist". */
const NO_BROWSER_HELP = [
  'Install Chromium (Debian and Ubuntu: `sudo apt-get install chromium`),',
  'or set CHROMIUM_PATH to a Chromium or Chrome executable: CHROMIUM_PATH=/path/to/chrome npm run docs:check',
].join('\n');

async function main(): Promise<void> {
  try {
    await access(CHROMIUM, constants.X_OK);
  } catch {
    console.error(`Docs check needs Chromium, and there is none at ${CHROMIUM}${process.env.CHROMIUM_PATH ? ' (CHROMIUM_PATH)' : ''}.\n${NO_BROWSER_HELP}`);
    process.exit(2);
  }
  const given = process.argv[2]?.replace(/\/+$/, '');
  const target: Target = given
    ? { base: given, userDomain: process.env.USER_DOMAIN ?? 'local.phonelink', secret: process.env.USER_DOMAIN_SECRET, stop: async () => undefined }
    : await startOwnServer();
  const profile = await mkdtemp(path.join(tmpdir(), 'docs-check-chromium-'));
  let context: BrowserContext | undefined;
  try {
    console.log(`Checking ${target.base}/_local/docs in ${CHROMIUM}`);
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await run(context, target);
    console.log('Docs check passed.');
  } finally {
    await context?.close().catch(() => undefined);
    await rm(profile, { recursive: true, force: true });
    await target.stop();
  }
}

main().catch((error: unknown) => {
  console.error('Docs check failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
