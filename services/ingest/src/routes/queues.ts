import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import { MAX_JOB_DELIVERIES } from "@hookwire/queue";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { ApiError } from "../errors";
import type { Services } from "../services";

export const QUEUE_VIEW_PATH = "/admin/queues";

/**
 * The queue view (bull-board) at /admin/queues, for admin keys only.
 *
 * A browser cannot put a bearer token on the page's own requests for scripts, styles and API
 * calls, so the view asks for HTTP Basic credentials: any user name, the admin API key as the
 * password. The browser then sends them with every request under /admin/queues, assets included,
 * and forgets them when it closes; nothing is kept in a cookie that other pages could ride on.
 * `Authorization: Bearer <key>` works too, for scripts.
 */
export function queueViewRoutes(services: Services, options: { writable: boolean }): FastifyPluginAsync {
  return async (app) => {
    const board = new FastifyAdapter();
    board.setBasePath(QUEUE_VIEW_PATH);
    createBullBoard({
      // One queue per partition; bull-board tells queues apart by name, so each of several gets
      // its partition's number in front.
      queues: services.lanes.map(
        ({ queue, partition }) =>
          new BullMQAdapter(queue, {
            readOnlyMode: !options.writable,
            allowRetries: options.writable,
            description: `Each job carries up to ${MAX_JOB_DELIVERIES} deliveries.`,
            ...(services.lanes.length > 1
              ? { prefix: `p${partition.index}-`, displayName: `deliveries, partition ${partition.index}` }
              : {}),
          }),
      ),
      serverAdapter: board,
      options: { uiConfig: { boardTitle: "hookwire queues" } },
    });
    app.addHook("onRequest", async (request, reply) => {
      const token = presentedToken(request);
      try {
        if (token === undefined)
          throw new ApiError("API_ERR_UNAUTHORIZED", "the queue view needs the admin API key");
        // ApiKeys reads only the Authorization header: hand it the token as a bearer one.
        services.apiKeys.authenticate(
          { headers: { authorization: `Bearer ${token}` }, ip: request.ip },
          "admin",
        );
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.statusCode === 401) {
          reply.header("www-authenticate", 'Basic realm="hookwire queues", charset="UTF-8"');
        }
        if (error.retryAfterSeconds !== undefined)
          reply.header("retry-after", String(error.retryAfterSeconds));
        return reply.status(error.statusCode).send({ error: { code: error.code, message: error.message } });
      }
    });
    // bull-board's page asks Google Fonts for its typeface: dropped, so an operator's browser
    // talks to this server only (and the page works offline); the system font stands in.
    app.addHook("onSend", async (_request, reply, payload) => {
      const type = String(reply.getHeader("content-type") ?? "");
      if (typeof payload !== "string" || !type.startsWith("text/html")) return payload;
      return payload.replace(/<link [^>]*href="https:\/\/fonts\.googleapis\.com[^>]*>\s*/g, "");
    });
    await app.register(board.registerPlugin(), { prefix: QUEUE_VIEW_PATH });
  };
}

/** The key from `Basic base64(user:key)` or `Bearer key`. */
function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== "string") return undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const password = colon === -1 ? "" : decoded.slice(colon + 1);
  return password === "" ? undefined : password;
}
