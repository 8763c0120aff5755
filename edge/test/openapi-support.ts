import { Hono } from "hono";
import { expect } from "vitest";
import { openapi } from "../src/http/openapi/index.ts";

/** What the OpenAPI tests share: the sub-app serving the document, fetching it, and following its JSON pointers and references. */

/** The sub-app mounted on its own, as app.ts will: `app.route("/", openapi)`. */
export const app = new Hono().route("/", openapi);

export type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
export const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** Resolves a local JSON pointer (`#/a/b~1c`), or undefined. */
export function pointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith("#")) return undefined;
  if (ref === "#") return doc;
  if (!ref.startsWith("#/")) return undefined;
  let at: unknown = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(at) && !Array.isArray(at)) return undefined;
    if (!Object.hasOwn(at, key)) return undefined;
    at = (at as Json)[key];
  }
  return at;
}

/** A Reference Object's target (following chains), or the object itself. */
export function deref(doc: unknown, node: unknown): unknown {
  for (let i = 0; i < 16 && isObject(node) && typeof node.$ref === "string"; i++) node = pointer(doc, node.$ref);
  return node;
}

export async function served(): Promise<Json> {
  const res = await app.request("/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return await res.json<Json>();
}
