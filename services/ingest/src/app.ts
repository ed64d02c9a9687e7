import { readFile } from "node:fs/promises";
import { join } from "node:path";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { HookwireConfig } from "@hookwire/config";
import { createSender, OAuthTokens, type Sender } from "@hookwire/delivery";
import type { Catalog } from "@hookwire/manifest";
import { editDistance, nearestName } from "@hookwire/policy";
import { DELIVERY_QUEUE, type DeliveryJobData, defineScripts, Outbox, Partitions } from "@hookwire/queue";
import {
  DeliveryLog,
  DeliveryLogs,
  DeliveryWriter,
  HookStore,
  LEASE_SCRIPTS,
  SecretBox,
} from "@hookwire/store";
import { Queue } from "bullmq";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from "fastify";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { ApiKeys } from "./auth";
import { ApiError } from "./errors";
import { HookReadiness } from "./hook-readiness";
import { Intake } from "./intake";
import { IngestMetrics } from "./metrics";
import { OperationalEvents } from "./operational-events";
import { PersistenceWatch } from "./persistence";
import { DASHBOARD_DIR, dashboardRoutes } from "./routes/dashboard";
import { deliveryRoutes } from "./routes/deliveries";
import { entryRoutes } from "./routes/entries";
import { hookRoutes } from "./routes/hooks";
import { integrationRoutes } from "./routes/integrations";
import { metricsRoutes } from "./routes/metrics";
import { oauthRoutes } from "./routes/oauth";
import { orderingRoutes } from "./routes/ordering";
import { queueViewRoutes } from "./routes/queues";
import { statsRoutes, statsSources } from "./routes/stats";
import { systemRoutes } from "./routes/system";
import { errorSchema } from "./schemas";
import type { IngestLane, Services } from "./services";
import { countHookStates, readQueue, readStuckLastHour, recordIntake } from "./stats";
import { validatorCompiler } from "./validation";

export const INGEST_VERSION = "0.1.0";

export interface AppOptions {
  config: Readonly<HookwireConfig>;
  /** A connection made with role "api": commands fail fast when Redis is away. */
  redis: Redis;
  catalog: Catalog;
  /** A pino logger, or false for none (tests pass their own to capture lines). */
  logger?: Logger | false;
  /** For tests: the sender of `POST /v1/hooks/:id/test`. */
  sender?: Sender;
  /** Lets /admin/queues retry and remove jobs; default config.ingest.queueViewWritable. */
  queueViewWritable?: boolean;
}

/** Builds the ingest API; `listen` is the caller's (tests use `inject`). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, redis, catalog } = options;
  if (config.secretKey === undefined) {
    throw new Error("HOOKWIRE_SECRET_KEY is not set: hooks' secrets cannot be stored without it");
  }
  const partitions = new Partitions(config.queuePrefix, config.queuePartitions);
  const keys = partitions.base.keys;
  // Every request leases its entry ids (and Idempotency-Key): sent by SHA, not as source.
  defineScripts(redis, LEASE_SCRIPTS);
  const hooks = new HookStore(redis, keys, new SecretBox(config.secretKey));
  const retention = {
    succeeded: config.worker.retentionSucceededMs,
    failed: config.worker.retentionFailedMs,
  };
  // HOOKWIRE_REDIS_WAIT_REPLICAS: commits WAIT for replicas on a connection of their own. WAIT
  // must run on the connection that wrote, and it blocks that connection until it answers: on
  // the shared one, every other request's reads and leases would queue behind it.
  const { waitReplicas, waitReplicasTimeoutMs } = config.ingest;
  const commits =
    waitReplicas > 0
      ? redis.duplicate({
          connectionName: "hookwire-ingest-commits",
          // A commit may wait for the WAIT in flight, then its own.
          commandTimeout: 2 * waitReplicasTimeoutMs + 2_000,
        })
      : undefined;
  if (commits !== undefined) defineScripts(commits, LEASE_SCRIPTS);
  commits?.on("error", (error) => {
    if (options.logger) options.logger.warn({ err: error.message }, "redis connection error (commits)");
  });
  const lanes: IngestLane[] = partitions.all.map((partition) => {
    const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection: redis, prefix: partition.prefix });
    // The queue keeps its own error listener so a Redis outage is a 503, not a crash.
    queue.on("error", () => undefined);
    const log = new DeliveryLog(redis, partition.keys, {
      retention,
      claims: keys,
      claimWindowMs: config.ingest.idempotencyWindowMs,
    });
    const writer = new DeliveryWriter(
      commits ?? redis,
      log,
      new Outbox(partition.keys, queue, config.worker.lockMs),
      // On a cluster, WAIT goes to the master of the partition's slot, the one its commit wrote to.
      commits === undefined
        ? {}
        : {
            replicas: {
              replicas: waitReplicas,
              timeoutMs: waitReplicasTimeoutMs,
              key: partition.keys.outbox,
            },
          },
    );
    return { partition, queue, log, writer };
  });
  const sender =
    options.sender ??
    createSender({
      userAgent: `hookwire/${INGEST_VERSION}`,
      allowPrivateNetworks: config.worker.allowPrivateNetworks,
      allowedNetworks: config.worker.allowedNetworks,
      egressProxy: config.worker.egressProxy,
    });
  const metrics = new IngestMetrics({
    readState: async () => {
      const sources = statsSources(services);
      const [queue, hooks, stuckLastHour] = await Promise.all([
        readQueue(sources.queues),
        countHookStates(sources),
        readStuckLastHour(sources),
      ]);
      return { queue, hooks, stuckLastHour };
    },
  });
  const intake = new Intake({
    redis,
    keys,
    hooks,
    writers: lanes.map((lane) => lane.writer),
    partitions,
    catalog,
    idempotencyWindowMs: config.ingest.idempotencyWindowMs,
    claimLeaseMs: config.ingest.claimLeaseMs,
    readiness: new HookReadiness(redis, partitions),
    observer: {
      accepted(results) {
        metrics.accepted(results);
        recordIntake(redis, keys, results).catch((error: unknown) => {
          if (options.logger)
            options.logger.warn({ err: error }, "could not count intake failures in the stats");
        });
      },
    },
  });
  const events = new OperationalEvents({
    redis,
    partitions,
    hooks,
    intake,
    logger: options.logger || undefined,
    windowMs: config.ingest.eventWindowMs,
  });
  events.start();
  const services: Services = {
    config,
    redis,
    keys,
    partitions,
    lanes,
    hooks,
    log: new DeliveryLogs(
      lanes.map((lane) => lane.log),
      partitions,
    ),
    catalog,
    sender,
    oauth: new OAuthTokens({
      fetch: (url, init) => sender.fetch(url, init),
      persist: (hookId, token) => hooks.keepOAuthToken(hookId, token),
    }),
    intake,
    events,
    apiKeys: new ApiKeys(config.ingest.apiKeys),
    persistence: new PersistenceWatch(redis, options.logger || undefined),
  };

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: config.ingest.bodyLimitBytes,
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    // One line per request would be most of the log at ingest rates; errors are logged instead.
    logController: new LogController({ disableRequestLogging: true }),
    // What the router refuses before any route runs (bad percent-encoding, a path segment over
    // the limit) answers in the envelope too, without echoing the path.
    frameworkErrors: (error, _request, routerReply) => {
      const reply = routerReply as unknown as FastifyReply;
      const status = error.statusCode ?? 400;
      reply.status(status).send({
        error: {
          code: frameworkCode(status),
          message:
            error.code === "FST_ERR_MAX_PARAM_LENGTH"
              ? "a path segment is longer than allowed"
              : "the URL is not valid (bad percent-encoding?)",
        },
      });
    },
  });

  app.setValidatorCompiler(validatorCompiler());
  // JSON only: a body of any other type is answered 415, not read as a string.
  app.removeContentTypeParser("text/plain");
  // Fastify's own JSON parser (prototype poisoning refused), whose refusal says where the JSON
  // breaks: its own message drops the position.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    parseJson(request, String(body), (error, value) => {
      if ((error as FastifyError | null)?.code !== "FST_ERR_CTP_INVALID_JSON_BODY") return done(error, value);
      let why = "it holds a __proto__ or constructor.prototype key, which is refused";
      try {
        JSON.parse(body as string);
      } catch (syntax) {
        why = (syntax as Error).message;
      }
      done(new ApiError("API_ERR_BAD_REQUEST", `the body is not valid JSON: ${why}`), undefined);
    });
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      if (error.statusCode >= 500 && error.retryAfterSeconds === undefined)
        request.log.error({ err: error.cause ?? error }, error.message);
      if (error.retryAfterSeconds !== undefined) reply.header("retry-after", String(error.retryAfterSeconds));
      return reply.status(error.statusCode).send({
        error: {
          code: error.code,
          message: error.message,
          ...(error.problems ? { problems: error.problems } : {}),
        },
      });
    }
    if (error.validation) {
      const problems = error.validation.map((v) => {
        // The field itself, for a missing one and for one the route does not know.
        if ("missingProperty" in v.params)
          return { pointer: `${v.instancePath}/${String(v.params.missingProperty)}`, message: "is required" };
        if ("additionalProperty" in v.params) {
          const name = String(v.params.additionalProperty);
          const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[
            error.validationContext ?? "body"
          ];
          return {
            pointer: `${v.instancePath}/${name}`,
            message: unknownField(name, schema, v.instancePath),
          };
        }
        return { pointer: v.instancePath, message: v.message ?? "is invalid" };
      });
      return reply
        .status(400)
        .send({ error: { code: "API_ERR_BAD_REQUEST", message: "the request is invalid", problems } });
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, "request failed");
    return reply.status(status).send({
      error: {
        // Fastify's own refusals (a body that is not JSON, too large, of another type) in the
        // envelope's codes; the message keeps what it says, a JSON error's position included.
        code: status >= 500 ? "API_ERR_INTERNAL" : frameworkCode(status),
        message: status >= 500 ? "internal error" : error.message,
      },
    });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?", 1)[0] ?? "";
    return reply.status(404).send({
      error: {
        code: "API_ERR_NOT_FOUND",
        message: `no route ${request.method} ${path.length > 120 ? `${path.slice(0, 120)}…` : path}; see /docs`,
      },
    });
  });

  app.addHook("onRequest", async (request) => {
    const scope = request.routeOptions.config.scope;
    if (scope !== undefined) request.apiKey = services.apiKeys.authenticate(request, scope);
  });
  metrics.observeRequests(app);

  await app.register(rateLimit, {
    global: true,
    max: config.ingest.rateLimitPerMinute,
    timeWindow: 60_000,
    // Per API key; unauthenticated routes (health, docs) share their caller's address.
    keyGenerator: (request) => request.apiKey?.label ?? request.ip,
    allowList: (request) => request.routeOptions.config.scope === undefined,
    errorResponseBuilder: (_request, context) =>
      new ApiError(
        "API_ERR_RATE_LIMITED",
        `rate limit of ${context.max} requests a minute reached; retry in ${context.after}`,
        {
          retryAfterSeconds: Math.ceil(context.ttl / 1000),
        },
      ),
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "hookwire",
        version: INGEST_VERSION,
        description:
          "Audit log entries in, webhooks out. Post entries to /v1/entries; configure hooks under /v1/hooks; follow deliveries under /v1/deliveries.",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", description: "An API key from HOOKWIRE_API_KEY(S)." },
        },
      },
    },
  });
  // The docs in hookwire's colours: its name in the title, the dashboard's mark as logo and icon.
  const mark = await readFile(join(DASHBOARD_DIR, "favicon.svg"));
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    logo: { type: "image/svg+xml", content: mark, href: "/", target: "_self" },
    theme: {
      title: "hookwire API",
      favicon: [{ filename: "favicon.svg", rel: "icon", sizes: "any", type: "image/svg+xml", content: mark }],
    },
  });

  app.addSchema({ $id: "Error", ...errorSchema });
  await app.register(systemRoutes(services));
  await app.register(entryRoutes(services));
  await app.register(hookRoutes(services));
  await app.register(orderingRoutes(services));
  await app.register(oauthRoutes(services));
  await app.register(deliveryRoutes(services));
  await app.register(integrationRoutes(services));
  await app.register(statsRoutes(services));
  await app.register(metricsRoutes(metrics));
  await app.register(dashboardRoutes());
  await app.register(
    queueViewRoutes(services, { writable: options.queueViewWritable ?? config.ingest.queueViewWritable }),
  );

  app.addHook("onClose", async () => {
    await events.stop();
    services.persistence.close();
    await Promise.all(lanes.map((lane) => lane.queue.close().catch(() => undefined)));
    if (options.sender === undefined) await sender.close();
    commits?.disconnect();
  });
  return app;
}

/** The envelope's code for a 4xx that Fastify itself answered. */
function frameworkCode(status: number): string {
  if (status === 401) return "API_ERR_UNAUTHORIZED";
  if (status === 403) return "API_ERR_FORBIDDEN";
  if (status === 404) return "API_ERR_NOT_FOUND";
  if (status === 413) return "API_ERR_TOO_LARGE";
  if (status === 414) return "API_ERR_URI_TOO_LONG";
  if (status === 415) return "API_ERR_UNSUPPORTED_MEDIA_TYPE";
  if (status === 429) return "API_ERR_RATE_LIMITED";
  return "API_ERR_BAD_REQUEST";
}

/**
 * "is not a known field here", with the known field nearest to `name` when one is close (a slip
 * of a letter or two), else the fields the schema at `instancePath` knows.
 */
function unknownField(name: string, schema: unknown, instancePath: string): string {
  let node = schema as { properties?: Record<string, unknown>; items?: unknown } | undefined;
  for (const segment of instancePath.split("/").slice(1)) {
    if (node?.properties !== undefined && segment in node.properties)
      node = node.properties[segment] as typeof node;
    else if (node?.items !== undefined && /^\d+$/.test(segment)) node = node.items as typeof node;
    else node = undefined;
  }
  const known = Object.keys(node?.properties ?? {});
  if (known.length === 0) return "is not a known field here";
  const nearest = nearestName(name, known);
  if (
    nearest !== null &&
    editDistance(name.toLowerCase(), nearest.toLowerCase()) <= Math.max(2, name.length / 3)
  )
    return `is not a known field here; did you mean "${nearest}"?`;
  return `is not a known field here (known: ${known.join(", ")})`;
}
