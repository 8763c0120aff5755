import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ModelManifestSchema, type GraphSpec, type ModelManifest } from "./manifest.ts";
import { createSession, type ExecutionProvider, type RuntimeOptions, type ort } from "./runtime.ts";
import { WordTokenizer } from "./tokenizer.ts";

/** A model package loaded and checked: sessions created once per process (ORT memory growth). */
export interface LoadedModel {
  dir: string;
  manifest: ModelManifest;
  tokenizer: WordTokenizer;
  sessions: { textEncoder: ort.InferenceSession; denoiser: ort.InferenceSession; vaeDecoder: ort.InferenceSession };
  provider: ExecutionProvider;
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
export function compareInputs(component: string, spec: GraphSpec, metadata: readonly ort.InferenceSession.ValueMetadata[]): string[] {
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
      problems.push(`${component}: input "${want.name}" has rank ${shape.length} [${shape.join(",")}], manifest says [${want.shape.join(",")}]`);
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

export async function loadModel(dir: string, runtime: RuntimeOptions): Promise<LoadedModel> {
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
  const created: ort.InferenceSession[] = [];
  const providers = new Set<ExecutionProvider>();
  const open = async (component: keyof ModelManifest["graphs"]) => {
    const spec = manifest.graphs[component];
    await readChecked(dir, spec.file, spec.sha256);
    const { session, provider } = await createSession(join(dir, spec.file), runtime);
    created.push(session);
    providers.add(provider);
    const problems = compareInputs(component, spec, session.inputMetadata);
    if (problems.length > 0) throw new ModelPackageError(`${manifest.id} does not match its manifest: ${problems.join("; ")}`);
    return session;
  };
  try {
    const sessions = { textEncoder: await open("text_encoder"), denoiser: await open("denoiser"), vaeDecoder: await open("vae_decoder") };
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
      provider: [...providers][0]!,
      release: async () => {
        await Promise.all(created.map((s) => s.release()));
      },
    };
  } catch (err) {
    await Promise.all(created.map((s) => s.release()));
    throw err;
  }
}
