/**
 * A request's content address (the cache key of identical requests, cache/content.ts): pure
 * functions, no runtime bindings.
 */
/** Lowercase hex SHA-256 of the canonical (sorted-key) JSON of `value`. */
export async function contentAddress(value: Record<string, unknown>): Promise<string> {
  const canonical = JSON.stringify(value, Object.keys(value).sort());
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Prompt text as the cache compares it: NFKC, trimmed, runs of whitespace collapsed. */
export function normalizePromptForCache(text: string): string {
  return text.normalize("NFKC").trim().replace(/\s+/g, " ");
}
