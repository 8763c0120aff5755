import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureReferenceModel } from "../reference-model/ensure.ts";
import type { ModelManifest } from "./manifest.ts";
import { loadModel, ModelPackageError } from "./model.ts";
import { parseProviders } from "./runtime.ts";

let source: string;
let work: string;

beforeAll(async () => {
  source = await ensureReferenceModel();
  work = await mkdtemp(join(tmpdir(), "reelmesh-model-"));
}, 60_000);
afterAll(() => rm(work, { recursive: true, force: true }));

async function copyWith(name: string, edit: (m: ModelManifest, dir: string) => Promise<void> | void): Promise<string> {
  const dir = join(work, name);
  await cp(source, dir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(dir, "model.json"), "utf8")) as ModelManifest;
  await edit(manifest, dir);
  await writeFile(join(dir, "model.json"), JSON.stringify(manifest));
  return dir;
}

const cpu = { providers: ["cpu" as const], allowCpuFallback: false };

describe("loading a model package", () => {
  it("loads the reference model on the CPU provider", async () => {
    const model = await loadModel(source, cpu);
    expect(model.provider).toBe("cpu");
    expect(model.manifest.latent).toMatchObject({ channels: 4, frames: 14 });
    expect(model.manifest.conditioning_frames).toBe(2);
    await model.release();
  });

  it("refuses a graph whose bytes do not match the manifest's checksum", async () => {
    const dir = await copyWith("tampered", async (_m, d) => {
      const file = join(d, "vae_decoder/model.onnx");
      const bytes = await readFile(file);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
      await writeFile(file, bytes);
    });
    await expect(loadModel(dir, cpu)).rejects.toThrow(/vae_decoder\/model\.onnx: sha256 .* does not match/);
  });

  it("says exactly which input does not match the graph", async () => {
    const renamed = await copyWith("renamed", (m) => {
      m.graphs.denoiser.inputs[1]!.name = "t";
    });
    await expect(loadModel(renamed, cpu)).rejects.toThrow(/denoiser: input "t" is missing.*graph input "timestep" is not in the manifest/);
    const retyped = await copyWith("retyped", (m) => {
      m.graphs.denoiser.inputs[1]!.dtype = "int64";
    });
    await expect(loadModel(retyped, cpu)).rejects.toThrow(/input "timestep" is float32, manifest says int64/);
    const reshaped = await copyWith("reshaped", (m) => {
      m.graphs.vae_decoder.inputs[0]!.shape[1] = 16;
    });
    await expect(loadModel(reshaped, cpu)).rejects.toBeInstanceOf(ModelPackageError);
  });

  it("names the valid execution providers when given a wrong one", () => {
    expect(parseProviders("cuda, cpu")).toEqual(["cuda", "cpu"]);
    expect(() => parseProviders("cuda,metal")).toThrow(/unknown execution provider\(s\) "metal"; valid: cuda, tensorrt, cpu/);
  });

  it("fails on CUDA without its libraries unless CPU fallback is allowed", async () => {
    await expect(loadModel(source, { providers: ["cuda"], allowCpuFallback: false })).rejects.toThrow(/could not create a session/);
    const logged: string[] = [];
    const model = await loadModel(source, { providers: ["cuda"], allowCpuFallback: true, log: (msg) => logged.push(msg) });
    expect(model.provider).toBe("cpu");
    expect(logged).toContain("falling back to the CPU execution provider");
    await model.release();
  });
});

describe("the manifest's own geometry", () => {
  it("must agree with its tensor specs", async () => {
    const dir = await copyWith("geometry", (m) => {
      m.latent.height = 32;
      m.conditioning_frames = 14;
    });
    await expect(loadModel(dir, cpu)).rejects.toThrow(
      /conditioning_frames \(14\) must be fewer than latent.frames \(14\).*denoiser: "sample" dim 3 is 64, latent.height is 32/,
    );
  });
});
