// Seed 001's browser client, as its test.html uses it: the old `stompjs` 2.x over sockjs-client 1.x,
// `Stomp.over(new SockJS(url))`, `connect({}, ...)` with no credentials, and one subscription.
// Prints JSON lines, as stomp_client.mjs does.
//
// Usage:  node tests/js/legacy_stomp_client.mjs '{"url": "http://127.0.0.1:8081/ws", "subscribe": "/topic/room/1",
//                                                "messages": 2, "timeoutMs": 30000}'
// Events: {"event":"connected"}, {"event":"message","destination":...,"body":<parsed JSON>},
//         {"event":"error","message":...}, {"event":"timeout"}; exits 0 after `messages` messages.

import { createRequire } from 'node:module';
import SockJS from 'sockjs-client';

const require = createRequire(import.meta.url);
const { Stomp } = require('stompjs/lib/stomp.js');
// What stomp.js sets itself when it loads in a browser (its Node entry point wants a TCP socket instead).
Stomp.setInterval = (interval, callback) => setInterval(callback, interval);
Stomp.clearInterval = (id) => clearInterval(id);

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

const spec = JSON.parse(process.argv[2] ?? '{}');
const timer = setTimeout(() => { emit({ event: 'timeout' }); process.exit(3); }, spec.timeoutMs ?? 30000);
const client = Stomp.over(new SockJS(spec.url));
client.debug = null;
let received = 0;
client.connect({}, () => {
  emit({ event: 'connected' });
  client.subscribe(spec.subscribe, (message) => {
    let body = message.body;
    try { body = JSON.parse(body); } catch { /* not JSON: kept as text */ }
    emit({ event: 'message', destination: message.headers.destination, body });
    received += 1;
    if (received >= (spec.messages ?? 1)) {
      clearTimeout(timer);
      client.disconnect(() => process.exit(0));
    }
  });
}, (error) => {
  emit({ event: 'error', message: String(error?.headers?.message ?? error) });
  process.exit(1);
});
