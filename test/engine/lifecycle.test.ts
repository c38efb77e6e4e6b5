/**
 * The certificate component under the real Pulumi engine: preview, up, a second up, refresh (healthy, then
 * after an out-of-band delete), a stack reference from a second project on the same backend, destroy.
 * The steps build on each other and run in order. Each asserts the engine's own summary and what the local
 * Scaleway, Cloudflare and ACME servers saw.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { createClient } from "@scaleway/sdk-client";
import { Lbv1 } from "@scaleway/sdk-lb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as certificateModule from "../../components/certificate";
import { type CertificateWorld, type LoadBalancerSeed, startCertificateWorld } from "../certificate-provider-world";
import { CERTIFICATE_TYPE, callCounts, certificateProgram, DOMAIN, NO_CALLS, since } from "./support/certificateStack";
import { changes, type Engine, startEngine } from "./support/engine";

const PROJECT = "engine-entrance";
const STACK = "lifecycle";

let world: CertificateWorld;
let engine: Engine;
let lb: LoadBalancerSeed;
let stack: Stack;
/** Everything the engine printed during the run (stdout and stderr of every command). */
const engineOutput: string[] = [];
const collect = { onOutput: (text: string) => engineOutput.push(text), onError: (text: string) => engineOutput.push(text) };

beforeAll(async () => {
    world = await startCertificateWorld();
    engine = await startEngine(world.env);
    lb = world.seedLoadBalancer("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443");
    stack = await engine.stack({ projectName: PROJECT, stackName: STACK, program: certificateProgram(certificateModule, world, lb) });
});

afterAll(async () => {
    await stack?.destroy().catch(() => undefined);
    await Promise.all([world?.stop(), engine?.remove()]);
});

interface Exported {
    deployment: { resources: Array<{ type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }> };
}

interface SecretValue {
    "4dabf18193072939515e22adb298388d": string;
    ciphertext?: string;
    plaintext?: string;
}

function isCiphertext(value: unknown): value is SecretValue {
    const secret = value as SecretValue;
    return (
        typeof value === "object" &&
        value !== null &&
        secret["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270" &&
        typeof secret.ciphertext === "string" &&
        secret.plaintext === undefined
    );
}

/** The base64 lines of a PEM block: what a leak would show, whatever escaping wraps the line breaks. */
function pemLines(pem: string): string[] {
    return pem.split("\n").filter((line) => line.length > 0 && !line.startsWith("-----"));
}

/**
 * `pulumi stack export` as an operator runs it (the Automation API's exportStack adds --show-secrets): the
 * certificate's and the account's keys only as ciphertext, and neither they nor a credential in plaintext in
 * the state, in any file the engine wrote, or in what the engine printed.
 */
async function expectSecretsOnlyAsCiphertext(privateKeyPem: string, printed: string[]): Promise<void> {
    const exported = await engine.cli(["stack", "export", "--stack", STACK], stack.workspace.workDir);
    const { resources } = (JSON.parse(exported) as Exported).deployment;
    const [certificate] = resources.filter((resource) => resource.type === CERTIFICATE_TYPE);
    expect(isCiphertext(certificate.outputs?.privateKeyPem)).toBe(true);
    expect(isCiphertext(certificate.outputs?.accountKeyPem)).toBe(true);
    expect(isCiphertext(certificate.inputs?.accountKeyPem)).toBe(true);
    const stackResource = resources.find((resource) => resource.type === "pulumi:pulumi:Stack");
    expect(isCiphertext(stackResource?.outputs?.privateKeyPem)).toBe(true);

    const keyMaterial = [...pemLines(privateKeyPem), ...pemLines(world.accountKeyPem), "PRIVATE KEY"];
    const credentials = [world.env.SCW_SECRET_KEY, world.env.CLOUDFLARE_API_TOKEN, world.env.SCW_ACCESS_KEY];
    const state = [exported, ...(await engine.writtenFiles())].join("\n");
    const logs = [...engineOutput, ...printed].join("\n");
    for (const needle of [...keyMaterial, ...credentials]) {
        expect(state).not.toContain(needle);
        expect(logs).not.toContain(needle);
    }
}

describe("the certificate component under the Pulumi engine", () => {
    it("runs a CLI at least as new as @pulumi/pulumi", async () => {
        const { version } = await import("@pulumi/pulumi/package.json");
        expect(stack.workspace.pulumiVersion.localeCompare(version, "en", { numeric: true })).toBeGreaterThanOrEqual(0);
    });

    it("1. previews a new stack: one component and one certificate to create, no call to Scaleway, Cloudflare or the CA", async () => {
        const before = callCounts(world);
        const preview = await stack.preview(collect);
        expect(changes(preview.changeSummary)).toEqual({ create: 3 }); // the stack, the component, the certificate
        expect(since(world, before)).toEqual(NO_CALLS);
        expect(world.certificatesOn(lb)).toEqual([]);
    });

    it("2. up issues, uploads and exports the certificate; the state holds its keys only as ciphertext", async () => {
        const before = callCounts(world);
        const up = await stack.up(collect);
        expect(changes(up.summary.resourceChanges)).toEqual({ create: 3 });
        const made = since(world, before);
        expect(made.ca).toBeGreaterThan(0);
        expect(made.scalewayWrites).toBe(1); // the upload
        expect(made.cloudflareWrites).toBe(2); // the TXT record, then its removal

        const certificateId = up.outputs.certificateId.value as string;
        expect(world.certificatesOn(lb)).toEqual([certificateId]);
        expect(world.txtRecords()).toEqual([]);
        expect(up.outputs.domains.value).toEqual([DOMAIN]);
        expect(up.outputs.bindingStatus.value).toBe("annotation-pending");
        const leaf = new X509Certificate(up.outputs.certificatePem.value as string);
        expect(leaf.subjectAltName).toBe(`DNS:${DOMAIN}`);
        expect(up.outputs.fingerprint.value).toBe(leaf.fingerprint256.toLowerCase());
        expect(up.outputs.privateKeyPem.secret).toBe(true);
        const privateKeyPem = up.outputs.privateKeyPem.value as string;
        expect(leaf.checkPrivateKey(createPrivateKey(privateKeyPem))).toBe(true);

        await expectSecretsOnlyAsCiphertext(privateKeyPem, [up.stdout, up.stderr]);
    });

    it("3. a second up changes nothing: no write on the servers, no request to the CA", async () => {
        const before = callCounts(world);
        const up = await stack.up(collect);
        expect(changes(up.summary.resourceChanges)).toEqual({ same: 3 });
        expect(since(world, before)).toEqual(NO_CALLS);
        expect(world.certificatesOn(lb)).toEqual([up.outputs.certificateId.value]);
    });

    it("4. refresh of a healthy stack changes nothing; after an out-of-band delete it sees the certificate gone and up brings it back", async () => {
        let before = callCounts(world);
        const healthy = await stack.refresh(collect);
        expect(changes(healthy.summary.resourceChanges)).toEqual({ same: 3 });
        expect(since(world, before)).toMatchObject({ scalewayWrites: 0, cloudflare: 0 });
        expect(since(world, before).scaleway).toBeGreaterThan(0); // it did look

        const [gone] = world.certificatesOn(lb);
        const [zone, certificateId] = gone.split("/");
        await new Lbv1.ZonedAPI(createClient(world.scaleway.clientSettings)).deleteCertificate({ zone, certificateId });
        expect(world.certificatesOn(lb)).toEqual([]);

        before = callCounts(world);
        const refreshed = await stack.refresh(collect);
        expect(changes(refreshed.summary.resourceChanges)).toEqual({ same: 2, delete: 1 });
        expect(since(world, before)).toMatchObject({ scalewayWrites: 0, cloudflare: 0, ca: 0 });
        const exported = await stack.exportStack();
        const types = (exported.deployment as Exported["deployment"]).resources.map((resource) => resource.type);
        expect(types).not.toContain(CERTIFICATE_TYPE);

        before = callCounts(world);
        const up = await stack.up(collect);
        expect(changes(up.summary.resourceChanges)).toEqual({ create: 1, same: 2 });
        expect(since(world, before)).toMatchObject({ scalewayWrites: 1, cloudflareWrites: 2 });
        expect(since(world, before).ca).toBeGreaterThan(0);
        const back = up.outputs.certificateId.value as string;
        expect(back).not.toBe(gone);
        expect(world.certificatesOn(lb)).toEqual([back]);
        expect(world.txtRecords()).toEqual([]);
        // The refreshes stored what `read` handed back, and the re-issue a new key: still only ciphertext.
        await expectSecretsOnlyAsCiphertext(up.outputs.privateKeyPem.value as string, [healthy.stdout, up.stdout, up.stderr]);
    });

    it("7. a second project on the same backend reads the outputs through a StackReference", async () => {
        const outputs = await stack.outputs();
        const consumer = await engine.stack({
            projectName: "engine-consumer",
            stackName: STACK,
            program: () => {
                const entrance = new pulumi.StackReference("entrance", { name: `organization/${PROJECT}/${STACK}` });
                return Promise.resolve({
                    certificateId: entrance.requireOutput("certificateId"),
                    notAfter: entrance.requireOutput("notAfter"),
                    privateKeyPem: entrance.requireOutput("privateKeyPem"),
                });
            },
        });
        try {
            const before = callCounts(world);
            const up = await consumer.up(collect);
            expect(since(world, before)).toEqual(NO_CALLS);
            // The reference is read, not created: the summary counts the stack alone.
            expect(changes(up.summary.resourceChanges)).toEqual({ create: 1 });
            const { deployment } = JSON.parse(
                await engine.cli(["stack", "export", "--stack", STACK], consumer.workspace.workDir),
            ) as Exported;
            expect(deployment.resources.map((resource) => resource.type)).toContain("pulumi:pulumi:StackReference");
            expect(up.outputs.certificateId).toEqual({ value: outputs.certificateId.value as unknown, secret: false });
            expect(up.outputs.notAfter.value).toBe(outputs.notAfter.value);
            // A secret stays a secret through the reference.
            expect(up.outputs.privateKeyPem.secret).toBe(true);
        } finally {
            await consumer.destroy(collect);
        }
    });

    it("6. destroy leaves no certificate on the LB and no _acme-challenge record", async () => {
        const before = callCounts(world);
        const destroyed = await stack.destroy(collect);
        expect(changes(destroyed.summary.resourceChanges)).toEqual({ delete: 3 });
        expect(since(world, before)).toMatchObject({ scalewayWrites: 1, cloudflareWrites: 0, ca: 0 }); // the certificate's DELETE
        expect(world.certificatesOn(lb)).toEqual([]);
        expect(world.cloudflare.records().filter((record) => record.name.startsWith("_acme-challenge"))).toEqual([]);
    });
});
