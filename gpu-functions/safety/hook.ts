import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * The engine side's place for a second-stage safety classifier: the edge's lexicon
 * check stops what words can catch; a model (on the prompt, or on the frames as they are
 * made) catches paraphrases and unsafe pictures from safe-looking prompts. None ships; a
 * deployment points REELMESH_SAFETY_HOOK at a module whose default export is a SafetyHook.
 *
 * The worker fails closed: a hook that throws fails the job (retried like any error), and a
 * flagged verdict fails it for good before the chunk is encoded or stored.
 */
interface SafetyVerdict {
  flagged: boolean;
  categories: string[];
  detail?: string;
}

export interface FramesToCheck {
  index: number;
  /** rgb24, frame after frame. */
  frames: Uint8Array;
  frameCount: number;
  width: number;
  height: number;
}

export interface SafetyHook {
  name?: string;
  checkPrompt?(prompt: string, negativePrompt: string): Promise<SafetyVerdict> | SafetyVerdict;
  checkFrames?(chunk: FramesToCheck): Promise<SafetyVerdict> | SafetyVerdict;
}

export async function loadSafetyHook(spec: string | undefined): Promise<SafetyHook | null> {
  if (!spec) return null;
  const url = spec.startsWith("file:") ? spec : pathToFileURL(isAbsolute(spec) ? spec : resolve(spec)).href;
  const mod = (await import(url)) as { default?: SafetyHook };
  if (!mod.default || (typeof mod.default.checkPrompt !== "function" && typeof mod.default.checkFrames !== "function")) {
    throw new Error(`${spec}: the default export must be a SafetyHook with checkPrompt and/or checkFrames`);
  }
  return mod.default;
}
