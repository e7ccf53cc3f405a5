// panva's oidc-provider (the OpenID Certified authorization server for
// Node.js) as the OpenID provider that ssokit's relying party signs in
// against: peers/interop/node/oidcprovider_test.go drives it.
//
//   node oidc-op.mjs
//
// It reads one JSON object a line on stdin and answers each with a line,
// "@@oidc-op " and a JSON object:
//   {"op": "start", "clients": [<client metadata>], "accounts": {<sub>: <claims>},
//    "trailing_slash": false}
//     -> {"issuer": "http://127.0.0.1:<port>"}: the provider listens there
//        (plain http, loopback only) with those clients registered as they
//        are given (redirect_uris, token_endpoint_auth_method,
//        id_token_signed_response_alg...). With trailing_slash the issuer
//        is "http://127.0.0.1:<port>/", as Auth0's are written. Once per
//        process.
//   {"op": "queue", "client_id", "account", "consent": true|false}
//     -> {"queued": <logins now waiting for that client>}: the next sign-in
//        of that client is account's; then its consent prompt grants what
//        the client asked for, or, with consent false, the end-user refuses
//        it (the provider answers the client with access_denied).
//   {"op": "events", "client_id"}
//     -> {"events": [...]}: what the provider did for that client since the
//        last call, in order: {"event": "interaction", "prompt", "login_hint"}
//        for each prompt, {"event": "id_token", "alg", "kid", "auth"} for
//        each ID token the token endpoint issued (auth: how the client
//        authenticated, client_secret_basic or client_secret_post),
//        {"event": "userinfo", "type"} for each userinfo answer (its
//        media type: application/json, or application/jwt when signed),
//        and {"event": "grant.error" | "authorization.error" |
//        "userinfo.error", "error", "error_description", "error_detail"}
//        for each refusal (the detail is what the provider keeps to
//        itself).
// A request that fails is answered {"fatal": "..."}. It exits when stdin
// closes.
//
// The interaction (sign-in and consent) is this script's, not the
// development views of oidc-provider: the test's browser follows redirects
// and the queued decision is applied, with provider.interactionFinished, as
// a person's would be. Everything else (authorization endpoint, PKCE,
// token endpoint, client authentication, ID tokens, userinfo) is
// oidc-provider's own, configured strictly: PKCE required of every client.
//
// oidc-provider 9 names Node.js 22 LTS or later as its runtime and prints
// "Unsupported runtime" on Node.js 20 (to stderr, which the test shows
// only when the script fails); 9.13.3 runs on Node.js 20.20, as this test
// shows. 8.8.1 is the last release that lists Node.js 20.
import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { serveLines } from './serve-lines.mjs';
import Provider from 'oidc-provider';

const marker = '@@oidc-op ';

let provider;
let server;
let handler = (req, res) => {
  res.statusCode = 503;
  res.end('starting');
};
const accounts = new Map(); // sub -> claims
const queues = new Map(); // client_id -> [{account, consent}]
const events = new Map(); // client_id -> [event]

function record(clientId, event) {
  const key = clientId ?? '';
  if (!events.has(key)) events.set(key, []);
  events.get(key).push(event);
}

// signingKey is a new private key as a JWK, for oidc-provider's jwks.
function signingKey(type, options) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), use: 'sig' };
}

// The claims the provider releases, by scope. groups is a scope of its
// own, as Okta and OneLogin name it.
const claims = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name'],
  groups: ['groups'],
};

async function findAccount(_ctx, sub) {
  if (!accounts.has(sub)) return undefined;
  return {
    accountId: sub,
    // oidc-provider filters these by the granted scopes and by where they
    // go (with a code flow, scope claims go to userinfo, not the ID token).
    async claims() {
      return { ...accounts.get(sub), sub };
    },
  };
}

// interact resolves the interaction at GET /interaction/:uid with the
// client's queued decision.
async function interact(ctx) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session, grantId } = details;
  const clientId = params.client_id;
  record(clientId, { event: 'interaction', prompt: prompt.name, login_hint: params.login_hint ?? '' });
  const waiting = queues.get(clientId) ?? [];
  const next = waiting[0];
  if (!next) {
    ctx.status = 409;
    ctx.body = `no sign-in is queued for client ${clientId}`;
    return;
  }
  let result;
  let merge = false;
  switch (prompt.name) {
    case 'login':
      result = { login: { accountId: next.account } };
      break;
    case 'consent': {
      waiting.shift();
      if (!next.consent) {
        result = { error: 'access_denied', error_description: 'the end-user refused the request' };
        break;
      }
      const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId });
      const missing = prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
      merge = true; // keep the login of the previous prompt
      break;
    }
    default:
      ctx.status = 501;
      ctx.body = `prompt ${prompt.name} is not handled here`;
      return;
  }
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
  ctx.respond = false; // interactionFinished wrote the 303 itself
}

// idTokenHeader reads the protected header of a compact JWS.
function idTokenHeader(jws) {
  try {
    return JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString('utf8'));
  } catch {
    return {};
  }
}

async function start(msg) {
  if (provider) throw new Error('the provider is already started');
  for (const [sub, c] of Object.entries(msg.accounts ?? {})) accounts.set(sub, c);

  server = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}${msg.trailing_slash ? '/' : ''}`;

  provider = new Provider(issuer, {
    clients: msg.clients,
    findAccount,
    claims,
    jwks: {
      keys: [
        signingKey('rsa', { modulusLength: 2048 }), // RS256, PS256
        signingKey('ec', { namedCurve: 'P-256' }), // ES256
        signingKey('ed25519'), // EdDSA
      ],
    },
    // HS256 ID tokens are signed with the client's secret: enabled so that
    // a client registered for them can be tested against the RP.
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256'] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      // userinfo signed for a client registered with
      // userinfo_signed_response_alg (OIDC Core 5.3.2).
      jwtUserinfo: { enabled: true },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
  });

  for (const name of ['grant.error', 'authorization.error', 'userinfo.error']) {
    provider.on(name, (ctx, err) => {
      record(ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.client_id, {
        event: name,
        error: err.error ?? err.message,
        error_description: err.error_description ?? '',
        error_detail: err.error_detail ?? '',
      });
    });
  }
  provider.on('server_error', (ctx, err) => {
    record(ctx.oidc?.client?.clientId, { event: 'server_error', error: String(err) });
    process.stderr.write(`oidc-op: server_error: ${err.stack ?? err}\n`);
  });

  // Before oidc-provider's own routes: the interaction, and a look at each
  // token response's ID token header and each userinfo answer.
  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && /^\/interaction\/[\w-]+$/.test(ctx.path)) {
      await interact(ctx);
      return;
    }
    await next();
    if (ctx.method === 'POST' && ctx.path === '/token' && typeof ctx.body?.id_token === 'string') {
      const { alg, kid } = idTokenHeader(ctx.body.id_token);
      // oidc-provider accepts client_secret_basic from a client registered
      // for client_secret_post and the other way round: note which came.
      let auth = 'none';
      if (ctx.get('authorization')) auth = 'client_secret_basic';
      else if (ctx.oidc?.body?.client_secret) auth = 'client_secret_post';
      record(ctx.oidc?.client?.clientId, { event: 'id_token', alg: alg ?? '', kid: kid ?? '', auth });
    }
    if (ctx.path === '/me' && ctx.status === 200) {
      record(ctx.oidc?.client?.clientId, { event: 'userinfo', type: ctx.response.type });
    }
  });

  handler = provider.callback();
  return { issuer };
}

async function handle(msg) {
  switch (msg.op) {
    case 'start':
      return start(msg);
    case 'queue': {
      if (!queues.has(msg.client_id)) queues.set(msg.client_id, []);
      const q = queues.get(msg.client_id);
      q.push({ account: msg.account, consent: msg.consent === true });
      return { queued: q.length };
    }
    case 'events': {
      const got = events.get(msg.client_id) ?? [];
      events.delete(msg.client_id);
      return { events: got };
    }
    default:
      throw new Error(`unknown op ${msg.op}`);
  }
}

await serveLines(marker, handle);
// stdin closed: the test is over.
server?.closeAllConnections();
server?.close();
process.exit(0);
