import { describe, expect, it } from "vitest";
import { ConfigError, edgeConfig, type Env } from "../src/env.ts";

/** A production edge (staging and production both run REELMESH_ENV=production) refuses what only the local stack may do. */
describe("a production edge refuses dev-only settings", () => {
  const base = {
    REELMESH_ENV: "production",
    REELMESH_TOKEN_SECRET: "t".repeat(32),
    REELMESH_EVENTS_SECRET: "e".repeat(32),
    REELMESH_PLAYBACK_SECRET: "p".repeat(32),
    REELMESH_WEBHOOK_SECRET: "w".repeat(32),
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "secret",
    SQS_QUEUE_URL_STANDARD: "https://sqs.us-east-1.amazonaws.com/123456789012/reelmesh-jobs-standard",
    S3_BUCKET: "reelmesh-outputs",
  };
  // A fresh object each time: edgeConfig caches per env object.
  const config = (extra: Record<string, string>) => edgeConfig({ ...base, ...extra } as unknown as Env);

  it("accepts a production configuration", () => expect(config({}).REELMESH_ENV).toBe("production"));

  it.each([
    ["REELMESH_DEV_KEY", "rm_dev_a_key_that_is_long_enough"],
    ["AWS_ENDPOINT_URL", "http://127.0.0.1:4566"],
    ["SQS_QUEUE_URL_STANDARD", "http://127.0.0.1:4566/000000000000/reelmesh-jobs-standard"],
    ["PUBLIC_URL", "http://api.example.com"],
  ])("refuses %s=%s", (key, value) => {
    expect(() => config({ [key]: value })).toThrow(ConfigError);
    expect(() => config({ [key]: value })).toThrow(new RegExp(`${key}: .*dev only`));
  });

  it("lets the local stack (REELMESH_ENV=development) use them", () => {
    const dev = config({
      REELMESH_ENV: "development",
      REELMESH_DEV_KEY: "rm_dev_a_key_that_is_long_enough",
      AWS_ENDPOINT_URL: "http://127.0.0.1:4566",
    });
    expect(dev.REELMESH_DEV_KEY).toBeDefined();
  });
});
