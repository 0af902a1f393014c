// A real OpenID Provider for the test suite: panva/oidc-provider (OpenID Certified), on 127.0.0.1 only.
// Configured from one JSON file named by argv[2] (written by tests/auth/oidc_provider.py):
//   { port, client: {client_id, client_secret, redirect_uris, post_logout_redirect_uris},
//     jwks: {keys: [private JWK]}, accounts: {login: {email, email_verified, name, groups}} }
// Sign-in uses the provider's own devInteractions pages (any password; the login picks the account).
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: [{
    ...config.client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: config.jwks,
  // PKCE for every client, not only public ones (https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#pkce)
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  // put the scope's claims in the ID token itself, as Hyperpage reads them from there
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['hyperpage-test-cookie-key-0123456789'] },
  ttl: { IdToken: 300, AccessToken: 300, Session: 3600, Interaction: 600, Grant: 3600 },
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
});
provider.proxy = false;

provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
