import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { checkFormValues, coerceFormValue, placeholderFormValues } from "./form-values";
import type { FormVariable, Integration } from "./integration";
import { loadIntegration } from "./loader";

let integration: Integration;
beforeAll(async () => {
  const loaded = await loadIntegration(join(import.meta.dirname, "fixtures", "valid"));
  if (loaded.integration === undefined) throw new Error("the valid fixture did not load");
  integration = loaded.integration;
});

const withVariables = (formVariables: FormVariable[]): Integration => ({ ...integration, formVariables });

describe("checkFormValues", () => {
  test("accepts good values and applies defaults", () => {
    const { values, errors } = checkFormValues(integration, {
      url: "https://example.com/hook",
      token: "t0k",
    });
    expect(errors).toEqual([]);
    expect(values).toEqual({ url: "https://example.com/hook", token: "t0k", region: "eu", quiet: false });
  });

  test("a given value wins over the default", () => {
    const { values } = checkFormValues(integration, {
      url: "https://x.test",
      token: "t",
      region: "us",
      quiet: true,
    });
    expect(values).toMatchObject({ region: "us", quiet: true });
  });

  test("required variables must be present and not empty", () => {
    const { errors } = checkFormValues(integration, { token: "" });
    expect(errors).toEqual([
      { pointer: "/url", message: "is required (URL)" },
      { pointer: "/token", message: "is required (Token)" },
    ]);
  });

  test("enums within allowedValues", () => {
    const { errors } = checkFormValues(integration, { url: "https://x.test", token: "t", region: "ap" });
    expect(errors).toEqual([{ pointer: "/region", message: 'must be one of "eu", "us" (Region)' }]);
  });

  test("booleans boolean", () => {
    const { errors } = checkFormValues(integration, { url: "https://x.test", token: "t", quiet: "false" });
    expect(errors).toEqual([{ pointer: "/quiet", message: "must be true or false (Quiet)" }]);
  });

  test("strings strings, and the message never shows the value", () => {
    const { errors } = checkFormValues(integration, { url: "https://x.test", token: 12345 });
    expect(errors).toEqual([{ pointer: "/token", message: "must be a string (Token)" }]);
    expect(JSON.stringify(errors)).not.toContain("12345");
  });

  test("URIs absolute http(s) URLs", () => {
    expect(checkFormValues(integration, { url: "example.com", token: "t" }).errors).toEqual([
      { pointer: "/url", message: "must be an absolute URL (URL)" },
    ]);
    expect(checkFormValues(integration, { url: "ftp://example.com", token: "t" }).errors).toEqual([
      { pointer: "/url", message: "must be an http or https URL (URL)" },
    ]);
  });

  test("unknown keys are rejected, with the key escaped in the pointer", () => {
    const { errors } = checkFormValues(integration, { url: "https://x.test", token: "t", "a/b~c": "x" });
    expect(errors).toEqual([
      { pointer: "/a~1b~0c", message: "is not a form variable of the valid integration" },
    ]);
  });

  test("the values must be an object", () => {
    expect(checkFormValues(integration, ["x"]).errors).toEqual([
      { pointer: "", message: "the form values must be an object of key to value" },
    ]);
    expect(checkFormValues(withVariables([]), undefined)).toEqual({ values: {}, errors: [] });
  });

  test("a boolean without default left out is false, as an unticked box", () => {
    const box = withVariables([{ key: "skip", name: "Skip", type: "boolean" }]);
    expect(checkFormValues(box, {})).toEqual({ values: { skip: false }, errors: [] });
  });

  test("an optional string left empty stays empty, one left out stays out", () => {
    const optional = withVariables([{ key: "note", name: "Note", type: "string", isOptional: true }]);
    expect(checkFormValues(optional, { note: "" }).values).toEqual({ note: "" });
    expect(checkFormValues(optional, {}).values).toEqual({});
  });

  test("generated and oauth variables are never asked of the user", () => {
    const generated = withVariables([{ key: "signing", name: "Signing", type: "generated" }]);
    expect(checkFormValues(generated, {}).errors).toEqual([]);
  });
});

describe("placeholderFormValues", () => {
  test("given values, then defaults, then the framework preview's placeholders", () => {
    expect(placeholderFormValues(integration, { token: "mine" })).toEqual({
      url: "$URL",
      token: "mine",
      region: "eu",
      quiet: false,
    });
    const box = withVariables([{ key: "hideMemberDetails", name: "Hide", type: "boolean" }]);
    expect(placeholderFormValues(box)).toEqual({ hideMemberDetails: true });
  });
});

describe("coerceFormValue", () => {
  const flag: FormVariable = { key: "b", name: "B", type: "boolean" };
  const text: FormVariable = { key: "s", name: "S", type: "string" };
  test.each([
    ["false", false],
    ["False", false],
    ["no", false],
    ["0", false],
    ["true", true],
    ["yes", true],
    ["1", true],
    ["maybe", undefined],
  ])("boolean %s → %s", (input, expected) => {
    expect(coerceFormValue(flag, input)).toBe(expected);
  });

  test("other types keep the text", () => {
    expect(coerceFormValue(text, "false")).toBe("false");
  });
});
