import type { RunLog } from "./record.ts";

/**
 * One SVG of the measured day, a panel per policy: demand (the work arriving each minute, as
 * tasks at full batches, standard under economy), tasks billed (all, and those on spot), and the
 * standard backlog on its own scale.
 */
export interface ChartPanel {
  name: string;
  subtitle: string;
  log: RunLog;
}

export interface Demand {
  /** Tasks' worth of work arriving per minute of the day, per tier. */
  standard: number[];
  economy: number[];
}

const W = 1100;
const PANEL_H = 150;
const M = { left: 48, right: 60, top: 30, bottom: 22 };

export function dayChart(title: string, demand: Demand, panels: readonly ChartPanel[]): string {
  const series = panels.map((p) => perMinute(p.log));
  const yMax = niceMax(Math.max(...series.flatMap((s) => s.tasks), ...demand.standard.map((x, i) => x + demand.economy[i]!)));
  const plotW = W - M.left - M.right;
  const x = (minute: number) => M.left + (minute / 1440) * plotW;
  const height = panels.length * (PANEL_H + M.top + M.bottom) + 70;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${M.left}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((p, k) => {
    const top = 40 + k * (PANEL_H + M.top + M.bottom) + M.top;
    const y = (v: number) => top + PANEL_H - (v / yMax) * PANEL_H;
    const s = series[k]!;
    const backlogMax = niceMax(Math.max(1, ...s.backlog));
    const yb = (v: number) => top + PANEL_H - (v / backlogMax) * PANEL_H;
    out.push(`<text x="${M.left}" y="${top - 8}" font-weight="bold">${esc(p.name)}</text>`);
    out.push(`<text x="${M.left + 120}" y="${top - 8}" fill="#555">${esc(p.subtitle)}</text>`);
    out.push(`<rect x="${M.left}" y="${top}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#ccc"/>`);
    for (let h = 0; h <= 24; h += 3) {
      out.push(`<line x1="${x(h * 60)}" x2="${x(h * 60)}" y1="${top}" y2="${top + PANEL_H}" stroke="#eee"/>`);
      out.push(`<text x="${x(h * 60)}" y="${top + PANEL_H + 14}" text-anchor="middle" fill="#555">${h}:00</text>`);
    }
    for (const v of [0, yMax / 2, yMax]) out.push(`<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${v}</text>`);
    out.push(`<text x="${M.left + plotW + 6}" y="${top + 10}" fill="#c0392b">${backlogMax}</text>`);
    const std = smooth(demand.standard);
    out.push(area(smooth(demand.standard.map((v, i) => v + demand.economy[i]!)), x, y, "#d9d9d9"));
    out.push(area(std, x, y, "#9e9e9e"));
    out.push(line(s.tasks, x, y, "#1f5fbf", 1.5));
    out.push(line(s.spot, x, y, "#e67e22", 1, "3 2"));
    out.push(line(s.backlog, x, yb, "#c0392b", 1));
  });
  const ly = height - 14;
  const legend: [string, string][] = [
    ["#9e9e9e", "standard demand (tasks at full batches, 5-min mean)"],
    ["#d9d9d9", "+ economy demand"],
    ["#1f5fbf", "tasks billed"],
    ["#e67e22", "of which spot"],
    ["#c0392b", "standard backlog (right scale)"],
  ];
  legend.forEach(([color, label], i) => {
    const lx = M.left + [0, 330, 470, 580, 690][i]!;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="10" fill="${color}"/><text x="${lx + 16}" y="${ly}">${esc(label)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n");
}

/** Minute series over the measured day, from the samples (the last sample of each minute). */
function perMinute(log: RunLog): { tasks: number[]; spot: number[]; backlog: number[] } {
  const tasks = new Array<number>(1440).fill(0);
  const spot = new Array<number>(1440).fill(0);
  const backlog = new Array<number>(1440).fill(0);
  const s = log.samples;
  s.t.forEach((t, i) => {
    if (t < log.window.fromS || t >= log.window.toS) return;
    const m = Math.floor((t - log.window.fromS) / 60);
    tasks[m] = Object.values(s.tasks).reduce((sum, xs) => sum + xs[i]!, 0);
    spot[m] = s.spotTasks[i]!;
    backlog[m] = s.visible.standard[i]!;
  });
  return { tasks, spot, backlog };
}

function line(v: readonly number[], x: (m: number) => number, y: (v: number) => number, color: string, width: number, dash = ""): string {
  const d = v.map((val, m) => `${m ? "L" : "M"}${x(m).toFixed(1)},${y(val).toFixed(1)}`).join("");
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`;
}

/** Trailing 5-minute mean: arrivals per minute are too noisy to read as a level. */
function smooth(v: readonly number[]): number[] {
  return v.map((_, i) => {
    const from = Math.max(0, i - 4);
    return v.slice(from, i + 1).reduce((a, b) => a + b, 0) / (i + 1 - from);
  });
}

function area(v: readonly number[], x: (m: number) => number, y: (v: number) => number, color: string): string {
  const d = v.map((val, m) => `L${x(m).toFixed(1)},${y(val).toFixed(1)}`).join("");
  return `<path d="M${x(0)},${y(0)}${d}L${x(v.length - 1)},${y(0)}Z" fill="${color}"/>`;
}

function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(1, v)));
  for (const k of [1, 2, 2.5, 5, 10]) if (k * p >= v) return k * p;
  return 10 * p;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
