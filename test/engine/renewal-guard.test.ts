/**
 * The renewal guard on real plans: the scheduled run of `.github/workflows/renewal.yml` (refresh,
 * `pulumi preview --json`, `npm run renewal-guard`, `pulumi up --target` on the URNs it allowed, the policy
 * pack on both) under the real CLI. The program holds the certificate component and another resource, an A
 * record on the local Cloudflare API (a small dynamic resource: the project's records need the Cloudflare
 * plugin, which cannot be had offline). Pebble issues 90-second certificates, due 60 s after issue.
 * The steps build on each other and run in order.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as certificateModule from "../../components/certificate";
import type { CloudflareDnsRecord } from "../../local/cloudflare-server";
import { type CertificateWorld, type LoadBalancerSeed, startCertificateWorld } from "../certificate-provider-world";
import { type SimulatedCcm, startSimulatedCcm } from "./support/ccm";
import { CERTIFICATE_TYPE, callCounts, certificateProgram, DOMAIN, since } from "./support/certificateStack";
import { changes, type Engine, REPOSITORY, startEngine } from "./support/engine";
import { type EngineStep, renewalRun } from "./support/renewalRun";

const LIFETIME_SECONDS = 90;
const PROJECT = "engine-renewal-guard";
const STACK = "guard";
const POLICY_PACK = path.join(REPOSITORY, "policy");
const RECORD_TYPE = "pulumi-nodejs:dynamic/engine-suite:Record";
const CERTIFICATE_URN = `urn:pulumi:${STACK}::${PROJECT}::scw-private-lb:certificate:AcmeCertificate$${CERTIFICATE_TYPE}::admin-certificate`;
const RECORD_URN = `urn:pulumi:${STACK}::${PROJECT}::${RECORD_TYPE}::admin-record`;

interface RecordInputs {
    zoneId: string;
    name: string;
    content: string;
}

/**
 * The other resource's provider: an A record through the Cloudflare API the world's environment points at.
 * Serialized into the state by Pulumi, so it refers to nothing but globals and its own helper.
 */
async function cloudflareApi(method: string, apiPath: string, body?: unknown): Promise<{ id: string }> {
    const response = await fetch(`${process.env.CLOUDFLARE_BASE_URL}/${apiPath}`, {
        method,
        headers: { authorization: `Bearer ${process.env.CLOUDFLARE_API_TOKEN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const envelope = (await response.json()) as { success: boolean; result: { id: string }; errors: unknown[] };
    if (!envelope.success) {
        throw new Error(`Cloudflare ${method} ${apiPath}: ${JSON.stringify(envelope.errors)}`);
    }
    return envelope.result;
}

const recordProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: RecordInputs) {
        const record = await cloudflareApi("POST", `zones/${inputs.zoneId}/dns_records`, {
            type: "A",
            name: inputs.name,
            content: inputs.content,
            ttl: 120,
            proxied: false,
        });
        return { id: record.id, outs: inputs };
    },
    diff(_id: string, olds: RecordInputs, news: RecordInputs) {
        return Promise.resolve({
            changes: olds.content !== news.content,
            replaces: olds.zoneId !== news.zoneId || olds.name !== news.name ? ["name"] : [],
        });
    },
    async update(id: string, olds: RecordInputs, news: RecordInputs) {
        await cloudflareApi("PATCH", `zones/${olds.zoneId}/dns_records/${id}`, { content: news.content });
        return { outs: news };
    },
    async delete(id: string, props: RecordInputs) {
        await cloudflareApi("DELETE", `zones/${props.zoneId}/dns_records/${id}`);
    },
};

class TestRecord extends pulumi.dynamic.Resource {
    constructor(name: string, props: RecordInputs) {
        super(recordProvider, name, props, {}, "engine-suite", "Record");
    }
}

let world: CertificateWorld;
let engine: Engine;
let lb: LoadBalancerSeed;
let ccm: SimulatedCcm | undefined;
let stack: Stack;
let zoneId: string;
/** What the program declares for the record: a reviewed change would edit it. */
let recordContent = "172.16.0.10";
/** The certificate's ACME contact: a setting a reviewed change would edit. */
let certificateEmail = "ops@example.com";
let runs = 0;

/** The certificate component, as the engine suite declares it, and the record. */
function program(): PulumiFn {
    return async () => {
        new TestRecord("admin-record", { zoneId, name: DOMAIN, content: recordContent });
        return certificateProgram(certificateModule, world, lb, { email: certificateEmail })();
    };
}

function aRecord(): CloudflareDnsRecord | undefined {
    return world.cloudflare.records(zoneId).find((record) => record.type === "A" && record.name === DOMAIN);
}

/** The steps of a `pulumi preview --json` document that change something, as `op urn`, sorted (resources register concurrently). */
function plannedChanges(plan: unknown): string[] {
    const steps = (plan as { steps: EngineStep[] }).steps;
    return steps
        .filter((step) => step.op !== "same")
        .map((step) => `${step.op} ${step.urn}`)
        .sort();
}

function runDir(): string {
    runs += 1;
    return path.join(engine.root, "runs", String(runs));
}

beforeAll(async () => {
    world = await startCertificateWorld({ certificateValidityPeriodSeconds: LIFETIME_SECONDS });
    engine = await startEngine(world.env);
    lb = world.seedLoadBalancer("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443");
    const zones = (await (
        await fetch(`${world.cloudflare.baseUrl}/zones?name=example.com`, {
            headers: { authorization: `Bearer ${world.cloudflare.apiToken}` },
        })
    ).json()) as { result: { id: string }[] };
    zoneId = zones.result[0].id;
    stack = await engine.stack({ projectName: PROJECT, stackName: STACK, program: program() });
    ccm = startSimulatedCcm(world, lb);
});

afterAll(async () => {
    ccm?.stop();
    if (world && lb) {
        world.scaleway.simulateCcmReconcile(lb.frontendId, []);
    }
    await stack?.destroy().catch(() => undefined);
    await Promise.all([world?.stop(), engine?.remove()]);
});

describe("the renewal guard on real plans of the Pulumi CLI", () => {
    let predecessor: string;
    let renewalDueAt: number;
    let record: CloudflareDnsRecord;

    it("deploys the certificate and the record", async () => {
        const up = await stack.up({ policyPacks: [POLICY_PACK] });
        expect(changes(up.summary.resourceChanges)).toEqual({ create: 4 }); // the stack, the component, the certificate, the record
        predecessor = up.outputs.certificateId.value as string;
        renewalDueAt = Date.parse(up.outputs.renewalDueAt.value as string);
        await vi.waitFor(() => expect(world.frontendCertificates(lb)).toEqual([predecessor]), { timeout: 10_000 });
        record = aRecord() as CloudflareDnsRecord;
        expect(record).toMatchObject({ content: "172.16.0.10" });
    });

    it("a run with nothing due: the guard lets the plan through with no target, and nothing is written", async () => {
        const before = callCounts(world);
        const run = await renewalRun(stack, runDir(), [POLICY_PACK]);
        expect(Date.now()).toBeLessThan(renewalDueAt);
        expect(changes(run.refresh.summary.resourceChanges)).toEqual({ same: 4 });
        expect(plannedChanges(run.plan)).toEqual([]);
        expect(run.guard).toEqual({ exitCode: 0, stdout: "Nothing to renew: the plan changes nothing.\n", stderr: "" });
        expect(run.targets).toEqual([]);
        expect(run.up).toBeUndefined();
        const seen = since(world, before);
        expect([seen.scalewayWrites, seen.cloudflareWrites]).toEqual([0, 0]);
        expect(world.certificatesOn(lb)).toEqual([predecessor]);
    });

    it("a certificate setting changed and not yet deployed: the guard refuses the certificate's own step, and no up runs", async () => {
        certificateEmail = "security@example.com"; // merged, not yet deployed through the reviewed pipeline
        const before = callCounts(world);
        const run = await renewalRun(stack, runDir(), [POLICY_PACK]);
        certificateEmail = "ops@example.com";
        const [step] = plannedChanges(run.plan);
        expect(plannedChanges(run.plan)).toHaveLength(1);
        expect(step.endsWith(` ${CERTIFICATE_URN}`)).toBe(true);
        const op = step.split(" ")[0];
        expect(run.guard.exitCode).toBe(1);
        expect(run.guard.stderr).toContain(
            `  ✗ ${op} ${CERTIFICATE_TYPE} "admin-certificate": its inputs changed (email): a configuration change: deploy it through the reviewed path\n`,
        );
        expect(run.targets).toEqual([]);
        expect(run.up).toBeUndefined();
        const seen = since(world, before);
        expect([seen.scalewayWrites, seen.cloudflareWrites]).toEqual([0, 0]);
        expect(world.certificatesOn(lb)).toEqual([predecessor]);
    });

    it("a due renewal in a plan that also changes the record: the guard exits 1 naming the record's update, and no up runs", async () => {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, renewalDueAt - Date.now() + 1_000)));
        recordContent = "172.16.0.11"; // merged, not yet deployed through the reviewed pipeline
        const before = callCounts(world);
        const run = await renewalRun(stack, runDir(), [POLICY_PACK]);
        expect(plannedChanges(run.plan)).toEqual([`replace ${CERTIFICATE_URN}`, `update ${RECORD_URN}`].sort());
        expect(run.guard.exitCode).toBe(1);
        expect(run.guard.stdout).toBe("");
        expect(run.guard.stderr).toBe(
            [
                "The renewal plan holds 1 change a renewal may not make; nothing was changed:",
                `  ✗ update ${RECORD_TYPE} "admin-record": a renewal changes only certificates and the Service annotation that binds them`,
                "Deploy these through a reviewed `pulumi up` (a merge to main), then the renewal can run again.",
                "",
            ].join("\n"),
        );
        expect(run.targets).toEqual([]);
        expect(run.up).toBeUndefined();
        // The local servers saw no write: the record, the certificate and the frontend are as they were.
        const seen = since(world, before);
        expect([seen.scalewayWrites, seen.cloudflareWrites]).toEqual([0, 0]);
        expect(aRecord()).toEqual(record);
        expect(world.certificatesOn(lb)).toEqual([predecessor]);
        expect(world.frontendCertificates(lb)).toEqual([predecessor]);
    });

    it("the due renewal alone: the guard allows the certificate, up --target replaces it, and nothing else changes", async () => {
        recordContent = "172.16.0.10"; // the change was reverted
        const before = callCounts(world);
        const scalewayBefore = world.scaleway.calls.length;
        const cloudflareBefore = world.cloudflare.calls.length;
        const run = await renewalRun(stack, runDir(), [POLICY_PACK]);
        expect(plannedChanges(run.plan)).toEqual([`replace ${CERTIFICATE_URN}`]);
        expect(run.guard).toEqual({
            exitCode: 0,
            stdout: `The renewal plan changes only certificates and their bindings:\n  ✓ replace ${CERTIFICATE_TYPE} "admin-certificate"\n`,
            stderr: "",
        });
        expect(run.targets).toEqual([CERTIFICATE_URN]);

        // The engine: the certificate replaced create-before-delete, every other resource left as it was.
        expect(run.up).toBeDefined();
        expect(changes(run.up?.summary.resourceChanges)).toEqual({ replace: 1, same: 3 });
        expect(run.upSteps.filter((step) => step.op !== "same")).toEqual([
            { op: "create-replacement", urn: CERTIFICATE_URN },
            { op: "replace", urn: CERTIFICATE_URN },
            { op: "delete-replaced", urn: CERTIFICATE_URN },
        ]);
        const successor = run.up?.outputs.certificateId.value as string;
        expect(successor).not.toBe(predecessor);

        // The servers: one certificate ordered, uploaded, the predecessor deleted after; exactly one left, bound.
        expect(since(world, before).ca).toBeGreaterThan(0);
        // (The delete is refused as "in use" until the CCM has moved the frontend; the provider waits for that.)
        const scalewayWrites = world.scaleway.calls
            .slice(scalewayBefore)
            .filter((call) => call.method !== "GET")
            .map((call) => ({ call: `${call.method} ${call.path.replace(/^.*\/lb\/v1\/zones\/[^/]+\//, "")}`, ok: call.status < 400 }));
        const expectedWrites = [`POST lbs/${lb.lbUuid}/certificates`, `DELETE certificates/${predecessor.split("/")[1]}`];
        expect([...new Set(scalewayWrites.map((write) => write.call))]).toEqual(expectedWrites);
        expect(scalewayWrites.filter((write) => write.ok).map((write) => write.call)).toEqual(expectedWrites);
        expect(world.certificatesOn(lb)).toEqual([successor]);
        await vi.waitFor(() => expect(world.frontendCertificates(lb)).toEqual([successor]), { timeout: 10_000 });
        // Cloudflare: only DNS-01 challenge records came and went (each created one deleted again); the A record
        // is untouched. A CA may reuse an authorization still valid from the first order (RFC 8555 §7.1.4), and
        // then no challenge record is needed at all: seen once in about five runs against Pebble.
        const cloudflareWrites = world.cloudflare.calls.slice(cloudflareBefore).filter((call) => call.method !== "GET");
        expect(cloudflareWrites.filter((call) => call.method === "POST").length).toBe(
            cloudflareWrites.filter((call) => call.method === "DELETE").length,
        );
        expect(cloudflareWrites.filter((call) => call.path.endsWith(record.id))).toEqual([]);
        expect(aRecord()).toEqual(record);
        expect(world.txtRecords()).toEqual([]);

        // And the stack has converged: the next plan changes nothing.
        const after = await stack.preview();
        expect(changes(after.changeSummary)).toEqual({ same: 4 });
    });
});
