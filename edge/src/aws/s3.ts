import { AwsClient } from "aws4fetch";
import type { EdgeConfig } from "../env.ts";

/**
 * Reads job outputs from S3 with SigV4 (aws4fetch: a few KiB, where the S3 SDK would add
 * hundreds to the Worker bundle). Range requests pass through for players that seek.
 */
let client: { key: string; aws: AwsClient } | undefined;

function awsClient(cfg: EdgeConfig): AwsClient {
  const key = `${cfg.AWS_REGION}|${cfg.AWS_ACCESS_KEY_ID}`;
  if (client?.key !== key) {
    client = {
      key,
      aws: new AwsClient({
        accessKeyId: cfg.AWS_ACCESS_KEY_ID,
        secretAccessKey: cfg.AWS_SECRET_ACCESS_KEY,
        region: cfg.AWS_REGION,
        service: "s3",
      }),
    };
  }
  return client.aws;
}

function objectUrl(cfg: EdgeConfig, key: string): string {
  const path = key.split("/").map(encodeURIComponent).join("/");
  return cfg.AWS_ENDPOINT_URL
    ? `${cfg.AWS_ENDPOINT_URL.replace(/\/$/, "")}/${cfg.S3_BUCKET}/${path}`
    : `https://${cfg.S3_BUCKET}.s3.${cfg.AWS_REGION}.amazonaws.com/${path}`;
}

/** Deletes every object under `prefix` (ListObjectsV2 + DeleteObject). Returns how many. */
export async function deletePrefix(cfg: EdgeConfig, prefix: string): Promise<number> {
  const aws = awsClient(cfg);
  const base = cfg.AWS_ENDPOINT_URL
    ? `${cfg.AWS_ENDPOINT_URL.replace(/\/$/, "")}/${cfg.S3_BUCKET}`
    : `https://${cfg.S3_BUCKET}.s3.${cfg.AWS_REGION}.amazonaws.com`;
  let deleted = 0;
  for (;;) {
    const res = await aws.fetch(`${base}?list-type=2&prefix=${encodeURIComponent(prefix + "/")}&max-keys=1000`);
    if (!res.ok) throw new Error(`list ${prefix}: ${res.status}`);
    const keys = [...(await res.text()).matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => decodeXml(m[1]!));
    if (keys.length === 0) return deleted;
    for (const key of keys) {
      const del = await aws.fetch(objectUrl(cfg, key), { method: "DELETE" });
      if (!del.ok && del.status !== 404) throw new Error(`delete ${key}: ${del.status}`);
      deleted++;
    }
  }
}

const decodeXml = (s: string) =>
  s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");

export async function getObject(cfg: EdgeConfig, key: string, range?: string): Promise<Response> {
  return awsClient(cfg).fetch(objectUrl(cfg, key), { method: "GET", headers: range ? { range } : {} });
}
