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
    client = { key, aws: new AwsClient({ accessKeyId: cfg.AWS_ACCESS_KEY_ID, secretAccessKey: cfg.AWS_SECRET_ACCESS_KEY, region: cfg.AWS_REGION, service: "s3" }) };
  }
  return client.aws;
}

export function objectUrl(cfg: EdgeConfig, key: string): string {
  const path = key.split("/").map(encodeURIComponent).join("/");
  return cfg.AWS_ENDPOINT_URL
    ? `${cfg.AWS_ENDPOINT_URL.replace(/\/$/, "")}/${cfg.S3_BUCKET}/${path}`
    : `https://${cfg.S3_BUCKET}.s3.${cfg.AWS_REGION}.amazonaws.com/${path}`;
}

export async function getObject(cfg: EdgeConfig, key: string, range?: string): Promise<Response> {
  return awsClient(cfg).fetch(objectUrl(cfg, key), { method: "GET", headers: range ? { range } : {} });
}
