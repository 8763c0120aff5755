import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { Reelmesh, WaitTimeoutError, type AspectRatio, type Tier, type Video } from "../src/index.ts";
import { EXIT, exitCodeFor, UsageError } from "./exit-codes.ts";
import { ProgressBar } from "./progress.ts";

/** `reelmesh <command>`: the SDK from a shell (docs/cli.md). stdout carries only the result; everything else goes to stderr. */

/** The local stack's edge (`npm start`); set REELMESH_BASE_URL for any other. */
const DEFAULT_BASE_URL = "http://127.0.0.1:8787";
const DEFAULT_TIMEOUT_S = 600;

const HELP = `Usage: reelmesh <command> [options]

  generate "<prompt>" [-d seconds] [-o file.mp4] [--aspect 9:16] [--seed N] [--steps N]
           [--tier standard|economy] [--detach]
  status <id>
  cancel <id>
  usage
  moderate "<text>"

Options: --json (stdout: JSON), --api-key <key> (default $REELMESH_API_KEY),
         --base-url <url> (default $REELMESH_BASE_URL or ${DEFAULT_BASE_URL}), --timeout <s> (generate; default ${DEFAULT_TIMEOUT_S})
Exit codes: 0 ok, 1 error, 2 usage, 3 auth, 4 credits or rate limit, 5 prompt rejected, 6 generation failed, 7 timeout, 130 Ctrl-C`;

const OPTIONS = {
  duration: { type: "string", short: "d" },
  output: { type: "string", short: "o" },
  aspect: { type: "string" },
  seed: { type: "string" },
  steps: { type: "string" },
  tier: { type: "string" },
  json: { type: "boolean" },
  detach: { type: "boolean" },
  timeout: { type: "string" },
  "api-key": { type: "string" },
  "base-url": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

interface Io {
  stdout: (text: string) => void;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

function int(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} takes a whole number ≥ ${min}, not "${value}"`);
  return Number(value);
}

function oneArg(positionals: string[], what: string): string {
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError(`expected one ${what}`);
  return positionals[0];
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr.write(`reelmesh: ${(err as Error).message}\n\n${HELP}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    (values.help ? io.stdout : (s: string) => io.stderr.write(s))(`${HELP}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const apiKey = values["api-key"] ?? io.env.REELMESH_API_KEY;
  const baseUrl = values["base-url"] ?? io.env.REELMESH_BASE_URL ?? DEFAULT_BASE_URL;
  /** The client, made once the command line is known to be right (a usage error comes first). */
  const client = () => {
    if (!apiKey) throw Object.assign(new Error("no API key: set REELMESH_API_KEY or pass --api-key"), { exit: EXIT.auth });
    return new Reelmesh({ apiKey, baseUrl });
  };
  const print = (human: string, json: unknown) => io.stdout(`${values.json ? JSON.stringify(json, null, 2) : human}\n`);
  try {
    switch (command) {
      case "generate":
        return await generate(client, oneArg(rest, "prompt"), values, io);
      case "status": {
        const id = oneArg(rest, "video id");
        const v = await client().videos.retrieve(id);
        print(`${v.id} ${v.status} ${v.chunks_ready}/${v.total_chunks} chunks${v.error ? ` ${v.error.code}: ${v.error.message}` : ""}`, v);
        return EXIT.ok;
      }
      case "cancel": {
        const id = oneArg(rest, "video id");
        const v = await client().videos.cancel(id);
        print(`${v.id} ${v.status}${v.cancel_requested ? " (cancel requested)" : ""}`, v);
        return EXIT.ok;
      }
      case "usage": {
        if (rest.length > 0) throw new UsageError("usage takes no arguments");
        const u = await client().usage.retrieve();
        print(`balance ${u.balance ?? "-"}  reserved ${u.reserved}  spent ${u.spent}  jobs ${u.jobs}`, u);
        return EXIT.ok;
      }
      case "moderate": {
        const text = oneArg(rest, "text");
        const m = await client().moderations.create(text);
        const flagged = Object.entries(m.categories)
          .filter(([, on]) => on)
          .map(([c]) => c);
        print(m.flagged ? `flagged: ${flagged.join(", ")}` : "ok", m);
        return m.flagged ? EXIT.rejected : EXIT.ok;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    const exit = (err as { exit?: number }).exit ?? exitCodeFor(err);
    io.stderr.write(
      `reelmesh: ${(err as Error).message ?? String(err)}\n${exit === EXIT.usage && err instanceof UsageError ? `\n${HELP}\n` : ""}`,
    );
    return exit;
  }
}

async function generate(client: () => Reelmesh, prompt: string, values: Values, io: Io): Promise<number> {
  const params = {
    prompt,
    duration_s: int(values.duration, "duration", 1),
    aspect_ratio: values.aspect as AspectRatio | undefined,
    seed: int(values.seed, "seed", 0),
    steps: int(values.steps, "steps", 1),
    tier: values.tier as Tier | undefined,
  };
  const timeoutS = int(values.timeout, "timeout", 1) ?? DEFAULT_TIMEOUT_S;
  const bar = new ProgressBar(io.stderr);
  const rm = client();
  if (values.detach) {
    const v = await rm.videos.create(params);
    bar.log(`created ${v.id} (${v.status}); follow it with: reelmesh status ${v.id}`);
    io.stdout(`${values.json ? JSON.stringify(v, null, 2) : v.id}\n`);
    return EXIT.ok;
  }
  const t0 = performance.now();
  let firstPlayableMs: number | null = null;
  let created: Video | null = null;
  const stop = new AbortController();
  const onSigint = () => stop.abort(Object.assign(new Error("interrupted"), { exit: EXIT.interrupted }));
  process.once("SIGINT", onSigint);
  const timer = setTimeout(() => stop.abort(new WaitTimeoutError(`no end within ${timeoutS} s`, null)), timeoutS * 1000);
  try {
    const video = await rm.videos.generate(params, {
      signal: stop.signal,
      cancelOnAbort: true,
      onCreated: (v) => {
        created = v;
        bar.log(`created ${v.id} (${v.status}, ${v.price.credits} credits)`);
      },
      onPlayable: (url) => {
        firstPlayableMs = performance.now() - t0;
        bar.log(`first playable second after ${seconds(firstPlayableMs)} s: ${url}`);
      },
      onProgress: (p) => bar.update(p),
    });
    bar.clear();
    if (video.status !== "succeeded") {
      bar.log(`${video.id} ${video.status}${video.error ? `: ${video.error.code}: ${video.error.message}` : ""}`);
      if (values.json) io.stdout(`${JSON.stringify({ video, output: null }, null, 2)}\n`);
      return EXIT.failed;
    }
    const output = values.output ?? `${video.id}.mp4`;
    const res = await rm.videos.download(video.id, { kind: "mp4", signal: stop.signal });
    if (!res.body) throw new Error("the MP4 answer has no body");
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>), createWriteStream(output));
    const totalMs = performance.now() - t0;
    bar.log(
      `total ${seconds(totalMs)} s (first playable second after ${firstPlayableMs === null ? "-" : seconds(firstPlayableMs)} s): ${output}`,
    );
    const timings = { first_playable_s: firstPlayableMs === null ? null : firstPlayableMs / 1000, total_s: totalMs / 1000 };
    io.stdout(values.json ? `${JSON.stringify({ video, output, ...timings }, null, 2)}\n` : `${output}\n`);
    return EXIT.ok;
  } catch (err) {
    bar.clear();
    const id = (created as Video | null)?.id;
    if (stop.signal.aborted && id) bar.log(`canceled ${id}`);
    throw err;
  } finally {
    clearTimeout(timer);
    process.off("SIGINT", onSigint);
  }
}
