import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildDir, type ReferenceSizeName } from "./sizes.ts";

/**
 * The reference model is built, not downloaded: a worker or test that finds no
 * package, or one built by different builder code, builds it first (under a second).
 */
const HERE = dirname(fileURLToPath(import.meta.url));
const STAMP = ".builder-sha256";

async function builderFingerprint(): Promise<string> {
  const hash = createHash("sha256");
  const sources = [
    ...(await readdir(HERE)).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts")).map((f) => join(HERE, f)),
    join(HERE, "../engine/manifest.ts"),
    join(HERE, "../engine/scheduler.ts"),
  ].sort();
  for (const file of sources) hash.update(file.slice(HERE.length)).update(await readFile(file));
  return hash.digest("hex");
}

export async function ensureReferenceModel(size: ReferenceSizeName = "tiny", dir = buildDir(size)): Promise<string> {
  const want = await builderFingerprint();
  const have = await readFile(join(dir, STAMP), "utf8").catch(() => "");
  if (have.trim() !== want) {
    try {
      // Loaded only to build: the builder (onnx-proto) is not on a worker's cold start.
      const { buildReferenceModel } = await import("./build.ts");
      await buildReferenceModel(size, dir);
    } catch (err) {
      // Another process may have built it at the same moment; accept its result if current.
      const now = await readFile(join(dir, STAMP), "utf8").catch(() => "");
      if (now.trim() !== want) throw err;
      return dir;
    }
    await writeFile(join(dir, STAMP), want + "\n");
  }
  return dir;
}
