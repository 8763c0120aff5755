import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { SQSClient } from "@aws-sdk/client-sqs";
import { listDeadLetters, redrive } from "./dlq.ts";
import { ROOT } from "./stack.ts";

/**
 * `npm run dlq -- list | show <message-id> | redrive <message-id>… | redrive --all`
 *
 * The operator's view of the job dead-letter queue (infra/local/dlq.ts). Queues come from the
 * environment (SQS_QUEUE_URL_DLQ, SQS_QUEUE_URL_STANDARD, SQS_QUEUE_URL_ECONOMY, AWS_REGION,
 * AWS_ENDPOINT_URL; credentials from the AWS SDK's usual chain), or, when SQS_QUEUE_URL_DLQ is
 * unset, from the running local stack's `.reelmesh/stack.json` (REELMESH_STATE_DIR moves it).
 */
interface Queues {
  dlq: string;
  standard: string;
  economy?: string;
  endpoint?: string;
  region: string;
  local: boolean;
}

async function queues(): Promise<Queues> {
  const env = process.env;
  const region = env.AWS_REGION ?? "us-east-1";
  if (env.SQS_QUEUE_URL_DLQ) {
    if (!env.SQS_QUEUE_URL_STANDARD) throw new Error("SQS_QUEUE_URL_STANDARD is needed beside SQS_QUEUE_URL_DLQ (where redrive sends)");
    return {
      dlq: env.SQS_QUEUE_URL_DLQ,
      standard: env.SQS_QUEUE_URL_STANDARD,
      ...(env.SQS_QUEUE_URL_ECONOMY ? { economy: env.SQS_QUEUE_URL_ECONOMY } : {}),
      ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
      region,
      local: false,
    };
  }
  const file = join(env.REELMESH_STATE_DIR ?? join(ROOT, ".reelmesh"), "stack.json");
  let stack: { emulator: { url: string }; queues: { standardQueueUrl: string; economyQueueUrl: string; deadLetterQueueUrl: string } };
  try {
    stack = JSON.parse(await readFile(file, "utf8")) as typeof stack;
  } catch {
    throw new Error(`no SQS_QUEUE_URL_DLQ and no running local stack (${file}); start one with npm start`);
  }
  return {
    dlq: stack.queues.deadLetterQueueUrl,
    standard: stack.queues.standardQueueUrl,
    economy: stack.queues.economyQueueUrl,
    endpoint: stack.emulator.url,
    region,
    local: true,
  };
}

const USAGE = "usage: npm run dlq -- list | show <message-id> | redrive <message-id>... | redrive --all";

const [verb, ...args] = process.argv.slice(2);
const q = await queues();
const sqs = new SQSClient({
  region: q.region,
  ...(q.endpoint ? { endpoint: q.endpoint } : {}),
  // The local emulator checks no signatures; these dev-only values never reach AWS.
  ...(q.local ? { credentials: { accessKeyId: "reelmesh-local", secretAccessKey: "reelmesh-local-secret" } } : {}),
});
try {
  if (verb === "list") {
    const letters = await listDeadLetters(sqs, q.dlq);
    if (letters.length === 0) console.log("the dead-letter queue is empty");
    for (const l of letters) {
      console.log(
        [l.messageId, l.jobId ?? "(no job id)", l.tier ?? "-", `receives=${l.receives}`, l.sentAt ?? "-", l.problem ?? "valid job"].join(
          "  ",
        ),
      );
    }
  } else if (verb === "show" && args[0]) {
    const letter = (await listDeadLetters(sqs, q.dlq)).find((l) => l.messageId === args[0]);
    if (!letter) {
      console.error(`no message ${args[0]} in the dead-letter queue`);
      process.exitCode = 1;
    } else {
      const { body, ...meta } = letter;
      let pretty = body;
      try {
        pretty = JSON.stringify(JSON.parse(body), null, 2);
      } catch {
        // shown as it is
      }
      console.log(JSON.stringify(meta, null, 2));
      console.log(pretty);
    }
  } else if (verb === "redrive" && args.length > 0) {
    const ids = args.includes("--all") ? [] : args;
    const done = await redrive(sqs, q.dlq, { standard: q.standard, ...(q.economy ? { economy: q.economy } : {}) }, ids);
    console.log(`redriven: ${done.length}${done.length ? ` (${done.join(", ")})` : ""}`);
    const missed = ids.filter((id) => !done.includes(id));
    if (missed.length > 0) {
      console.error(`not in the dead-letter queue: ${missed.join(", ")}`);
      process.exitCode = 1;
    }
  } else {
    console.error(USAGE);
    process.exitCode = 2;
  }
} finally {
  sqs.destroy();
}
