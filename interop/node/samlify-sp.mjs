// samlify as a SAML service provider, with @authenio/samlify-node-xmllint
// (libxml2's xmllint compiled to WebAssembly, no Java) validating each
// message against the SAML 2.0 schemas, run against ssokit's mock identity
// platform by peers/interop/node/samlify_test.go.
//
//   node samlify-sp.mjs
//
// It reads one JSON object a line on stdin and answers each with a line,
// "@@samlify-sp " and a JSON object:
//   {"op": "login", "sp": {entity_id, acs}, "idp": {entity_id, sso_url, cert}}
//     -> {"url": <HTTP-Redirect URL of samlify's AuthnRequest>, "request_id"}
//   {"op": "acs", "sp": ..., "idp": ..., "saml_response": <base64>}
//     -> {"ok": true, "name_id", "attributes", "in_response_to", "audience"}
//        or {"ok": false, "error": <samlify's error, with the schema
//        validator's messages>}
// Nothing here opens a socket: the Go test does the HTTP.
import { serveLines } from './serve-lines.mjs';
import * as samlify from 'samlify';
import * as validator from '@authenio/samlify-node-xmllint';

samlify.setSchemaValidator(validator);

// The validator reports what xmllint found with console.error, then
// rejects with a bare code: keep the messages for the answer. xmllint
// itself prints to stdout, so each answer is a line starting with the
// marker below, and the test reads only those.
let validatorErrors = [];
for (const k of ['log', 'info', 'warn', 'error']) {
  console[k] = (...args) => { validatorErrors.push(args.join(' ')); };
}
const marker = '@@samlify-sp ';

const { binding, format } = samlify.Constants.namespace;

function entities(msg) {
  const sp = samlify.ServiceProvider({
    entityID: msg.sp.entity_id,
    assertionConsumerService: [{ Binding: binding.post, Location: msg.sp.acs }],
    nameIDFormat: [format.emailAddress],
    authnRequestsSigned: false,
    wantAssertionsSigned: false, // the personas sign the Response, the Assertion or both
    wantMessageSigned: false,
  });
  const idp = samlify.IdentityProvider({
    entityID: msg.idp.entity_id,
    singleSignOnService: [{ Binding: binding.redirect, Location: msg.idp.sso_url }],
    signingCert: msg.idp.cert,
    wantAuthnRequestsSigned: false,
  });
  return { sp, idp };
}

async function handle(msg) {
  const { sp, idp } = entities(msg);
  if (msg.op === 'login') {
    const { id, context } = sp.createLoginRequest(idp, 'redirect');
    return { url: context, request_id: id };
  }
  if (msg.op === 'acs') {
    validatorErrors = [];
    try {
      const { extract } = await sp.parseLoginResponse(idp, 'post', { body: { SAMLResponse: msg.saml_response } });
      return {
        ok: true,
        name_id: extract.nameID ?? '',
        attributes: extract.attributes ?? {},
        in_response_to: extract.response?.inResponseTo ?? '',
        audience: extract.audience ?? '',
      };
    } catch (e) {
      const err = e instanceof Error ? e.message : String(e);
      return { ok: false, error: [err, ...validatorErrors].join(': ') };
    }
  }
  throw new Error(`unknown op ${msg.op}`);
}

await serveLines(marker, handle);
