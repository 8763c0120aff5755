import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CLASSES, classify, decodeModel, featureSlots } from "../../edge/src/safety/classifier.ts";
import { MODEL, TRAINED_ON } from "../../edge/src/safety/model/weights.data.ts";

/** The shipped classifier is the one its data and script produce, and it behaves as a model should. */
describe("prompt-safety classifier", () => {
  it("ships the weights that training on the committed data gives (no hand-edited model)", () => {
    const run = spawnSync(process.execPath, ["infra/safety/train-classifier.ts", "--check"], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("never trains on a held-out set", () => {
    for (const s of TRAINED_ON.sources) {
      if (s.name.includes("prompts.jsonl")) expect(s.name).toMatch(/\(dev\)$/);
      expect(s.name).not.toContain("blind-v5");
      expect(s.name).not.toContain("minors");
    }
  });

  it("decodes, hashes the normal form, and scores like its training", () => {
    const model = decodeModel(MODEL);
    expect(model.weights.length).toBe(CLASSES.length * model.buckets);
    expect(model.thresholds.length).toBe(CLASSES.length);
    for (const t of model.thresholds.slice(1)) {
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThan(1);
    }
    // With a minor in the prompt, the sexual class is held to a lower threshold.
    expect(model.minorSexualThreshold).toBeLessThanOrEqual(model.thresholds[CLASSES.indexOf("sexual")]!);
    // Look-alikes and separators fold before hashing: the same features.
    expect([...featureSlots("Ｋ i l l", model.buckets)].sort()).toEqual([...featureSlots("kill", model.buckets)].sort());
    expect(classify(model, "a golden retriever puppy playing in autumn leaves, slow motion").flagged).toBe(false);
    expect(classify(model, "a sunrise timelapse over the mountains").flagged).toBe(false);
  });
});
