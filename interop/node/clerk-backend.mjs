// Drives @clerk/backend against the mock Clerk (peers/interop/node's
// clerkbackend_test.go runs it): verifyToken on a session token, then
// authenticateRequest on a page load of a signed-in browser, through the
// mock's handshake, as an app server would. One JSON line on stdout.
//
// argv[2] is JSON: {secretKey, publishableKey, apiUrl (the BAPI base
// without /v1), token, appUrl (the page, as the browser lands on it after
// sign-in), instance ("development" | "production"), cookie (the
// production browser's cookies for the FAPI: "__client=...; __client_uat=..."),
// authorizedParty}.
import { createClerkClient, verifyToken } from '@clerk/backend';

const cfg = JSON.parse(process.argv[2]);
const out = { steps: [] };

function pageLoad(url, cookie) {
  const headers = { 'Sec-Fetch-Dest': 'document', Accept: 'text/html' };
  if (cookie) headers.Cookie = cookie;
  return new Request(url, { headers });
}

// cookiePairs turns Set-Cookie strings into a Cookie header's pairs.
function cookiePairs(setCookies) {
  return setCookies.map((c) => c.split(';')[0]).filter((p) => !p.endsWith('='));
}

function cookieValue(header, name) {
  for (const part of (header || '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return '';
}

try {
  const verified = await verifyToken(cfg.token, { secretKey: cfg.secretKey, apiUrl: cfg.apiUrl });
  out.verify_sub = verified.sub;

  const clerk = createClerkClient({ secretKey: cfg.secretKey, publishableKey: cfg.publishableKey, apiUrl: cfg.apiUrl,
    telemetry: { disabled: true } });
  const opts = { authorizedParties: [cfg.authorizedParty] };
  const appCookie = cfg.instance === 'production' ? `__client_uat=${cookieValue(cfg.cookie, '__client_uat')}` : '';

  // 1. The page load: the SDK cannot decide locally and hands off.
  const first = await clerk.authenticateRequest(pageLoad(cfg.appUrl, appCookie), opts);
  const toFapi = first.headers.get('location') || '';
  out.steps.push({ status: first.status, reason: first.reason, location: toFapi });
  if (first.status !== 'handshake' || !toFapi) throw new Error(`expected a handshake, got ${first.status} (${first.reason})`);

  // 2. The browser follows to the mock's FAPI with its client.
  const fapiHeaders = cfg.instance === 'production' ? { Cookie: cfg.cookie } : {};
  const fapi = await fetch(toFapi, { redirect: 'manual', headers: fapiHeaders });
  const back = fapi.headers.get('location') || '';
  const fapiCookies = fapi.headers.getSetCookie();
  out.steps.push({ fapi_status: fapi.status, location: back, set_cookie_names: fapiCookies.map((c) => c.split('=')[0]),
    cache_control: fapi.headers.get('cache-control') });
  if (fapi.status !== 307) throw new Error(`the handshake answered ${fapi.status}: ${await fapi.text()}`);

  // 3. Back at the app with the handshake (query in development, cookie in
  // production): the SDK resolves it.
  const backCookie = [appCookie, ...cookiePairs(fapiCookies)].filter(Boolean).join('; ');
  const second = await clerk.authenticateRequest(pageLoad(back, backCookie), opts);
  const auth = second.isSignedIn ? second.toAuth() : null;
  const directives = second.headers.getSetCookie();
  out.steps.push({ status: second.status, reason: second.reason, user_id: auth?.userId, session_id: auth?.sessionId,
    location: second.headers.get('location'), directive_names: directives.map((c) => c.split('=')[0]) });
  out.signed_in_user = auth?.userId || '';
  out.nonce = back.includes('__clerk_handshake_nonce=') || fapiCookies.some((c) => c.startsWith('__clerk_handshake_nonce='));

  // 4. The next page load carries the cookies the handshake set: signed
  // in locally, no handshake.
  if (second.isSignedIn) {
    const next = second.headers.get('location') || cfg.appUrl;
    const third = await clerk.authenticateRequest(pageLoad(next, cookiePairs(directives).join('; ')), opts);
    out.steps.push({ status: third.status, reason: third.reason, user_id: third.isSignedIn ? third.toAuth().userId : '' });
    out.local_user = third.isSignedIn ? third.toAuth().userId : '';
  }
  out.ok = true;
} catch (e) {
  out.ok = false;
  out.error = String(e && e.stack ? e.stack : e);
}
console.log(JSON.stringify(out));
