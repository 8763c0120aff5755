import type { GenerateProgress } from "../src/index.ts";

const BAR_WIDTH = 24;

/**
 * A one-line progress bar on stderr, redrawn in place: only on a terminal, so a log or a pipe
 * gets the milestone lines alone. stdout is never touched (it carries the result).
 */
export class ProgressBar {
  private readonly out: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private drawn = false;

  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.out = out;
    this.enabled = out.isTTY === true;
  }

  update(p: GenerateProgress): void {
    if (!this.enabled) return;
    const filled = Math.round(p.fraction * BAR_WIDTH);
    const pct = String(Math.round(p.fraction * 100)).padStart(3);
    this.out.write(
      `\r[${"#".repeat(filled)}${" ".repeat(BAR_WIDTH - filled)}] ${pct}%  ${p.chunksReady}/${p.totalChunks} chunks  ${p.event.type}\x1b[K`,
    );
    this.drawn = true;
  }

  /** Prints a line above the bar (or just a line, off a terminal). */
  log(line: string): void {
    if (this.drawn) this.out.write("\r\x1b[K");
    this.out.write(`${line}\n`);
    this.drawn = false;
  }

  clear(): void {
    if (this.drawn) this.out.write("\r\x1b[K");
    this.drawn = false;
  }
}
