import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyspace } from "@hookwire/queue";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CHROMIUM_PATH, chromiumAvailable, launchBrowser, watchPage } from "./support/browser";
import { entryFixture } from "./support/fixtures";
import { eventually, type Receiver, startReceiver } from "./support/receiver";
import { type System, startSystem } from "./support/system";

// The built-in dashboard at / and the queue view at /admin/queues, in headless Chromium, after
// real deliveries: some succeed, one receiver refuses with 400 and an error body the page shows.

const ARTIFACTS = new URL("./artifacts/", import.meta.url);

// Functions passed to page.evaluate run in the browser; the tests' TypeScript has no DOM types,
// so these say what they use.
interface InBrowser {
  localStorage: { setItem(key: string, value: string): void };
  document: { documentElement: { scrollWidth: number } };
  innerWidth: number;
}
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: "2d"): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
const READ_KEY = "dashboard-read-key-0123456789";
const LAPTOP = { viewport: { width: 1280, height: 900 } };
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
/** Both viewports the issue asks for, each with the suffix of its screenshots. */
const VIEWPORTS = [
  { name: "laptop", options: LAPTOP },
  { name: "phone", options: PHONE },
] as const;

/** The horizontal overflow of the page: above 0, something is cut off or scrolls sideways. */
const overflowOf = (page: Page) =>
  page.evaluate(() => {
    const browser = globalThis as unknown as InBrowser;
    return browser.document.documentElement.scrollWidth - browser.innerWidth;
  });

/** How much of an element is wider than it (a card clips what overflows it): 0 when it all fits. */
const clippedOf = (page: Page, selector: string) =>
  page.locator(selector).evaluate((element) => element.scrollWidth - element.clientWidth);

/**
 * The integrations of these tests, beside the catalog: one that requires OAuth, with a Markdown
 * description that tries to slip in markup, and one whose URL's host is fixed (the refusing
 * receiver's), so that its error answers are kept, with a secret in its URL and a header.
 */
async function writeIntegrations(dir: string, refusingPort: string) {
  const write = async (key: string, manifest: object, template: string) => {
    await mkdir(join(dir, key, "templates"), { recursive: true });
    await writeFile(join(dir, key, "manifest.json"), JSON.stringify(manifest));
    await writeFile(join(dir, key, "templates", "default.json.hbs"), template);
  };
  const policy = [{ effect: "allow", resources: ["proj/*:env/*:flag/*"], actions: ["*"] }];
  await write(
    "dash-oauth",
    {
      name: "Dash OAuth",
      overview: "Post flag changes to a provider that wants OAuth.",
      description:
        "Sends **flag changes** to the provider's `events` API; see [its docs](https://provider.example/docs).\n\n" +
        "- one request per entry\n- a [bad link](javascript:alert(1)) keeps its text\n\n" +
        'Markup is text: <img src="x" id="dash-injected"> <script>alert(1)</script>',
      requiresOAuth: true,
      formVariables: [{ key: "channel", name: "Channel", type: "string", description: "Where." }],
      capabilities: {
        auditLogEventsHook: {
          endpoint: {
            url: "{{oauth.baseURI}}/events/{{pathEncode channel}}",
            method: "POST",
            headers: [{ name: "Authorization", value: "Bearer {{oauth.accessToken}}" }],
          },
          templates: { default: "templates/default.json.hbs" },
          defaultPolicy: policy,
        },
      },
    },
    '{"flag": "{{key}}"}',
  );
  await write(
    "dash-keyed",
    {
      name: "Dash keyed",
      overview: "Post flag changes to a fixed host with a key.",
      description: "A fixed host: its error answers are kept.",
      formVariables: [
        { key: "apiKey", name: "API key", type: "string", description: "The key.", isSecret: true },
        {
          key: "region",
          name: "Region",
          type: "enum",
          description: "Which region.",
          allowedValues: ["eu", "us"],
          isOptional: true,
          defaultValue: "eu",
        },
      ],
      capabilities: {
        auditLogEventsHook: {
          includeErrorResponseBody: true,
          endpoint: {
            url: `http://127.0.0.1:${refusingPort}/{{region}}/in?key={{queryEncode apiKey}}`,
            method: "POST",
            headers: [
              { name: "Content-Type", value: "application/json" },
              { name: "Authorization", value: "Bearer {{apiKey}}" },
            ],
          },
          templates: { default: "templates/default.json.hbs" },
          defaultPolicy: policy,
        },
      },
    },
    '{"flag": "{{key}}", "region": "{{formVariables.region}}"}',
  );
}

test("chromium available for the dashboard tests", () => {
  if (!chromiumAvailable) {
    console.warn(
      `NOTICE: the dashboard browser tests did not run: no Chromium at ${CHROMIUM_PATH} ` +
        "(apt-get install chromium, or set CHROMIUM_PATH)",
    );
  }
  expect(typeof chromiumAvailable).toBe("boolean");
});

describe.runIf(chromiumAvailable)("the dashboard in a browser", () => {
  let system: System;
  let good: Receiver;
  let refusing: Receiver;
  let browser: Browser;
  const failedEntry = "dash-refused-0001";
  const hookIds: Record<string, string> = {};
  const failedRow = (page: Page, hook: string) =>
    page.locator(`#failed-body tr[data-delivery="${hookIds[hook]}.${failedEntry}"]`);

  /** The dashboard, loaded, in a browser that already holds the admin key (as after a first visit). */
  /** The page with a key already kept (the admin key unless told), problems watched but `allow`. */
  let integrationsDir: string;
  const openWithKey = async (
    options: BrowserContextOptions,
    key = system.apiKey,
    allow?: (problem: string) => boolean,
    base = system.baseUrl,
  ) => {
    const context = await browser.newContext(options);
    await context.addInitScript(
      (kept) => (globalThis as unknown as InBrowser).localStorage.setItem("hookwire.apiKey", kept),
      key,
    );
    const page = await context.newPage();
    // A step that cannot happen fails with its own message, well before the test's timeout.
    page.setDefaultTimeout(10_000);
    const problems = watchPage(page, allow);
    await page.goto(`${base}/`);
    await page.locator("body[data-loaded=true]").waitFor();
    return { context, page, problems };
  };

  beforeAll(async () => {
    good = await startReceiver();
    refusing = await startReceiver((_request, response) => {
      response
        .writeHead(400, { "content-type": "application/json" })
        .end('{"error":"project shop is archived"}');
    });
    // A port nothing listens on: every attempt there is refused, retried, then given up.
    const down = await startReceiver();
    await down.close();
    integrationsDir = await mkdtemp(join(tmpdir(), "hookwire-dashboard-"));
    await writeIntegrations(integrationsDir, new URL(refusing.url).port);
    system = await startSystem({
      label: "dashboard",
      env: { HOOKWIRE_API_KEYS: `${READ_KEY}=read`, HOOKWIRE_INTEGRATIONS_DIR: integrationsDir },
    });
    for (const [name, url] of [
      ["Orders audit sink", `${good.url}/audit`],
      ["Archive (refuses)", `${refusing.url}/in`],
      ["Billing bridge (down)", `${down.url}/events`],
    ]) {
      const created = await system.api("POST", "/v1/hooks", {
        integration: "generic-webhook",
        name,
        formVariables: { url },
      });
      expect(created.status).toBe(201);
      hookIds[name!] = created.json.id;
    }
    const failing = [hookIds["Archive (refuses)"], hookIds["Billing bridge (down)"]];
    const first = await system.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: failedEntry }));
    expect(first.status).toBe(202);
    await eventually(
      async () => {
        const records = await Promise.all(
          failing.map(async (id) => (await system.api("GET", `/v1/deliveries/${id}.${failedEntry}`)).json),
        );
        return records.every((record) => record?.status === "failed");
      },
      10_000,
      "both failing hooks' deliveries failed",
    );
    // The failing hooks sit the batch out, so their circuits stay closed and nothing waits on a probe.
    for (const id of failing) await system.api("PATCH", `/v1/hooks/${id}`, { on: false });
    const batch = Array.from({ length: 6 }, (_, i) => entryFixture("flag-toggle", { _id: `dash-ok-${i}` }));
    expect((await system.api("POST", "/v1/entries", batch)).status).toBe(202);
    await good.waitFor((requests) => requests.length >= 7);
    await eventually(async () => (await system.pendingJobs()) === 0, 10_000, "queue drained");
    await eventually(
      async () => (await system.api("GET", "/v1/stats")).json?.totals.deliveries.succeeded === 7,
      10_000,
      "7 deliveries counted",
    );
    for (const id of failing) await system.api("PATCH", `/v1/hooks/${id}`, { on: true });
    browser = await launchBrowser();
    await mkdir(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await system?.close();
    await good?.close();
    await refusing?.close();
    if (integrationsDir) await rm(integrationsDir, { recursive: true, force: true });
  });

  test("asks for a key once, then shows charts, hooks and failures, with no console errors", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto(`${system.baseUrl}/`);
    await page.locator("#key-input").fill(system.apiKey);
    await page.locator("#key-form button[type=submit]").click();
    await page.locator("body[data-loaded=true]").waitFor();

    // Charts: every one has points with values, and the canvas holds drawn pixels.
    for (const id of ["chart-throughput", "chart-latency", "chart-queue"]) {
      const points = Number(await page.locator(`#${id}`).getAttribute("data-points"));
      expect(points, id).toBeGreaterThan(0);
      const inked = await page.locator(`#${id}`).evaluate((element) => {
        const canvas = element as unknown as CanvasLike;
        const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
        let count = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) count++;
        return count;
      });
      expect(inked, id).toBeGreaterThan(500);
    }
    expect(await page.locator("#kpi-delivered .value").textContent()).toBe("7");
    expect(await page.locator("#kpi-failed .value").textContent()).toBe("2");

    // Hooks: all three, the failing ones first, each with its last failure's reason.
    const rows = page.locator("#hooks-body tr");
    expect(await rows.count()).toBe(3);
    const names = await rows.locator(".name").allTextContents();
    expect(names.slice(0, 2).sort()).toEqual(["Archive (refuses)", "Billing bridge (down)"]);
    expect(names[2]).toBe("Orders audit sink");
    expect(await rows.nth(2).locator(".ok-text").textContent()).toBe("7");
    const archiveRow = page.locator(`#hooks-body tr[data-hook="${hookIds["Archive (refuses)"]}"]`);
    expect(await archiveRow.textContent()).toContain("HTTP 400");

    // The failed deliveries: what the receiver answered, or the error when none answered.
    expect(await page.locator("#failed-body tr").count()).toBe(2);
    const refused = failedRow(page, "Archive (refuses)");
    expect(await refused.locator("td[data-label=Answer]").textContent()).toBe("HTTP 400");
    expect(await refused.locator("td[data-label=Reason]").textContent()).toContain("HTTP 400");
    const unreachable = failedRow(page, "Billing bridge (down)");
    expect(await unreachable.locator("td[data-label=Answer]").textContent()).toBe("DELIVERY_ERR_CONNECT");
    expect(await unreachable.textContent()).toContain("3 attempts");
    await unreachable.locator("summary").click();
    expect(await unreachable.locator("pre").textContent()).not.toBe("");

    await page.screenshot({ path: new URL("dashboard.png", ARTIFACTS).pathname, fullPage: true });

    // The key stays: a reload goes straight to the data.
    await page.reload();
    await page.locator("body[data-loaded=true]").waitFor();
    expect(await page.locator("#key-dialog").isHidden()).toBe(true);

    expect(problems).toEqual([]);
    await context.close();
  });

  test("the retry button queues the failed delivery again (admin key)", async () => {
    const { context, page, problems } = await openWithKey({ viewport: { width: 1280, height: 900 } });
    const before = refusing.requests.length;
    await failedRow(page, "Archive (refuses)").locator("button").click();
    await page.locator(".toast.ok").waitFor();
    await refusing.waitFor((requests) => requests.length > before);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("a read-only key sees the page but its admin buttons are disabled, saying why; a wrong key is asked again", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // The refused calls are the point of this test; anything else is still a problem.
    const problems = watchPage(page, (p) => /\b(401|403)\b/.test(p));
    await page.goto(`${system.baseUrl}/`);
    await page.locator("#key-input").fill("not-a-key-at-all-000000");
    await page.locator("#key-form button[type=submit]").click();
    await page.locator("#key-message:not([hidden])").waitFor();
    expect(await page.locator("#key-message").textContent()).toMatch(/not accepted/);

    await page.locator("#key-input").fill(READ_KEY);
    await page.locator("#key-form button[type=submit]").click();
    await page.locator("body[data-loaded=true]").waitFor();
    const retry = page.locator("#failed-body tr button").first();
    expect(await retry.isDisabled()).toBe(true);
    expect(await retry.getAttribute("title")).toMatch(/admin scope/);
    for (const id of [
      "hook-new",
      "hook-save",
      "hook-test",
      "hook-delete",
      "replay-count",
      "delivery-retry",
    ]) {
      expect(await page.locator(`#${id}`).isDisabled(), id).toBe(true);
    }
    expect(await page.locator("#hooks-read-only").isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("on a phone the page fits the screen, one column, nothing cut off", async () => {
    const { context, page, problems } = await openWithKey({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const overflow = await page.evaluate(() => {
      const browser = globalThis as unknown as InBrowser;
      return browser.document.documentElement.scrollWidth - browser.innerWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    expect(Number(await page.locator("#chart-throughput").getAttribute("data-points"))).toBeGreaterThan(0);
    await page.screenshot({ path: new URL("dashboard-phone.png", ARTIFACTS).pathname, fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });

  test("traces an entry by id on a laptop and a phone: each hook's outcome, a filtered one with the policy's reason", async () => {
    // A project change: every hook here keeps the generic webhook's flags-only default policy.
    const filtered = entryFixture("project-update", { _id: "dash-trace-filtered" });
    expect((await system.api("POST", "/v1/entries", filtered)).status).toBe(202);
    for (const viewport of [
      { viewport: { width: 1280, height: 900 } },
      { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    ]) {
      const { context, page, problems } = await openWithKey(viewport);
      const trace = async (id: string) => {
        await page.locator("#trace-input").fill(id);
        await page.locator("#trace-form button[type=submit]").click();
      };
      await trace("dash-trace-filtered");
      await page.locator("#trace-table:not([hidden])").waitFor();
      expect(await page.locator("#trace-summary").textContent()).toContain("3 filtered");
      const rows = page.locator("#trace-body tr");
      expect(await rows.count()).toBe(3);
      for (const outcome of await rows.locator("td[data-label=Outcome]").allTextContents())
        expect(outcome).toBe("filtered");
      expect(await rows.first().textContent()).toMatch(/denied by default/);

      // A delivered one: queued, with its delivery's status and id.
      await trace("dash-ok-0");
      // The rows of the trace before stay until this one's answer: wait for its summary.
      await page.locator('#trace-summary:text-matches("^Entry dash-ok-0,")').waitFor();
      const good = page.locator(`#trace-body tr[data-hook="${hookIds["Orders audit sink"]}"]`);
      expect(await good.locator("td[data-label=Outcome]").textContent()).toBe("queued");
      expect(await good.textContent()).toContain("succeeded");
      expect(await good.textContent()).toContain(`${hookIds["Orders audit sink"]}.dash-ok-0`);

      // An unknown id says so, in the API's words.
      await trace("never-posted-here");
      await page.locator("#trace-summary.bad").waitFor();
      expect(await page.locator("#trace-summary").textContent()).toContain("never-posted-here");
      expect(await page.locator("#trace-table").isHidden()).toBe(true);

      const overflow = await page.evaluate(() => {
        const browser = globalThis as unknown as InBrowser;
        return browser.document.documentElement.scrollWidth - browser.innerWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      await trace("dash-trace-filtered");
      await page.locator("#trace-table:not([hidden])").waitFor();
      const name = viewport.viewport.width < 500 ? "dashboard-trace-phone.png" : "dashboard-trace.png";
      await page.locator("#trace-title").scrollIntoViewIfNeeded();
      await page.screenshot({ path: new URL(name, ARTIFACTS).pathname, fullPage: true });
      // The 404 of the unknown id is the point of that step; nothing else may go wrong.
      expect(problems.filter((p) => !/\b404\b/.test(p))).toEqual([]);
      await context.close();
    }
  });

  test("the queue view loads, assets and all, for the admin key only", async () => {
    const anonymous = await fetch(`${system.baseUrl}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic realm="hookwire queues"/);
    const readOnly = await fetch(`${system.baseUrl}/admin/queues`, {
      headers: { authorization: `Basic ${Buffer.from(`x:${READ_KEY}`).toString("base64")}` },
    });
    expect(readOnly.status).toBe(403);

    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      httpCredentials: { username: "admin", password: system.apiKey },
    });
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto(`${system.baseUrl}/admin/queues`);
    await page.getByText("deliveries", { exact: false }).first().waitFor();
    await page.screenshot({ path: new URL("queues.png", ARTIFACTS).pathname });
    expect(problems).toEqual([]);
    await context.close();
  });

  test("flags deliveries found stuck in the last hour, and a Redis that would lose acknowledged entries", async () => {
    const { context, page, problems } = await openWithKey({ viewport: { width: 1280, height: 900 } });
    expect(await page.locator("#alert-stuck").count()).toBe(0);
    // As the worker's sweeper counts them: in the minute it queued them again.
    const minute = keyspace(system.config.queuePrefix).statsMinute(Math.floor(Date.now() / 60e3) - 2);
    await system.redis.hincrby(minute, "deliveries:stuck", 4);
    await page.reload();
    await page.locator("body[data-loaded=true]").waitFor();
    expect(await page.locator("#alert-stuck").textContent()).toMatch(
      /^4 deliveries were found stuck in the last hour/,
    );

    // The machine's Redis decides which: the page says what /readyz says.
    const { persistence } = (await (await fetch(`${system.baseUrl}/readyz`)).json()) as {
      persistence: { durable: boolean | null };
    };
    const banner = page.locator("#alert-persistence");
    if (persistence.durable === true) expect(await banner.count()).toBe(0);
    else
      expect(await banner.textContent()).toMatch(
        persistence.durable === false ? /append-only file off/ : /unknown/,
      );
    expect(await page.locator("#redis-persistence").isVisible()).toBe(true);
    await page.screenshot({ path: new URL("dashboard-alerts.png", ARTIFACTS).pathname });
    expect(problems).toEqual([]);
    await context.close();
  });

  test("opens a delivery from the failures and from a trace: every attempt, its answer and its error, and traces its entry", async () => {
    const { context, page, problems } = await openWithKey({ viewport: { width: 1280, height: 900 } });
    const downId = `${hookIds["Billing bridge (down)"]}.${failedEntry}`;
    await failedRow(page, "Billing bridge (down)").locator("a.delivery-link").click();
    await page.locator("#delivery-panel:not([hidden]) #delivery-body tr").first().waitFor();
    expect(await page.locator("#delivery-title").textContent()).toBe(`Delivery ${downId}`);
    expect(await page.locator("#delivery-summary").textContent()).toMatch(/^failed · /);
    const attempts = page.locator("#delivery-body tr");
    const record = (await system.api("GET", `/v1/deliveries/${downId}`)).json;
    expect(await attempts.count()).toBe(record.attempts.length);
    expect(await attempts.allTextContents()).toHaveLength(3);
    expect(await attempts.first().locator("td[data-label=Answer]").textContent()).toContain(
      "DELIVERY_ERR_CONNECT",
    );
    expect(await attempts.last().locator("td[data-label=Outcome]").textContent()).toBe("given up");
    const answer = attempts.first().locator("td[data-label=Answer]");
    await answer.locator("summary").click();
    expect(await answer.locator("pre").textContent()).toBe(record.attempts[0].errorMessage);
    expect(await page.locator("#delivery-retry").isVisible()).toBe(true);
    await page.screenshot({ path: new URL("dashboard-delivery.png", ARTIFACTS).pathname, fullPage: true });

    // Its entry, traced from the delivery: every hook's outcome for it.
    await page.locator("#delivery-entry").click();
    await page.locator(`#trace-summary:text-matches("^Entry ${failedEntry},")`).waitFor();
    expect(
      await page.locator(`#trace-body tr[data-hook="${hookIds["Billing bridge (down)"]}"]`).count(),
    ).toBe(1);

    // From a trace: the delivered one, one attempt, succeeded; the link is the page's own address.
    await page.locator("#trace-input").fill("dash-ok-0");
    await page.locator("#trace-form button[type=submit]").click();
    const okId = `${hookIds["Orders audit sink"]}.dash-ok-0`;
    await page.locator(`#trace-body a[href="#delivery=${encodeURIComponent(okId)}"]`).click();
    await page.locator(`#delivery-title:text-is("Delivery ${okId}")`).waitFor();
    await page.locator("#delivery-body tr td[data-label=Outcome]").first().waitFor();
    expect(await page.locator("#delivery-body tr td[data-label=Outcome]").allTextContents()).toEqual([
      "succeeded",
    ]);
    expect(await page.locator("#delivery-retry").isHidden()).toBe(true);
    expect(page.url()).toContain(`#delivery=${encodeURIComponent(okId)}`);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("previews the exact request of an integration for an entry, and shows the API's problems with a bad one", async () => {
    for (const viewport of [
      { viewport: { width: 1280, height: 900 } },
      { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    ]) {
      const { context, page, problems } = await openWithKey(viewport);
      const select = page.locator("#preview-integration");
      await select.locator("option[value=slack]").waitFor({ state: "attached" });
      await select.selectOption("slack");
      await page.locator("#preview-form button[type=submit]").click();
      await page.locator("#preview-result:not([hidden])").waitFor();
      expect(await page.locator("#preview-line").textContent()).toMatch(/^POST /);
      const body = JSON.parse((await page.locator("#preview-body").textContent()) ?? "");
      expect(JSON.stringify(body.blocks)).toContain("Ada turned on the flag Checkout redesign in Production");
      expect(await page.locator("#preview-headers-body").textContent()).toContain("application/json");
      const overflow = await page.evaluate(() => {
        const browser = globalThis as unknown as InBrowser;
        return browser.document.documentElement.scrollWidth - browser.innerWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      const name = viewport.viewport.width < 500 ? "dashboard-preview-phone.png" : "dashboard-preview.png";
      await page.locator("#preview-title").scrollIntoViewIfNeeded();
      await page.screenshot({ path: new URL(name, ARTIFACTS).pathname, fullPage: true });

      // An entry the API refuses: its message and each problem with the pointer it names.
      await page.locator("#preview-entry").fill(JSON.stringify({ kind: 42 }));
      await page.locator("#preview-form button[type=submit]").click();
      // The first preview's warnings may still be listed: wait for this answer's own.
      await page.locator("#preview-problems:not([hidden]) li", { hasText: "the entry is invalid" }).waitFor();
      const listed = await page.locator("#preview-problems li").allTextContents();
      expect(listed[0]).toBe("the entry is invalid");
      expect(listed.slice(1).some((line) => line.startsWith("/entry/kind: "))).toBe(true);
      expect(await page.locator("#preview-result").isHidden()).toBe(true);
      expect(problems.filter((p) => !/\b400\b/.test(p))).toEqual([]);
      await context.close();
    }
  });

  test("replays a hook's failed deliveries after showing the dry run's count; a read key's Count button is disabled", async () => {
    const hookId = hookIds["Billing bridge (down)"]!;
    const deliveryId = `${hookId}.${failedEntry}`;
    const before = (await system.api("GET", `/v1/deliveries/${deliveryId}`)).json;
    expect(before.status).toBe("failed");

    // A read key counts nothing and queues nothing: its Count button is disabled, saying why.
    {
      const forbidden = (p: string) => /\b403\b/.test(p);
      const { context, page, problems } = await openWithKey(
        { viewport: { width: 1280, height: 900 } },
        READ_KEY,
        forbidden,
      );
      await page.locator(`#hooks-body tr[data-hook="${hookId}"] button.replay`).click();
      await page.locator("#replay-form:not([hidden])").waitFor();
      expect(await page.locator("#replay-count").isDisabled()).toBe(true);
      expect(await page.locator("#replay-count").getAttribute("title")).toMatch(/admin scope/);
      expect(await page.locator("#replay-confirm").isHidden()).toBe(true);
      expect(problems).toEqual([]);
      await context.close();
    }

    const { context, page, problems } = await openWithKey({ viewport: { width: 1280, height: 900 } });
    await page.locator(`#hooks-body tr[data-hook="${hookId}"] button.replay`).click();
    expect(await page.locator("#replay-title").textContent()).toBe(
      "Replay the failed deliveries of Billing bridge (down)",
    );
    await page.locator("#replay-count").click();
    await page.locator("#replay-confirm:not([hidden])").waitFor();
    expect(await page.locator("#replay-result").textContent()).toBe(
      "1 failed delivery would be queued again.",
    );
    // Counting queued nothing.
    expect((await system.api("GET", `/v1/deliveries/${deliveryId}`)).json.status).toBe("failed");
    await page.screenshot({ path: new URL("dashboard-replay.png", ARTIFACTS).pathname, fullPage: true });

    await page.locator("#replay-confirm").click();
    await page.locator(".toast.ok").waitFor();
    expect(await page.locator(".toast.ok").textContent()).toBe(
      "1 delivery of Billing bridge (down) queued again.",
    );
    // Sent again (its receiver is still down): one more attempt on the record.
    await eventually(
      async () =>
        (await system.api("GET", `/v1/deliveries/${deliveryId}`)).json.attempts.length >
        before.attempts.length,
      10_000,
      "the replayed delivery attempted again",
    );
    expect(problems).toEqual([]);
    await context.close();
  });

  test("makes a Slack hook through the form drawn from its manifest, tests it, shows a bad policy's problem beside the field, and deletes it", async () => {
    // A read key may open a hook's form to look, but cannot make, save, test or delete one.
    {
      const phone = { viewport: { width: 390, height: 844 }, isMobile: true };
      const { context, page, problems } = await openWithKey(phone, READ_KEY);
      expect(await page.locator("#hook-new").isDisabled()).toBe(true);
      await page.locator(`#hooks-body tr[data-hook="${hookIds["Orders audit sink"]}"] button.edit`).click();
      await page.locator("#hook-form[data-state=ready]").waitFor();
      for (const id of ["hook-save", "hook-test", "hook-delete"]) {
        expect(await page.locator(`#${id}`).isDisabled(), id).toBe(true);
        expect(await page.locator(`#${id}`).getAttribute("title"), id).toMatch(/admin scope/);
      }
      expect(problems).toEqual([]);
      await context.close();
    }

    const { context, page, problems } = await openWithKey({ viewport: { width: 1280, height: 900 } });
    page.on("dialog", (dialog) => void dialog.accept());
    await page.locator("#hook-new").click();
    await page.locator("#hook-integration option[value=slack]").waitFor({ state: "attached" });
    await page.locator("#hook-integration").selectOption("slack");
    await page.locator("#hook-var-webhookUrl").waitFor();
    // Drawn from the manifest: the secret as a password field, the boolean as a checkbox with its default.
    expect(await page.locator("#hook-var-webhookUrl").getAttribute("type")).toBe("password");
    expect(await page.locator("#hook-var-showDetails").isChecked()).toBe(true);
    expect(await page.locator("#hook-policy").inputValue()).toContain("proj/*:env/production:flag/*");
    await page.locator("#hook-name").fill("Ops channel");
    await page.locator("#hook-var-webhookUrl").fill(`${good.url}/slack/T0/B0/x`);
    await page.locator("#hook-var-showDetails").uncheck();
    await page.locator("#hook-save").click();
    await page.locator("#hook-result:text-matches('^Created hook Ops channel')").waitFor();
    const created = ((await system.api("GET", "/v1/hooks")).json.hooks as any[]).find(
      (hk) => hk.name === "Ops channel",
    );
    expect(created).toMatchObject({
      integration: "slack",
      on: true,
      formVariables: { webhookUrl: "********", showDetails: false },
    });
    expect(created.policy).toBeUndefined();

    // Send test: the integration's validation message, answered by the receiver.
    const before = good.requests.length;
    await page.locator("#hook-test").click();
    await page.locator("#hook-result:text-matches('^Test answered: HTTP 200')").waitFor();
    expect(good.requests.length).toBe(before + 1);
    expect(good.requests.at(-1)?.url).toBe("/slack/T0/B0/x");

    // A bad statement: the API's problem shows beside the policy field, nothing is changed.
    await page
      .locator("#hook-policy")
      .fill(JSON.stringify([{ effect: "maybe", resources: ["proj/*"], actions: ["*"] }]));
    await page.locator("#hook-save").click();
    const policyProblem = page.locator('#hook-form .field-problem[data-pointer="/policy"]');
    await policyProblem.waitFor();
    expect(await policyProblem.textContent()).toMatch(/effect/);
    await page.screenshot({ path: new URL("dashboard-hook-form.png", ARTIFACTS).pathname, fullPage: true });

    // Renamed with the policy back to the default: the secret, shown masked, is kept.
    await page.locator("#hook-policy").fill("");
    await page.locator("#hook-name").fill("Ops channel (renamed)");
    await page.locator("#hook-save").click();
    await page.locator("#hook-result:text-matches('^Saved hook ')").waitFor();
    expect(await page.locator("#hook-result").textContent()).toMatch(/^Saved hook Ops channel \(renamed\)/);
    await page.locator("#hook-test").click();
    await page.locator("#hook-result:text-matches('^Test answered: HTTP 200')").waitFor();
    expect(good.requests.at(-1)?.url).toBe("/slack/T0/B0/x");

    await page.locator("#hook-delete").click();
    await page.locator(".toast.ok:text-matches('deleted')").waitFor();
    expect((await system.api("GET", `/v1/hooks/${created.id}`)).status).toBe(404);
    expect(problems.filter((p) => !/\b400\b/.test(p))).toEqual([]);
    await context.close();
  });

  test("the hook form shows the integration's overview and its Markdown description, with no markup of its own", async () => {
    const { context, page, problems } = await openWithKey(LAPTOP);
    await page.locator("#hook-new").click();
    await page.locator("#hook-integration option[value=dash-oauth]").waitFor({ state: "attached" });
    await page.locator("#hook-integration").selectOption("dash-oauth");
    const description = page.locator("#hook-description");
    await description.locator("strong").first().waitFor();
    expect(await page.locator("#hook-integration-overview").textContent()).toBe(
      "Post flag changes to a provider that wants OAuth.",
    );
    // Rendered by the entries package's renderer: strong, code, a list, a link with a web address.
    expect(await description.locator("strong").first().textContent()).toBe("flag changes");
    expect(await description.locator("code").textContent()).toBe("events");
    expect(await description.locator("li").allTextContents()).toEqual([
      "one request per entry",
      "a bad link keeps its text",
    ]);
    const links = description.locator("a");
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute("href")).toBe("https://provider.example/docs");
    expect(await links.getAttribute("rel")).toBe("noopener noreferrer");
    // The markup written in the description is shown as text, and nothing of it is an element.
    expect(await description.textContent()).toContain('<img src="x" id="dash-injected">');
    expect(await description.textContent()).toContain("<script>alert(1)</script>");
    expect(await page.locator("#dash-injected").count()).toBe(0);
    expect(await description.locator("img, script").count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  test("the hook form sets a hook's delivery settings, keeps them on edit, and shows a bad one's problem beside its field", async () => {
    const { context, page, problems } = await openWithKey(LAPTOP);
    page.on("dialog", (dialog) => void dialog.accept());
    await page.locator("#hook-new").click();
    await page.locator("#hook-integration option[value=generic-webhook]").waitFor({ state: "attached" });
    await page.locator("#hook-integration").selectOption("generic-webhook");
    await page.locator("#hook-var-url").waitFor();
    // A new hook of an integration without OAuth: no connection to set.
    expect(await page.locator("#hook-oauth").isHidden()).toBe(true);
    await page.locator("#hook-name").fill("Tuned sink");
    await page.locator("#hook-var-url").fill(`${good.url}/tuned`);
    await page.locator("#hook-var-secret").fill("tuned-signing-secret");
    await page.locator("#hook-retry").fill("5, 60 600");
    await page.locator("#hook-concurrency").fill("3");
    await page.locator("#hook-rate").fill("2.5");
    await page.locator("#hook-timeout").fill("5000");
    await page.locator("#hook-standard").check();
    // What an exhausted delivery does is asked of an ordered hook only.
    expect(await page.locator("#hook-exhausted").isVisible()).toBe(false);
    await page.locator("#hook-ordering").selectOption("fifo");
    await page.locator("#hook-exhausted").selectOption("skip");
    await page.locator("#hook-save").click();
    await page.locator("#hook-result:text-matches('^Created hook Tuned sink')").waitFor();
    const hookId = ((await system.api("GET", "/v1/hooks")).json.hooks as any[]).find(
      (hk) => hk.name === "Tuned sink",
    ).id as string;
    expect((await system.api("GET", `/v1/hooks/${hookId}`)).json.delivery).toEqual({
      retrySchedule: [5, 60, 600],
      concurrency: 3,
      ratePerSecond: 2.5,
      timeoutMs: 5000,
      standardWebhooks: true,
      ordering: "fifo",
      onExhausted: "skip",
    });

    // Opened again from its row: the settings as stored.
    await page.locator("#hook-cancel").click();
    await page.locator(`#hooks-body tr[data-hook="${hookId}"] button.edit`).click();
    await page.locator("#hook-form[data-state=ready]:not([hidden])").waitFor();
    expect(await page.locator("#hook-form-title").textContent()).toBe("Edit Tuned sink");
    expect(await page.locator("#hook-retry").inputValue()).toBe("5, 60, 600");
    expect(await page.locator("#hook-concurrency").inputValue()).toBe("3");
    expect(await page.locator("#hook-standard").isChecked()).toBe(true);
    expect(await page.locator("#hook-exhausted").inputValue()).toBe("skip");

    // A word in the schedule is refused here, beside the field, before anything is sent.
    const retryProblem = page.locator('#hook-form .field-problem[data-pointer="/delivery/retrySchedule"]');
    await page.locator("#hook-retry").fill("5, soon");
    await page.locator("#hook-save").click();
    await retryProblem.waitFor();
    expect(await retryProblem.textContent()).toContain('"soon" is not one');
    // The API's own problem, by its pointer: a concurrency under 1.
    await page.locator("#hook-retry").fill("none");
    await page.locator("#hook-concurrency").fill("0");
    await page.locator("#hook-save").click();
    const concurrencyProblem = page.locator(
      '#hook-form .field-problem[data-pointer="/delivery/concurrency"]',
    );
    await concurrencyProblem.waitFor();
    expect(await concurrencyProblem.textContent()).not.toBe("");
    expect(await retryProblem.isHidden()).toBe(true);
    // Emptied fields go back to the defaults; "none" is no retry at all.
    await page.locator("#hook-concurrency").fill("");
    await page.locator("#hook-rate").fill("");
    await page.locator("#hook-standard").uncheck();
    await page.locator("#hook-ordering").selectOption("");
    await page.locator("#hook-save").click();
    await page.locator("#hook-result:text-matches('^Saved hook Tuned sink')").waitFor();
    expect((await system.api("GET", `/v1/hooks/${hookId}`)).json.delivery).toEqual({
      retrySchedule: [],
      timeoutMs: 5000,
    });
    await page.locator("#hook-delete").click();
    await page.locator(".toast.ok:text-matches('deleted')").waitFor();
    expect(problems.filter((p) => !/\b400\b/.test(p))).toEqual([]);
    await context.close();
  });

  test("the hook form sets the OAuth connection of an integration that requires it, keeps its secret masked, and Connect opens the provider", async () => {
    const { context, page, problems } = await openWithKey(LAPTOP);
    page.on("dialog", (dialog) => void dialog.accept());
    await page.locator("#hook-new").click();
    await page.locator("#hook-integration option[value=dash-oauth]").waitFor({ state: "attached" });
    await page.locator("#hook-integration").selectOption("dash-oauth");
    await page.locator("#hook-oauth:not([hidden])").waitFor();
    // The fields of the grant chosen only.
    expect(await page.locator("#hook-oauth-tokenUrl").isVisible()).toBe(true);
    expect(await page.locator("#hook-oauth-authorizeUrl").isVisible()).toBe(false);
    expect(await page.locator("#hook-oauth-accessToken").isVisible()).toBe(false);
    await page.locator("#hook-oauth-grant").selectOption("authorization_code");
    expect(await page.locator("#hook-oauth-authorizeUrl").isVisible()).toBe(true);
    expect(await page.locator("#hook-oauth-state").textContent()).toMatch(/^Save the hook, then Connect/);

    await page.locator("#hook-name").fill("Provider events");
    await page.locator("#hook-var-channel").fill("flags");
    await page.locator("#hook-oauth-authorizeUrl").fill(`${good.url}/authorize`);
    await page.locator("#hook-oauth-tokenUrl").fill(`${good.url}/token`);
    await page.locator("#hook-oauth-clientId").fill("hookwire-dash");
    await page.locator("#hook-oauth-clientSecret").fill("dash-client-secret-123");
    await page.locator("#hook-oauth-scope").fill("events:write");
    // Without its base URI the API refuses it: the problem beside that field.
    await page.locator("#hook-save").click();
    const baseProblem = page.locator('#hook-form .field-problem[data-pointer="/oauth/baseURI"]');
    await baseProblem.waitFor();
    expect(await baseProblem.textContent()).not.toBe("");
    await page.locator("#hook-oauth-baseURI").fill(`${good.url}/api`);
    await page.locator("#hook-save").click();
    await page.locator("#hook-result:text-matches('^Created hook Provider events')").waitFor();
    await page.locator("#hook-form").screenshot({
      path: new URL("dashboard-hook-oauth.png", ARTIFACTS).pathname,
    });
    const created = ((await system.api("GET", "/v1/hooks")).json.hooks as any[]).find(
      (hk) => hk.name === "Provider events",
    );
    expect(created.oauth).toMatchObject({
      grant: "authorization_code",
      authorizeUrl: `${good.url}/authorize`,
      clientId: "hookwire-dash",
      clientSecret: "********",
      scope: "events:write",
      baseURI: `${good.url}/api`,
    });
    // Saved: shown masked, and not connected yet.
    expect(await page.locator("#hook-oauth-clientSecret").inputValue()).toBe("********");
    expect(await page.locator("#hook-oauth-state").textContent()).toMatch(/^Not connected yet/);

    // Renamed with the masked secret sent back: the secret is kept (the provider sees it below).
    await page.locator("#hook-name").fill("Provider events (renamed)");
    await page.locator("#hook-save").click();
    await page
      .locator("#hook-result:text-matches('^Saved hook Provider events \\\\(renamed\\\\)')")
      .waitFor();

    // Connect: the browser goes to the provider's authorize URL, with the client and the callback.
    await page.locator("#hook-oauth-connect").click();
    await page.waitForURL(/\/authorize\?/);
    const authorize = new URL(page.url());
    expect(authorize.origin).toBe(new URL(good.url).origin);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      response_type: "code",
      client_id: "hookwire-dash",
      redirect_uri: `${system.baseUrl}/v1/oauth/callback`,
      scope: "events:write",
      code_challenge_method: "S256",
    });
    expect(authorize.searchParams.get("state")).toMatch(/.{16,}/);
    expect((await system.api("DELETE", `/v1/hooks/${created.id}`)).status).toBe(204);
    expect(problems.filter((p) => !/\b400\b/.test(p))).toEqual([]);
    await context.close();
  });

  test("each hook's switch turns it off and on again (admin key); a read key's switches are disabled and say why", async () => {
    const made = await system.api("POST", "/v1/hooks", {
      integration: "generic-webhook",
      name: "Switchable",
      formVariables: { url: `${good.url}/switch` },
    });
    const hookId = made.json.id as string;
    const toggle = (page: Page) => page.locator(`#hooks-body tr[data-hook="${hookId}"] input.hook-toggle`);
    {
      const { context, page, problems } = await openWithKey(LAPTOP);
      expect(await toggle(page).isChecked()).toBe(true);
      expect(await page.locator("#hooks-read-only").isHidden()).toBe(true);
      const patched = page.waitForResponse(
        (response) =>
          response.request().method() === "PATCH" && response.url().endsWith(`/v1/hooks/${hookId}`),
      );
      await toggle(page).uncheck();
      expect((await patched).status()).toBe(200);
      expect((await system.api("GET", `/v1/hooks/${hookId}`)).json.on).toBe(false);
      // Drawn again from the stats: off, and the switch usable again.
      await page.locator(`#hooks-body tr[data-hook="${hookId}"] .badge:text-is("off")`).waitFor();
      await page
        .locator(`#hooks-body tr[data-hook="${hookId}"] input.hook-toggle:not(:checked):not([disabled])`)
        .waitFor();
      await toggle(page).check();
      await page.locator(`#hooks-body tr[data-hook="${hookId}"] .badge:text-is("healthy")`).waitFor();
      expect((await system.api("GET", `/v1/hooks/${hookId}`)).json.on).toBe(true);
      expect(problems).toEqual([]);
      await context.close();
    }
    for (const { name, options } of VIEWPORTS) {
      const { context, page, problems } = await openWithKey(options, READ_KEY);
      await page.locator("#hooks-read-only:not([hidden])").waitFor();
      await page
        .locator("#hooks-title")
        .locator("xpath=ancestor::section")
        .screenshot({
          path: new URL(`dashboard-hooks-read-only-${name}.png`, ARTIFACTS).pathname,
        });
      expect(await page.locator("#hooks-read-only").textContent()).toMatch(
        /needs a key with the admin scope/,
      );
      const switches = page.locator("#hooks-body input.hook-toggle");
      expect(await switches.count()).toBeGreaterThan(0);
      for (const one of await switches.all()) {
        expect(await one.isDisabled()).toBe(true);
        expect(await one.getAttribute("title")).toMatch(/admin scope/);
        expect(await one.getAttribute("aria-describedby")).toBe("hooks-read-only");
      }
      // Nothing was sent: no PATCH was even tried (a 403 would show among the problems).
      await toggle(page).click({ force: true });
      expect(await toggle(page).isChecked()).toBe(true);
      expect(problems).toEqual([]);
      await context.close();
    }
    expect((await system.api("DELETE", `/v1/hooks/${hookId}`)).status).toBe(204);
  });

  test("an opened delivery shows, on a laptop and a phone, each attempt's request as sent with its secrets masked, and the kept error body", async () => {
    const apiKey = "dash-keyed-api-key-000111";
    const made = await system.api("POST", "/v1/hooks", {
      integration: "dash-keyed",
      name: "Keyed archive",
      formVariables: { apiKey, region: "us" },
    });
    expect(made.status, JSON.stringify(made.json)).toBe(201);
    const hookId = made.json.id as string;
    const entryId = "dash-keyed-0001";
    const before = refusing.requests.length;
    expect(
      (await system.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: entryId }))).status,
    ).toBe(202);
    const deliveryId = `${hookId}.${entryId}`;
    await eventually(
      async () => (await system.api("GET", `/v1/deliveries/${deliveryId}`)).json?.status === "failed",
      10_000,
      "the keyed delivery failed",
    );
    const sent = refusing.requests.slice(before).find((request) => request.url?.startsWith("/us/in"))!;
    expect(sent.headers.authorization).toBe(`Bearer ${apiKey}`);
    const port = new URL(refusing.url).port;

    for (const { name, options } of VIEWPORTS) {
      const { context, page, problems } = await openWithKey(options);
      await page.goto(`${system.baseUrl}/#delivery=${encodeURIComponent(deliveryId)}`);
      const row = page.locator('#delivery-body tr[data-attempt="1"]');
      const request = row.locator("td[data-label='Request as sent'] details");
      await request.waitFor();
      await request.locator("summary").click();
      expect(await request.locator("summary").textContent()).toBe(
        `POST http://127.0.0.1:${port}/us/in?key=********`,
      );
      const names = await request.locator("dl dt").allTextContents();
      const values = await request.locator("dl dd").allTextContents();
      const headers = Object.fromEntries(names.map((header, i) => [header, values[i]]));
      expect(headers).toMatchObject({ "Content-Type": "application/json", Authorization: "Bearer ********" });
      // The body as the receiver got it.
      expect(await request.locator("pre.request-body").textContent()).toBe(sent.body);
      // The error answer, kept: the integration's URL host is fixed.
      const answer = row.locator("td[data-label=Answer]");
      expect(await answer.textContent()).toContain("HTTP 400");
      await answer.locator("summary").click();
      expect(await answer.locator("pre").textContent()).toBe('{"error":"project shop is archived"}');
      expect(await page.locator("#delivery-note").textContent()).toMatch(
        /Error answers' bodies are kept for this integration/,
      );
      // No form of the secret anywhere on the page.
      const html = await page.content();
      expect(html).not.toContain(apiKey);
      expect(html).not.toContain(encodeURIComponent(apiKey));
      expect(await overflowOf(page)).toBeLessThanOrEqual(0);
      expect(await clippedOf(page, "#delivery-panel")).toBe(0);
      await page.locator("#delivery-panel").scrollIntoViewIfNeeded();
      await page.screenshot({
        path: new URL(`dashboard-delivery-request-${name}.png`, ARTIFACTS).pathname,
        fullPage: true,
      });
      await page.locator("#delivery-panel").screenshot({
        path: new URL(`dashboard-delivery-request-panel-${name}.png`, ARTIFACTS).pathname,
      });
      expect(problems).toEqual([]);
      await context.close();
    }

    // A delivery of an integration whose host is not fixed: the page says its error bodies are not kept.
    const { context, page, problems } = await openWithKey(LAPTOP);
    await page.goto(
      `${system.baseUrl}/#delivery=${encodeURIComponent(`${hookIds["Archive (refuses)"]}.${failedEntry}`)}`,
    );
    await page.locator("#delivery-note:text-matches('not kept for this integration')").waitFor();
    expect(problems).toEqual([]);
    await context.close();
    expect((await system.api("DELETE", `/v1/hooks/${hookId}`)).status).toBe(204);
  });

  test("the main flow on a laptop and a phone, no console errors: a Slack hook made through the form, tested, an entry delivered and opened with its secret URL masked, a filtered entry traced, a replay counted, a bad policy shown beside its field", async () => {
    for (const { name, options } of VIEWPORTS) {
      const { context, page, problems } = await openWithKey(options);
      page.on("dialog", (dialog) => void dialog.accept());
      const secretPath = `/slack/T0/B0/main-flow-${name}`;
      // Made through the form: the secret URL in a password field, the boolean by its default.
      await page.locator("#hook-new").click();
      await page.locator("#hook-integration option[value=slack]").waitFor({ state: "attached" });
      await page.locator("#hook-integration").selectOption("slack");
      await page.locator("#hook-var-webhookUrl").waitFor();
      expect(await page.locator("#hook-var-webhookUrl").getAttribute("type")).toBe("password");
      await page.locator("#hook-name").fill(`Main flow (${name})`);
      await page.locator("#hook-var-webhookUrl").fill(`${good.url}${secretPath}`);
      await page.locator("#hook-save").click();
      await page.locator(`#hook-result:text-matches('^Created hook Main flow')`).waitFor();
      const hook = ((await system.api("GET", "/v1/hooks")).json.hooks as any[]).find(
        (hk) => hk.name === `Main flow (${name})`,
      );
      expect(hook.formVariables.webhookUrl).toBe("********");

      // Send test: the receiver's answer.
      await page.locator("#hook-test").click();
      await page.locator("#hook-result:text-matches('^Test answered: HTTP 200')").waitFor();
      expect(good.requests.at(-1)?.url).toBe(secretPath);

      // An entry by the API, its delivery opened: one attempt, the secret URL masked.
      const entryId = `dash-main-${name}`;
      expect(
        (await system.api("POST", "/v1/entries", entryFixture("flag-toggle", { _id: entryId }))).status,
      ).toBe(202);
      const deliveryId = `${hook.id}.${entryId}`;
      await eventually(
        async () => (await system.api("GET", `/v1/deliveries/${deliveryId}`)).json?.status === "succeeded",
        10_000,
        "the main flow's delivery succeeded",
      );
      await page.goto(`${system.baseUrl}/#delivery=${encodeURIComponent(deliveryId)}`);
      const attempt = page.locator('#delivery-body tr[data-attempt="1"]');
      await attempt.locator("td[data-label='Request as sent'] summary").waitFor();
      expect(await attempt.locator("td[data-label=Outcome]").textContent()).toBe("succeeded");
      expect(await attempt.locator("td[data-label='Request as sent'] summary").textContent()).toBe(
        `POST ${new URL(good.url).origin}/********`,
      );
      expect(await page.content()).not.toContain(secretPath);

      // A filtered entry traced: the policy's reason.
      const filteredId = `dash-main-filtered-${name}`;
      expect(
        (await system.api("POST", "/v1/entries", entryFixture("project-update", { _id: filteredId }))).status,
      ).toBe(202);
      await page.locator("#trace-input").fill(filteredId);
      await page.locator("#trace-form button[type=submit]").click();
      await page.locator(`#trace-summary:text-matches("^Entry ${filteredId},")`).waitFor();
      const traced = page.locator(`#trace-body tr[data-hook="${hook.id}"]`);
      expect(await traced.locator("td[data-label=Outcome]").textContent()).toBe("filtered");
      expect(await traced.textContent()).toMatch(/denied by default/);

      // Replay: the dry run's count first.
      await page.locator(`#hooks-body tr[data-hook="${hook.id}"] button.replay`).click();
      await page.locator("#replay-count").click();
      await page.locator("#replay-result:text-matches('^No failed delivery')").waitFor();
      expect(await page.locator("#replay-confirm").isHidden()).toBe(true);
      await page.locator("#replay-cancel").click();

      // The policy edited with a bad statement: the API's problem beside the field.
      await page.locator(`#hooks-body tr[data-hook="${hook.id}"] button.edit`).click();
      await page.locator("#hook-form[data-state=ready]").waitFor();
      expect(await page.locator("#hook-form-title").textContent()).toBe(`Edit Main flow (${name})`);
      await page.locator("#hook-policy").fill(JSON.stringify([{ effect: "allow", actions: ["*"] }]));
      await page.locator("#hook-save").click();
      const policyProblem = page.locator('#hook-form .field-problem[data-pointer="/policy"]');
      await policyProblem.waitFor();
      expect(await policyProblem.textContent()).toMatch(/resources/);
      expect(await overflowOf(page)).toBeLessThanOrEqual(0);
      // The card clips what is wider than it: the form must fit in it, on a phone too.
      expect(await clippedOf(page, "#hook-form")).toBe(0);
      await page.screenshot({
        path: new URL(`dashboard-main-flow-${name}.png`, ARTIFACTS).pathname,
        fullPage: true,
      });
      await page.locator("#hook-form").screenshot({
        path: new URL(`dashboard-main-flow-form-${name}.png`, ARTIFACTS).pathname,
      });

      await page.locator("#hook-delete").click();
      await page.locator(".toast.ok:text-matches('deleted')").waitFor();
      // The bad policy's 400 is the point of that step; nothing else may go wrong.
      expect(problems.filter((p) => !/\b400\b/.test(p))).toEqual([]);
      await context.close();
    }
  });

  test("an ordered hook held by a failed delivery shows why; a read key cannot let it go on, an admin sends it again", async () => {
    // A system of its own: an ordered hook whose receiver refuses the second entry until healed.
    let healed = false;
    const picky = await startReceiver((request, response) => {
      const refused = !healed && (JSON.parse(request.body) as { _id: string })._id === "dash-held-1";
      response.writeHead(refused ? 500 : 200).end();
    });
    const held = await startSystem({
      label: "dashboard-held",
      env: { HOOKWIRE_API_KEYS: `${READ_KEY}=read`, HOOKWIRE_RETRY_SCHEDULE: "0.05" },
    });
    try {
      const made = await held.api("POST", "/v1/hooks", {
        integration: "generic-webhook",
        name: "Ledger (ordered)",
        formVariables: { url: `${picky.url}/in` },
        delivery: { ordering: "fifo", onExhausted: "hold" },
      });
      const hookId = made.json.id as string;
      const entries = [0, 1, 2].map((i) =>
        entryFixture("flag-toggle", {
          _id: `dash-held-${i}`,
          timestamp: { milliseconds: 1_764_115_200_000 + i, seconds: 1_764_115_200, rfc3339: "", simple: "" },
        }),
      );
      expect((await held.api("POST", "/v1/entries", entries)).status).toBe(202);
      await eventually(
        async () => (await held.api("GET", `/v1/hooks/${hookId}/ordering`)).json?.held !== null,
        20_000,
        "the hook held",
      );

      for (const { name, options } of VIEWPORTS) {
        const { context, page, problems } = await openWithKey(options, READ_KEY, undefined, held.baseUrl);
        const row = page.locator(`#hooks-body tr[data-held="${hookId}"]`);
        await row.waitFor();
        expect(await row.textContent()).toContain(`${hookId}.dash-held-1`);
        expect(await page.locator(`#hooks-body tr[data-hook="${hookId}"] .badge`).textContent()).toBe("held");
        // The held one and the one behind it wait in its sequence, which no queue count shows.
        expect(
          await page.locator(`#hooks-body tr[data-hook="${hookId}"] .ordered-waiting`).textContent(),
        ).toBe("ordered · 2 waiting");
        expect(await page.locator("#kpi-queue .note").textContent()).toContain("2 in order");
        expect(await row.locator("button").count()).toBe(2);
        for (const button of await row.locator("button").all()) {
          expect(await button.isDisabled()).toBe(true);
          expect(await button.getAttribute("title")).toMatch(/admin scope/);
        }
        await row.screenshot({ path: new URL(`dashboard-held-${name}.png`, ARTIFACTS).pathname });
        expect(problems).toEqual([]);
        await context.close();
      }

      healed = true;
      const { context, page, problems } = await openWithKey(LAPTOP, held.apiKey, undefined, held.baseUrl);
      await page.locator(`#hooks-body tr[data-held="${hookId}"] button.held-retry`).click();
      await page.locator(".toast.ok").waitFor();
      await picky.waitFor((requests) => requests.filter((r) => r.body.includes("dash-held-2")).length === 1);
      // Delivered in order once it went on: the held one before the one behind it.
      const order = picky.requests.map((r) => (JSON.parse(r.body) as { _id: string })._id);
      expect(order.slice(-2)).toEqual(["dash-held-1", "dash-held-2"]);
      await page.locator(`#hooks-body tr[data-held="${hookId}"]`).waitFor({ state: "detached" });
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await held.close();
      await picky.close();
    }
  });

  test("every list pages with the API's cursors: failed deliveries, a hook's deliveries and the hooks, past one page", async () => {
    // A system of its own: 25 failed deliveries of one hook (its circuit kept shut) and 22 more hooks.
    const refusingAll = await startReceiver((_request, response) => {
      response.writeHead(422).end("no");
    });
    const paging = await startSystem({
      label: "dashboard-paging",
      env: { HOOKWIRE_CIRCUIT_FAILURES: "1000" },
    });
    try {
      const pager = await paging.api("POST", "/v1/hooks", {
        integration: "generic-webhook",
        name: "Pager",
        formVariables: { url: `${refusingAll.url}/in` },
        delivery: { retrySchedule: [] },
      });
      const pagerId = pager.json.id as string;
      for (let i = 0; i < 22; i++) {
        const made = await paging.api("POST", "/v1/hooks", {
          integration: "generic-webhook",
          name: `Quiet ${String(i).padStart(2, "0")}`,
          on: false,
          formVariables: { url: `${good.url}/quiet` },
        });
        expect(made.status).toBe(201);
      }
      const entries = Array.from({ length: 25 }, (_, i) =>
        entryFixture("flag-toggle", { _id: `dash-page-${i}` }),
      );
      expect((await paging.api("POST", "/v1/entries", entries)).status).toBe(202);
      await eventually(
        async () => {
          const first = (await paging.api("GET", "/v1/deliveries?status=failed&limit=500")).json;
          return first?.deliveries.length === 25;
        },
        20_000,
        "25 failed deliveries",
      );

      for (const { name, options } of VIEWPORTS) {
        const { context, page, problems } = await openWithKey(
          options,
          paging.apiKey,
          undefined,
          paging.baseUrl,
        );
        // Failed deliveries: a page of 20, then the rest by the cursor.
        expect(await page.locator("#failed-body tr").count()).toBe(20);
        expect(await page.locator("#failed-count").textContent()).toBe("20+");
        const next = page.waitForResponse((response) => /status=failed.*cursor=/.test(response.url()));
        await page.locator("#failed-more").click();
        expect((await next).status()).toBe(200);
        await page.locator("#failed-more-row[hidden]").waitFor({ state: "attached" });
        expect(await page.locator("#failed-body tr").count()).toBe(25);
        expect(await page.locator("#failed-count").textContent()).toBe("25");
        const ids = await page
          .locator("#failed-body tr")
          .evaluateAll((rows) =>
            rows.map((row) => (row as unknown as { dataset: { delivery: string } }).dataset.delivery),
          );
        expect(new Set(ids).size).toBe(25);

        // The hooks: 20 rows, then the rest.
        expect(await page.locator("#hooks-body tr").count()).toBe(20);
        expect(await page.locator("#hooks-shown").textContent()).toBe("20 of 23 shown");
        await page.locator("#hooks-more").click();
        expect(await page.locator("#hooks-body tr").count()).toBe(23);
        expect(await page.locator("#hooks-more-row").isHidden()).toBe(true);

        // One hook's deliveries, by its cursor.
        await page.locator(`#hooks-body tr[data-hook="${pagerId}"] button.deliveries`).click();
        await page.locator("#hook-deliveries-body tr").first().waitFor();
        expect(await page.locator("#hook-deliveries-title").textContent()).toBe("Deliveries of Pager");
        expect(await page.locator("#hook-deliveries-body tr").count()).toBe(20);
        const more = page.waitForResponse((response) => /hookId=.*cursor=/.test(response.url()));
        await page.locator("#hook-deliveries-more").click();
        expect((await more).status()).toBe(200);
        await page.locator("#hook-deliveries-more-row[hidden]").waitFor({ state: "attached" });
        expect(await page.locator("#hook-deliveries-body tr").count()).toBe(25);
        expect(await page.locator("#hook-deliveries-body td[data-label=Status]").allTextContents()).toEqual(
          Array(25).fill("failed"),
        );
        // A row opens its delivery.
        await page.locator("#hook-deliveries-body tr a.delivery-link").first().click();
        await page.locator("#delivery-body tr td[data-label=Outcome]").first().waitFor();
        expect(await page.locator("#delivery-body td[data-label=Answer]").first().textContent()).toContain(
          "HTTP 422",
        );
        expect(await overflowOf(page)).toBeLessThanOrEqual(0);
        for (const panel of ["#failed-table", "#hook-deliveries-panel", "#delivery-panel"])
          expect(await clippedOf(page, panel), panel).toBe(0);
        await page.locator("#hook-deliveries-panel").scrollIntoViewIfNeeded();
        await page.screenshot({
          path: new URL(`dashboard-paging-${name}.png`, ARTIFACTS).pathname,
          fullPage: true,
        });
        expect(problems).toEqual([]);
        await context.close();
      }
    } finally {
      await paging.close();
      await refusingAll.close();
    }
  });

  test("the queue view is read-only unless configured otherwise", async () => {
    const basic = { authorization: `Basic ${Buffer.from(`admin:${system.apiKey}`).toString("base64")}` };
    const queues = await fetch(`${system.baseUrl}/admin/queues/api/queues`, { headers: basic });
    expect(queues.status).toBe(200);
    const [queue] = ((await queues.json()) as { queues: { name: string; readOnlyMode: boolean }[] }).queues;
    expect(queue).toMatchObject({ name: "deliveries", readOnlyMode: true });
    const cleaned = await fetch(`${system.baseUrl}/admin/queues/api/queues/deliveries/clean/failed`, {
      method: "PUT",
      headers: basic,
    });
    expect(cleaned.status).toBeGreaterThanOrEqual(400);
  });
});
