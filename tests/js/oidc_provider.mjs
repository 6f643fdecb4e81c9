// A real OpenID Provider (the certified `oidc-provider` package) on 127.0.0.1 and a free port,
// for the sign-in tests: its development login and consent pages are driven with form posts.
//
// Usage:  node tests/js/oidc_provider.mjs '<spec as JSON>'
//
// Spec fields (all optional):
//   clients            registered clients, oidc-provider client metadata: [{client_id, client_secret, redirect_uris}]
//   clientAliases      {"alias": "client_id"}: a lookup of `alias` answers with that client's registration, so
//                      the provider issues tokens whose audience is the other client (a misbehaving provider)
//   accounts           {"login": {email, email_verified, name}}: the accounts the login page accepts
//   claimsInIdToken    put the scope's claims in the ID token, as Google does (default: UserInfo only,
//                      oidc-provider's spec-conforming default)
//   clockSkewSeconds   run the provider's clock this far from the real one (negative: behind)
//   idTokenTtlSeconds  ID token lifetime (default 3600)
//   autoConsent        grant every scope without showing the consent page
//
// Commands on stdin, one JSON object per line:
//   {"op":"account","login":"alice","claims":{...}}   add or replace an account; answered by {"event":"account"}
//   stdin closing stops the provider.
//
// Events on stdout, one JSON object per line:
//   {"event":"listening","issuer":"http://127.0.0.1:<port>"}
//   {"event":"account","login":...}
// Exit codes: 0 stopped, 2 bad usage.

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

let spec;
try {
  spec = JSON.parse(process.argv[2] ?? '{}');
} catch (error) {
  process.stderr.write(`usage: node oidc_provider.mjs '<spec JSON>' (${error.message})\n`);
  process.exit(2);
}

// A provider whose clock is off: everything it stamps (iat, exp) and checks uses this clock.
if (spec.clockSkewSeconds) {
  const realNow = Date.now;
  Date.now = () => realNow() + spec.clockSkewSeconds * 1000;
}

const accounts = new Map(Object.entries(spec.accounts ?? {}));
const clients = spec.clients ?? [];
const aliases = spec.clientAliases ?? {};

// oidc-provider's in-memory storage, except that a lookup of an alias client id finds another client.
class AliasingAdapter extends MemoryAdapter {
  async find(id) {
    if (this.model === 'Client' && id in aliases) {
      return clients.find((client) => client.client_id === aliases[id]);
    }
    return super.find(id);
  }
}

function signingKeys() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: `test-${process.pid}`, use: 'sig', alg: 'RS256' }] };
}

// Consent given in advance, to the client as found (for an alias: the client it stands for).
async function grantEverything(ctx) {
  const { client, session, params, provider: { Grant } } = ctx.oidc;
  const grant = new Grant({ accountId: session.accountId, clientId: client.clientId });
  grant.addOIDCScope(params.scope);
  await grant.save();
  // The provider files grants under the requested client_id, and looks them up by the client's own id.
  session.ensureClientContainer(client.clientId);
  session.grantIdFor(client.clientId, grant.jti);
  return grant;
}

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients,
  adapter: AliasingAdapter,
  jwks: signingKeys(),
  cookies: { keys: ['oidc-provider-test-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: !spec.claimsInIdToken,
  pkce: { required: () => true },
  ...(spec.autoConsent ? { loadExistingGrant: grantEverything } : {}),
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: spec.idTokenTtlSeconds ?? 3600,
    Interaction: 3600,
    Session: 3600,
    Grant: 3600,
  },
  async findAccount(_ctx, login) {
    if (!accounts.has(login)) return undefined;
    return { accountId: login, claims: () => ({ ...accounts.get(login), sub: login }) };
  },
});
server.on('request', provider.callback());
provider.on('grant.error', (_ctx, error) => {
  process.stderr.write(`token endpoint: ${error.message}: ${error.error_detail ?? error.error_description}\n`);
});
emit({ event: 'listening', issuer });

const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  if (!line.trim()) return;
  const command = JSON.parse(line);
  if (command.op === 'account') {
    accounts.set(command.login, command.claims);
    emit({ event: 'account', login: command.login });
  }
});
commands.on('close', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
