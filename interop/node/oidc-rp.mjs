// A real OpenID Connect relying party (openid-client v6, with jose for an
// independent ID token check) run against ssokit's mock identity platform.
// The Go test suite starts the mock and runs:
//   node oidc-rp.mjs '<json: [{persona, issuer, client_id, client_secret,
//                      auth_method, email, redirect_uri, scope}]>' [--insecure-http]
// It completes the authorization code flow with PKCE and nonce for each
// case and prints one JSON line per case: {persona, ok, claims} or
// {persona, ok: false, error}. It exits 1 if any case failed.
import * as client from 'openid-client';
import * as jose from 'jose';

const cases = JSON.parse(process.argv[2]);
const insecure = process.argv.includes('--insecure-http');
let failed = false;

for (const c of cases) {
  try {
    const auth = c.auth_method === 'client_secret_basic'
      ? client.ClientSecretBasic(c.client_secret)
      : client.ClientSecretPost(c.client_secret);
    const options = insecure ? { execute: [client.allowInsecureRequests] } : undefined;
    const config = await client.discovery(new URL(c.issuer), c.client_id, undefined, auth, options);

    const verifier = client.randomPKCECodeVerifier();
    const challenge = await client.calculatePKCECodeChallenge(verifier);
    const nonce = client.randomNonce();
    const state = client.randomState();
    const authURL = client.buildAuthorizationUrl(config, {
      redirect_uri: c.redirect_uri,
      scope: c.scope,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      nonce,
      state,
      login_hint: c.email,
    });
    // The headless path: the mock answers with the redirect straight away.
    const res = await fetch(authURL, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}`);

    const tokens = await client.authorizationCodeGrant(config, new URL(location), {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
      idTokenExpected: true,
    });
    const claims = tokens.claims();

    // Independent check of the same ID token with jose and the JWKS.
    const meta = config.serverMetadata();
    const jwks = jose.createRemoteJWKSet(new URL(meta.jwks_uri));
    const { payload, protectedHeader } = await jose.jwtVerify(tokens.id_token, jwks, {
      issuer: meta.issuer, audience: c.client_id, algorithms: ['RS256'],
    });
    if (payload.sub !== claims.sub) throw new Error('jose and openid-client disagree on sub');

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    console.log(JSON.stringify({ persona: c.persona, ok: true, kid: protectedHeader.kid, claims, userinfo_sub: userinfo.sub }));
  } catch (err) {
    failed = true;
    console.log(JSON.stringify({ persona: c.persona, ok: false, error: `${err.name}: ${err.message}${err.code ? ' (' + err.code + ')' : ''}` }));
  }
}
process.exit(failed ? 1 : 0);
