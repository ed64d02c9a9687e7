import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runPolicy } from "./policy";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], input = ""): Promise<Run> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString("utf8");
  });
  stdin.end(input);
  const code = await runPolicy(argv, { stdin, stdout, stderr });
  return { code, stdout: out, stderr: err };
}

let dir: string;
let policyFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hookwire-policy-cli-"));
  policyFile = join(dir, "policy.json");
  await writeFile(
    policyFile,
    JSON.stringify([
      { effect: "allow", resources: ["proj/*:env/production:flag/*"], actions: ["*"] },
      { effect: "deny", resources: ["proj/*:env/production:flag/*;internal"], actions: ["*"] },
    ]),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

describe("hookwire policy eval", () => {
  test("writes one decision per input line, in order, with the deciding statement", async () => {
    const input = [
      { resource: "proj/default:env/production:flag/demo-flag", action: "updateOn" },
      { resource: "proj/default:env/test:flag/demo-flag", action: "updateOn" },
      { resource: "proj/default:env/production:flag/secret;internal", action: "updateOn" },
    ]
      .map((access) => JSON.stringify(access))
      .join("\n");
    const { code, stdout, stderr } = await run(["eval", "--policy", policyFile], input);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const lines = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      expect.objectContaining({ allowed: true, statementIndex: 0, effect: "allow" }),
      expect.objectContaining({ allowed: false, statementIndex: null, effect: null }),
      expect.objectContaining({ allowed: false, statementIndex: 1, effect: "deny" }),
    ]);
  });

  test("a bad line gives an error line and does not stop the stream", async () => {
    const input = [
      "not json",
      "",
      '{"resource": "proj/a:env/production:flag/b"}',
      '["proj/a", "x"]',
      '{"resource": "proj/a:env/production:flag/b", "action": "updateOn"}',
    ].join("\n");
    const { code, stdout } = await run(["eval", "--policy", policyFile], input);
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      { line: 1, error: expect.stringContaining("not JSON") },
      { line: 3, error: '"action" must be a string' },
      { line: 4, error: expect.stringContaining("expected an object") },
      expect.objectContaining({ allowed: true, statementIndex: 0 }),
    ]);
  });

  test("keeps the input order over thousands of lines", async () => {
    const count = 5000;
    const input = Array.from({ length: count }, (_, i) =>
      JSON.stringify({
        resource: `proj/p:env/${i % 2 === 0 ? "production" : "test"}:flag/f${i}`,
        action: "updateOn",
      }),
    ).join("\n");
    const { stdout } = await run(["eval", "--policy", policyFile], input);
    const allowed = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line).allowed);
    expect(allowed).toHaveLength(count);
    expect(allowed.every((value, i) => value === (i % 2 === 0))).toBe(true);
  });

  test("an invalid policy exits 2 with every problem on stderr", async () => {
    const bad = await file("bad.json", [{ effect: "permit", resources: ["proj/*:env"], actions: ["*"] }]);
    const { code, stdout, stderr } = await run(["eval", "--policy", bad], "");
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("invalid policy (2 problems)");
    expect(stderr).toContain("/0/effect");
    expect(stderr).toContain("/0/resources/0 (position 10)");
  });

  test("warnings go to stderr and do not stop evaluation", async () => {
    const warned = await file("warned.json", [{ resources: ["proj/*:env/*:falg/*"], actions: ["*"] }]);
    const { code, stderr } = await run(["eval", "--policy", warned], "");
    expect(code).toBe(0);
    expect(stderr).toContain('nearest known: "flag"');
  });

  test("an unreadable or non-JSON policy file exits 2", async () => {
    expect((await run(["eval", "--policy", join(dir, "missing.json")])).stderr).toContain("ENOENT");
    const notJson = await file("not.json", "[{");
    const result = await run(["eval", "--policy", notJson]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is not JSON");
  });
});

describe("hookwire policy explain", () => {
  test("shows each access of an entry and why it is allowed or not", async () => {
    const entry = await file("entry.json", {
      kind: "flag",
      key: "demo-flag",
      verbKind: "updateOn",
      project: { key: "default", tags: [], environment: { key: "production", tags: [] } },
    });
    const { code, stdout } = await run(["explain", "--policy", policyFile, "--entry", entry]);
    expect(code).toBe(0);
    expect(stdout).toContain("ALLOWED  updateOn on proj/default:env/production:flag/demo-flag");
    expect(stdout).toContain("allowed by statement 0");
    expect(stdout).toContain("result: the entry goes to the hook (1 of 1 accesses allowed)");
  });

  test("uses the entry's own accesses and says why each one is denied", async () => {
    const entry = await file("rest-entry.json", {
      _id: "abc",
      accesses: [
        { action: "updateOn", resource: "proj/default:env/test:flag/demo-flag" },
        { action: "updateOn", resource: "proj/default:env/production:flag/x;internal" },
      ],
    });
    const { stdout } = await run(["explain", "--policy", policyFile, "--entry", entry]);
    expect(stdout).toContain(`accesses: 2, from the entry's "accesses"`);
    expect(stdout).toContain('env key "test" does not match "production"');
    expect(stdout).toContain("denied by statement 1");
    expect(stdout).toContain("result: the entry does not go to the hook");
  });

  test("explain without --entry is a usage error", async () => {
    const { code, stderr } = await run(["explain", "--policy", policyFile]);
    expect(code).toBe(2);
    expect(stderr).toContain("--entry");
  });
});

describe("hookwire policy usage", () => {
  test("--help prints the usage and exits 0", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("hookwire policy eval --policy FILE");
  });

  test.each([[[]], [["nope", "--policy", "x"]], [["eval"]], [["eval", "--policy"]], [["eval", "--bogus"]]])(
    "%j is a usage error (exit 2)",
    async (argv) => {
      const { code, stderr } = await run(argv);
      expect(code).toBe(2);
      expect(stderr).toContain("Usage: hookwire policy");
    },
  );
});
