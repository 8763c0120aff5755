/** One JSON object per line on stdout: what the launcher, containers and log search read. */
export type Logger = (msg: string, fields?: Record<string, unknown>) => void;

export function jsonLogger(base: Record<string, unknown> = {}): Logger {
  return (msg, fields) => {
    process.stdout.write(JSON.stringify({ at: new Date().toISOString(), msg, ...base, ...fields }) + "\n");
  };
}
