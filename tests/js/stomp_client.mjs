// A real @stomp/stompjs client, over sockjs-client or a raw WebSocket (the `ws` package),
// driven by a test: it prints what happens as JSON lines and takes commands on stdin.
//
// Usage:  node tests/js/stomp_client.mjs '<spec as JSON>'
//
// Spec fields (only `url` is required):
//   url               SockJS: "http://127.0.0.1:8081/ws?token=..."; raw: "ws://127.0.0.1:8081/ws/websocket"
//   transport         "sockjs" (default) or "raw"
//   sockjsTransports  sockjs-client's `transports` whitelist, e.g. ["xhr-streaming"]; default: all
//   token             sent as the CONNECT header `Authorization: Bearer <token>`
//   connectHeaders    more CONNECT headers, copied verbatim
//   subscribe         destinations to subscribe to once connected: "/topic/x" or {destination, id, headers}
//   messages          after this many MESSAGE frames in total: DISCONNECT, wait for its RECEIPT, exit 0
//   exitOnError       after a STOMP ERROR: print it, close, exit 1 (default true)
//   heartbeat         [outgoing, incoming] heart-beat ms (stompjs default [10000, 10000])
//   timeoutMs         print {"event":"timeout"} and exit 3 after this long (default 30000)
//   debug             print stompjs's debug lines to stderr
//
// Commands on stdin, one JSON object per line:
//   {"op":"subscribe","destination":"/topic/x","id":"optional"}   {"op":"unsubscribe","id":"sub-0"}
//   {"op":"disconnect"}   (the same happens when stdin closes)
//
// Events on stdout, one JSON object per line:
//   {"event":"connected","headers":{...}}      the CONNECTED frame
//   {"event":"subscribed","id":...,"destination":...}
//   {"event":"message","destination":...,"subscription":...,"body":<parsed JSON, else the text>,"headers":{...}}
//   {"event":"error","message":...,"headers":{...},"body":...}   a STOMP ERROR frame
//   {"event":"close","code":...,"reason":...}  the socket closed
//   {"event":"disconnected"}                   the RECEIPT of our DISCONNECT arrived
//   {"event":"timeout"}
// Exit codes: 0 done, 1 STOMP error, 2 bad usage, 3 timeout, 4 the server closed the socket first.

import { Client } from '@stomp/stompjs';
import SockJS from 'sockjs-client';
import { WebSocket } from 'ws';
import { createInterface } from 'node:readline';

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function parseBody(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

let spec;
try {
  spec = JSON.parse(process.argv[2] ?? '');
  if (typeof spec.url !== 'string') throw new Error('spec.url is required');
} catch (error) {
  process.stderr.write(`usage: node stomp_client.mjs '<spec JSON>' (${error.message})\n`);
  process.exit(2);
}

// Node programs use the `ws` package as their WebSocket; stompjs's brokerURL needs a global one.
globalThis.WebSocket = WebSocket;

const transport = spec.transport ?? 'sockjs';
const [heartbeatOutgoing, heartbeatIncoming] = spec.heartbeat ?? [10000, 10000];
const connectHeaders = { ...(spec.connectHeaders ?? {}) };
if (spec.token) connectHeaders.Authorization = `Bearer ${spec.token}`;

let received = 0;
let finishing = false;
const subscriptions = new Map();

const client = new Client({
  connectHeaders,
  heartbeatIncoming,
  heartbeatOutgoing,
  reconnectDelay: 0,
  debug: spec.debug ? (text) => process.stderr.write(`stomp: ${text}\n`) : () => {},
  onConnect: (frame) => {
    emit({ event: 'connected', headers: frame.headers });
    for (const entry of spec.subscribe ?? []) {
      subscribe(typeof entry === 'string' ? { destination: entry } : entry);
    }
  },
  onStompError: (frame) => {
    emit({ event: 'error', message: frame.headers.message, headers: frame.headers, body: frame.body });
    if (spec.exitOnError ?? true) finish(1);
  },
  onDisconnect: () => emit({ event: 'disconnected' }),
  onWebSocketClose: (event) => {
    emit({ event: 'close', code: event.code, reason: event.reason });
    if (!finishing) finish(4);
  },
});
if (transport === 'raw') {
  client.brokerURL = spec.url;
} else {
  const options = spec.sockjsTransports ? { transports: spec.sockjsTransports } : {};
  client.webSocketFactory = () => new SockJS(spec.url, null, options);
}

function subscribe({ destination, id, headers }) {
  const subscription = client.subscribe(
    destination,
    (message) => {
      emit({
        event: 'message',
        destination: message.headers.destination,
        subscription: message.headers.subscription,
        body: parseBody(message.body),
        headers: message.headers,
      });
      received += 1;
      if (spec.messages !== undefined && received >= spec.messages) finish(0);
    },
    { ...(headers ?? {}), ...(id ? { id } : {}) },
  );
  subscriptions.set(subscription.id, subscription);
  emit({ event: 'subscribed', id: subscription.id, destination });
}

async function finish(code) {
  if (finishing) return;
  finishing = true;
  clearTimeout(timer);
  try {
    await Promise.race([client.deactivate(), new Promise((resolve) => setTimeout(resolve, 5000))]);
  } finally {
    process.exit(code);
  }
}

const timer = setTimeout(() => {
  emit({ event: 'timeout' });
  finish(3);
}, spec.timeoutMs ?? 30000);

createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (!line.trim()) return;
    const command = JSON.parse(line);
    if (command.op === 'subscribe') subscribe(command);
    else if (command.op === 'unsubscribe') subscriptions.get(command.id)?.unsubscribe();
    else if (command.op === 'disconnect') finish(0);
    else process.stderr.write(`unknown command ${line}\n`);
  })
  .on('close', () => finish(0));

client.activate();
