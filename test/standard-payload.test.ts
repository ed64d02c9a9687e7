import { createHmac } from "node:crypto";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { corpusDir, expectCorpus } from "./support/corpus";
import { entryFixture } from "./support/fixtures";
import { testScope } from "./support/scope";

// useStandardWebhookPayload: LaunchDarkly's webhooks send the audit log entry as its REST API
// shows it, and receivers written for them (kosli in the framework's corpus) read those fields.
// So the body is the entry as it was posted, not the template context it was read into.

const scope = testScope();

describe("the standard webhook payload", () => {
  test("the framework's corpus is there to deliver kosli (required in CI)", (context) => {
    expectCorpus(context, "the standard payload end to end");
  });

  test.runIf(corpusDir !== undefined)(
    "a REST entry posted to a kosli hook arrives byte for byte as posted, signed over those bytes",
    async () => {
      const rx = await scope.receiver();
      const sys = await scope.system({
        label: "standard",
        env: { HOOKWIRE_INTEGRATIONS_DIR: join(corpusDir ?? "", "integrations") },
      });
      const secret = "kosli-signing-secret";
      const created = await sys.api("POST", "/v1/hooks", {
        integration: "kosli",
        name: "kosli",
        formVariables: { webhookUrl: `${rx.url}/kosli`, secret },
      });
      expect(created.status, JSON.stringify(created.json)).toBe(201);

      // As LaunchDarkly's API shows it: a Markdown title string, null tags, no timestamp object.
      const entry = { ...entryFixture("rest-flag-toggle"), tags: null };
      const text = JSON.stringify(entry);
      const posted = await fetch(`${sys.baseUrl}/v1/entries`, {
        method: "POST",
        headers: { authorization: `Bearer ${sys.apiKey}`, "content-type": "application/json" },
        body: text,
      });
      expect(posted.status).toBe(202);

      await rx.waitFor((requests) => requests.length === 1);
      const [request] = rx.requests;
      expect(request?.url).toBe("/kosli");
      expect(request?.body).toBe(text);
      expect(request?.headers["x-ld-signature"]).toBe(
        createHmac("sha256", secret).update(text).digest("hex"),
      );
    },
  );

  test.runIf(corpusDir !== undefined)(
    "in a batch, each entry goes as it was posted, the template context's shape included",
    async () => {
      const rx = await scope.receiver();
      const sys = await scope.system({
        label: "standard-batch",
        env: { HOOKWIRE_INTEGRATIONS_DIR: join(corpusDir ?? "", "integrations") },
      });
      const created = await sys.api("POST", "/v1/hooks", {
        integration: "kosli",
        name: "kosli",
        formVariables: { webhookUrl: rx.url, secret: "s" },
      });
      expect(created.status).toBe(201);
      const batch = [entryFixture("rest-flag-toggle"), entryFixture("flag-toggle", { _id: "std-context-1" })];
      expect((await sys.api("POST", "/v1/entries", batch)).status).toBe(202);
      await rx.waitFor((requests) => requests.length === 2);
      const bodies = rx.requests.map((r) => r.body).sort();
      expect(bodies).toEqual(batch.map((e) => JSON.stringify(e)).sort());
    },
  );
});
