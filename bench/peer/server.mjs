// The peers of `make bench`: node's oidc-provider, in one of two stores.
//
//   node server.mjs <port> memory         in-memory adapter; client_credentials grants
//   node server.mjs <port> sqlite <file>  SQLite adapter (better-sqlite3, WAL, synchronous=NORMAL:
//                                         what a process kill leaves is every acknowledged
//                                         write, as with the services); refresh_token grants
//                                         with rotation
//
// In the SQLite store, `POST /bench/refresh-tokens?count=N` issues N refresh tokens (a grant
// each) as an authorization code grant would have, and answers them as a JSON array. Prints
// "listening on http://ADDR" when ready.
import http from 'node:http';
import Provider from 'oidc-provider';

const [port, store = 'memory', file] = process.argv.slice(2);
// Loaded only for the SQLite store: the in-memory peer runs where better-sqlite3 could not be
// built.
const Database = store === 'sqlite' ? (await import('better-sqlite3')).default : null;

const CLIENT = {
  client_id: 'bench',
  client_secret: 'bench-secret-bench-secret-bench-secret',
  grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
  redirect_uris: ['http://127.0.0.1/callback'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
};

// An oidc-provider adapter on one SQLite table: every model's documents by (model, id), with
// the columns its lookups need. Statements are prepared once; each call is one statement, each
// statement its own transaction.
function sqliteAdapter(path) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS documents (
    model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL, grant_id TEXT, user_code TEXT,
    uid TEXT, expires_at INTEGER, PRIMARY KEY (model, id))`);
  db.exec('CREATE INDEX IF NOT EXISTS documents_grant ON documents (grant_id) WHERE grant_id IS NOT NULL');
  const upsert = db.prepare(`INSERT INTO documents (model, id, payload, grant_id, user_code, uid, expires_at)
    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload,
    grant_id = excluded.grant_id, user_code = excluded.user_code, uid = excluded.uid,
    expires_at = excluded.expires_at`);
  const find = db.prepare('SELECT payload, expires_at FROM documents WHERE model = ? AND id = ?');
  const findBy = (column) => db.prepare(`SELECT payload, expires_at FROM documents WHERE model = ? AND ${column} = ?`);
  const byUserCode = findBy('user_code');
  const byUid = findBy('uid');
  const consume = db.prepare(`UPDATE documents SET payload = json_set(payload, '$.consumed', ?)
    WHERE model = ? AND id = ?`);
  const destroy = db.prepare('DELETE FROM documents WHERE model = ? AND id = ?');
  const revokeByGrantId = db.prepare('DELETE FROM documents WHERE grant_id = ?');
  const live = (row) => {
    if (!row || (row.expires_at !== null && row.expires_at <= Date.now())) return undefined;
    return JSON.parse(row.payload);
  };
  return class SqliteAdapter {
    constructor(model) { this.model = model; }
    async upsert(id, payload, expiresIn) {
      upsert.run(this.model, id, JSON.stringify(payload), payload.grantId ?? null,
        payload.userCode ?? null, payload.uid ?? null,
        expiresIn ? Date.now() + expiresIn * 1000 : null);
    }
    async find(id) { return live(find.get(this.model, id)); }
    async findByUserCode(userCode) { return live(byUserCode.get(this.model, userCode)); }
    async findByUid(uid) { return live(byUid.get(this.model, uid)); }
    async consume(id) { consume.run(Math.floor(Date.now() / 1000), this.model, id); }
    async destroy(id) { destroy.run(this.model, id); }
    async revokeByGrantId(grantId) { revokeByGrantId.run(grantId); }
  };
}


const provider = new Provider('http://127.0.0.1', {
  clients: [CLIENT],
  adapter: store === 'sqlite' ? sqliteAdapter(file) : undefined,
  scopes: ['api', 'offline_access'],
  rotateRefreshToken: true,
  // Explicit, so that oidc-provider prints no notice about its defaults (stdout is closed once
  // the bench has read the address).
  ttl: { AccessToken: 3600, ClientCredentials: 3600, Grant: 14 * 86400, RefreshToken: 14 * 86400 },
  findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  clientBasedCORS: () => false,
});
provider.proxy = true;

// The refresh tokens an authorization code grant would have issued: a grant per token.
async function refreshTokens(count) {
  const client = await provider.Client.find(CLIENT.client_id);
  const tokens = [];
  for (let i = 0; i < count; i += 1) {
    const accountId = `user-${i}`;
    const grant = new provider.Grant({ accountId, clientId: client.clientId });
    grant.addOIDCScope('offline_access api');
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      accountId, client, grantId, gty: 'authorization_code', scope: 'offline_access api',
    });
    tokens.push(await token.save());
  }
  return tokens;
}

const handle = provider.callback();
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (req.method === 'POST' && url.pathname === '/bench/refresh-tokens') {
    refreshTokens(Number(url.searchParams.get('count') || 1)).then((tokens) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(tokens));
    }, (error) => {
      res.writeHead(500);
      res.end(String(error));
    });
    return;
  }
  handle(req, res);
});
server.listen(Number(port || 0), '127.0.0.1', () => {
  const { address, port: bound } = server.address();
  console.log(`listening on http://${address}:${bound}`);
});
