// Runs graphql-http's GraphQL-over-HTTP server audits against one URL and prints
// every result as one JSON array on stdout: [{id, name, status, reason}].
// Usage: node audit.mjs URL  (STOCKGRAPH_TOKEN, when set, is sent as a Bearer token)
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
const token = process.env.STOCKGRAPH_TOKEN;

function withToken(input, init = {}) {
  const headers = new Headers(init.headers ?? {});
  if (token) headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: withToken })) {
  const result = await audit.fn();
  let reason = result.reason ?? null;
  if (result.status !== 'ok' && result.response) {
    const body = await result.response.text().catch(() => '');
    reason = `${reason} (HTTP ${result.response.status}: ${body.slice(0, 300)})`;
  }
  results.push({ id: result.id, name: result.name, status: result.status, reason });
}
process.stdout.write(JSON.stringify(results, null, 1) + '\n');
