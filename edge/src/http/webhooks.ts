import { Hono } from "hono";
import { edgeConfig, type Env } from "../env.ts";
import { accountWebhookSecret } from "../webhooks/account.ts";
import { requireApiKey, type AuthVariables } from "./auth.ts";

/**
 * `GET /v1/webhook_secret`: the secret this account's webhooks are signed with (Standard
 * Webhooks: verify `webhook-signature` over `webhook-id.webhook-timestamp.body`).
 */
export const webhookSecret = new Hono<{ Bindings: Env; Variables: AuthVariables }>();

webhookSecret.get("/webhook_secret", requireApiKey, async (c) => {
  const secret = await accountWebhookSecret(edgeConfig(c.env).REELMESH_WEBHOOK_SECRET, c.get("accountId"));
  c.header("cache-control", "no-store");
  return c.json({ secret, scheme: "standard-webhooks/v1" });
});
