// Runs graphql-http's server audit (the GraphQL-over-HTTP spec's checks) against a listening server and prints
// one JSON object on stdout: { "results": [{ id, name, status, reason?, response? }] }. The xunit test
// GraphQLHttpAuditTests parses it; this script only reports, it does not judge. With an Authorization value, every
// request of the audit carries it (the endpoint answers 401 to requests without a valid bearer token).
//   node audit.mjs http://127.0.0.1:5000/graphql ['Bearer <jwt>']
import { auditServer } from 'graphql-http';

const [url, authorization] = process.argv.slice(2);
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint url> [authorization header value]');
  process.exit(2);
}

const fetchFn = authorization
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', authorization);
      return fetch(input, { ...init, headers });
    }
  : fetch;
const results = await auditServer({ url, fetchFn });
const report = [];
for (const result of results) {
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    entry.reason = result.reason;
    // The response says why far better than the reason alone (status, content type, body).
    const body = await result.response.text().catch(() => '');
    entry.response = `${result.response.status} ${result.response.headers.get('content-type') ?? ''} ${body.slice(0, 300)}`;
  }
  report.push(entry);
}
process.stdout.write(JSON.stringify({ results: report }) + '\n');
