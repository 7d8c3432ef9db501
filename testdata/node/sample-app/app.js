'use strict';
// A test app that does what the two Node quickstart samples do, in one file, started by the
// samples' own package.json (npm start: node ./bin/www, or node server.js). The config comes
// from .env in the current folder through dotenv, as the samples read it:
//  - workforce (ms-identity-node App, AuthProvider.js): CLOUD_INSTANCE + TENANT_ID is the
//    authority; before the first sign-in the app itself fetches instance discovery from
//    https://login.microsoftonline.com/common/discovery/instance and the authority's v2.0 OpenID
//    configuration, and gives both to msal-node as cloudDiscoveryMetadata and authorityMetadata;
//    Graph /me at GRAPH_API_ENDPOINT + v1.0/me;
//  - External ID (ms-identity-ciam-javascript-tutorial 5-sign-in-express, TENANT_SUBDOMAIN set):
//    AUTHORITY (https://<sub>.ciamlogin.com/) is the authority; the app fetches
//    AUTHORITY + <sub>.onmicrosoft.com/v2.0/.well-known/openid-configuration (errors ignored) and
//    msal-node does its own discovery; Graph /me at the real graph.microsoft.com name.
// Sign-in with responseMode form_post and PKCE, the code redeemed by acquireTokenByCode, the
// token cache kept in the session, sign-out by the hard-coded logout URL. Pages mark their
// links with ids (signin, profile, signout) for the tests' scripted browser.
require('dotenv').config();
require('dotenv').config({ path: '.env.dev' });
const express = require('express');
const session = require('express-session');
const axios = require('axios');
const msal = require('@azure/msal-node');

const ciam = Boolean(process.env.TENANT_SUBDOMAIN);
const authority = ciam
  ? process.env.AUTHORITY || `https://${process.env.TENANT_SUBDOMAIN}.ciamlogin.com/`
  : process.env.CLOUD_INSTANCE + process.env.TENANT_ID;
const graphBase = process.env.GRAPH_API_ENDPOINT || 'https://graph.microsoft.com/';
const redirectUri = process.env.REDIRECT_URI;
const postLogout = process.env.POST_LOGOUT_REDIRECT_URI;

const msalConfig = {
  auth: { clientId: process.env.CLIENT_ID, authority, clientSecret: process.env.CLIENT_SECRET },
  system: { loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false } },
};

async function discover() {
  if (ciam) {
    if (!msalConfig.auth.authorityMetadata) {
      const u = `${authority}${process.env.TENANT_SUBDOMAIN}.onmicrosoft.com/v2.0/.well-known/openid-configuration`;
      try {
        msalConfig.auth.authorityMetadata = JSON.stringify((await axios.get(u)).data);
      } catch (err) {
        console.log(err.message); // as the sample: msal-node fetches it itself then
      }
    }
    return;
  }
  if (!msalConfig.auth.cloudDiscoveryMetadata) {
    const r = await axios.get('https://login.microsoftonline.com/common/discovery/instance', {
      params: { 'api-version': '1.1', authorization_endpoint: `${authority}/oauth2/v2.0/authorize` },
    });
    msalConfig.auth.cloudDiscoveryMetadata = JSON.stringify(r.data);
  }
  if (!msalConfig.auth.authorityMetadata) {
    try {
      const r = await axios.get(`${authority}/v2.0/.well-known/openid-configuration`);
      msalConfig.auth.authorityMetadata = JSON.stringify(r.data);
    } catch (err) {
      console.log(err.message);
    }
  }
}

function client(req) {
  const cca = new msal.ConfidentialClientApplication(msalConfig);
  if (req.session.tokenCache) cca.getTokenCache().deserialize(req.session.tokenCache);
  return cca;
}

const crypto = new msal.CryptoProvider();
const app = express();
app.use(express.urlencoded({ extended: false }));
app.use(session({ secret: process.env.EXPRESS_SESSION_SECRET || 'secret', resave: false, saveUninitialized: false, cookie: { httpOnly: true, secure: false } }));

app.get('/', (req, res) => {
  if (req.session.account) {
    res.send(`<p id="name">${req.session.account.name || ''}</p><a id="profile" href="/users/profile">profile</a> <a id="signout" href="/auth/signout">sign out</a>`);
  } else {
    res.send('<a id="signin" href="/auth/signin">sign in</a>');
  }
});

app.get('/auth/signin', async (req, res, next) => {
  try {
    await discover();
    const { verifier, challenge } = await crypto.generatePkceCodes();
    const state = crypto.base64Encode(JSON.stringify({ csrfToken: crypto.createNewGuid(), redirectTo: '/' }));
    req.session.pkce = { verifier, state };
    const url = await client(req).getAuthCodeUrl({
      scopes: [], redirectUri, responseMode: msal.ResponseMode.FORM_POST,
      codeChallenge: challenge, codeChallengeMethod: 'S256', state,
    });
    res.redirect(url);
  } catch (err) {
    next(err);
  }
});

app.post('/auth/redirect', async (req, res, next) => {
  try {
    if (req.body.error) {
      throw new Error(`${req.body.error}: ${req.body.error_description}`);
    }
    if (!req.session.pkce || req.body.state !== req.session.pkce.state) {
      throw new Error('state mismatch');
    }
    const cca = client(req);
    const result = await cca.acquireTokenByCode({ code: req.body.code, scopes: [], redirectUri, codeVerifier: req.session.pkce.verifier });
    req.session.tokenCache = cca.getTokenCache().serialize();
    req.session.account = result.account;
    res.redirect('/');
  } catch (err) {
    next(err);
  }
});

app.get('/users/profile', async (req, res, next) => {
  try {
    if (!req.session.account) return res.redirect('/auth/signin');
    const cca = client(req);
    const t = await cca.acquireTokenSilent({ account: req.session.account, scopes: ['User.Read'] });
    req.session.tokenCache = cca.getTokenCache().serialize();
    const me = await axios.get(`${graphBase}v1.0/me`, { headers: { Authorization: `Bearer ${t.accessToken}` } });
    res.send(`<pre id="me">${JSON.stringify(me.data)}</pre><a id="signout" href="/auth/signout">sign out</a>`);
  } catch (err) {
    next(err);
  }
});

app.get('/auth/signout', (req, res) => {
  const logout = ciam
    ? `${authority}${process.env.TENANT_SUBDOMAIN}.onmicrosoft.com/oauth2/v2.0/logout?post_logout_redirect_uri=${postLogout}`
    : `${authority}/oauth2/v2.0/logout?post_logout_redirect_uri=${postLogout}`;
  req.session.destroy(() => res.redirect(logout));
});

// Errors end as the samples' error page does: a 500 with the message (and on stderr).
app.use((err, req, res, _next) => {
  console.error(err);
  res.status(500).send(`<p id="error">${String(err.message || err)}</p>`);
});

module.exports = app;
