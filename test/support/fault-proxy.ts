// A TCP fault proxy for the fault suite: listens on 127.0.0.1:0 and forwards every connection to a
// target (Redis, here). The test switches its mode at run time:
//   pass       forward both ways
//   delay      forward both ways, each chunk held `delayMs` (order kept)
//   drop       a black hole: accept and read, forward nothing either way (connections stay open)
//   half-open  forward one direction only (`'up'` = client → target, `'down'` = target → client)
// and cuts: cut() destroys every open connection now; refuse(true) closes new ones at once.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = { kind: 'pass' } | { kind: 'delay'; delayMs: number } | { kind: 'drop' } | { kind: 'half-open'; forward: 'up' | 'down' };

export interface FaultProxy {
  readonly port: number;
  /** `redis://[:password@]127.0.0.1:<port>`: the target reached through the proxy. */
  url(password?: string): string;
  mode(mode: ProxyMode): void;
  /** Destroys every open connection (both sides). */
  cut(): void;
  /** While true, new connections are destroyed as soon as they are accepted. */
  refuse(on: boolean): void;
  /** Connections accepted so far, and open now. */
  readonly accepted: number;
  readonly open: number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  target: Socket;
}

export async function startFaultProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
  let current: ProxyMode = { kind: 'pass' };
  let refusing = false;
  let accepted = 0;
  const pairs = new Set<Pair>();

  // One ordered, optionally delayed, forwarding lane per direction of a pair.
  const lane = (from: Socket, to: Socket, direction: 'up' | 'down') => {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const mode = current;
      if (mode.kind === 'drop') return;
      if (mode.kind === 'half-open' && mode.forward !== direction) return;
      if (mode.kind === 'delay') {
        chain = chain.then(() => new Promise<void>((resolve) => setTimeout(resolve, mode.delayMs)));
        chain = chain.then(() => {
          if (!to.destroyed) to.write(chunk);
        });
        return;
      }
      chain = chain.then(() => {
        if (!to.destroyed) to.write(chunk);
      });
    });
  };

  const server: Server = createServer((client) => {
    accepted++;
    if (refusing) return void client.destroy();
    const target = createConnection({ port: targetPort, host: targetHost });
    const pair = { client, target };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      target.destroy();
    };
    client.on('error', end).on('close', end);
    target.on('error', end).on('close', end);
    lane(client, target, 'up');
    lane(target, client, 'down');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  const cut = () => {
    for (const { client, target } of [...pairs]) {
      client.destroy();
      target.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    url: (password) => `redis://${password !== undefined ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}`,
    mode(mode) {
      current = mode;
    },
    cut,
    refuse(on) {
      refusing = on;
    },
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
