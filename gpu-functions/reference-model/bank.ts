import { MOTIONS, SHAPES, type Motion, type Shape } from "./semantics.ts";

/**
 * The procedural clip bank the reference denoiser draws from: for every (shape, motion)
 * pair, a periodic sequence of soft object masks at latent resolution. Trajectories are
 * periodic in `period` frames and wrap around the frame edges (a torus), so any absolute
 * frame index has a mask and consecutive frames never jump, across chunk boundaries too.
 */
export interface BankGeometry {
  /** Latent height and width. */
  h: number;
  w: number;
  /** Frames per motion period. */
  period: number;
}

/** Object radius as a fraction of the latent width; edge softness in latent pixels. */
const RADIUS = 0.2;
const SOFTNESS = 0.9;

function centre(motion: Motion, phase: number, g: BankGeometry): { x: number; y: number } {
  const u = phase / g.period;
  switch (motion) {
    case "still":
      return { x: 0.5 * g.w, y: 0.55 * g.h };
    case "bounce": {
      // One bounce per period: |sin| touches the floor with a sharp turn, like a ball.
      const height = Math.abs(Math.sin(Math.PI * u));
      return { x: 0.5 * g.w, y: (0.78 - 0.5 * height) * g.h };
    }
    // Starts centred, crosses one frame width per period, and wraps around the edge.
    case "left":
      return { x: (0.5 - u) * g.w, y: 0.5 * g.h };
    case "right":
      return { x: (0.5 + u) * g.w, y: 0.5 * g.h };
    case "orbit": {
      const r = 0.28 * g.w;
      return { x: 0.5 * g.w + r * Math.cos(2 * Math.PI * u), y: 0.5 * g.h + r * Math.sin(2 * Math.PI * u) };
    }
  }
}

/** How far inside the shape (positive) or outside (negative) a point is, in latent pixels. */
function inside(shape: Shape, dx: number, dy: number, r: number): number {
  switch (shape) {
    case "circle":
      return r - Math.hypot(dx, dy);
    case "square":
      return 0.85 * r - Math.max(Math.abs(dx), Math.abs(dy));
    case "triangle": {
      // Point-up equilateral triangle with inradius r/2, centred on the object.
      const k = Math.sqrt(3);
      const ri = 0.55 * r;
      const d1 = dy - ri; // bottom edge
      const d2 = (-k * dx - dy) / 2 - ri;
      const d3 = (k * dx - dy) / 2 - ri;
      return -Math.max(d1, d2, d3);
    }
    case "star": {
      const theta = Math.atan2(dy, dx) + Math.PI / 2;
      const edge = r * (0.62 + 0.38 * Math.cos(5 * theta));
      return edge - Math.hypot(dx, dy);
    }
  }
}

/** Mask values in [0, 1], laid out [shape·motion, period, h, w] (shape-major). */
export function buildBank(g: BankGeometry): Float32Array {
  const plane = g.h * g.w;
  const out = new Float32Array(SHAPES.length * MOTIONS.length * g.period * plane);
  const r = RADIUS * g.w;
  let o = 0;
  for (const shape of SHAPES) {
    for (const motion of MOTIONS) {
      for (let p = 0; p < g.period; p++) {
        const { x, y } = centre(motion, p, g);
        for (let yy = 0; yy < g.h; yy++) {
          for (let xx = 0; xx < g.w; xx++) {
            let best = -Infinity;
            // Torus: the object also appears one frame-width/height away, so it wraps.
            for (const ox of [-g.w, 0, g.w]) {
              for (const oy of [-g.h, 0, g.h]) {
                best = Math.max(best, inside(shape, xx + 0.5 - (x + ox), yy + 0.5 - (y + oy), r));
              }
            }
            out[o++] = Math.min(1, Math.max(0, 0.5 + best / SOFTNESS));
          }
        }
      }
    }
  }
  return out;
}
