import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP pass-through in front of a gateway that can be shut: `shut()` resets every connection through it and
 * refuses new ones until `open()`, like a client losing its network for a while. Point a client at `url`.
 */
export interface LinkGate {
  url: string;
  shut(): void;
  open(): void;
  close(): Promise<void>;
}

export async function startLinkGate(targetUrl: string): Promise<LinkGate> {
  const target = new URL(targetUrl);
  const pairs = new Set<[Socket, Socket]>();
  let shut = false;
  const server = createServer((client) => {
    if (shut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) {
      socket.on('close', end);
      socket.on('error', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const resetAll = () => {
    for (const [client, upstream] of [...pairs]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
  };
  return {
    url: `http://127.0.0.1:${port}`,
    shut: () => {
      shut = true;
      resetAll();
    },
    open: () => {
      shut = false;
    },
    close: async () => {
      resetAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
