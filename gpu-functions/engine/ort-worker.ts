import { parentPort } from "node:worker_threads";
import { createSession, ort, type RuntimeOptions } from "./runtime.ts";
import type { HostRequest, HostResponse, WireTensor } from "./ort-host.ts";

/**
 * The ONNX Runtime thread (see ort-host.ts): owns the sessions, runs one request at a time,
 * and hands outputs back by transferring their buffers (no copy).
 */
const port = parentPort!;
const sessions = new Map<number, ort.InferenceSession>();
/** Assembly buffers for tiled feeds, reused across runs of the same size (ORT reads inputs in place). */
const assembly = new Map<string, Float32Array>();
let nextId = 1;

const reply = (msg: HostResponse, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

// One request at a time, in arrival order: runs share assembly buffers, and a GPU runs one
// graph at a time anyway.
let chain = Promise.resolve();
port.on("message", (req: HostRequest) => {
  chain = chain.then(() => handle(req));
});

async function handle(req: HostRequest): Promise<void> {
  try {
    if (req.op === "create") {
      const opts: RuntimeOptions = { ...req.options, log: (msg, fields) => reply({ op: "log", msg, ...(fields ? { fields } : {}) }) };
      const { session, provider } = await createSession(req.path, opts);
      const id = nextId++;
      sessions.set(id, session);
      reply({
        op: "reply",
        id: req.id,
        ok: true,
        session: id,
        provider,
        inputMetadata: session.inputMetadata,
        outputMetadata: session.outputMetadata,
      });
    } else if (req.op === "run") {
      const session = sessions.get(req.session);
      if (!session) throw new Error(`session ${req.session} is released`);
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(req.feeds)) {
        if ("tiled" in t) {
          const total = t.parts.reduce((s, p) => s + p.data.length * p.repeat, 0);
          const key = `${req.session}:${name}`;
          const single = t.parts.length === 1 && t.parts[0]!.repeat === 1 && (t.parts[0]!.scale ?? 1) === 1;
          let data = single ? t.parts[0]!.data : assembly.get(key);
          if (!data || data.length !== total) assembly.set(key, (data = new Float32Array(total)));
          let at = 0;
          if (data !== t.parts[0]?.data) {
            for (const p of t.parts) {
              const scale = p.scale ?? 1;
              for (let r = 0; r < p.repeat; r++, at += p.data.length) {
                if (scale === 1) data.set(p.data, at);
                else for (let j = 0, n = p.data.length; j < n; j++) data[at + j] = scale * p.data[j]!;
              }
            }
          }
          feeds[name] = new ort.Tensor("float32", data, t.dims);
        } else {
          feeds[name] = new ort.Tensor(t.type as "float32", t.data as Float32Array, t.dims);
        }
      }
      const t0 = performance.now();
      const out = await session.run(feeds);
      const ms = performance.now() - t0;
      const consumed = new Set<string>();
      for (const t of Object.values(req.feeds)) {
        if (!("tiled" in t) || !t.updateFrom) continue;
        const source = out[t.updateFrom]!.data as Float32Array;
        consumed.add(t.updateFrom);
        let row = 0;
        for (const p of t.parts) {
          const x = p.data;
          const n = x.length;
          if (p.update) {
            const { a, coef } = p.update;
            const o0 = source.subarray(row * n, (row + 1) * n);
            if (coef.length === 2) {
              const o1 = source.subarray((row + 1) * n, (row + 2) * n);
              const [c0, c1] = coef as [number, number];
              for (let j = 0; j < n; j++) x[j] = a * x[j]! + c0 * o0[j]! + c1 * o1[j]!;
            } else {
              const c0 = coef[0]!;
              for (let j = 0; j < n; j++) x[j] = a * x[j]! + c0 * o0[j]!;
            }
          }
          row += p.repeat;
        }
      }
      const outputs: Record<string, WireTensor> = {};
      const transfer: ArrayBuffer[] = [];
      const returned: Record<string, Float32Array[]> = {};
      for (const [name, t] of Object.entries(req.feeds)) {
        if (!("tiled" in t) || !t.lend) continue;
        returned[name] = t.parts.map((p) => p.data);
        for (const p of t.parts) if (!transfer.includes(p.data.buffer as ArrayBuffer)) transfer.push(p.data.buffer as ArrayBuffer);
      }
      for (const [name, t] of Object.entries(out)) {
        if (consumed.has(name)) continue;
        const data = t.data as Float32Array;
        outputs[name] = { type: t.type, dims: [...t.dims], data };
        if (data.byteOffset === 0 && data.buffer.byteLength === data.byteLength && !transfer.includes(data.buffer as ArrayBuffer)) {
          transfer.push(data.buffer as ArrayBuffer);
        }
      }
      reply({ op: "reply", id: req.id, ok: true, outputs, returned, ms }, transfer);
    } else {
      await sessions.get(req.session)?.release();
      sessions.delete(req.session);
      reply({ op: "reply", id: req.id, ok: true });
    }
  } catch (err) {
    reply({ op: "reply", id: req.id, ok: false, error: (err as Error).message });
  }
}
