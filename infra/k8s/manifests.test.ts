import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from "kubernetes-models/admissionregistration.k8s.io/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { Namespace, ServiceAccount } from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { loadClusterConfig } from "./cluster.ts";
import { MANIFEST_DIR, manifestDrift, manifestFiles, renderManifests } from "./manifests.ts";

/** Every kind rendered, by the model class whose schema it must pass. */
const MODELS = {
  Namespace,
  ServiceAccount,
  Role,
  RoleBinding,
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
  Deployment,
  ScaledObject,
  TriggerAuthentication,
} as const;

/**
 * The scalers' metadata keys as KEDA reads them (pkg/scalers/aws_sqs_queue_scaler.go and
 * cron_scaler.go): the ScaledObject schema leaves trigger metadata free-form, so a misspelt key
 * would pass it and be ignored by KEDA.
 */
const SCALER_KEYS: Record<string, string[]> = {
  "aws-sqs-queue": [
    "queueURL",
    "queueURLFromEnv",
    "queueLength",
    "activationQueueLength",
    "awsRegion",
    "awsEndpoint",
    "scaleOnInFlight",
    "scaleOnDelayed",
  ],
  cron: ["timezone", "start", "end", "desiredReplicas"],
};

const committed = () =>
  readdirSync(MANIFEST_DIR)
    .filter((name) => name.endsWith(".yaml"))
    .flatMap((name) => parseAllDocuments(readFileSync(join(MANIFEST_DIR, name), "utf8")).map((doc) => ({ name, doc: doc.toJS() })));

const temp = mkdtempSync(join(tmpdir(), "reelmesh-k8s-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const render = (...args: string[]) => spawnSync(process.execPath, ["infra/k8s/render.ts", ...args], { encoding: "utf8" });

describe("the Kubernetes manifests", () => {
  it("are what render writes from the policy (run `npm run render:k8s` after changing it)", async () => {
    expect(manifestDrift(MANIFEST_DIR, await renderManifests(loadClusterConfig()))).toEqual([]);
  });

  it("pass the Kubernetes and KEDA schemas, as built and as committed", () => {
    for (const file of manifestFiles(loadClusterConfig())) for (const object of file.objects) object.validate();
    const docs = committed();
    expect(docs.length).toBeGreaterThan(0);
    for (const { name, doc } of docs) {
      const Model = MODELS[doc.kind as keyof typeof MODELS];
      expect(Model, `${name}: ${doc.kind}`).toBeDefined();
      expect(doc.apiVersion, `${name}: ${doc.kind}`).toBe(Model.apiVersion);
      expect(() => new Model(doc).validate(), `${name}: ${doc.kind} ${doc.metadata?.name}`).not.toThrow();
    }
  });

  it("use only the trigger metadata keys KEDA's scalers read", () => {
    const triggers = committed()
      .filter(({ doc }) => doc.kind === "ScaledObject")
      .flatMap(({ doc }) => doc.spec.triggers);
    expect(new Set(triggers.map((t: { type: string }) => t.type))).toEqual(new Set(Object.keys(SCALER_KEYS)));
    for (const trigger of triggers) {
      for (const key of Object.keys(trigger.metadata)) expect(SCALER_KEYS[trigger.type], `${trigger.type}.${key}`).toContain(key);
    }
  });

  it("check clean with `render.ts --check`, and not once a file is changed", () => {
    const clean = render("--check");
    expect(clean.status, clean.stderr).toBe(0);
    const out = join(temp, "changed");
    expect(render("--out", out).status).toBe(0);
    writeFileSync(join(out, "20-keda-auth.yaml"), "# edited by hand\n");
    const changed = render("--check", "--out", out);
    expect(changed.status).toBe(1);
    expect(changed.stderr).toContain("20-keda-auth.yaml: differs");
  });

  it("take a cluster's own values from --config, and refuse keys they do not know", () => {
    const config = join(temp, "cluster.json");
    const queue = "https://sqs.eu-west-1.amazonaws.com/210987654321/jobs-standard";
    writeFileSync(
      config,
      JSON.stringify({
        namespace: "video",
        image: "registry.example/reelmesh-gpu:1",
        awsRegion: "eu-west-1",
        queueUrls: { standard: queue, economy: queue + "-eco" },
      }),
    );
    const out = join(temp, "own");
    const run = render("--config", config, "--out", out);
    expect(run.status, run.stderr).toBe(0);
    const standard = readFileSync(join(out, "30-gpu-standard.yaml"), "utf8");
    expect(standard).toContain(`queueURL: ${queue}\n`);
    expect(standard).toContain("namespace: video\n");
    expect(standard).not.toContain("123456789012");

    writeFileSync(config, JSON.stringify({ namespce: "video" }));
    const bad = render("--config", config, "--out", out);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("namespce");
  });
});
