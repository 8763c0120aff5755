import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { RESOURCE_NAMES } from "../local/resources.ts";
import { QUEUES, TIERS, type Tier } from "../scaling/policy.ts";

/**
 * The job queues, one per tier, each with its own dead-letter queue (so an alarm says which
 * tier's jobs fail), and their alarms. Every number comes from infra/scaling/policy.ts.
 */
export interface JobQueuesProps {
  /** Appended to the names of infra/local/resources.ts ("" in production, "-staging" …). */
  nameSuffix: string;
  /** Where the alarms notify; unset, they only show in CloudWatch. */
  alarmTopic?: sns.ITopic;
}

const QUEUE_NAMES: Record<Tier, string> = { standard: RESOURCE_NAMES.standardQueue, economy: RESOURCE_NAMES.economyQueue };
/** The longest SQS keeps a message: a dead-lettered job stays for inspection as long as it can. */
const DLQ_RETENTION = Duration.days(14);
/** SQS publishes its queue metrics once a minute; a shorter period only reads gaps. */
export const SQS_METRIC_PERIOD = Duration.minutes(1);

export class JobQueues extends Construct {
  readonly queues: Record<Tier, sqs.Queue>;
  readonly deadLetterQueues: Record<Tier, sqs.Queue>;
  readonly alarms: Record<Tier, { deadLetters: cloudwatch.Alarm; oldestMessage: cloudwatch.Alarm }>;

  constructor(scope: Construct, id: string, props: JobQueuesProps) {
    super(scope, id);
    // The consumer extends a job's visibility every heartbeatS (gpu-functions/consumer/consumer.ts):
    // a heartbeat that comes after the timeout lets a running job be received twice.
    if (QUEUES.heartbeatS >= QUEUES.visibilityTimeoutS) {
      throw new Error(
        `QUEUES.heartbeatS (${QUEUES.heartbeatS}) must be shorter than QUEUES.visibilityTimeoutS (${QUEUES.visibilityTimeoutS})`,
      );
    }
    const queues: Partial<Record<Tier, sqs.Queue>> = {};
    const dlqs: Partial<Record<Tier, sqs.Queue>> = {};
    const alarms: Partial<JobQueues["alarms"]> = {};
    for (const tier of TIERS) {
      const name = `${QUEUE_NAMES[tier]}${props.nameSuffix}`;
      const dlq = new sqs.Queue(this, `${tier}-dlq`, {
        queueName: `${name}-dlq`,
        retentionPeriod: DLQ_RETENTION,
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const queue = new sqs.Queue(this, tier, {
        queueName: name,
        visibilityTimeout: Duration.seconds(QUEUES.visibilityTimeoutS),
        deadLetterQueue: { queue: dlq, maxReceiveCount: QUEUES.maxReceiveCount },
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      queues[tier] = queue;
      dlqs[tier] = dlq;

      alarms[tier] = {
        deadLetters: new cloudwatch.Alarm(this, `${tier}-dead-letters`, {
          alarmDescription: `A ${tier} job was received ${QUEUES.maxReceiveCount} times without finishing and was dead-lettered.`,
          metric: dlq.metricApproximateNumberOfMessagesVisible({ period: SQS_METRIC_PERIOD, statistic: "Maximum" }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        oldestMessage: new cloudwatch.Alarm(this, `${tier}-oldest-message`, {
          alarmDescription: `The oldest ${tier} job has waited longer than ${QUEUES.oldestMessageAlarmS[tier]} s.`,
          metric: queue.metricApproximateAgeOfOldestMessage({ period: SQS_METRIC_PERIOD, statistic: "Maximum" }),
          threshold: QUEUES.oldestMessageAlarmS[tier],
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      };
      if (props.alarmTopic) for (const alarm of Object.values(alarms[tier])) alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
    }
    this.queues = queues as Record<Tier, sqs.Queue>;
    this.deadLetterQueues = dlqs as Record<Tier, sqs.Queue>;
    this.alarms = alarms as JobQueues["alarms"];
  }
}
