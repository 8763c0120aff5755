/**
 * A request header a development edge answers with the number of Durable Object calls the
 * request made (edge/src/durable-calls.ts); `npm run bench:edge` and the edge tests read it.
 */
export const DURABLE_CALLS_HEADER = "x-reelmesh-durable-calls";
