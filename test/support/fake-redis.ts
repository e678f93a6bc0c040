// A stand-in for a Redis server that refuses every command and quotes it back in its error reply
// (`-WRONGPASS ... AUTH user p@ss`): what a hostile or chatty server may do with a password. It
// speaks just enough RESP to answer each command of a pipelined chunk once, on 127.0.0.1.
import { createServer, type Server, type Socket } from 'node:net';

export interface EchoRedis {
  port: number;
  close(): Promise<void>;
}

/** The commands complete in `buffer` (arrays of bulk strings), and how many bytes they took. */
function commands(buffer: Buffer): { args: string[][]; used: number } {
  const args: string[][] = [];
  let at = 0;
  const line = (): string | undefined => {
    const end = buffer.indexOf('\r\n', at);
    if (end < 0) return undefined;
    const text = buffer.subarray(at, end).toString('latin1');
    at = end + 2;
    return text;
  };
  for (;;) {
    const start = at;
    const head = line();
    if (head === undefined || !head.startsWith('*')) return { args, used: head === undefined ? start : at };
    const command: string[] = [];
    for (let i = 0; i < Number(head.slice(1)); i++) {
      const size = Number(line()?.slice(1));
      if (!Number.isFinite(size) || at + size + 2 > buffer.length) return { args, used: start };
      command.push(buffer.subarray(at, at + size).toString('utf8'));
      at += size + 2;
    }
    args.push(command);
  }
}

export async function startEchoRedis(): Promise<EchoRedis> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const { args, used } = commands(pending);
      pending = pending.subarray(used);
      for (const command of args) socket.write(`-WRONGPASS invalid username-password pair: ${command.join(' ').replace(/[\r\n]/g, ' ')}\r\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the echo Redis has no port');
  return {
    port: address.port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
