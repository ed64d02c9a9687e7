import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PROJECT_ROOT } from "@hookwire/config";

/** Where the API is and the key to use: HOOKWIRE_URL and HOOKWIRE_API_KEY, else what npm start kept. */
export interface ApiTarget {
  baseUrl: string;
  apiKey: string | undefined;
}

export async function apiTarget(env: NodeJS.ProcessEnv = process.env): Promise<ApiTarget> {
  const baseUrl = (env.HOOKWIRE_URL ?? `http://localhost:${env.HOOKWIRE_PORT ?? 8080}`).replace(/\/+$/, "");
  let apiKey = env.HOOKWIRE_API_KEY;
  if (!apiKey) {
    apiKey = await readFile(join(PROJECT_ROOT, ".data", "api-key"), "utf8").then(
      (text) => text.trim() || undefined,
      () => undefined,
    );
  }
  return { baseUrl, apiKey };
}

export class ApiCallError extends Error {
  override readonly name = "ApiCallError";
}

/** One call to the hookwire API; an error answer becomes an ApiCallError with its message and problems. */
export async function callApi(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${target.baseUrl}${path}`, {
      method,
      headers: {
        ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new ApiCallError(
      `cannot reach ${target.baseUrl} (${(error as Error).message}); is hookwire running? (npm start, or set HOOKWIRE_URL)`,
    );
  }
  const text = await response.text();
  const parsed = text === "" ? undefined : (JSON.parse(text) as unknown);
  if (!response.ok) {
    const error = (
      parsed as { error?: { message?: string; problems?: { pointer: string; message: string }[] } }
    )?.error;
    const problems = (error?.problems ?? []).map((p) => `\n  ${p.pointer || "/"}: ${p.message}`).join("");
    throw new ApiCallError(
      `${method} ${path}: ${response.status} ${error?.message ?? response.statusText}${problems}`,
    );
  }
  return parsed;
}
