import { DeliveryError } from "./errors";

/**
 * Delays, in seconds, before each retry: the n-th entry is waited after the n-th failed attempt,
 * so a delivery makes at most `length + 1` attempts. 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h:
 * a receiver down for a day and a half still gets everything.
 */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = Object.freeze([
  5, 300, 1800, 7200, 18000, 36000, 36000,
]);

/** Longest single delay accepted: beyond a week the delivery is better dead-lettered and replayed. */
const maxDelaySeconds = 7 * 24 * 3600;
const maxRetries = 100;

/**
 * Parses `HOOKWIRE_RETRY_SCHEDULE`-style text: comma-separated whole seconds, e.g. "5,300,1800".
 * An empty text means "no retries". Throws DELIVERY_ERR_BAD_SCHEDULE naming the bad item.
 */
export function parseRetrySchedule(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const items = trimmed.split(",");
  if (items.length > maxRetries) {
    throw new DeliveryError(
      "DELIVERY_ERR_BAD_SCHEDULE",
      `retry schedule "${text}" has ${items.length} delays; at most ${maxRetries} are allowed`,
    );
  }
  return items.map((raw, index) => {
    const item = raw.trim();
    const seconds = Number(item);
    if (!/^\d+$/.test(item) || seconds > maxDelaySeconds) {
      throw new DeliveryError(
        "DELIVERY_ERR_BAD_SCHEDULE",
        `retry schedule "${text}": item ${index + 1} ("${item}") must be a whole number of seconds ` +
          `from 0 to ${maxDelaySeconds} (7 days), e.g. "5,300,1800"`,
      );
    }
    return seconds;
  });
}
