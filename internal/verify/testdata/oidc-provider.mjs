// An independent, OpenID-certified provider (npm oidc-provider, panva) for the verify tests.
// Started by the Go test on loopback; prints one JSON line {"issuer": ...} on stdout.
// Env: NODE_DIR (testdata/node with node_modules), REDIRECT_URI, POST_LOGOUT_URI, CLIENT_JWKS
// (public JWKS of the private_key_jwt client, made by the Go test).
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const { default: Provider } = await import(pathToFileURL(path.join(process.env.NODE_DIR, 'node_modules/oidc-provider/lib/index.js')).href);

const redirect = process.env.REDIRECT_URI;
const postLogout = process.env.POST_LOGOUT_URI;
const common = {
  redirect_uris: [redirect],
  post_logout_redirect_uris: [postLogout],
  response_types: ['code'],
  grant_types: ['authorization_code'],
};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      { ...common, client_id: 'app-post', client_secret: 'secret-post-value', token_endpoint_auth_method: 'client_secret_post' },
      { ...common, client_id: 'app-basic', client_secret: 'secret-basic-value', token_endpoint_auth_method: 'client_secret_basic' },
      { ...common, client_id: 'app-pkjwt', token_endpoint_auth_method: 'private_key_jwt', jwks: JSON.parse(process.env.CLIENT_JWKS) },
    ],
    // Entra puts name and preferred_username in the ID token; so must this provider.
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'] },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    pkce: { required: () => true },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, name: `User ${id}`, preferred_username: `${id}@contoso.test`, email: `${id}@contoso.test` }),
    }),
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  process.stdout.write(JSON.stringify({ issuer }) + '\n');
});
