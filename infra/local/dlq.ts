import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { JobMessageSchema } from "../../shared/schemas/job-message.ts";

/**
 * The dead-letter queue as an operator sees it (`npm run dlq`, dlq-command.ts): what is there, one
 * message in full, and redrive (back to its tier's queue, then deleted from the DLQ). SQS has no
 * way to read a queue without receiving: listing receives each message for LIST_VISIBILITY_S, then
 * it is visible again. Never 0: the local emulator loses a message set to 0 (docs/worker.md).
 */
const LIST_VISIBILITY_S = 2;

export interface DeadLetter {
  messageId: string;
  /** The job it names, when the body says one. */
  jobId: string | null;
  tier: "standard" | "economy" | null;
  receives: number;
  sentAt: string | null;
  /** Why a worker could not take it (the schema's first complaints); null when it is a valid job. */
  problem: string | null;
  body: string;
}

function describe(message: Message): DeadLetter {
  const body = message.Body ?? "";
  let json: unknown = null;
  let problem: string | null = null;
  try {
    json = JSON.parse(body);
    const parsed = JobMessageSchema.safeParse(json);
    if (!parsed.success) problem = parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
  } catch {
    problem = "not JSON";
  }
  const obj = (json && typeof json === "object" ? json : {}) as { job_id?: unknown; tier?: unknown };
  const sent = Number(message.Attributes?.SentTimestamp);
  return {
    messageId: message.MessageId ?? "",
    jobId: typeof obj.job_id === "string" ? obj.job_id : null,
    tier: obj.tier === "economy" || obj.tier === "standard" ? obj.tier : null,
    receives: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    sentAt: Number.isFinite(sent) ? new Date(sent).toISOString() : null,
    problem,
    body,
  };
}

/** Every message in the queue, each received once (and visible again LIST_VISIBILITY_S later). */
async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const seen = new Map<string, Message>();
  for (;;) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: LIST_VISIBILITY_S,
        MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
      }),
    );
    const fresh = (res.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (fresh.length === 0) return [...seen.values()];
    for (const m of fresh) seen.set(m.MessageId!, m);
  }
}

export async function listDeadLetters(sqs: SQSClient, dlqUrl: string): Promise<DeadLetter[]> {
  return (await receiveAll(sqs, dlqUrl)).map(describe);
}

export interface RedriveTargets {
  standard: string;
  economy?: string;
}

/**
 * Sends the chosen messages (all when `ids` is empty) back to their tier's queue (standard when
 * the body names none) and deletes them from the DLQ. Returns the message ids redriven.
 */
export async function redrive(sqs: SQSClient, dlqUrl: string, targets: RedriveTargets, ids: readonly string[] = []): Promise<string[]> {
  const done: string[] = [];
  for (;;) {
    const batch = (await receiveAll(sqs, dlqUrl)).filter((m) => ids.length === 0 || ids.includes(m.MessageId!));
    const todo = batch.filter((m) => !done.includes(m.MessageId!));
    if (todo.length === 0) return done;
    for (const m of todo) {
      const letter = describe(m);
      const queueUrl = letter.tier === "economy" && targets.economy ? targets.economy : targets.standard;
      // Sent before it is deleted: a failure between the two leaves a copy, never none.
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: letter.body }));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: m.ReceiptHandle! }));
      done.push(letter.messageId);
    }
    if (ids.length > 0 && ids.every((id) => done.includes(id))) return done;
  }
}
