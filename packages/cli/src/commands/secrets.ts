import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "@hookwire/config";
import { connectRedis, describeRedis, keyspace, waitForReady } from "@hookwire/queue";
import { HookStore, SecretBox } from "@hookwire/store";
import type { Command } from "../io";

const HELP = `Usage: hookwire secrets rotate

Seals every hook's secrets (secret form variables, OAuth secrets and tokens) again under the
first key of HOOKWIRE_SECRET_KEY, in the Redis that REDIS_URL (or REDIS_SENTINELS, or
REDIS_CLUSTER_NODES) and HOOKWIRE_QUEUE_PREFIX name.

HOOKWIRE_SECRET_KEY takes several keys, comma separated: the first seals, every one opens. A new
key, without a moment where a service cannot read a secret:
  1. HOOKWIRE_SECRET_KEY=<new>,<old> for ingest and every worker, restarted one by one;
  2. hookwire secrets rotate, with the same HOOKWIRE_SECRET_KEY;
  3. HOOKWIRE_SECRET_KEY=<new>, restarted again: nothing is sealed under <old> any more.
`;

export const runSecrets: Command = async (argv, io) => {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { help: { type: "boolean" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length === 0) {
    io.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  if (positionals[0] !== "rotate" || positionals.length > 1) {
    io.stderr.write(`hookwire secrets: unknown subcommand '${positionals.join(" ")}'\n\n${HELP}`);
    return 2;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`hookwire: ${error.message}\n`);
    return 2;
  }
  if (config.secretKey === undefined) {
    io.stderr.write(
      "hookwire secrets rotate: HOOKWIRE_SECRET_KEY is not set: it names the keys to seal with\n",
    );
    return 2;
  }
  const box = new SecretBox(config.secretKey);
  const redis = connectRedis(config.redis, "api", "hookwire-secrets-rotate");
  try {
    await waitForReady(redis, 10_000);
    const store = new HookStore(redis, keyspace(config.queuePrefix), box);
    const done = await store.reseal();
    io.stdout.write(
      `hookwire: sealed ${done.secrets} secret${done.secrets === 1 ? "" : "s"} of ${done.hooks} hook${done.hooks === 1 ? "" : "s"} again under key ${box.sealingKeyId} (${describeRedis(config.redis)})\n`,
    );
    // A process still sealing with another key (not restarted yet) writes behind this pass.
    const behind = await store.reseal();
    if (behind.secrets > 0) {
      io.stderr.write(
        `hookwire: ${behind.secrets} more were sealed under another key meanwhile: a service still seals with it; restart it with this HOOKWIRE_SECRET_KEY first, then run this again\n`,
      );
      return 1;
    }
    return 0;
  } finally {
    redis.disconnect();
  }
};
