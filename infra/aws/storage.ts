import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";

/**
 * The output bucket: private, encrypted, TLS only, and each job's outputs under `videos/`
 * (shared/layout.ts) expire after the edge's retention, as a backstop to the edge's own
 * deletion at the job's deadline (edge/src/jobs/retention.ts).
 */
export interface OutputStorageProps {
  /** Unset: CloudFormation names the bucket (S3 names are global, so a fixed one may be taken). */
  bucketName?: string;
  /** The edge's REELMESH_RETENTION_S. */
  retentionS: number;
}

/** Prefixes of the bucket: job outputs (shared/layout.ts) and model packages. */
export const OUTPUT_PREFIX = "videos/";
export const MODEL_PREFIX = "models/";
const DAY_S = 86_400;
/** A multipart upload a worker died in the middle of is garbage after a day. */
const ABORT_MULTIPART_AFTER = Duration.days(1);
/** How long S3 server access logs are kept. */
const ACCESS_LOG_RETENTION = Duration.days(90);

/** Lifecycle rules count whole days: rounded up, the rule is never shorter than the retention it backs up. */
export function retentionDays(retentionS: number): number {
  return Math.ceil(retentionS / DAY_S);
}

export class OutputStorage extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: OutputStorageProps) {
    super(scope, id);
    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      // Server access logging delivers only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [{ id: "expire-access-logs", expiration: ACCESS_LOG_RETENTION }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: "AwsSolutions-S1",
      reason: "This bucket is the access-log target of the output bucket; logging it would log its own log deliveries.",
    });

    this.bucket = new s3.Bucket(this, "Outputs", {
      ...(props.bucketName ? { bucketName: props.bucketName } : {}),
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "outputs/",
      lifecycleRules: [
        {
          id: "expire-outputs",
          prefix: OUTPUT_PREFIX,
          expiration: Duration.days(retentionDays(props.retentionS)),
          abortIncompleteMultipartUploadAfter: ABORT_MULTIPART_AFTER,
        },
      ],
      // Outputs and model packages outlive a stack that is torn down by mistake.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
