import { describe, expect, it } from "vitest";
import { ProgressBar } from "./progress.ts";

/** A stand-in for stderr: a terminal cannot be attached to a test run, only its isTTY flag and writes matter here. */
function stream(isTTY: boolean) {
  const out = { isTTY, text: "", write: (s: string) => ((out.text += s), true) };
  return out;
}
const event = { type: "progress", at: "2026-12-03T00:00:00.000Z", chunk: 1, step: 3, steps: 12, fraction: 0.5, id: "7" } as const;

describe("the progress bar", () => {
  it("redraws one line in place on a terminal and clears it before a log line", () => {
    const tty = stream(true);
    const bar = new ProgressBar(tty as unknown as NodeJS.WriteStream);
    bar.update({ fraction: 0.5, chunksReady: 1, totalChunks: 2, event });
    bar.update({ fraction: 1, chunksReady: 2, totalChunks: 2, event });
    bar.log("done");
    expect(tty.text).toBe(
      "\r[############            ]  50%  1/2 chunks  progress\x1b[K" +
        "\r[########################] 100%  2/2 chunks  progress\x1b[K" +
        "\r\x1b[Kdone\n",
    );
  });

  it("draws nothing off a terminal, where only the log lines are written", () => {
    const pipe = stream(false);
    const bar = new ProgressBar(pipe as unknown as NodeJS.WriteStream);
    bar.update({ fraction: 0.5, chunksReady: 1, totalChunks: 2, event });
    bar.log("first playable second after 1.20 s: http://x");
    bar.clear();
    expect(pipe.text).toBe("first playable second after 1.20 s: http://x\n");
  });
});
