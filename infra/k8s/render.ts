import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadClusterConfig } from "./cluster.ts";
import { MANIFEST_DIR, manifestDrift, renderManifests } from "./manifests.ts";

/**
 * Renders the Kubernetes manifests (manifests.ts) from the scaling policy and a cluster
 * configuration (cluster.ts):
 *
 *   npm run render:k8s                                        # writes infra/k8s/manifests/
 *   npm run render:k8s -- --check                             # exits 1 if those files are not what it would write
 *   npm run render:k8s -- --config cluster.json --out my-dir  # a cluster's own values, elsewhere
 */
const { values } = parseArgs({ options: { check: { type: "boolean" }, config: { type: "string" }, out: { type: "string" } } });
const dir = values.out ? resolve(values.out) : MANIFEST_DIR;
const rendered = await renderManifests(loadClusterConfig(values.config));
const drift = manifestDrift(dir, rendered);

if (values.check) {
  if (drift.length > 0) {
    const lines = drift.map((d) => `  ${d.name}: ${d.issue}`).join("\n");
    console.error(`${dir} is not what render writes (run \`npm run render:k8s\`):\n${lines}`);
    process.exit(1);
  }
  console.log(`${dir}: ${rendered.size} files as rendered`);
} else {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of rendered) writeFileSync(join(dir, name), text);
  // Only the folder render owns is pruned; another --out folder may hold files of its own.
  for (const { name } of drift.filter((d) => d.issue === "not rendered")) {
    if (dir === MANIFEST_DIR) rmSync(join(dir, name));
    else console.warn(`${name} in ${dir} was not rendered; left as it is`);
  }
  console.log(`wrote ${rendered.size} files to ${dir}`);
}
