// Subscribes with the npm graphql-ws client and prints each event as one JSON line.
// usage: node subscribe.mjs <ws-url> <token> <count> <query>
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, count, query] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 0,
});
let seen = 0;
console.log(JSON.stringify({ ready: true }));
client.subscribe(
  { query },
  {
    next: (value) => {
      console.log(JSON.stringify(value));
      seen += 1;
      if (seen >= Number(count)) {
        client.dispose();
        process.exit(0);
      }
    },
    error: (err) => { console.error(JSON.stringify(err)); process.exit(2); },
    complete: () => process.exit(0),
  },
);
setTimeout(() => { console.error('timeout'); process.exit(3); }, 20000);
