// The baseline for scripts/bench collab: Hocuspocus 3.4.4, in-memory documents, no extensions.
// Usage: node hocuspocus_server.mjs <port>
import { Server } from '@hocuspocus/server';

const port = Number(process.argv[2]);
const server = new Server({ port, address: '127.0.0.1', quiet: true });
await server.listen();
process.stdout.write(JSON.stringify({ event: 'listening', port }) + '\n');
process.on('SIGTERM', async () => {
  await server.destroy();
  process.exit(0);
});
