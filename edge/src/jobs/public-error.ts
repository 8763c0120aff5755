import type { ErrorInfo } from "../../../shared/schemas/manifest.ts";

/**
 * What a customer sees of a failed job: a stable code and a message written for them. The
 * detail a worker or a storage call reported (queue ARNs, account ids, bucket keys, model
 * internals) goes to the operator's logs only. An unknown code is shown as `generation_failed`.
 */
const PUBLIC: Readonly<Record<string, string>> = {
  prompt_rejected: "The prompt was refused by the content policy.",
  content_rejected: "The generated video was refused by the content policy.",
  unsupported_geometry: "The model cannot render this resolution or aspect ratio.",
  unsupported_timing: "The model cannot render this frame rate or clip length.",
  unsupported_scheduler: "The model cannot use this scheduler.",
  expired: "The job did not finish in time; nothing was charged.",
  enqueue_failed: "The job could not be queued; nothing was charged.",
  generation_failed: "The video could not be generated; nothing was charged.",
  invalid_job_message: "The job could not be read by the video workers; nothing was charged.",
};

export function publicError(jobId: string, error: ErrorInfo): ErrorInfo {
  const message = PUBLIC[error.code];
  if (message === undefined || message !== error.message) {
    console.error(JSON.stringify({ msg: "job failed", job_id: jobId, code: error.code, detail: error.message }));
  }
  return message === undefined ? { code: "generation_failed", message: PUBLIC.generation_failed! } : { code: error.code, message };
}
