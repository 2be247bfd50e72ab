// The peer reference of `make bench`: node's oidc-provider (in-memory adapter) issuing opaque
// access tokens with the client_credentials grant. Prints "listening on http://ADDR" when ready.
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
const provider = new Provider('http://127.0.0.1', {
  clients: [{
    client_id: 'bench',
    client_secret: 'bench-secret-bench-secret-bench-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  clientBasedCORS: () => false,
});
provider.proxy = true;
const server = provider.listen(port, '127.0.0.1', () => {
  const { address, port: bound } = server.address();
  console.log(`listening on http://${address}:${bound}`);
});
