// A real HTTP CONNECT proxy for tests, in a process of its own: `node connect-proxy.mjs PORT
// LOCAL_ADDRESS` listens on 127.0.0.1:PORT (0: any free port), opens each tunnel from
// LOCAL_ADDRESS (so a receiver sees the proxy's address, not the sender's), prints
// `listening <port>`, and `tunnel <host:port>` for each tunnel it opens.
import { createServer } from "node:http";
import { connect } from "node:net";

const [port = "0", localAddress = "127.0.0.1"] = process.argv.slice(2);
const server = createServer((_request, response) => response.writeHead(405).end());
server.on("connect", (request, client, head) => {
  const [host, targetPort] = String(request.url)
    .replace(/^\[|\](?=:)/g, "")
    .split(/:(?=\d+$)/);
  const upstream = connect({ host, port: Number(targetPort), localAddress }, () => {
    process.stdout.write(`tunnel ${request.url}\n`);
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
  client.on("error", () => upstream.destroy());
});
server.listen(Number(port), "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
