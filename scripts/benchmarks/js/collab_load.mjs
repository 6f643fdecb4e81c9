// Load clients for scripts/bench collab: S sessions x 2 @hocuspocus/provider clients, each appending a
// marker to the Y.Text "code" every `intervalMs`; the other client of the session times each marker's
// arrival (same process, same clock). Prints one JSON line: {"event":"ready"} when every client has
// synced, then {"event":"done", relayed, p50, p99, ...} after `durationMs` of measured load.
// Usage: node collab_load.mjs '{"url":"ws://127.0.0.1:8081/collab/ws","sessions":[{"name":"s1","tokens":["a","b"]}],
//                              "intervalMs":200,"warmupMs":3000,"durationMs":20000}'
import { readFileSync } from 'node:fs';

import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { WebSocket } from 'ws';
import * as Y from 'yjs';

// The spec is JSON on the command line, or `@path` of a file holding it (thousands of tokens do not fit in argv).
const argument = process.argv[2];
const spec = JSON.parse(argument.startsWith('@') ? readFileSync(argument.slice(1), 'utf8') : argument);
const emit = (event) => process.stdout.write(JSON.stringify(event) + '\n');
const sentAt = new Map();
const latencies = [];
let measuring = false;
let errors = 0;
let counter = 0;

function client(session, token, label) {
  const doc = new Y.Doc();
  const socket = new HocuspocusProviderWebsocket({ url: spec.url, WebSocketPolyfill: WebSocket });
  const provider = new HocuspocusProvider({ websocketProvider: socket, name: session, document: doc, token });
  provider.attach(); // a provider on a websocket of its own making must be attached to it
  const text = doc.getText('code');
  text.observe((event) => {
    if (event.transaction.local) return;
    const now = performance.now();
    for (const part of event.delta) {
      if (typeof part.insert !== 'string') continue;
      for (const match of part.insert.matchAll(/\[(\d+)\]/g)) {
        const sent = sentAt.get(match[1]);
        if (sent !== undefined) {
          if (measuring) latencies.push(now - sent);
          sentAt.delete(match[1]);
        }
      }
    }
  });
  provider.on('authenticationFailed', () => { errors += 1; });
  const synced = new Promise((resolve) => provider.on('synced', resolve));
  return { provider, socket, text, synced, label };
}

const clients = [];
for (const session of spec.sessions) {
  clients.push(client(session.name, session.tokens[0], 'a'));
  clients.push(client(session.name, session.tokens[1], 'b'));
}
await Promise.all(clients.map((c) => c.synced));
emit({ event: 'ready', clients: clients.length });

const timers = clients.map((c, index) =>
  setTimeout(() => {
    c.timer = setInterval(() => {
      const id = String(++counter);
      sentAt.set(id, performance.now());
      c.text.insert(c.text.length, `[${id}]`);
    }, spec.intervalMs);
  }, (index * 37) % spec.intervalMs),
);
await new Promise((resolve) => setTimeout(resolve, spec.warmupMs));
measuring = true;
emit({ event: 'measuring' });
await new Promise((resolve) => setTimeout(resolve, spec.durationMs));
measuring = false;
for (const c of clients) clearInterval(c.timer);
timers.forEach(clearTimeout);
latencies.sort((a, b) => a - b);
const pick = (q) => latencies[Math.max(0, Math.ceil(latencies.length * q) - 1)] ?? null;
emit({ event: 'done', relayed: latencies.length, p50: pick(0.5), p99: pick(0.99), errors, lost: sentAt.size });
for (const c of clients) {
  c.provider.destroy();
  c.socket.destroy();
}
process.exit(0);
