// @node-saml/node-saml (the SAML engine under passport-saml) as a SAML
// service provider, configured strictly, run against ssokit's mock
// identity platform by peers/interop/node/nodesaml_test.go.
//
//   node nodesaml-sp.mjs
//
// It reads one JSON object a line on stdin and answers each with a line,
// "@@nodesaml-sp " and a JSON object:
//   {"op": "configure", "sp": {entity_id, acs}, "idp": {entity_id, sso_url, cert},
//    "want_response_signed": bool, "want_assertions_signed": bool}
//     -> {"ok": true}; makes the SAML instance of that service provider,
//        which lives as long as the process: its InResponseTo cache must
//        have seen the AuthnRequests it is asked to accept answers to
//   {"op": "login", "sp": <entity_id>}
//     -> {"url": <HTTP-Redirect URL of node-saml's AuthnRequest>}
//   {"op": "acs", "sp": <entity_id>, "saml_response": <base64>}
//     -> {"ok": true, "name_id", "name_id_format", "issuer", "in_response_to",
//         "session_index", "attributes"}
//        or {"ok": false, "error": <node-saml's message>}
// Nothing here opens a socket: the Go test does the HTTP.
import { serveLines } from './serve-lines.mjs';
import nodeSaml from '@node-saml/node-saml';

const { SAML, ValidateInResponseTo } = nodeSaml;
const marker = '@@nodesaml-sp ';

// The SAML instances, by service provider entity ID.
const instances = new Map();

function configure(msg) {
  const saml = new SAML({
    // Ours: the entity ID goes out as the AuthnRequest's Issuer and is
    // the only Audience accepted; the ACS goes out as
    // AssertionConsumerServiceURL.
    issuer: msg.sp.entity_id,
    audience: msg.sp.entity_id,
    callbackUrl: msg.sp.acs,
    // The IdP's: its SSO endpoint and the one certificate trusted for its
    // signatures (node-saml never takes a certificate from KeyInfo).
    entryPoint: msg.idp.sso_url,
    idpCert: msg.idp.cert,
    // idpIssuer is compared with the Issuer of logout messages only
    // (node-saml does not compare an assertion's Issuer); set as a
    // careful deployment would.
    idpIssuer: msg.idp.entity_id,
    // What this IdP signs, and so what must verify.
    wantAuthnResponseSigned: msg.want_response_signed,
    wantAssertionsSigned: msg.want_assertions_signed,
    // Every response must answer an AuthnRequest this instance made and
    // has not seen answered (its in-memory cache).
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: 10 * 60 * 1000,
    acceptedClockSkewMs: 1000,
    maxAssertionAgeMs: 0,
  });
  instances.set(msg.sp.entity_id, saml);
  return { ok: true };
}

function instance(msg) {
  const saml = instances.get(msg.sp);
  if (!saml) throw new Error(`no SAML instance for ${msg.sp}: configure it first`);
  return saml;
}

async function handle(msg) {
  switch (msg.op) {
    case 'configure':
      return configure(msg);
    case 'login':
      return { url: await instance(msg).getAuthorizeUrlAsync('', undefined, {}) };
    case 'acs': {
      const saml = instance(msg);
      try {
        const { profile, loggedOut } = await saml.validatePostResponseAsync({ SAMLResponse: msg.saml_response });
        if (loggedOut || !profile) return { ok: false, error: 'not a login response' };
        return {
          ok: true,
          name_id: profile.nameID ?? '',
          name_id_format: profile.nameIDFormat ?? '',
          issuer: profile.issuer ?? '',
          in_response_to: profile.inResponseTo ?? '',
          session_index: profile.sessionIndex ?? '',
          attributes: profile.attributes ?? {},
        };
      } catch (e) {
        return { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
    }
  }
  throw new Error(`unknown op ${msg.op}`);
}

await serveLines(marker, handle);
