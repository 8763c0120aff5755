import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildApp } from "./app.ts";

/**
 * `npm run synth:aws [-- --out DIR] [key=value …]`: synthesizes the AWS app offline (no account,
 * no lookups) into DIR, default .reelmesh/cdk.out, and prints each stack's resources by type.
 * key=value pairs are the app's context (infra/aws/app.ts), as `-c key=value` to the CDK CLI.
 * The synthesis fails on any unacknowledged cdk-nag or CloudFormation validation finding.
 */
const DEFAULT_OUT = ".reelmesh/cdk.out";

const { values, positionals } = parseArgs({ options: { out: { type: "string", default: DEFAULT_OUT } }, allowPositionals: true });
const context: Record<string, string> = {};
for (const arg of positionals) {
  const eq = arg.indexOf("=");
  if (eq < 1) {
    console.error(`not a key=value context argument: ${arg}`);
    process.exit(2);
  }
  context[arg.slice(0, eq)] = arg.slice(eq + 1);
}

let assembly;
try {
  assembly = buildApp({ outdir: resolve(values.out), context }).app.synth();
} catch (err) {
  // A failed validation's report was printed above by the CDK; a bad context names its keys.
  console.error((err as Error).message);
  process.exit(1);
}

for (const stack of assembly.stacks) {
  const resources = Object.values((stack.template as { Resources?: Record<string, { Type: string }> }).Resources ?? {});
  const byType = new Map<string, number>();
  for (const r of resources) byType.set(r.Type, (byType.get(r.Type) ?? 0) + 1);
  console.log(`${stack.stackName}: ${resources.length} resources (${stack.templateFullPath})`);
  for (const [type, n] of [...byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    console.log(`  ${String(n).padStart(3)}  ${type}`);
  }
}
