import { Hono } from "hono";
import { ADMIN_PARAMETERS, ADMIN_SECURITY_SCHEMES, ADMIN_TAG, adminPaths } from "./admin.ts";
import { IDEMPOTENCY_KEY_PARAMETER } from "./common.ts";
import { componentSchemas } from "./components.ts";
import { DOCS_HTML } from "./docs.ts";
import { PUBLIC_PARAMETERS, PUBLIC_SECURITY_SCHEMES, PUBLIC_TAGS, publicPaths, webhooks } from "./public.ts";

export {
  AccountDetailSchema,
  AccountListSchema,
  AccountSchema,
  ApiKeyListSchema,
  ApiKeySchema,
  CostReportSchema,
  CreatedAccountSchema,
  CreatedApiKeySchema,
  CreditsResultSchema,
} from "./admin.ts";
export { ProblemSchema } from "./common.ts";
export { ModerationResultSchema, QuoteSchema, VideoSchema } from "./public.ts";

/** The API as OpenAPI 3.1, generated from zod schemas (the handlers' own for request bodies, mirrors of what they return for responses): `GET /openapi.json`, and a self-contained page rendering it at `GET /docs` (no CDN: the service may run offline). */

/** package.json is not importable inside workerd; keep in step with the API's version by hand. */
const API_VERSION = "1.0.0";

/** The OpenAPI 3.1 document, built fresh from the schemas. */
export function openApiDocument(): object {
  return {
    openapi: "3.1.0",
    info: {
      title: "reelmesh",
      version: API_VERSION,
      description:
        "Text-to-video for short-video apps: create a video, follow it by SSE or webhook, and play it over HLS while it is still being generated. Errors are RFC 9457 problem+json with stable codes.",
    },
    servers: [{ url: "/" }],
    tags: [...PUBLIC_TAGS, ADMIN_TAG],
    paths: { ...publicPaths(), ...adminPaths() },
    webhooks: webhooks(),
    components: {
      schemas: componentSchemas(),
      parameters: { ...PUBLIC_PARAMETERS, ...ADMIN_PARAMETERS, IdempotencyKey: IDEMPOTENCY_KEY_PARAMETER },
      securitySchemes: { ...PUBLIC_SECURITY_SCHEMES, ...ADMIN_SECURITY_SCHEMES },
    },
  };
}

let served: string | undefined;

export const openapi = new Hono();

openapi.get("/openapi.json", (c) => {
  served ??= JSON.stringify(openApiDocument());
  return c.body(served, 200, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "public, max-age=300",
    "access-control-allow-origin": "*",
  });
});

openapi.get("/docs", (c) =>
  c.html(DOCS_HTML, 200, {
    "cache-control": "public, max-age=300",
    // Inline script and style only; the page fetches nothing but /openapi.json.
    "content-security-policy":
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'",
  }),
);
