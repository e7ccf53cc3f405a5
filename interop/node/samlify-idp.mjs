// samlify as a SAML identity provider (IdentityProvider,
// parseLoginRequest, createLoginResponse) for ssokit's own SAML service
// provider (package idp), run by peers/interop/node/samlify_idp_test.go.
// samlify reads ssokit's AuthnRequest, validated against the SAML 2.0
// schemas by @authenio/samlify-node-xmllint, and builds and signs its
// answer from samlify's default login response template, whose
// {AuthnStatement} and {AttributeStatement} placeholders (left empty by
// samlify itself) are filled here through customTagReplacement, so that
// the response carries the user's attributes and groups.
//
//   node samlify-idp.mjs
//
// It reads one JSON object a line on stdin and answers each with a line,
// "@@samlify-idp " and a JSON object:
//   {"op": "metadata", "idp": {entity_id, sso_url, key, cert}}
//     -> {"metadata": <samlify's IdP metadata XML>}
//   {"op": "respond", "idp": ..., "sp_metadata": <the SP's metadata XML>,
//    "saml_request": <the SAMLRequest parameter of the HTTP-Redirect URL>,
//    "sign_response": bool, "user": {email, first_name, last_name,
//    groups, session_index},
//    and, to make a response the service provider must refuse:
//    "audience", "in_response_to" (instead of the request's and the SP's),
//    "clock_offset_seconds" (the response's clock is moved by it)}
//     -> {"saml_response": <base64>, "acs": <where samlify posts it>,
//         "request": {id, issuer, acs, destination, name_id_format}}
//   A request samlify refuses answers {"error": <samlify's error, with the
//   schema validator's messages>}.
// Nothing here opens a socket: the Go test does the HTTP.
import { serveLines } from './serve-lines.mjs';
// The default import: samlify's SamlLib is a getter Node's named-export
// detection of a CommonJS module does not see.
import samlify from 'samlify';
import * as validator from '@authenio/samlify-node-xmllint';

samlify.setSchemaValidator(validator);

// The validator reports what xmllint found with console.error and
// xmllint prints to stdout: keep the messages for the answer, and start
// each answer with the marker, the only lines the test reads.
let validatorErrors = [];
for (const k of ['log', 'info', 'warn', 'error']) {
  console[k] = (...args) => { validatorErrors.push(args.join(' ')); };
}
const marker = '@@samlify-idp ';

const { binding, format } = samlify.Constants.namespace;
const passwordProtectedTransport = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';
const basicName = 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic';

function identityProvider(cfg) {
  return samlify.IdentityProvider({
    entityID: cfg.entity_id,
    privateKey: cfg.key,
    signingCert: cfg.cert,
    singleSignOnService: [{ Binding: binding.redirect, Location: cfg.sso_url }],
    nameIDFormat: [format.emailAddress],
    wantAuthnRequestsSigned: false,
  });
}

// attributeStatement is the AttributeStatement of user, each value a
// placeholder that samlify's replaceTagsByValue fills in (XML-escaped);
// values receives them.
function attributeStatement(user, values) {
  const attributes = [
    ['email', [user.email]],
    ['firstName', [user.first_name]],
    ['lastName', [user.last_name]],
    ['groups', user.groups ?? []],
  ];
  const xml = attributes.map(([name, vals], i) => {
    const vs = vals.map((v, j) => {
      const tag = `attr${i}v${j}`;
      values[tag] = v;
      return `<saml:AttributeValue xsi:type="xs:string">{${tag}}</saml:AttributeValue>`;
    });
    return `<saml:Attribute Name="${name}" NameFormat="${basicName}">${vs.join('')}</saml:Attribute>`;
  });
  return `<saml:AttributeStatement>${xml.join('')}</saml:AttributeStatement>`;
}

async function respond(msg) {
  const idp = identityProvider(msg.idp);
  const sp = samlify.ServiceProvider({ metadata: msg.sp_metadata, wantMessageSigned: !!msg.sign_response });
  validatorErrors = [];
  let parsed;
  try {
    parsed = await idp.parseLoginRequest(sp, 'redirect', { query: { SAMLRequest: msg.saml_request } });
  } catch (e) {
    const err = e instanceof Error ? e.message : String(e);
    return { error: [err, ...validatorErrors].join(': ') };
  }
  const request = parsed.extract.request;
  const acs = sp.entityMeta.getAssertionConsumerService('post');
  const now = new Date(Date.now() + (msg.clock_offset_seconds ?? 0) * 1000);
  const fiveMinutesLater = new Date(now.getTime() + 5 * 60 * 1000);
  const user = msg.user;
  const values = {
    ID: idp.entitySetting.generateID(),
    AssertionID: idp.entitySetting.generateID(),
    Destination: acs,
    Audience: msg.audience ?? sp.entityMeta.getEntityID(),
    SubjectRecipient: acs,
    Issuer: idp.entityMeta.getEntityID(),
    IssueInstant: now.toISOString(),
    StatusCode: samlify.Constants.StatusCode.Success,
    ConditionsNotBefore: now.toISOString(),
    ConditionsNotOnOrAfter: fiveMinutesLater.toISOString(),
    SubjectConfirmationDataNotOnOrAfter: fiveMinutesLater.toISOString(),
    NameIDFormat: format.emailAddress,
    NameID: user.email,
    InResponseTo: msg.in_response_to ?? request.id,
    AuthnInstant: now.toISOString(),
    SessionIndex: user.session_index,
  };
  const authnStatement = '<saml:AuthnStatement AuthnInstant="{AuthnInstant}" SessionIndex="{SessionIndex}">' +
    `<saml:AuthnContext><saml:AuthnContextClassRef>${passwordProtectedTransport}</saml:AuthnContextClassRef></saml:AuthnContext>` +
    '</saml:AuthnStatement>';
  const fill = (template) => {
    const xml = template
      .replace('{AuthnStatement}', authnStatement)
      .replace('{AttributeStatement}', attributeStatement(user, values));
    return { id: values.ID, context: samlify.SamlLib.replaceTagsByValue(xml, values) };
  };
  const { context, entityEndpoint } = await idp.createLoginResponse(sp, parsed, 'post', { email: user.email },
    { customTagReplacement: fill });
  return {
    saml_response: context,
    acs: entityEndpoint,
    request: {
      id: request.id ?? '',
      issuer: parsed.extract.issuer ?? '',
      acs: request.assertionConsumerServiceUrl ?? '',
      destination: request.destination ?? '',
      name_id_format: parsed.extract.nameIDPolicy?.format ?? '',
    },
  };
}

async function handle(msg) {
  switch (msg.op) {
    case 'metadata':
      return { metadata: identityProvider(msg.idp).getMetadata() };
    case 'respond':
      return respond(msg);
  }
  throw new Error(`unknown op ${msg.op}`);
}

await serveLines(marker, handle);
