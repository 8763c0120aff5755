import type { Env } from "../env.ts";
import type { JobObject } from "./job-object.ts";

/**
 * Coalescing (the `followers` key): the jobs that joined this one's run, and forwarding to
 * each of them what happens to it.
 */
const FOLLOWERS = "followers";

export class Followers {
  private readonly storage: DurableObjectStorage;
  private readonly env: Env;

  constructor(storage: DurableObjectStorage, env: Env) {
    this.storage = storage;
    this.env = env;
  }

  async list(): Promise<string[]> {
    return (await this.storage.get<string[]>(FOLLOWERS)) ?? [];
  }

  /** Adds a job (once). */
  async add(id: string): Promise<void> {
    const followers = await this.list();
    if (!followers.includes(id)) await this.storage.put(FOLLOWERS, [...followers, id]);
  }

  /** Calls `send` on every follower's object; a follower that fails is logged, not retried. */
  async forward(send: (stub: DurableObjectStub<JobObject>, id: string) => Promise<unknown>): Promise<void> {
    const followers = await this.list();
    await Promise.all(
      followers.map((id) =>
        send(this.env.JOBS.get(this.env.JOBS.idFromName(id)), id).catch((err: unknown) => {
          console.error(JSON.stringify({ msg: "forward to follower failed", follower: id, error: (err as Error).message }));
        }),
      ),
    );
  }
}
