import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A real HTTP receiver on 127.0.0.1, port 0, for the sender's tests: records every request (with
 * its raw body) and every TCP connection, so tests can tell what reached it and whether sockets
 * were reused.
 */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Which TCP connection carried it: 1 for the first accepted, 2 for the next, … */
  connection: number;
}

export interface TestReceiver {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  readonly requests: ReceivedRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** TCP connections open now. */
  openConnections(): number;
  /** The most TCP connections that were open at once. */
  peakConnections(): number;
  close(): Promise<void>;
}

type Handler = (request: ReceivedRequest, res: ServerResponse, raw: IncomingMessage) => void;

export interface ReceiverOptions {
  /**
   * Node's server.keepAliveTimeout (default 5 s, sent as a Keep-Alive hint that undici follows).
   * 0 sends no hint and never closes an idle socket: the sender's own keep-alive timeout decides.
   */
  keepAliveTimeoutMs?: number;
}

export async function startReceiver(handler: Handler, options: ReceiverOptions = {}): Promise<TestReceiver> {
  const requests: ReceivedRequest[] = [];
  let connections = 0;
  let open = 0;
  let peak = 0;
  const connectionIds = new WeakMap<Socket, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const received: ReceivedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        connection: connectionIds.get(req.socket) ?? 0,
      };
      requests.push(received);
      handler(received, res, req);
    });
  });
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.on("connection", (socket: Socket) => {
    connections++;
    connectionIds.set(socket, connections);
    open++;
    peak = Math.max(peak, open);
    socket.on("close", () => {
      open--;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    openConnections: () => open,
    peakConnections: () => peak,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
