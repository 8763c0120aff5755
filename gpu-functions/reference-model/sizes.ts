import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Two sizes of the same model: `tiny` for tests and the local stack, `heavy` (a
 * 576x1024 clip: 16x the latent cells, 8x upsampling) so a benchmark can see the engine's own
 * overhead next to real per-step compute.
 */
export interface ReferenceSize {
  id: string;
  latentH: number;
  latentW: number;
  spatial: number;
  /** Self-attention layers over latent patches: the compute shape of a video DiT (build.ts). */
  attentionLayers: number;
}
export const REFERENCE_SIZES = {
  tiny: { id: "reelmesh-ref-tiny", latentH: 64, latentW: 36, spatial: 4, attentionLayers: 0 },
  heavy: { id: "reelmesh-ref-heavy", latentH: 128, latentW: 72, spatial: 8, attentionLayers: 8 },
} as const satisfies Record<string, ReferenceSize>;
export type ReferenceSizeName = keyof typeof REFERENCE_SIZES;

/**
 * Where a size is built (git-ignored). Apart from build.ts so that finding a package already
 * built (ensure.ts, at every worker start) does not load the builder.
 */
export const buildDir = (size: ReferenceSizeName) => resolve(dirname(fileURLToPath(import.meta.url)), "build", REFERENCE_SIZES[size].id);
