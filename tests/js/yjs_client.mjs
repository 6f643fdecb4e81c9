// Real Yjs clients, @hocuspocus/provider or y-websocket over the `ws` package, driven by a test:
// it prints what happens as JSON lines and takes edit commands on stdin.
//
// Usage:  node tests/js/yjs_client.mjs '<spec as JSON>'
//
// Spec fields (only `url` is required):
//   url         hocuspocus: "ws://127.0.0.1:8081/collab/ws"; y-websocket: "ws://127.0.0.1:8081/collab/yjs"
//               (the provider appends "/<document>" and "?token=...")
//   provider    "hocuspocus" (default) or "y-websocket"
//   documents   documents to open, default ["sess-1"]; each a name or {name, label, token, sessionAwareness}.
//               Hocuspocus: one provider per entry, all on one shared HocuspocusProviderWebsocket;
//               y-websocket: one WebsocketProvider per entry, each with its own socket.
//               `label` (default: the name) names the document in commands and events.
//   token       the JWT: the Hocuspocus provider's `token`, y-websocket's `params: {token}` (per document: `token`)
//   cookie      a Cookie header for the upgrade requests, e.g. "jwt_access_token=<jwt>"
//   origin      an Origin header for the upgrade requests, as a browser page of that origin sends
//   awareness   the local awareness state to start with (default: the provider's `{}`)
//   messageReconnectTimeout   hocuspocus: the socket's silence watchdog in ms (default 30000)
//   timeoutMs   print {"event":"timeout"} and exit 3 after this long (default 30000)
//
// Commands on stdin, one JSON object per line (`doc` is a label, default: the first document):
//   {"op":"insert","doc":"sess-1","index":0,"text":"abc"}   index clamped to the text's length
//   {"op":"delete","doc":"sess-1","index":0,"length":2}     range clamped to the text
//   {"op":"awareness","doc":"sess-1","state":{...}}          set the local awareness state (null: none)
//   {"op":"print","doc":"sess-1"}                           prints a "state" event
//   {"op":"disconnect"}   destroy every provider and exit 0 (the same happens when stdin closes)
//
// Events on stdout, one JSON object per line, each with "doc" (the label):
//   {"event":"authenticated","scope":...}            hocuspocus
//   {"event":"authenticationFailed","reason":...}    hocuspocus; y-websocket: its auth frame (permission denied)
//   {"event":"synced"}                               the first Sync step 2 arrived
//   {"event":"text","text":...}                      the Y.Text "code" after every change, local or remote
//   {"event":"awareness","states":[{"clientId":...,"state":...}]}   the other clients' states, after a change
//   {"event":"state","text":...,"synced":...,"unsynced":...,"clientId":...}   answers "print";
//                                                    `unsynced` is the provider's unsynced-changes count (hocuspocus)
//   {"event":"close","code":...,"reason":...}        hocuspocus: the socket closed or the server sent CLOSE
//                                                    for this document (code 1000); y-websocket: the socket closed
//   {"event":"closed","code":...,"reason":...}       y-websocket: the server's close code ends its retries
//   {"event":"timeout"}
// Exit codes: 0 done, 2 bad usage, 3 timeout.

import * as Y from 'yjs';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { WebsocketProvider, messageAuth } from 'y-websocket';
import { readAuthMessage } from 'y-protocols/auth';
import { WebSocket } from 'ws';
import { createInterface } from 'node:readline';

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

let spec;
try {
  spec = JSON.parse(process.argv[2] ?? '');
  if (typeof spec.url !== 'string') throw new Error('spec.url is required');
  if (!['hocuspocus', 'y-websocket', undefined].includes(spec.provider)) throw new Error('unknown provider');
} catch (error) {
  process.stderr.write(`usage: node yjs_client.mjs '<spec JSON>' (${error.message})\n`);
  process.exit(2);
}

// The WebSocket both providers construct: the `ws` package, with the spec's cookie on the upgrade.
class NodeWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols ?? [], {
      ...(spec.cookie ? { headers: { Cookie: spec.cookie } } : {}),
      ...(spec.origin ? { origin: spec.origin } : {}),
    });
  }
}
// y-protocols and lib0 look for a global WebSocket in places (Node 20 has none).
globalThis.WebSocket ??= NodeWebSocket;

const entries = (spec.documents ?? ['sess-1']).map((entry) =>
  typeof entry === 'string' ? { name: entry } : entry,
);
const documents = new Map(); // label -> {doc, text, awareness, provider}

function otherStates(awareness) {
  return Array.from(awareness.getStates().entries())
    .filter(([clientId]) => clientId !== awareness.clientID)
    .map(([clientId, state]) => ({ clientId, state }));
}

function watch(label, doc, awareness) {
  const text = doc.getText('code');
  text.observe(() => emit({ event: 'text', doc: label, text: text.toString() }));
  awareness.on('change', () => emit({ event: 'awareness', doc: label, states: otherStates(awareness) }));
  if (spec.awareness !== undefined) awareness.setLocalState(spec.awareness);
  return text;
}

let socket = null;
if ((spec.provider ?? 'hocuspocus') === 'hocuspocus') {
  socket = new HocuspocusProviderWebsocket({
    url: spec.url,
    WebSocketPolyfill: NodeWebSocket,
    ...(spec.messageReconnectTimeout ? { messageReconnectTimeout: spec.messageReconnectTimeout } : {}),
  });
  for (const entry of entries) {
    const label = entry.label ?? entry.name;
    const doc = new Y.Doc();
    const provider = new HocuspocusProvider({
      websocketProvider: socket,
      name: entry.name,
      document: doc,
      token: entry.token ?? spec.token ?? null,
      sessionAwareness: entry.sessionAwareness ?? false,
      onAuthenticated: ({ scope }) => emit({ event: 'authenticated', doc: label, scope }),
      onAuthenticationFailed: ({ reason }) => emit({ event: 'authenticationFailed', doc: label, reason }),
      onSynced: () => emit({ event: 'synced', doc: label }),
      onClose: ({ event }) => emit({ event: 'close', doc: label, code: event?.code ?? null, reason: event?.reason ?? '' }),
    });
    const text = watch(label, doc, provider.awareness);
    provider.attach();
    documents.set(label, { doc, text, awareness: provider.awareness, provider });
  }
} else {
  for (const entry of entries) {
    const label = entry.label ?? entry.name;
    const doc = new Y.Doc();
    const token = entry.token ?? spec.token;
    const provider = new WebsocketProvider(spec.url, entry.name, doc, {
      WebSocketPolyfill: NodeWebSocket,
      params: token ? { token } : {},
      disableBc: true,
      connect: false,
    });
    // y-websocket only logs a permission denial; report it through y-protocols' own reader.
    provider.messageHandlers[messageAuth] = (_encoder, decoder, p) =>
      readAuthMessage(decoder, p.doc, (_doc, reason) => emit({ event: 'authenticationFailed', doc: label, reason }));
    provider.on('sync', (synced) => synced && emit({ event: 'synced', doc: label }));
    provider.on('connection-close', (event) =>
      emit({ event: 'close', doc: label, code: event?.code ?? null, reason: event?.reason ?? '' }),
    );
    provider.on('closed', ({ code, reason }) => emit({ event: 'closed', doc: label, code, reason }));
    const text = watch(label, doc, provider.awareness);
    documents.set(label, { doc, text, awareness: provider.awareness, provider });
    provider.connect();
  }
}

function target(command) {
  const label = command.doc ?? entries[0].label ?? entries[0].name;
  const entry = documents.get(label);
  if (!entry) throw new Error(`unknown document ${label}`);
  return [label, entry];
}

let finishing = false;
function finish(code) {
  if (finishing) return;
  finishing = true;
  clearTimeout(timer);
  for (const { provider } of documents.values()) provider.destroy();
  socket?.destroy();
  // Let the close handshakes and the providers' last frames (CLOSE, awareness null) go out.
  setTimeout(() => process.exit(code), 200);
}

const timer = setTimeout(() => {
  emit({ event: 'timeout' });
  finish(3);
}, spec.timeoutMs ?? 30000);

createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (!line.trim()) return;
    const command = JSON.parse(line);
    if (command.op === 'disconnect') {
      finish(0);
      return;
    }
    const [label, { doc, text, awareness, provider }] = target(command);
    if (command.op === 'insert') {
      text.insert(Math.min(command.index, text.length), command.text);
    } else if (command.op === 'delete') {
      const index = Math.min(command.index, text.length);
      text.delete(index, Math.min(command.length, text.length - index));
    } else if (command.op === 'awareness') {
      awareness.setLocalState(command.state);
    } else if (command.op === 'print') {
      emit({
        event: 'state',
        doc: label,
        text: text.toString(),
        synced: provider.synced,
        unsynced: provider.unsyncedChanges ?? null,
        clientId: doc.clientID,
      });
    } else {
      process.stderr.write(`unknown command ${line}\n`);
    }
  })
  .on('close', () => finish(0));
