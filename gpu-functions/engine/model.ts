import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ModelManifestSchema, type GraphSpec, type ModelManifest } from "./manifest.ts";
import { OrtHost, type RemoteSession } from "./ort-host.ts";
import type { ExecutionProvider, RuntimeOptions, ort } from "./runtime.ts";
import { WordTokenizer } from "./tokenizer.ts";

/**
 * A model package loaded and checked: sessions created once per process (ORT memory growth),
 * on their own thread (ort-host.ts).
 */
export interface LoadedModel {
  dir: string;
  manifest: ModelManifest;
  tokenizer: WordTokenizer;
  sessions: { textEncoder: RemoteSession; denoiser: RemoteSession; vaeDecoder: RemoteSession };
  provider: ExecutionProvider;
  /** False once the ONNX Runtime thread has failed: the execution provider is gone. */
  healthy(): boolean;
  release(): Promise<void>;
}

export class ModelPackageError extends Error {
  readonly code = "model_package_invalid";
}

const TokenizerFileSchema = z.object({ type: z.literal("word-level"), lowercase: z.boolean(), vocab: z.array(z.string()) });

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function readChecked(dir: string, file: string, expected: string): Promise<Buffer> {
  const bytes = await readFile(join(dir, file)).catch((err: NodeJS.ErrnoException) => {
    throw new ModelPackageError(`${file}: cannot read (${err.code ?? err.message})`);
  });
  const actual = sha256(bytes);
  if (actual !== expected) throw new ModelPackageError(`${file}: sha256 ${actual} does not match the manifest's ${expected}`);
  return bytes;
}

/** Every difference between what the manifest promises and what the session declares. */
function compareInputs(component: string, spec: GraphSpec, metadata: readonly ort.InferenceSession.ValueMetadata[]): string[] {
  const problems: string[] = [];
  const byName = new Map(metadata.map((m) => [m.name, m]));
  for (const want of spec.inputs) {
    const got = byName.get(want.name);
    if (!got) {
      problems.push(`${component}: input "${want.name}" is missing (graph has ${[...byName.keys()].join(", ")})`);
      continue;
    }
    if (!got.isTensor) {
      problems.push(`${component}: input "${want.name}" is not a tensor`);
      continue;
    }
    if (got.type !== want.dtype) problems.push(`${component}: input "${want.name}" is ${got.type}, manifest says ${want.dtype}`);
    const shape = got.shape;
    if (shape.length !== want.shape.length) {
      problems.push(
        `${component}: input "${want.name}" has rank ${shape.length} [${shape.join(",")}], manifest says [${want.shape.join(",")}]`,
      );
    } else {
      want.shape.forEach((d, i) => {
        if (typeof d === "number" && shape[i] !== d) {
          problems.push(`${component}: input "${want.name}" dim ${i} is ${String(shape[i])}, manifest says ${d}`);
        }
      });
    }
    byName.delete(want.name);
  }
  for (const extra of byName.keys()) problems.push(`${component}: graph input "${extra}" is not in the manifest`);
  return problems;
}

/** What the engine needs to agree between the manifest's fields and its tensor specs. */
function checkGeometry(m: ModelManifest): string[] {
  const problems: string[] = [];
  const l = m.latent;
  if (m.conditioning_frames >= l.frames)
    problems.push(`conditioning_frames (${m.conditioning_frames}) must be fewer than latent.frames (${l.frames})`);
  const want = l.layout === "BCFHW" ? [l.channels, l.frames, l.height, l.width] : [l.frames, l.channels, l.height, l.width];
  const names = ["channels", "frames", "height", "width"];
  const check = (component: string, spec: { name: string; shape: (number | string)[] } | undefined) => {
    if (!spec) return problems.push(`${component}: the latent tensor is not declared`);
    if (spec.shape.length !== 5)
      return problems.push(`${component}: "${spec.name}" must be rank 5 (${l.layout}), is [${spec.shape.join(",")}]`);
    spec.shape.slice(1).forEach((d, i) => {
      const which = l.layout === "BCFHW" ? names[[0, 1, 2, 3][i]!]! : names[[1, 0, 2, 3][i]!]!;
      // frames may be symbolic (the VAE sees fewer frames than the window).
      if (typeof d === "number" && d !== want[i])
        problems.push(`${component}: "${spec.name}" dim ${i + 1} is ${d}, latent.${which} is ${want[i]}`);
    });
    return 0;
  };
  check(
    "denoiser",
    m.graphs.denoiser.inputs.find((t) => t.name === m.io.denoiser.sample),
  );
  check(
    "vae_decoder",
    m.graphs.vae_decoder.inputs.find((t) => t.name === m.io.vae_decoder.latent),
  );
  const t = m.graphs.denoiser.inputs.find((i) => i.name === m.io.denoiser.timestep);
  if (!t) problems.push(`denoiser: timestep input "${m.io.denoiser.timestep}" is not declared`);
  else if (t.shape.length > 1 || t.dtype === "float16")
    problems.push(`denoiser: timestep must be float32, int32 or int64 of rank 0 or 1, is ${t.dtype} [${t.shape.join(",")}]`);
  return problems;
}

/** `host`: an ORT thread started earlier (main.ts starts it first, to boot beside other start-up work). */
export async function loadModel(dir: string, runtime: RuntimeOptions, host = new OrtHost(runtime.log)): Promise<LoadedModel> {
  const raw = await readFile(join(dir, "model.json"), "utf8").catch(() => {
    throw new ModelPackageError(`${join(dir, "model.json")}: not found`);
  });
  const parsed = ModelManifestSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    throw new ModelPackageError(`model.json: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const manifest = parsed.data;
  const tokenizerFile = TokenizerFileSchema.parse(
    JSON.parse((await readChecked(dir, manifest.tokenizer.file, manifest.tokenizer.sha256)).toString("utf8")),
  );
  const created: RemoteSession[] = [];
  const open = async (component: keyof ModelManifest["graphs"]) => {
    const spec = manifest.graphs[component];
    await readChecked(dir, spec.file, spec.sha256);
    const session = await host.createSession(join(dir, spec.file), runtime);
    created.push(session);
    const problems = compareInputs(component, spec, session.inputMetadata);
    if (problems.length > 0) throw new ModelPackageError(`${manifest.id} does not match its manifest: ${problems.join("; ")}`);
    return session;
  };
  try {
    // All three asked for at once: the ORT thread creates them back to back while this thread
    // does other start-up work (run-worker.ts).
    const [textEncoder, denoiser, vaeDecoder] = await Promise.all([open("text_encoder"), open("denoiser"), open("vae_decoder")]);
    const sessions = { textEncoder, denoiser, vaeDecoder };
    const geometry = checkGeometry(manifest);
    if (geometry.length > 0) throw new ModelPackageError(`${manifest.id}: ${geometry.join("; ")}`);
    return {
      dir,
      manifest,
      tokenizer: new WordTokenizer({
        vocab: tokenizerFile.vocab,
        maxLength: manifest.tokenizer.max_length,
        padId: manifest.tokenizer.pad_id,
        unkId: manifest.tokenizer.unk_id,
      }),
      sessions,
      provider: textEncoder.provider,
      healthy: () => host.healthy,
      release: async () => {
        await Promise.all(created.map((s) => s.release()));
        await host.close();
      },
    };
  } catch (err) {
    await Promise.all(created.map((s) => s.release()));
    await host.close();
    throw err;
  }
}
