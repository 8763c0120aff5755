import { describe, expect, it } from "vitest";
import { frameSize } from "../models.ts";
import { CreateVideoRequestSchema } from "./request.ts";

describe("the create-video request", () => {
  it("fills defaults for a prompt alone", () => {
    expect(CreateVideoRequestSchema.parse({ prompt: "  a red ball  " })).toEqual({
      prompt: "a red ball",
      model: "reelmesh-ref-tiny",
      duration_s: 4,
      aspect_ratio: "9:16",
      tier: "standard",
      cache: "auto",
      dry_run: false,
    });
  });

  it("rejects unknown fields instead of ignoring them", () => {
    const r = CreateVideoRequestSchema.safeParse({ prompt: "a", duration: 4 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.code).toBe("unrecognized_keys");
  });

  it("rejects a fractional or string duration and an out-of-range seed", () => {
    expect(CreateVideoRequestSchema.safeParse({ prompt: "a", duration_s: 2.5 }).success).toBe(false);
    expect(CreateVideoRequestSchema.safeParse({ prompt: "a", duration_s: "4" }).success).toBe(false);
    expect(CreateVideoRequestSchema.safeParse({ prompt: "a", seed: 2 ** 32 }).success).toBe(false);
  });
});

describe("frame sizes", () => {
  it("gives even sizes with a long side that is a multiple of 16", () => {
    expect(frameSize(144, "9:16")).toEqual({ width: 144, height: 256 });
    expect(frameSize(144, "16:9")).toEqual({ width: 256, height: 144 });
    expect(frameSize(720, "1:1")).toEqual({ width: 720, height: 720 });
  });
});
