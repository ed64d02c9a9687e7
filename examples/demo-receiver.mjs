#!/usr/bin/env node
// A webhook receiver for trying hookwire out: prints every request it gets and checks the
// X-LD-Signature header when DEMO_SECRET is set. Answers 200, or RECEIVER_STATUS if given.
//   PORT=9000 DEMO_SECRET=s3cret node examples/demo-receiver.mjs
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 9000);
const secret = process.env.DEMO_SECRET ?? "";
const status = Number(process.env.RECEIVER_STATUS ?? 200);

createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks);
    let verdict = "unsigned";
    const signature = request.headers["x-ld-signature"];
    if (secret !== "" && typeof signature === "string") {
      const expected = createHmac("sha256", secret).update(body).digest("hex");
      const ok =
        signature.length === expected.length &&
        timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
      verdict = ok ? "signature ok" : "SIGNATURE MISMATCH";
    }
    const delivery = request.headers["x-hookwire-delivery"] ?? "-";
    const attempt = request.headers["x-hookwire-attempt"] ?? "-";
    console.log(
      `${new Date().toISOString()} ${request.method} ${request.url} delivery=${delivery} attempt=${attempt} (${verdict})`,
    );
    console.log(body.toString("utf8"));
    response.writeHead(status, { "content-type": "application/json" }).end('{"received":true}');
  });
}).listen(port, () => console.log(`demo receiver listening on http://localhost:${port}`));
