import { compileTemplate } from "@hookwire/templates";
import { describe, expect, test } from "vitest";
import type { FormVariable } from "./integration";
import { urlHostIsFixed } from "./url-host";

const variables: FormVariable[] = [
  { key: "token", name: "Token", type: "string", isSecret: true },
  { key: "url", name: "URL", type: "uri" },
  { key: "region", name: "Region", type: "enum", allowedValues: ["eu", "us"] },
  {
    key: "site",
    name: "Site",
    type: "enum",
    allowedValues: ["https://api.example.com", "https://api.example.eu"],
  },
];

describe("urlHostIsFixed", () => {
  test.each([
    ["https://api.example.com/v1/{{token}}", true],
    ["https://api.example.com?key={{token}}", true],
    ["https://api.example.com#{{token}}", true],
    ["https://api.example.com", true],
    ["https://{{region}}.example.com/v1", true],
    ["{{site}}/api/v1/events", true],
    ["{{site}}", true],
    ["{{region}}.example.com/v1", false],
    ["https://{{#if region}}{{region}}.api.example.com{{else}}api.example.com{{/if}}/v2/events", true],
    ["https://{{#unless region}}api.example.com{{else}}{{token}}{{/unless}}/v2", false],
    ["https://{{#equal region 'eu'}}eu.example.com{{/equal}}/x", true],
    ["https://{{#if token}}{{token}}{{/if}}api.example.com/x", false],
    ["https://{{token}}:{{token}}@api.example.com/x", false],
    ["https://{{#each list}}a{{/each}}.example.com/x", false],
    ["{{url}}/api", false],
    ["{{{url}}}", false],
    ["https://{{token}}.example.com/", false],
    ["https://example.com{{token}}", false],
    ["https://example.com.{{region}}{{token}}/x", false],
    ["{{#if region}}https://a.example.com/{{/if}}", false],
    ["{{oauth.baseURI}}/events", false],
    ["{{context.baseURL}}/x", false],
  ])("%s → %s", (url, fixed) => {
    expect(urlHostIsFixed(compileTemplate(url, `url-host-test/${url}`), variables)).toBe(fixed);
  });
});
