import type { ProtectionBackend } from "./protection.ts";

/**
 * ECS task scale-in protection through the container agent's endpoint, which ECS injects into
 * every task as ECS_AGENT_URI: `PUT $ECS_AGENT_URI/task-protection/v1/state`. The agent answers
 * `{"protection": {...}}` when ECS accepted the change and `{"failure": ...}` or `{"error": ...}`
 * when it did not (sometimes with a 200), so the body decides, not only the status.
 */
const CALL_TIMEOUT_MS = 5_000;
/** ECS accepts 1 to 2,880 minutes (48 h). */
const ECS_EXPIRY_MINUTES = { min: 1, max: 2_880 } as const;

export function ecsTaskProtection(agentUri: string, fetchImpl: typeof fetch = fetch): ProtectionBackend {
  const url = `${agentUri.replace(/\/+$/, "")}/task-protection/v1/state`;
  return {
    name: "ecs",
    async set(busy, expiresInMinutes) {
      const minutes = Math.min(ECS_EXPIRY_MINUTES.max, Math.max(ECS_EXPIRY_MINUTES.min, Math.round(expiresInMinutes)));
      const body = busy ? { ProtectionEnabled: true, ExpiresInMinutes: minutes } : { ProtectionEnabled: false };
      const res = await fetchImpl(url, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
      const text = await res.text();
      const answer = (() => {
        try {
          return JSON.parse(text) as Record<string, unknown>;
        } catch {
          return null;
        }
      })();
      if (!res.ok || !answer || !("protection" in answer) || "failure" in answer || "error" in answer)
        throw new Error(`ECS agent answered ${res.status}: ${text.slice(0, 300)}`);
    },
  };
}
