import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFauxqs } from "fauxqs";
import { provision } from "../../infra/local/resources.ts";

/** Starts the SQS/S3 emulator (in Node) for the workerd tests, on the port the config chose. */
export default async function setup(): Promise<() => Promise<void>> {
  const port = Number(process.env.REELMESH_TEST_EMULATOR_PORT);
  const dataDir = await mkdtemp(join(tmpdir(), "reelmesh-edge-test-"));
  const server = await startFauxqs({ port, host: "127.0.0.1", logger: false, dataDir });
  await provision({ endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", accessKeyId: "reelmesh-local", secretAccessKey: "reelmesh-local-secret" });
  return async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
