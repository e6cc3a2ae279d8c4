// GraphiQL for stockgraph: one bundle served by the API itself, so it works on networks
// that cannot reach a public CDN. The page (api/graphiql.py) passes its settings in a
// JSON <script> element; nothing here is inline, so the page's CSP allows no inline script.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createClient } from 'graphql-ws';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';

const config = JSON.parse(document.getElementById('stockgraph-graphiql').textContent);
const httpUrl = new URL(config.endpoint, window.location.href);
const wsUrl = new URL(httpUrl);
wsUrl.protocol = httpUrl.protocol === 'https:' ? 'wss:' : 'ws:';

// Close codes after which reconnecting cannot help (a bad or expired token, a bad
// message): the error goes to the result pane instead of a silent retry behind a spinner.
const FINAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4406, 4409, 4429]);

/** The Headers pane's headers, less a value that is still the hint's placeholder. */
function usableHeaders(headers) {
  const usable = {};
  for (const [name, value] of Object.entries(headers || {})) {
    if (typeof value === 'string' && value.includes(config.placeholder)) continue;
    usable[name] = value;
  }
  return usable;
}

// One graphql-transport-ws client per distinct set of headers: connection_init's payload
// carries them (the Authorization header above all), and it is sent once per connection.
let current = { key: null, client: null, fetcher: null };

function fetcherFor(headers) {
  const key = JSON.stringify(headers);
  if (current.key !== key) {
    if (current.client) current.client.dispose();
    const client = createClient({
      url: wsUrl.href,
      connectionParams: headers,
      retryAttempts: 5,
      shouldRetry: (event) => !(event && FINAL_CLOSE_CODES.has(event.code)),
    });
    current = {
      key,
      client,
      fetcher: createGraphiQLFetcher({ url: httpUrl.href, wsClient: client }),
    };
  }
  return current.fetcher;
}

/** A closed WebSocket as a GraphQL error the result pane shows plainly, with what to do. */
async function* explained(results) {
  try {
    for await (const result of results) yield result;
  } catch (error) {
    const closed = /Socket closed with event (\d+)\s*(.*)/.exec(String(error && error.message));
    if (!closed) throw error;
    const [, code, reason] = closed;
    const hint = code === '4401' || code === '4403'
      ? ' Put a valid access token in Headers: {"Authorization": "Bearer <token>"}.'
      : '';
    yield { errors: [{ message: `The server closed the WebSocket: ${code} ${reason}.${hint}` }] };
  }
}

async function fetcher(params, options) {
  const headers = usableHeaders(options && options.headers);
  const result = await fetcherFor(headers)(params, { ...options, headers });
  return result && typeof result[Symbol.asyncIterator] === 'function' ? explained(result) : result;
}

/** A stored value less every "headers" entry in it. */
function withoutHeaders(value) {
  let data;
  try {
    data = JSON.parse(value);
  } catch {
    return value;
  }
  const strip = (node) => {
    if (Array.isArray(node)) node.forEach(strip);
    else if (node && typeof node === 'object') {
      delete node.headers;
      Object.values(node).forEach(strip);
    }
  };
  strip(data);
  return JSON.stringify(data);
}

// GraphiQL's own storage, less the headers: shouldPersistHeaders={false} keeps them out of
// the tabs, but its history keeps the headers of every operation it ran, token and all.
const NAMESPACE = 'graphiql:';
const storage = {
  getItem: (key) => window.localStorage.getItem(key),
  setItem: (key, value) => window.localStorage.setItem(key, withoutHeaders(value)),
  removeItem: (key) => window.localStorage.removeItem(key),
  get length() {
    return Object.keys(window.localStorage).filter((key) => key.startsWith(NAMESPACE)).length;
  },
  clear() {
    for (const key of Object.keys(window.localStorage)) {
      if (key.startsWith(NAMESPACE)) window.localStorage.removeItem(key);
    }
  },
};

createRoot(document.getElementById('graphiql')).render(
  <GraphiQL
    fetcher={fetcher}
    storage={storage}
    defaultTabs={[
      { query: config.query, variables: config.variables, headers: config.headers },
    ]}
    defaultHeaders={config.headers}
    shouldPersistHeaders={false}
    showPersistHeadersSettings={false}
    defaultEditorToolsVisibility="headers"
  />,
);
