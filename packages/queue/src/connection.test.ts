import { ReplyError } from "ioredis";
import { describe, expect, test } from "vitest";
import { transientRedisReply } from "./connection";

describe("transientRedisReply", () => {
  test("a failover's, a load's or a long script's reply passes by itself; a mistake does not", () => {
    expect(transientRedisReply(new ReplyError("READONLY You can't write against a read only replica."))).toBe(
      true,
    );
    expect(transientRedisReply(new ReplyError("LOADING Redis is loading the dataset in memory"))).toBe(true);
    expect(transientRedisReply(new ReplyError("BUSY Redis is busy running a script."))).toBe(true);
    expect(transientRedisReply(new ReplyError("ERR wrong number of arguments for 'set' command"))).toBe(
      false,
    );
    expect(
      transientRedisReply(new ReplyError("WRONGTYPE Operation against a key holding the wrong kind")),
    ).toBe(false);
  });

  test("a MULTI aborted for its queued commands' refusals is judged by those refusals", () => {
    const aborted = (cause: string) =>
      Object.assign(new ReplyError("EXECABORT Transaction discarded because of previous errors."), {
        previousErrors: [new ReplyError(cause)],
      });
    expect(transientRedisReply(aborted("READONLY You can't write against a read only replica."))).toBe(true);
    expect(transientRedisReply(aborted("ERR unknown command 'NOPE'"))).toBe(false);
  });

  test("anything that is not a reply from Redis is left to the caller", () => {
    expect(transientRedisReply(new Error("Connection is closed."))).toBeUndefined();
    expect(transientRedisReply(undefined)).toBeUndefined();
  });
});
