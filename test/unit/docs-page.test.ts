import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runInNewContext } from 'node:vm';
import { parse } from 'yaml';
import { docsRoutes } from '../../local/docs';

// The script of the local docs page (/_local/docs/docs.js), run outside a
// browser with stand-ins for the DOM and Swagger UI: what its request
// interceptor makes of "Try it out" requests. That Swagger UI's pages and
// requests look as the stand-ins say is `npm run docs:check`'s part (a real
// Chromium): it checks the same on the real page.

const SEND = 'http://127.0.0.1:3000/v2/sms/enduserapi/v2/sendPhoneSmsCode';
const LINK = 'http://127.0.0.1:3000/v2/enduser/enduserapi/relationPhone';
const DOCUMENT_PATHS = Object.keys((parse(readFileSync(path.resolve(__dirname, '../../docs/openapi.yaml'), 'utf8')) as { paths: object }).paths);

interface Request {
  url: string;
  method: string;
  body?: string;
  headers: Record<string, string>;
}

/** The page's script, loaded; `interceptor` is what Swagger UI would call, `typeIn` a keystroke in an operation's body form. */
async function loadPage() {
  const route = docsRoutes().find(([key]) => key === 'GET /_local/docs/docs.js');
  const script = (await route![1]()).body;
  const listeners: Record<string, (event: unknown) => void> = {};
  let config: { requestInterceptor: (request: Request) => Request | Promise<Request> } | undefined;
  const element = { value: '', textContent: '', addEventListener: () => undefined };
  const ui = { specSelectors: { paths: () => ({ keySeq: () => ({ toArray: () => DOCUMENT_PATHS }) }) }, preauthorizeApiKey: () => undefined };
  const SwaggerUIBundle = Object.assign((given: typeof config) => ((config = given), ui), { presets: { apis: {} } });
  runInNewContext(script, {
    SwaggerUIBundle,
    window: {},
    document: { getElementById: () => element, addEventListener: (type: string, listener: (event: unknown) => void) => (listeners[type] = listener) },
    sessionStorage: { getItem: () => null, setItem: () => undefined },
    location: { href: 'http://127.0.0.1:3000/_local/docs' },
    URL,
    Set,
  });
  return {
    interceptor: async (request: Request) => config!.requestInterceptor(request),
    /** An input event from a field of that operation's request body form, as the DOM would bubble it. */
    typeIn(method: string, documentPath: string) {
      const block = {
        querySelector: (selector: string) =>
          selector === '.opblock-summary-path' ? { getAttribute: (name: string) => (name === 'data-path' ? documentPath : null) } : { textContent: ` ${method} ` },
      };
      const section = { closest: (selector: string) => (selector === '.opblock' ? block : null) };
      listeners.input!({ target: { closest: (selector: string) => (selector === '.opblock-section-request-body' ? section : null) } });
    },
  };
}

const formRequest = (url: string, body: string): Request => ({ url, method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' } });

describe('the local docs page: Try it out', () => {
  it('leaves out the example body beside the query until the user types in the body form', async () => {
    const page = await loadPage();
    const query = '?phone=13800138000&internationalCode=86&codeType=3&userDomain=local.phonelink&random=Abcdefgh12345678&ts=1&signature=00';
    const examples = 'phone=13800138000&internationalCode=86&codeType=3&userDomain=local.phonelink&random=9ZgEDw4NiSPE8msy&ts=1767225600000&signature=2C8c';

    const untouched = await page.interceptor(formRequest(`${SEND}${query}`, examples));
    page.typeIn('POST', '/v2/sms/enduserapi/v2/sendPhoneSmsCode');
    const typedIn = await page.interceptor(formRequest(`${SEND}${query}`, examples));
    const otherOperation = await page.interceptor(formRequest(`${LINK}?phone=13800138000&code=123456`, 'phone=13800138000&code=123456'));

    expect(untouched).toEqual({ url: `${SEND}${query}`, method: 'POST', headers: { Accept: 'application/json' } });
    expect(typedIn).toEqual(formRequest(`${SEND}${query}`, examples));
    // A keystroke in one operation's form is no edit of another's.
    expect(otherOperation).toEqual({ url: `${LINK}?phone=13800138000&code=123456`, method: 'POST', headers: { Accept: 'application/json' } });
  });

  it('sends the body where it is the whole input (no query): the admin link', async () => {
    const page = await loadPage();
    const link: Request = { url: 'http://127.0.0.1:3000/admin/v1/users/u-1/phone', method: 'PUT', body: '{"phone":"13800138000","internationalCode":"86"}', headers: { 'Content-Type': 'application/json' } };

    expect(await page.interceptor({ ...link, headers: { ...link.headers } })).toEqual(link);
  });

  it('matches a path parameter and a path under a base (another server of the document) to the document path', async () => {
    const page = await loadPage();
    // A query on the admin link, only to see the path matched: an unknown path's body is always sent.
    const adminLink = (): Request => ({ ...formRequest('http://127.0.0.1:3000/admin/v1/users/u-9/phone?x=1', 'phone=1'), method: 'PUT' });
    const underBase = formRequest('https://api.example.com/prod/v2/enduser/enduserapi/relationPhone?code=1', 'code=1');

    const beforeTyping = await page.interceptor(adminLink());
    page.typeIn('PUT', '/admin/v1/users/{uid}/phone');
    const afterTyping = await page.interceptor(adminLink());

    expect(beforeTyping).not.toHaveProperty('body');
    expect(afterTyping).toMatchObject({ body: 'phone=1' });
    expect(await page.interceptor(underBase)).not.toHaveProperty('body');
    expect(await page.interceptor(formRequest('http://127.0.0.1:3000/not/in/the/document?x=1', 'x=1'))).toMatchObject({ body: 'x=1' });
  });
});
