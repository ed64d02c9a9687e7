/**
 * The project's own catalog (`integrations/` at the repository root), tested like the corpus:
 * it loads, and every template renders valid JSON against the project's sample entries and,
 * when the framework's corpus is there (HOOKWIRE_SHARED_DIR; required in CI), strictly against
 * every sample context of the framework.
 * Then what each receiver requires of the payload.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { corpusDir, expectCorpus } from "../../../test/support/corpus";
import { bodyReadsSecrets, renderBody } from "./body";
import { checkFormValues } from "./form-values";
import type { FormValues, Integration, TemplateKey } from "./integration";
import { type Catalog, catalogDirs, loadCatalog } from "./loader";
import { renderRequest, requestReadsSecrets } from "./request";

const root = join(import.meta.dirname, "..", "..", "..");

const own = readdirSync(join(import.meta.dirname, "sample-entries")).map(
  (file) =>
    [file, JSON.parse(readFileSync(join(import.meta.dirname, "sample-entries", file), "utf8"))] as const,
);

function corpusContexts(): (readonly [string, Record<string, unknown>])[] {
  if (corpusDir === undefined) return [];
  const base = join(corpusDir, "sample-context");
  return readdirSync(base).flatMap((kind) =>
    readdirSync(join(base, kind)).map(
      (file) => [`${kind}/${file}`, JSON.parse(readFileSync(join(base, kind, file), "utf8"))] as const,
    ),
  );
}

let catalog: Catalog;
beforeAll(async () => {
  catalog = await loadCatalog(catalogDirs(root, {}));
});

const integration = (key: string): Integration => {
  const found = catalog.get(key);
  if (found === undefined) throw new Error(`${key} is not in the catalog`);
  return found;
};

function settings(key: string, values: Record<string, unknown>): FormValues {
  const checked = checkFormValues(integration(key), values);
  expect(checked.errors).toEqual([]);
  return checked.values;
}

test("the framework's sample contexts are there to render against (required in CI)", (context) => {
  expectCorpus(context, "the catalog's strict render against the framework's sample contexts");
});

test("the project's own sample entries are there", () => {
  expect(own.length).toBeGreaterThan(0);
});

test("the catalog loads without problems or notices", () => {
  expect(catalog.problems).toEqual([]);
  expect(catalog.notices).toEqual([]);
  expect(catalog.list().map((i) => i.key)).toEqual(
    expect.arrayContaining(["discord", "generic-webhook", "slack"]),
  );
});

describe.each(["slack", "discord"])("%s", (key) => {
  const url =
    key === "slack"
      ? "https://hooks.slack.com/services/T1/B2/secret"
      : "https://discord.com/api/webhooks/1/secret";

  test("every template gives valid JSON for the project's sample entries", () => {
    for (const showDetails of [true, false]) {
      const values = settings(key, { webhookUrl: url, showDetails });
      for (const templateKey of Object.keys(integration(key).templates) as TemplateKey[]) {
        for (const [name, entry] of own) {
          const { body } = renderBody(integration(key), entry, values, { templateKey });
          expect(body, `${templateKey} with ${name}`).not.toBeNull();
          expect(() => JSON.parse(body ?? ""), `${templateKey} with ${name}`).not.toThrow();
        }
      }
    }
  });

  test.runIf(corpusDir !== undefined)(
    "every template renders strictly against every framework sample context",
    () => {
      const values = settings(key, { webhookUrl: url });
      for (const templateKey of Object.keys(integration(key).templates) as TemplateKey[]) {
        for (const [name, entry] of corpusContexts()) {
          const { body } = renderBody(integration(key), entry, values, { templateKey, strict: true });
          expect(() => JSON.parse(body ?? ""), `${templateKey} with ${name}`).not.toThrow();
        }
      }
    },
  );

  test("the webhook URL is a secret: it is the request's URL, never in the body", () => {
    const values = settings(key, { webhookUrl: url });
    expect(renderRequest(integration(key), values, own[0]?.[1] ?? {}).url).toBe(url);
    expect(requestReadsSecrets(integration(key))).toBe(true);
    for (const templateKey of Object.keys(integration(key).templates)) {
      expect(bodyReadsSecrets(integration(key), templateKey)).toBe(false);
    }
    expect(integration(key).urlHostIsFixed).toBe(false);
  });

  test("the webhook URL is required", () => {
    expect(checkFormValues(integration(key), {}).errors).toEqual([
      expect.objectContaining({ pointer: "/webhookUrl" }),
    ]);
  });
});

const hostile = () =>
  own.find(([name]) => name === "flag-with-hostile-text.json")?.[1] as Record<string, unknown>;
const render = (key: string, entry: object, values: Record<string, unknown> = {}) =>
  JSON.parse(
    renderBody(integration(key), entry, settings(key, { webhookUrl: "https://example.com/x", ...values }))
      .body ?? "",
  );

describe("the Slack message", () => {
  interface TextObject {
    type: string;
    text: string;
  }
  interface Block {
    type: string;
    text?: TextObject;
    elements?: TextObject[];
  }

  test("is Block Kit: sections and a context, every text non-empty and under Slack's limits", () => {
    const message = render("slack", hostile()) as { text: string; blocks: Block[] };
    expect(message.blocks.map((b) => b.type)).toEqual(["section", "section", "section", "context"]);
    const texts = message.blocks.flatMap((b) => [...(b.text ? [b.text] : []), ...(b.elements ?? [])]);
    for (const t of texts) {
      expect(t.text.length).toBeGreaterThan(0);
      expect(t.text.length).toBeLessThanOrEqual(3000);
    }
    expect(message.blocks.length).toBeLessThanOrEqual(50);
  });

  test("entry text is plain text, so <!channel> and *bold* in names do nothing", () => {
    const message = render("slack", hostile()) as { text: string; blocks: Block[] };
    expect(message.text).toBe("LaunchDarkly flag change: turned on the flag");
    const texts = message.blocks.flatMap((b) => [...(b.text ? [b.text] : []), ...(b.elements ?? [])]);
    for (const t of texts.filter((x) => x.text.includes("<!channel>") || x.text.includes("*loud*"))) {
      expect(t.type).toBe("plain_text");
    }
    expect(message.blocks[0]?.text?.text).toBe(
      "Zoë O'Brien turned on the flag <!channel> \"Checkout\" v2 \\ @everyone *loud* in 'Production'",
    );
    const link = texts.find((t) => t.type === "mrkdwn");
    expect(link?.text).toBe(
      "<https://app.launchdarkly.com/shop/production/features/checkout-v2|Open in LaunchDarkly>",
    );
  });

  test("showDetails false leaves the changes out", () => {
    const message = render("slack", hostile(), { showDetails: false }) as { blocks: Block[] };
    expect(JSON.stringify(message)).not.toContain("Turned the flag on");
    expect(message.blocks.map((b) => b.type)).toEqual(["section", "section", "context"]);
  });

  test("an entry with hardly anything still gives a message Slack takes", () => {
    const message = render("slack", {
      kind: "segment",
      verbKind: "createSegment",
      title: { plainText: "" },
    }) as {
      blocks: Block[];
    };
    expect(message.blocks[0]?.text?.text).toBe("segment createSegment");
    expect(message.blocks.at(-1)?.elements).toEqual([
      { type: "plain_text", text: "segment · createSegment" },
    ]);
  });
});

describe("the Discord message", () => {
  interface Embed {
    description: string;
    color: number;
    timestamp?: string;
    footer: { text: string };
  }

  test("mentions nobody and stays within Discord's embed limits", () => {
    const message = render("discord", hostile()) as {
      allowed_mentions: { parse: unknown[] };
      embeds: Embed[];
    };
    expect(message.allowed_mentions).toEqual({ parse: [] });
    expect(message.embeds).toHaveLength(1);
    const [embed] = message.embeds as [Embed];
    expect(embed.description.length).toBeLessThanOrEqual(4096);
    expect(embed.footer.text).toBe('LaunchDarkly · Shop "main" / Production · flag · updateOn');
    expect(embed.timestamp).toBe("2024-01-23T08:53:20Z");
    expect(embed.description).toContain(
      "[Open in LaunchDarkly](https://app.launchdarkly.com/shop/production/features/checkout-v2)",
    );
    expect(embed.description).toContain('**Comment:** Ship it — "finally"\nsecond line\u0007');
  });

  test("an entry with hardly anything still has a footer and no timestamp", () => {
    const message = render("discord", { kind: "segment", verbKind: "createSegment", title: {} }) as {
      embeds: Embed[];
    };
    expect(message.embeds[0]?.description).toBe("segment createSegment");
    expect(message.embeds[0]?.footer.text).toBe("LaunchDarkly · segment · createSegment");
    expect(message.embeds[0]).not.toHaveProperty("timestamp");
  });
});
