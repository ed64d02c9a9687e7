import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PROJECT_ROOT } from "@hookwire/config";
import type { FastifyPluginAsync } from "fastify";

/** The dashboard's files, served as they are: plain HTML, CSS and ES modules, no build step. */
const FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "chart.js": "text/javascript; charset=utf-8",
  "render.js": "text/javascript; charset=utf-8",
  "delivery-rows.js": "text/javascript; charset=utf-8",
  "hook-fields.js": "text/javascript; charset=utf-8",
  "markdown.js": "text/javascript; charset=utf-8",
  "api.js": "text/javascript; charset=utf-8",
  "hook-form.js": "text/javascript; charset=utf-8",
  "replay.js": "text/javascript; charset=utf-8",
  "delivery-panel.js": "text/javascript; charset=utf-8",
  "preview.js": "text/javascript; charset=utf-8",
  "trace.js": "text/javascript; charset=utf-8",
  "favicon.svg": "image/svg+xml",
};

/**
 * Scripts and styles come only from this origin; the page talks only to this API. The page is
 * public: its data calls carry the API key the visitor types in.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The dashboard's files, from the project's sources (found from the project root, not from this
 * module's own place: the service may run compiled, from services/ingest/dist).
 */
export const DASHBOARD_DIR = join(PROJECT_ROOT, "services", "ingest", "src", "dashboard");

/** `GET /` and `GET /dashboard/<file>`: the built-in dashboard. */
export function dashboardRoutes(): FastifyPluginAsync {
  return async (app) => {
    const bodies = new Map<string, Buffer>();
    for (const name of Object.keys(FILES)) bodies.set(name, await readFile(join(DASHBOARD_DIR, name)));

    const send = (name: string) => ({
      body: bodies.get(name)!,
      headers: {
        "content-type": FILES[name]!,
        // Always revalidated, so an upgrade shows at once; the files are small.
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "content-security-policy": CONTENT_SECURITY_POLICY,
      },
    });

    // What the page's key may do, so that it disables what it cannot (the buttons say why)
    // instead of letting the operator press them into a 403.
    app.get(
      "/v1/key",
      {
        config: { scope: "read" },
        schema: {
          tags: ["system"],
          summary: "The API key of this request: its label and scopes",
          security: [{ bearer: [] }],
          response: {
            200: {
              type: "object",
              properties: {
                label: {
                  type: "string",
                  description: "The key's name in logs and metrics, never the token.",
                },
                scopes: { type: "array", items: { type: "string", enum: ["ingest", "read", "admin"] } },
              },
              required: ["label", "scopes"],
            },
          },
        },
      },
      async (request) => ({
        label: request.apiKey?.label ?? "",
        scopes: [...(request.apiKey?.scopes ?? [])].sort(),
      }),
    );

    app.get("/", { schema: { hide: true } }, async (_request, reply) => {
      const file = send("index.html");
      return reply.headers(file.headers).send(file.body);
    });

    app.get<{ Params: { file: string } }>(
      "/dashboard/:file",
      { schema: { hide: true } },
      async (request, reply) => {
        if (!bodies.has(request.params.file)) {
          return reply.status(404).send({
            error: { code: "API_ERR_NOT_FOUND", message: `no dashboard file ${request.params.file}` },
          });
        }
        const file = send(request.params.file);
        return reply.headers(file.headers).send(file.body);
      },
    );
  };
}
