import { type Hook, oauthTokensDigest, REDACTED } from "@hookwire/store";
import { describe, expect, test } from "vitest";
import { patchedOAuth } from "./hooks";

/** A token-grant hook as stored after a refresh rotated the tokens it was given. */
const refreshed = {
  grant: "token" as const,
  accessToken: "at-2",
  refreshToken: "rt-2",
  expiresAt: "2030-01-01T00:00:00.000Z",
  tokenUrl: "https://idp.example/token",
  clientId: "c",
  baseURI: "https://api.example",
};
const given = oauthTokensDigest({ ...refreshed, accessToken: "at-1", refreshToken: "rt-1" });
const stored = { oauth: refreshed, oauthGiven: given } as unknown as Hook;

describe("the OAuth settings a PATCH leaves, decided on the hook as stored at the write", () => {
  test("no oauth in the patch keeps the stored settings whole, not those read before a refresh", () => {
    expect(patchedOAuth(undefined, { ...refreshed, refreshToken: "rt-1" }, stored)).toEqual({
      oauth: refreshed,
      oauthGiven: given,
    });
  });

  test("tokens sent back as ******** are the stored ones, with their expiry, still counted as given before", () => {
    const sent = { ...refreshed, accessToken: REDACTED, refreshToken: REDACTED, scope: "read" };
    // What the draft held: the tokens as read before the refresh, an expiry from then.
    const checked = {
      ...sent,
      accessToken: "at-1",
      refreshToken: "rt-1",
      expiresAt: "2020-01-01T00:00:00.000Z",
    };
    expect(patchedOAuth(sent, checked, stored)).toEqual({
      oauth: { ...refreshed, scope: "read" },
      oauthGiven: given,
    });
  });

  test("new tokens replace the stored ones and are what was given from now on", () => {
    const sent = { ...refreshed, accessToken: "at-9", refreshToken: "rt-9" };
    const { oauth, oauthGiven } = patchedOAuth(sent, sent, stored);
    expect(oauth).toEqual(sent);
    expect(oauthGiven).toBe(oauthTokensDigest(sent));
  });

  test("oauth: null removes the settings", () => {
    expect(patchedOAuth(null, undefined, stored)).toEqual({ oauth: undefined, oauthGiven: undefined });
  });
});
