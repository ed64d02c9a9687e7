import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it); CHROMIUM_PATH to use another. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const chromiumAvailable = existsSync(CHROMIUM_PATH);

/** Headless Chromium with nothing that phones home or needs a GPU or a sandbox (containers). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Everything a page reports as wrong: console errors, uncaught exceptions, failed requests and
 * answers of 400 or more (a missing asset shows here even when the page hides it).
 */
export function watchPage(page: Page, allow: (problem: string) => boolean = () => false): string[] {
  const problems: string[] = [];
  const add = (problem: string) => {
    if (!allow(problem)) problems.push(problem);
  };
  page.on("console", (message) => {
    if (message.type() === "error") add(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => add(`page error: ${error.message}`));
  page.on("requestfailed", (request) =>
    add(`request failed: ${request.url()} ${request.failure()?.errorText}`),
  );
  page.on("response", (response) => {
    if (response.status() >= 400)
      add(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return problems;
}
