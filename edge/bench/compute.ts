import { newJobId } from "../../shared/ids.ts";
import { MODELS, frameSize } from "../../shared/models.ts";
import { quote } from "../../shared/pricing.ts";
import { CreateVideoRequestSchema } from "../../shared/schemas/request.ts";
import { contentAddress, normalizePromptForCache } from "../src/cache/address.ts";
import { moderate } from "../src/safety/moderate.ts";

/**
 * The edge's own compute on the create path, timed in this process (V8, as in workerd), with no
 * I/O: what a create does besides its one Durable Object call. Per request: the API key's
 * SHA-256 (auth; a cached key is a map lookup after it), the body parsed and validated against
 * the request schema, prompt safety, the model's rules, the three prices, the content address,
 * the job id, the playback token's HMAC-SHA256 and the answer serialised. The same functions the
 * edge runs (edge/src/jobs/admission.ts composes them with the Durable Object call between),
 * called directly: admission.ts itself imports the Workers runtime, which Node does not have (the
 * token's HMAC is WebCrypto's, as playback/token.ts signs it, with its key imported once).
 */
export async function createCompute(n: number): Promise<{ p50_ms: number; p99_ms: number; n: number }> {
  const key = "rm_live_" + "k".repeat(43);
  const secret = "bench-playback-secret-0123456789abcdef";
  const bodies = [
    '{"prompt":"a red ball bouncing on the grass at sunset","duration_s":4,"seed":7}',
    '{"prompt":"一只红色的球在草地上弹跳","duration_s":8,"tier":"economy"}',
    '{"prompt":"a blue square sliding left over a wooden floor, slow motion","duration_s":2,"seed":3,"steps":20}',
  ];
  const hmac = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const times: number[] = [];
  for (let i = 0; i < n + 200; i++) {
    const t0 = performance.now();
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
    const parsed = CreateVideoRequestSchema.safeParse(JSON.parse(bodies[i % bodies.length]!));
    if (!parsed.success) throw new Error("bench body is invalid");
    const req = parsed.data;
    if (moderate(req.prompt).flagged) throw new Error("bench prompt flagged");
    const spec = MODELS[req.model];
    const resolution = req.resolution ?? spec.defaultResolution;
    const shortSide = (spec.resolutions as Record<string, number>)[resolution]!;
    const size = frameSize(shortSide, req.aspect_ratio);
    const pricing = { duration_s: req.duration_s, steps: req.steps ?? spec.defaultSteps, short_side: shortSide, tier: req.tier };
    const prices = [quote(pricing), quote(pricing, "joined"), quote(pricing, "hit")];
    const address =
      req.seed === undefined
        ? null
        : await contentAddress({
            account: "acct_bench",
            model: req.model,
            prompt: normalizePromptForCache(req.prompt),
            seed: req.seed,
            ...size,
          });
    const id = newJobId();
    const exp = Math.floor(Date.now() / 1000) + 6 * 3600;
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(`play.${id}.${exp}.acct_bench`)));
    const token = `${exp}.acct_bench.${Array.from(mac.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("")}`;
    JSON.stringify({
      id,
      req,
      prices,
      address,
      size,
      playback: { signed_hls_url: `https://api.example/v1/videos/${id}/stream.m3u8?token=${token}` },
    });
    if (i >= 200) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => Math.round(times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]! * 1000) / 1000;
  return { p50_ms: at(50), p99_ms: at(99), n };
}
