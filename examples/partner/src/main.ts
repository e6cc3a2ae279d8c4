// A partner app of stockgraph (say, a marketplace that shows a store's availability).
// It takes a snapshot of one store's stock with a typed query, then keeps it current
// from the live stockChanged subscription (graphql-ws, graphql-transport-ws protocol).
// Every document below is typed by graphql-codegen from stockgraph's schema.graphql:
// a field that does not exist, or a wrong variable, fails `tsc`, not the partner's users.
//
// usage: node dist/main.js --url http://127.0.0.1:8000 --client-id ID --client-secret SECRET
//          --location CWB [--events N]
// (or STOCKGRAPH_URL, STOCKGRAPH_CLIENT_ID, STOCKGRAPH_CLIENT_SECRET)
import type { ResultOf, TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

import { graphql } from './gql/index.js';

const LocationByCode = graphql(`
  query PartnerLocation($code: String!) {
    location(code: $code) { id code nameEn }
  }
`);

const StockSnapshot = graphql(`
  query PartnerStock($locationId: ID!, $after: String) {
    stockLevels(locationIds: [$locationId], first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { available product { sku } } }
    }
  }
`);

const StockFeed = graphql(`
  subscription PartnerStockFeed($locationId: ID!) {
    stockChanged(locationIds: [$locationId]) {
      sequence
      movement { kind delta }
      stockLevel { available product { sku } }
    }
  }
`);

type Options = { url: string; clientId: string; clientSecret: string; location: string; events: number };

function say(step: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ step, ...fields }));
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: process.env.STOCKGRAPH_URL ?? 'http://127.0.0.1:8000' },
      'client-id': { type: 'string', default: process.env.STOCKGRAPH_CLIENT_ID },
      'client-secret': { type: 'string', default: process.env.STOCKGRAPH_CLIENT_SECRET },
      location: { type: 'string' },
      events: { type: 'string', default: '0' },
    },
  });
  const clientId = values['client-id'];
  const clientSecret = values['client-secret'];
  if (!clientId || !clientSecret || !values.location) {
    throw new Error('--client-id, --client-secret and --location are needed');
  }
  return {
    url: values.url.replace(/\/$/, ''),
    clientId,
    clientSecret,
    location: values.location,
    events: Number(values.events),
  };
}

/** An access token from the app's client credentials (OAuth 2.0 client_credentials). */
async function token(opts: Options): Promise<string> {
  const basic = Buffer.from(`${opts.clientId}:${opts.clientSecret}`).toString('base64');
  const response = await fetch(`${opts.url}/oauth/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  if (!response.ok) throw new Error(`token: HTTP ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

/** One typed GraphQL request over HTTP: the result's type comes from the document. */
async function request<R, V>(
  opts: Options,
  bearer: string,
  document: TypedDocumentNode<R, V>,
  variables: V,
): Promise<R> {
  const response = await fetch(`${opts.url}/graphql`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: R; errors?: { message: string }[] };
  if (body.errors?.length || body.data === undefined) {
    throw new Error(`HTTP ${response.status}: ${JSON.stringify(body.errors)}`);
  }
  return body.data;
}

async function main(): Promise<void> {
  const opts = options();
  const bearer = await token(opts);
  const { location } = await request(opts, bearer, LocationByCode, { code: opts.location });
  if (!location) throw new Error(`no location ${opts.location} for this app`);

  const available = new Map<string, number>();
  let after: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof snapshotPage>> = await snapshotPage(after);
    for (const { node } of page.edges) available.set(node.product.sku, node.available);
    after = page.pageInfo.hasNextPage ? (page.pageInfo.endCursor ?? null) : null;
  } while (after !== null);
  say('snapshot', { location: location.code, available: Object.fromEntries(available) });

  async function snapshotPage(cursor: string | null) {
    const data = await request(opts, bearer, StockSnapshot, { locationId: location!.id, after: cursor });
    return data.stockLevels;
  }

  if (opts.events <= 0) return;
  const client = createClient({
    url: opts.url.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${bearer}` },
    on: { connected: () => say('connected') },
  });
  let seen = 0;
  const feed = client.iterate<ResultOf<typeof StockFeed>>({
    query: print(StockFeed),
    variables: { locationId: location.id },
  });
  for await (const result of feed) {
    const change = result.data?.stockChanged;
    if (!change) throw new Error(`subscription error: ${JSON.stringify(result.errors)}`);
    available.set(change.stockLevel.product.sku, change.stockLevel.available);
    say('change', {
      sequence: change.sequence,
      sku: change.stockLevel.product.sku,
      kind: change.movement.kind,
      delta: change.movement.delta,
      available: change.stockLevel.available,
    });
    if (++seen >= opts.events) break;
  }
  await client.dispose();
  say('done', { available: Object.fromEntries(available) });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
