import { describe, expect, it } from "vitest";
import { SseParser } from "./sse.ts";

const all = (pieces: string[]) => {
  const p = new SseParser();
  return { events: pieces.flatMap((x) => p.push(x)), parser: p };
};

describe("the SSE parser", () => {
  it("reads reelmesh's frames: retry, id, event, JSON data, keep-alive comments", () => {
    const { events, parser } = all([
      "retry: 2000\n\n",
      'id: 1\nevent: queued\ndata: {"type":"queued"}\n\n',
      ": keep-alive\n\n",
      'id: 2\nevent: chunk\ndata: {"type":"chunk","index":0}\n\n',
    ]);
    expect(parser.retryMs).toBe(2000);
    expect(events).toEqual([
      { id: "1", event: "queued", data: '{"type":"queued"}' },
      { id: "2", event: "chunk", data: '{"type":"chunk","index":0}' },
    ]);
  });

  it("gives the same events however the bytes are split, CRLF and CR line ends included", () => {
    const text = "\uFEFFid: 7\r\nevent: a\r\ndata: x\r\ndata: y\r\n\r\nid: 8\rdata:z\r\r";
    const whole = all([text]).events;
    expect(whole).toEqual([
      { id: "7", event: "a", data: "x\ny" },
      { id: "8", event: "message", data: "z" },
    ]);
    for (let cut = 1; cut < text.length; cut++) expect(all([text.slice(0, cut), text.slice(cut)]).events, `cut at ${cut}`).toEqual(whole);
    expect(all([...text]).events).toEqual(whole);
  });

  it("keeps the last id across events without one, ignores an id with a NUL, and dispatches nothing for an empty data buffer", () => {
    const { events, parser } = all(["id: 5\n\n", "data: a\n\n", "id: bad\0id\ndata: b\n\n", "retry: soon\n\n"]);
    expect(events).toEqual([
      { id: "5", event: "message", data: "a" },
      { id: "5", event: "message", data: "b" },
    ]);
    expect(parser.retryMs).toBeNull();
  });
});
