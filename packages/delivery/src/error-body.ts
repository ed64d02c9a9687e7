import type { Readable } from "node:stream";

/** How much of a non-2xx body is kept with the attempt. */
export const errorBodyLimitBytes = 4096;

/**
 * `includeErrorResponseBody`, as ARCHITECTURE.md words it: an error body is kept only when the
 * integration's URL host is fixed (or an enum), or when private networks are blocked. Otherwise a
 * hook pointed at an internal service would turn hookwire into a reader of that service's answers.
 */
export function errorBodyAllowed(input: {
  urlHostIsFixed: boolean;
  privateNetworksBlocked: boolean;
}): boolean {
  return input.urlHostIsFixed || input.privateNetworksBlocked;
}

/**
 * Whether an attempt keeps the error body: the integration asks for it (`includeErrorResponseBody`)
 * and the rule above allows it. The one answer for the worker's attempts and "test this hook".
 */
export function keepsErrorBody(
  integration: { includeErrorResponseBody: boolean; urlHostIsFixed: boolean },
  privateNetworksBlocked: boolean,
): boolean {
  return (
    integration.includeErrorResponseBody &&
    errorBodyAllowed({ urlHostIsFixed: integration.urlHostIsFixed, privateNetworksBlocked })
  );
}

/**
 * Keeps the first `limitBytes` of a body, read as a stream; never holds more than that. The rest
 * is drained while it stays under `drainLimitBytes`, so the keep-alive socket goes back to the
 * pool; past it the body is destroyed (the socket with it) rather than read a hostile 1 GiB.
 * A body that breaks off midway yields what arrived: the status already tells the outcome.
 */
export function readErrorBody(body: Readable, limitBytes: number, drainLimitBytes: number): Promise<string> {
  // Events rather than `for await`: the async iterator destroys the stream when it returns, a tick
  // before 'end' is emitted, and undici then counts the body as aborted and drops the socket.
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let seen = 0;
    body.on("data", (chunk: Buffer) => {
      seen += chunk.length;
      if (kept < limitBytes) {
        const part = chunk.length <= limitBytes - kept ? chunk : chunk.subarray(0, limitBytes - kept);
        chunks.push(part);
        kept += part.length;
      }
      if (seen > drainLimitBytes) body.destroy();
    });
    // Timeout, reset or our own destroy: 'close' follows, with the prefix already read.
    body.on("error", noop);
    body.on("close", () =>
      resolve(utf8Prefix(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, kept))),
    );
  });
}

function noop(): void {}

/** Decodes, dropping a multi-byte character that the byte cut split in two. */
export function utf8Prefix(bytes: Buffer): string {
  let end = bytes.length;
  let start = end - 1;
  while (start >= 0 && end - start <= 3 && ((bytes[start] ?? 0) & 0xc0) === 0x80) start--;
  if (start >= 0) {
    const lead = bytes[start] ?? 0;
    const width = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (end - start < width) end = start;
  }
  return bytes.toString("utf8", 0, end);
}

/** Shorter values are not looked for: a one- or two-letter "secret" would blank out the body. */
const MIN_SECRET_LENGTH = 4;

/**
 * A kept error body with every secret the request carried blanked out, as it is, base64-encoded
 * (a Basic credential, a token in a JWT-like echo) and URL-encoded (a secret in a query string):
 * a receiver or a proxy that echoes the request (its headers, its URL) must not turn the body
 * into a copy of the hook's secrets in Redis and in every `read` answer.
 */
export function scrubSecrets(body: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    forms.add(Buffer.from(secret).toString("base64").replace(/=+$/, ""));
    forms.add(encodeURIComponent(secret));
  }
  let scrubbed = body;
  // Longest first: a secret that holds another is blanked whole.
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (form.length >= MIN_SECRET_LENGTH) scrubbed = scrubbed.split(form).join("********");
  }
  return scrubbed;
}
