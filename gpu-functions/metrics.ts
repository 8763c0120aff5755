/**
 * The GPU function's cost-to-serve counters, in the Prometheus text format on
 * `GET /metrics` (REELMESH_METRICS_PORT, served by health.ts beside the probes). Counters only: a scraper turns them into rates and
 * sums across the fleet.
 */
type Labels = Record<string, string>;

const HELP: Record<string, string> = {
  reelmesh_jobs_total: "Jobs ended by this worker, by tier and outcome (handed_back: drained, resumed elsewhere).",
  reelmesh_gpu_seconds_total: "Seconds inside the model (text encoder, denoiser, VAE).",
  reelmesh_encode_seconds_total: "Seconds of video encoding (segments and final MP4).",
  reelmesh_video_seconds_total: "Seconds of video delivered (committed segments).",
  reelmesh_bytes_stored_total: "Bytes written to object storage.",
};

export class Metrics {
  private readonly counters = new Map<string, Map<string, number>>();

  add(name: keyof typeof HELP, value: number, labels: Labels = {}): void {
    const series = this.counters.get(name) ?? new Map<string, number>();
    const key = Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
      .join(",");
    series.set(key, (series.get(key) ?? 0) + value);
    this.counters.set(name, series);
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, help] of Object.entries(HELP)) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of this.counters.get(name) ?? []) lines.push(`${name}${labels ? `{${labels}}` : ""} ${value}`);
    }
    return lines.join("\n") + "\n";
  }
}
