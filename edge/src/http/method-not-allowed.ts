import type { Hono } from "hono";
import { PatternRouter } from "hono/router/pattern-router";

/**
 * Which methods an app's routes take on a path, for `405 Method Not Allowed` with `Allow`
 * (RFC 9110 §15.5.6) instead of a 404 that would tell a client the resource does not exist.
 * Built once from the app's own route table, so a new route is covered without a list here.
 * Middleware (method ALL) is not a route and never counts.
 */
export function allowedMethods(app: Pick<Hono, "routes">): (path: string) => string[] {
  let router: PatternRouter<string> | undefined;
  return (path) => {
    if (!router) {
      router = new PatternRouter<string>();
      for (const route of app.routes) {
        if (route.method !== "ALL") router.add("ALL", route.path, route.method);
      }
    }
    const [matches] = router.match("GET", path);
    const methods = new Set(matches.map(([method]) => method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}
