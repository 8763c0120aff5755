import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { outputKeys } from "../../shared/layout.ts";
import { MANIFEST_VERSION, ManifestSchema, type Manifest, type ManifestChunk, type Usage } from "../../shared/schemas/manifest.ts";

/**
 * A job's outputs in S3 (docs/architecture.md, S3 layout): `init.mp4`, immutable segments, and `manifest.json`,
 * rewritten after each segment is stored so a reader never sees a chunk listed before its
 * bytes exist.
 */
const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * The SDK's standard retry mode retries 5xx, throttling (503 SlowDown) and connection resets with
 * exponential backoff and full jitter; its default of 3 tries loses a job's write now and then when
 * one call in five fails, so the worker allows more (REELMESH_S3_MAX_ATTEMPTS). 4xx such as
 * AccessDenied fail at once.
 */
export function s3Client(region: string, endpoint?: string, maxAttempts = 8): S3Client {
  // Path-style addressing: the local emulator has no per-bucket host names.
  return new S3Client({ region, maxAttempts, retryMode: "standard", ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
}

export interface OutputInfo {
  jobId: string;
  bucket: string;
  prefix: string;
  model: string;
  width: number;
  height: number;
  fps: number;
  totalChunks: number;
}

export class JobOutput {
  private readonly s3: S3Client;
  readonly info: OutputInfo;
  private readonly manifest: Manifest;

  /**
   * The job's outputs as S3 has them: a retried job (another attempt, maybe on another worker)
   * continues after the chunks already committed instead of redoing them.
   */
  static async open(s3: S3Client, info: OutputInfo): Promise<JobOutput> {
    const out = new JobOutput(s3, info);
    const existing = await out.get(outputKeys.manifest(info.prefix));
    if (existing) {
      const parsed = ManifestSchema.safeParse(JSON.parse(new TextDecoder().decode(existing)));
      if (parsed.success && parsed.data.job_id === info.jobId) Object.assign(out.manifest, parsed.data, { status: "running" });
    }
    return out;
  }

  /** Chunks committed in order from the first: where a resumed job starts. */
  committedChunks(): number {
    let n = 0;
    while (this.manifest.chunks.some((c) => c.index === n)) n++;
    return n;
  }

  /** What the manifest says is committed (for re-announcing after a crash). */
  committed(): { chunks: ManifestChunk[]; init: Manifest["init"]; codecs: string } {
    return { chunks: [...this.manifest.chunks], init: this.manifest.init, codecs: this.manifest.codecs };
  }

  private async get(key: string): Promise<Uint8Array | null> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.info.bucket, Key: key }));
      return await res.Body!.transformToByteArray();
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === "NoSuchKey") return null;
      throw err;
    }
  }

  async getInit(): Promise<Uint8Array> {
    const bytes = this.manifest.init ? await this.get(this.manifest.init.key) : null;
    if (!bytes) throw new Error("the init segment is listed but missing");
    return bytes;
  }

  async getSegment(index: number): Promise<Uint8Array> {
    const bytes = await this.get(outputKeys.segment(this.info.prefix, index));
    if (!bytes) throw new Error(`segment ${index} is listed but missing`);
    return bytes;
  }

  /** Stored before the chunk is listed, so a listed chunk always has its tail. */
  async putTail(index: number, tail: Float32Array): Promise<void> {
    await this.put(
      outputKeys.tail(this.info.prefix, index),
      new Uint8Array(tail.buffer, tail.byteOffset, tail.byteLength),
      "application/octet-stream",
      IMMUTABLE,
    );
  }

  async getTail(index: number): Promise<Float32Array | null> {
    const bytes = await this.get(outputKeys.tail(this.info.prefix, index));
    return bytes ? new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) : null;
  }

  constructor(s3: S3Client, info: OutputInfo) {
    this.s3 = s3;
    this.info = info;
    this.manifest = {
      v: MANIFEST_VERSION,
      job_id: info.jobId,
      status: "running",
      model: info.model,
      width: info.width,
      height: info.height,
      fps: info.fps,
      codecs: "avc1",
      init: null,
      total_chunks: info.totalChunks,
      chunks: [],
      poster: null,
      content: null,
      usage: { gpu_s: 0, encode_s: 0, bytes_stored: 0 },
      error: null,
      updated_at: new Date().toISOString(),
    };
  }

  private async put(key: string, body: Uint8Array | string, contentType: string, cacheControl: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.info.bucket, Key: key, Body: body, ContentType: contentType, CacheControl: cacheControl }),
    );
  }

  /** Stores the init segment once (every chunk's is byte-identical). */
  async putInit(init: Uint8Array, codecs: string): Promise<{ key: string; bytes: number }> {
    const key = outputKeys.init(this.info.prefix);
    if (this.manifest.init) return this.manifest.init;
    await this.put(key, init, "video/mp4", IMMUTABLE);
    this.manifest.init = { key, bytes: init.length };
    this.manifest.codecs = codecs;
    this.manifest.usage.bytes_stored += init.length;
    return this.manifest.init;
  }

  async putSegment(index: number, media: Uint8Array, frames: number, durationS: number): Promise<ManifestChunk> {
    const key = outputKeys.segment(this.info.prefix, index);
    await this.put(key, media, "video/iso.segment", IMMUTABLE);
    const chunk: ManifestChunk = { index, key, frames, duration_s: durationS, bytes: media.length, committed_at: new Date().toISOString() };
    this.manifest.chunks.push(chunk);
    this.manifest.chunks.sort((a, b) => a.index - b.index);
    this.manifest.usage.bytes_stored += media.length;
    await this.writeManifest();
    return chunk;
  }

  async putPoster(jpeg: Uint8Array): Promise<{ key: string; bytes: number }> {
    const key = outputKeys.poster(this.info.prefix);
    await this.put(key, jpeg, "image/jpeg", IMMUTABLE);
    this.manifest.poster = { key, bytes: jpeg.length };
    this.manifest.usage.bytes_stored += jpeg.length;
    return this.manifest.poster;
  }

  async putContent(mp4: Uint8Array): Promise<{ key: string; bytes: number }> {
    const key = outputKeys.content(this.info.prefix);
    await this.put(key, mp4, "video/mp4", IMMUTABLE);
    this.manifest.content = { key, bytes: mp4.length };
    this.manifest.usage.bytes_stored += mp4.length;
    return this.manifest.content;
  }

  async finish(
    status: "succeeded" | "failed" | "canceled",
    usage: Omit<Usage, "bytes_stored">,
    error: Manifest["error"] = null,
  ): Promise<Usage> {
    this.manifest.status = status;
    this.manifest.usage = { ...usage, bytes_stored: this.manifest.usage.bytes_stored };
    this.manifest.error = error;
    await this.writeManifest();
    return this.manifest.usage;
  }

  private async writeManifest(): Promise<void> {
    this.manifest.updated_at = new Date().toISOString();
    await this.put(outputKeys.manifest(this.info.prefix), JSON.stringify(this.manifest), "application/json", "no-cache");
  }
}
