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
 * The first `limitBytes` of a body, fed to it chunk by chunk as the body arrives; never holds more
 * than that. `add` answers false once `drainLimitBytes` have arrived: the rest is then not read
 * (the caller gives up the socket rather than read a hostile 1 GiB), while below it the body is
 * read to its end so that the keep-alive socket goes back to the pool. A body that breaks off
 * midway leaves what arrived: the status already tells the outcome.
 */
export class BodyPrefix {
  readonly #limitBytes: number;
  readonly #drainLimitBytes: number;
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #seen = 0;

  constructor(limitBytes: number, drainLimitBytes: number) {
    this.#limitBytes = limitBytes;
    this.#drainLimitBytes = drainLimitBytes;
  }

  add(chunk: Buffer): boolean {
    this.#seen += chunk.length;
    const room = this.#limitBytes - this.#kept;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.#chunks.push(part);
      this.#kept += part.length;
    }
    return this.#seen <= this.#drainLimitBytes;
  }

  /** What was kept, as text (a character the byte limit cut in two is dropped). */
  text(): string {
    const chunks = this.#chunks;
    return utf8Prefix(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.#kept));
  }
}

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
