import { Pool } from "undici";
import { BENCH_INTEGRATION } from "./workload";

/** What the harness asks of the ingest API: hooks in and out, entries posted. */
export class IngestClient {
  readonly #pool: Pool;
  readonly #authorization: string;

  constructor(baseUrl: string, apiKey: string, connections = 16) {
    this.#pool = new Pool(baseUrl, { connections, pipelining: 1, keepAliveTimeout: 30e3 });
    this.#authorization = `Bearer ${apiKey}`;
  }

  /** A generic-webhook hook posting to `url`, signed with `secret`; returns its id. */
  async createHook(
    name: string,
    url: string,
    secret: string,
    delivery?: Record<string, unknown>,
  ): Promise<string> {
    const { status, text } = await this.#call(
      "POST",
      "/v1/hooks",
      JSON.stringify({
        integration: BENCH_INTEGRATION,
        name,
        formVariables: { url, secret },
        ...(delivery !== undefined ? { delivery } : {}),
      }),
    );
    if (status !== 201) throw new Error(`creating hook ${name} answered ${status}: ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { id: string }).id;
  }

  async deleteHook(id: string): Promise<void> {
    const { status, text } = await this.#call("DELETE", `/v1/hooks/${id}`);
    if (status !== 204 && status !== 404)
      throw new Error(`deleting hook ${id} answered ${status}: ${text.slice(0, 300)}`);
  }

  /** POST /v1/entries; throws unless 202. */
  async postEntries(body: string): Promise<void> {
    const { status, text } = await this.#call("POST", "/v1/entries", body);
    if (status !== 202) throw new Error(`POST /v1/entries answered ${status}: ${text.slice(0, 300)}`);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  async #call(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
    const response = await this.#pool.request({
      method,
      path,
      headers: {
        authorization: this.#authorization,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body } : {}),
      headersTimeout: 60e3,
      bodyTimeout: 60e3,
    });
    return { status: response.statusCode, text: await response.body.text() };
  }
}

export interface PostingResult {
  /** Date.now() when the first request went out and when the last 202 came back. */
  startedAt: number;
  lastAcceptedAt: number;
  /** Each request's time from sending to its 202, in ms (open model only). */
  answerMs?: number[];
}

/**
 * Closed model: `concurrency` requests in flight, each posting the next body once the previous
 * answer is in, until every body was posted once.
 */
export async function postClosed(
  client: IngestClient,
  bodies: readonly string[],
  concurrency: number,
): Promise<PostingResult> {
  const startedAt = Date.now();
  let next = 0;
  let lastAcceptedAt = startedAt;
  let failed = false;
  const lane = async () => {
    while (next < bodies.length && !failed) {
      const body = bodies[next++]!;
      try {
        await client.postEntries(body);
      } catch (error) {
        failed = true;
        throw error;
      }
      lastAcceptedAt = Date.now();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, bodies.length) }, lane));
  return { startedAt, lastAcceptedAt };
}

/**
 * Open model: body k goes out at `startedAt + k × intervalMs` whether or not the earlier ones were
 * answered, so a slow answer shows as latency instead of lowering the load. More than
 * `maxOutstanding` unanswered requests means ingest cannot take the load: the run fails.
 */
export async function postOpen(
  client: IngestClient,
  bodies: readonly string[],
  intervalMs: number,
  maxOutstanding = 200,
): Promise<PostingResult> {
  const startedAt = Date.now();
  let lastAcceptedAt = startedAt;
  const answers: Promise<void>[] = [];
  const answerMs: number[] = [];
  let outstanding = 0;
  let failure: unknown;
  for (let k = 0; k < bodies.length && failure === undefined; k++) {
    const due = startedAt + k * intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (outstanding >= maxOutstanding) {
      failure = new Error(`ingest fell behind the offered load: ${outstanding} requests unanswered`);
      break;
    }
    outstanding++;
    const sentAt = performance.now();
    answers.push(
      client.postEntries(bodies[k]!).then(
        () => {
          outstanding--;
          lastAcceptedAt = Date.now();
          answerMs.push(performance.now() - sentAt);
        },
        (error: unknown) => {
          failure ??= error;
        },
      ),
    );
  }
  await Promise.all(answers);
  if (failure !== undefined) throw failure;
  return { startedAt, lastAcceptedAt, answerMs };
}
