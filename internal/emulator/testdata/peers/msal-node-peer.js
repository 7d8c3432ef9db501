'use strict';
// An independent client against the emulator: @azure/msal-node 2.x, the library both Node
// samples use, driven the way they drive it. Run with NODE_PATH pointing at testdata/node's
// node_modules and --require emulator-hosts.js, so the real host names reach the emulator.
//
//   node msal-node-peer.js client-credentials   prints {"access_token_claims":...,"from_cache":...}
//   node msal-node-peer.js auth-code            prints {"auth_url":...}, reads one JSON line with
//                                               the fields posted to the redirect URI, prints
//                                               {"id_token_claims":...,"account":...,...}
//   node msal-node-peer.js get                  prints the JSON at PEER_CONFIG's url
//
// PEER_CONFIG (JSON): authority, clientId, clientSecret, redirectUri, scopes; sampleMetadata
// ("workforce" or "external", with tenantDomain) to prefetch metadata as the samples do;
// callGraph to read /me with the delegated token.
const https = require('https');
const msal = require('@azure/msal-node');

const cfg = JSON.parse(process.env.PEER_CONFIG || '{}');

function out(v) {
  process.stdout.write(JSON.stringify(v) + '\n');
}

function claimsOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

// readLine reads one line from stdin: the Go test writes it after driving the sign-in.
function readLine() {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        process.stdin.off('data', onData).off('end', onEnd).pause();
        resolve(buf.slice(0, nl));
      }
    };
    const onEnd = () => reject(new Error('stdin closed before the redirect arrived'));
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', onData).once('end', onEnd);
  });
}

// getJSON fetches a URL with Node's https, as the samples do with axios.
function getJSON(url, headers = {}) {
  return new Promise((resolve, reject) => {
    https.get(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${url}: ${res.statusCode} ${body}`));
          return;
        }
        try { resolve(JSON.parse(body)); } catch (err) { reject(new Error(`GET ${url}: ${err.message}`)); }
      });
    }).on('error', reject);
  });
}

// sampleMetadata fetches what the samples inject into msal-node before signing in (facts:
// samples.md §4): the workforce sample (ms-identity-node AuthProvider.login) gets instance
// discovery from the hard-coded login.microsoftonline.com URL and the authority's OpenID
// configuration; the External ID sample only the OpenID configuration, under
// <authority><sub>.onmicrosoft.com.
async function sampleMetadata() {
  if (!cfg.sampleMetadata) return {};
  const authority = cfg.authority.replace(/\/$/, '');
  if (cfg.sampleMetadata === 'workforce') {
    const instance = await getJSON(`https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=${authority}/oauth2/v2.0/authorize`);
    const openid = await getJSON(`${authority}/v2.0/.well-known/openid-configuration`);
    return { cloudDiscoveryMetadata: JSON.stringify(instance), authorityMetadata: JSON.stringify(openid) };
  }
  const openid = await getJSON(`${authority}/${cfg.tenantDomain}/v2.0/.well-known/openid-configuration`);
  return { authorityMetadata: JSON.stringify(openid) };
}

function app(metadata = {}) {
  return new msal.ConfidentialClientApplication({
    auth: { clientId: cfg.clientId, authority: cfg.authority, clientSecret: cfg.clientSecret, ...metadata },
    system: {
      loggerOptions: {
        logLevel: msal.LogLevel.Error,
        piiLoggingEnabled: false,
        loggerCallback: (_level, message) => process.stderr.write(message + '\n'),
      },
    },
  });
}

async function clientCredentials() {
  const cca = app();
  const request = { scopes: ['https://graph.microsoft.com/.default'] };
  const first = await cca.acquireTokenByClientCredential(request);
  const second = await cca.acquireTokenByClientCredential(request);
  out({
    token_type: first.tokenType,
    scopes: first.scopes,
    tenant_id: first.tenantId,
    access_token_claims: claimsOf(first.accessToken),
    from_cache: second.fromCache,
  });
}

async function authCode() {
  const cca = app(await sampleMetadata());
  const crypto = new msal.CryptoProvider();
  const { verifier, challenge } = await crypto.generatePkceCodes();
  const state = crypto.createNewGuid();
  // The samples' request: form_post, PKCE S256, client_info (msal adds it), no nonce.
  const authUrl = await cca.getAuthCodeUrl({
    scopes: cfg.scopes,
    redirectUri: cfg.redirectUri,
    responseMode: msal.ResponseMode.FORM_POST,
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    state,
  });
  out({ auth_url: authUrl });

  const posted = JSON.parse(await readLine());
  if (posted.error) {
    throw new Error(`authorize answered ${posted.error}: ${posted.error_description}`);
  }
  // The second argument makes msal-node check the state it sent against the one posted back.
  const result = await cca.acquireTokenByCode(
    { code: posted.code, scopes: cfg.scopes, redirectUri: cfg.redirectUri, codeVerifier: verifier, state },
    { code: posted.code, state: posted.state, client_info: posted.client_info },
  );
  // What the workforce sample does next: a token from the cache, then through the refresh token.
  const cached = await cca.acquireTokenSilent({ account: result.account, scopes: cfg.scopes });
  const refreshed = await cca.acquireTokenSilent({ account: result.account, scopes: cfg.scopes, forceRefresh: true });
  // The workforce sample then reads the profile from Graph with the delegated token.
  let me = null;
  if (cfg.callGraph) {
    me = await getJSON('https://graph.microsoft.com/v1.0/me', { Authorization: `Bearer ${refreshed.accessToken}` });
  }
  out({
    me,
    id_token_claims: result.idTokenClaims,
    account: {
      homeAccountId: result.account.homeAccountId,
      environment: result.account.environment,
      tenantId: result.account.tenantId,
      username: result.account.username,
      localAccountId: result.account.localAccountId,
      name: result.account.name,
    },
    scopes: result.scopes,
    access_token_claims: result.accessToken ? claimsOf(result.accessToken) : null,
    silent_from_cache: cached.fromCache,
    refreshed_from_cache: refreshed.fromCache,
    refreshed_id_token_claims: refreshed.idTokenClaims,
  });
}

// get fetches cfg.url through the same https stack (the recipe's check, without msal-node,
// whose network_error hides the cause).
async function get() {
  out(await getJSON(cfg.url));
}

const modes = { 'client-credentials': clientCredentials, 'auth-code': authCode, get };
const run = modes[process.argv[2]];
if (!run) {
  process.stderr.write(`usage: msal-node-peer.js ${Object.keys(modes).join('|')}\n`);
  process.exit(2);
}
run().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`msal-node-peer: ${err && err.errorCode ? err.errorCode + ': ' : ''}${err && (err.errorMessage || err.message) || err}\n`);
    if (err && err.subError) process.stderr.write(`suberror: ${err.subError}\n`);
    process.exit(1);
  },
);
