/**
 * A server-sent events parser (WHATWG HTML, "event stream interpretation"): lines end in CRLF,
 * LF or CR; `data` lines join with LF; `id` sets the last event id (one with a NUL is ignored);
 * `retry` sets the reconnection time; a line starting with `:` is a comment; a blank line
 * dispatches. Fed text in arbitrary pieces, as a network delivers it.
 */
export interface ServerSentEvent {
  /** The last event id after this event (the spec's "last event ID buffer"); null before any. */
  id: string | null;
  event: string;
  data: string;
}

export class SseParser {
  /** Reconnection time the server asked for (`retry:`), in ms; null until it does. */
  retryMs: number | null = null;
  lastEventId: string | null = null;
  private buffer = "";
  private data: string[] = [];
  private eventType = "";
  private started = false;
  private pendingCr = false;

  /** Feeds text; returns the events it completed. */
  push(text: string): ServerSentEvent[] {
    if (!this.started) {
      this.started = text.length > 0;
      if (text.startsWith("\uFEFF")) text = text.slice(1);
    }
    // A CR that ended the previous piece may be the first half of a CRLF.
    if (this.pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const out: ServerSentEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A trailing lone CR may still be followed by LF: wait for more text, unless this is all.
      const line = this.buffer.slice(0, m.index);
      if (m[0] === "\r" && m.index === this.buffer.length - 1) this.pendingCr = true;
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const event = this.line(line);
      if (event) out.push(event);
    }
    return out;
  }

  private line(line: string): ServerSentEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.eventType = value;
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
    return null;
  }

  private dispatch(): ServerSentEvent | null {
    const data = this.data;
    const type = this.eventType;
    this.data = [];
    this.eventType = "";
    if (data.length === 0) return null;
    return { id: this.lastEventId, event: type || "message", data: data.join("\n") };
  }
}
