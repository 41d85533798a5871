import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import type { HttpResult } from '../functions/http/envelope';
import { ROUTES } from '../functions/http/routes';

/**
 * Interactive API docs for the local server: Swagger UI, from the
 * swagger-ui-dist package and served offline, at /_local/docs, loaded with
 * docs/openapi.yaml. "Try it out" calls this very server (same origin, so no
 * CORS). Local only, like every /_local/ route.
 *
 *   GET /_local/docs               the page
 *   GET /_local/docs/<asset>       Swagger UI's files, from a fixed list
 *   GET /_local/openapi.yaml       the document as written
 *   GET /_local/openapi.json       the document for the page: this server first in `servers`
 */

const DOCUMENT_FILE = path.resolve(__dirname, '..', 'docs', 'openapi.yaml');
const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/**
 * The only files served from swagger-ui-dist. Requests name a key of this
 * table or get the server's 404: nothing of the request path reaches the file system.
 */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

type DocsRoute = () => Promise<HttpResult>;

export function docsRoutes(): Array<[string, DocsRoute]> {
  const page = async () => respond(200, 'text/html; charset=utf-8', PAGE);
  return [
    ['GET /_local/docs', page],
    ['GET /_local/docs/', page],
    ['GET /_local/docs/docs.js', async () => respond(200, 'text/javascript; charset=utf-8', PAGE_SCRIPT)],
    ...Object.entries(ASSETS).map(([file, contentType]): [string, DocsRoute] => [`GET /_local/docs/${file}`, () => asset(file, contentType)]),
    // Read at each request, so edits to the document show on reload.
    ['GET /_local/openapi.yaml', async () => respond(200, 'application/yaml; charset=utf-8', await readFile(DOCUMENT_FILE, 'utf8'))],
    ['GET /_local/openapi.json', async () => respond(200, 'application/json; charset=utf-8', JSON.stringify(forThisServer(await readFile(DOCUMENT_FILE, 'utf8'))))],
  ];
}

/**
 * The document with this server as its first server, given relative to the
 * document (`/`): "Try it out" then calls whatever host and port the page was
 * loaded from, not the document's fixed http://127.0.0.1:3000.
 */
function forThisServer(yamlText: string): Record<string, unknown> {
  const document = parse(yamlText) as Record<string, unknown>;
  const servers = Array.isArray(document.servers) ? (document.servers as { url?: unknown }[]) : [];
  const elsewhere = servers.filter((server) => typeof server.url !== 'string' || !/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(server.url));
  return { ...document, servers: [{ url: '/', description: 'This local server (npm start)' }, ...elsewhere] };
}

const cache = new Map<string, Buffer>();

async function asset(file: string, contentType: string): Promise<HttpResult> {
  let content = cache.get(file);
  if (!content) {
    content = await readFile(path.join(SWAGGER_UI_DIR, file));
    cache.set(file, content);
  }
  return contentType.startsWith('image/')
    ? { ...respond(200, contentType, content.toString('base64')), isBase64Encoded: true }
    : respond(200, contentType, content.toString('utf8'));
}

const respond = (statusCode: number, contentType: string, body: string): HttpResult => ({
  statusCode,
  headers: {
    'content-type': contentType,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    // Everything comes from this server; Swagger UI sets inline styles and shows data: images.
    'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  },
  body,
});

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Phone-link API (local) - docs</title>
  <link rel="stylesheet" href="/_local/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/_local/docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="/_local/docs/favicon-16x16.png" sizes="16x16">
  <style>
    body { margin: 0; }
    #local-help { font-family: sans-serif; font-size: 14px; max-width: 1420px; margin: 0 auto; padding: 12px 20px; background: #f4f7fb; border-bottom: 1px solid #d8dee8; }
    #local-help h2 { font-size: 16px; margin: 4px 0 8px; }
    #local-help p { margin: 6px 0; }
    #local-help input { font-family: monospace; width: 22em; }
    #local-help code { background: #e8edf4; padding: 0 3px; }
  </style>
</head>
<body>
  <section id="local-help">
    <h2>Local server: "Try it out" calls this server</h2>
    <p><button id="new-user" type="button">New test user</button>
      creates a user (<code>POST /_local/users</code>) and authorizes this page with its token
      <span id="user-status"></span>. Or paste a token in <b>Authorize</b> (without <code>Bearer </code>).</p>
    <p><label>User domain secret <input id="secret" autocomplete="off" placeholder="printed by npm start"></label>
      With it, this page signs <b>sendPhoneSmsCode</b> for you: on Execute it replaces <code>random</code>,
      <code>ts</code> and <code>signature</code> with a fresh nonce, the time now and
      sha256(phone + codeType + random + ts + secret), computed in this browser. The code arrives in
      <code>/_local/outbox?phone=&lt;phone&gt;&amp;internationalCode=&lt;internationalCode&gt;</code> and in the terminal of <code>npm start</code>.</p>
    <p>The <b>Request body</b> forms of the app's operations repeat their query parameters, filled with
      examples: a body is sent only once you type in its form (a name in the query wins over the body).</p>
    <p>The <b>Admin</b> operations need no authorization here (this server listens on loopback only);
      in a deployment they take AWS SigV4 signatures, which this page cannot make.</p>
  </section>
  <div id="swagger-ui"></div>
  <script src="/_local/docs/swagger-ui-bundle.js"></script>
  <script src="/_local/docs/docs.js"></script>
</body>
</html>
`;

// Plain browser JavaScript, served as /_local/docs/docs.js (the CSP allows no inline script).
const PAGE_SCRIPT = `'use strict';
(function () {
  var SEND_PATH = ${JSON.stringify(ROUTES.sendPhoneSmsCode.path)};
  var secretInput = document.getElementById('secret');
  secretInput.value = sessionStorage.getItem('phoneLinkSecret') || '';
  secretInput.addEventListener('input', function () { sessionStorage.setItem('phoneLinkSecret', secretInput.value.trim()); });

  function nonce() {
    var alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, function (b) { return alphabet[b % alphabet.length]; }).join('');
  }
  function sha256Hex(text) {
    return crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)).then(function (digest) {
      return Array.from(new Uint8Array(digest), function (b) { return b.toString(16).padStart(2, '0'); }).join('');
    });
  }
  // Signs sendPhoneSmsCode requests when a secret is given; other requests pass unchanged.
  function signSend(request) {
    var secret = secretInput.value.trim();
    var url = new URL(request.url, location.href);
    if (!secret || url.pathname !== SEND_PATH) return request;
    var query = url.searchParams;
    query.set('random', nonce());
    query.set('ts', String(Date.now()));
    var payload = (query.get('phone') || '') + (query.get('codeType') || '') + query.get('random') + query.get('ts') + secret;
    return sha256Hex(payload).then(function (signature) {
      query.set('signature', signature);
      request.url = url.toString();
      return request;
    });
  }

  // Where the query carries the parameters, the body form below it only repeats them, and Swagger UI
  // fills it with examples (a stale ts, a made-up signature). The query wins, but a request that
  // carries both misleads: the body goes only once the user has typed in it. (Swagger UI's own
  // hasUserEditedBody cannot tell: it draws a new random example for a pattern at every call.)
  var editedBodies = new Set();
  function operationKey(method, path) { return String(method).toUpperCase() + ' ' + path; }
  document.addEventListener('input', function (event) {
    var target = event.target;
    var section = target && target.closest && target.closest('.opblock-section-request-body');
    var block = section && section.closest('.opblock');
    var path = block && block.querySelector('.opblock-summary-path');
    var method = block && block.querySelector('.opblock-summary-method');
    if (path && method) editedBodies.add(operationKey(method.textContent.trim(), path.getAttribute('data-path')));
  }, true);
  // The document's path a request is for: its last segments, a {parameter} matching any one.
  function specPathOf(pathname) {
    var segments = pathname.split('/');
    return ui.specSelectors.paths().keySeq().toArray().find(function (template) {
      var parts = template.split('/').slice(1);
      var tail = segments.slice(-parts.length);
      return tail.length === parts.length && parts.every(function (part, i) {
        return part.charAt(0) === '{' ? tail[i] !== '' : part === tail[i];
      });
    });
  }
  function dropUneditedBody(request) {
    var url = new URL(request.url, location.href);
    if (request.body === undefined || request.body === null || !url.search) return request;
    var path = specPathOf(url.pathname);
    if (path === undefined || editedBodies.has(operationKey(request.method, path))) return request;
    delete request.body;
    Object.keys(request.headers || {}).forEach(function (name) {
      if (name.toLowerCase() === 'content-type') delete request.headers[name];
    });
    return request;
  }

  var ui = SwaggerUIBundle({
    url: '/_local/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    tryItOutEnabled: true,
    persistAuthorization: true,
    displayRequestDuration: true,
    validatorUrl: null,
    requestInterceptor: function (request) { return signSend(dropUneditedBody(request)); },
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
  window.ui = ui;

  document.getElementById('new-user').addEventListener('click', function () {
    var status = document.getElementById('user-status');
    fetch('/_local/users', { method: 'POST' })
      .then(function (response) { return response.json(); })
      .then(function (user) {
        ui.preauthorizeApiKey('bearerAuth', user.accessToken);
        status.textContent = '(authorized as ' + user.uid + ')';
      })
      .catch(function (error) { status.textContent = '(failed: ' + error + ')'; });
  });
})();
`;
