/**
 * A certificate written by the code before the provider was packaged (commit 375cfe2), under the real
 * engine: its state is the fixture's (inputs, outputs and the stored closure that loads
 * `components/certificate/provider` by path), imported with `pulumi stack import` into a stack of the
 * current program, with the fixture's certificate on an LB of this run. It is refreshed by its own closure
 * through the shim, kept by the next `up` without a new order, and destroyed.
 *
 * The stack's other resources (the stack, the component, the default provider) come from a first `up`
 * that adopts the fixture's certificate (no ACME order); the certificate's state is then replaced by the
 * fixture's, as the old code had written it.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { Deployment, Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as certificateModule from "../../components/certificate";
import { buildScalewayCertificateChain } from "../../components/certificate/pem";
import { createLoadBalancerCertificates } from "../../components/certificate/scaleway";
import { type CertificateWorld, type LoadBalancerSeed, startCertificateWorld } from "../certificate-provider-world";
import { CERTIFICATE_TYPE, callCounts, certificateProgram, NO_CALLS, since } from "./support/certificateStack";
import { linkedCheckout, type StoredResource, storedCertificate } from "./support/checkouts";
import { changes, type Engine, startEngine } from "./support/engine";

interface LegacyFixture {
    resource: {
        inputs: Record<string, unknown>;
        outputs: Record<string, unknown> & { __provider: string; privateKeyPem: string; certificatePem: string };
    };
}
const fixture = JSON.parse(readFileSync(path.join(__dirname, "..", "fixtures", "certificate-state-375cfe2.json"), "utf8")) as LegacyFixture;
const LEGACY_CLOSURE = fixture.resource.outputs.__provider;
const STACK = "legacy";
/** How a deployment marks a secret (plaintext in an export with secrets shown). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

let world: CertificateWorld;
let engine: Engine;
let lb: LoadBalancerSeed;
let stack: Stack;
let certificateId: string;
const startDirectory = process.cwd();

/** The fixture's values, moved onto this run's world; secret where the current state has a secret. */
function legacyProperties(written: Record<string, unknown>, current: Record<string, unknown> | undefined): Record<string, unknown> {
    const here: Record<string, unknown> = {
        loadBalancerId: lb.lbId,
        acmeDirectoryUrl: world.pebble.directoryUrl,
        dnsResolvers: [world.pebble.dnsServer],
        ...("certificateId" in written ? { certificateId, certificateUuid: certificateId.split("/")[1] } : {}),
    };
    const isSecret = (value: unknown) => typeof value === "object" && value !== null && SECRET_SIG in value;
    return Object.fromEntries(
        Object.entries({ ...written, ...here }).map(([key, value]) => [
            key,
            isSecret(current?.[key]) ? { [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(value) } : value,
        ]),
    );
}

beforeAll(async () => {
    world = await startCertificateWorld();
    engine = await startEngine(world.env);
    lb = world.seedLoadBalancer();
    // The fixture's certificate, uploaded and bound to the frontend as the old code's create left it.
    const scaleway = createLoadBalancerCertificates({
        credentials: { accessKey: world.env.SCW_ACCESS_KEY, secretKey: world.env.SCW_SECRET_KEY, apiUrl: world.env.SCW_API_URL },
    });
    const { privateKeyPem, certificatePem } = fixture.resource.outputs;
    certificateId = await scaleway.uploadCertificate(lb.lbId, "legacy", buildScalewayCertificateChain(privateKeyPem, certificatePem));
    await scaleway.bindFrontend(lb.lbId, 443, certificateId);

    // A checkout of the project (the old closure looks for components/certificate/provider in it) as the project folder.
    const checkout = await linkedCheckout(engine, "checkout");
    process.chdir(checkout);
    // The settings the state was written with (no `zone`: the fixture's inputs have none).
    const settings = {
        accountKeyPem: fixture.resource.inputs.accountKeyPem as string,
        binding: { mode: "frontend" as const, frontendPort: 443 },
        zone: undefined,
    };
    const seeding = certificateProgram(certificateModule, world, lb, { ...settings, adoptCertificateId: certificateId });
    const program = certificateProgram(certificateModule, world, lb, settings);
    let seeded = false;
    stack = await engine.stack({
        projectName: "engine-legacy",
        stackName: STACK,
        program: () => (seeded ? program() : seeding()),
        workDir: checkout,
    });
    const adopted = await stack.up();
    expect(changes(adopted.summary.resourceChanges)).toEqual({ create: 3 });
    seeded = true;

    const exported: Deployment = await stack.exportStack();
    const deployment = exported.deployment as { resources: StoredResource[] };
    const resources = deployment.resources.map((resource) =>
        resource.type === CERTIFICATE_TYPE
            ? {
                  ...resource,
                  inputs: legacyProperties(fixture.resource.inputs, resource.inputs),
                  outputs: legacyProperties(fixture.resource.outputs, resource.outputs),
              }
            : resource,
    );
    await stack.importStack({ version: exported.version, deployment: { ...deployment, resources } });
}, 180_000);

afterAll(async () => {
    process.chdir(startDirectory);
    await stack?.destroy().catch(() => undefined);
    await Promise.all([world?.stop(), engine?.remove()]);
});

describe("a certificate written before the provider was packaged, under the Pulumi engine", () => {
    it("is in the state as that commit wrote it: the closure that loads components/certificate/provider by path", async () => {
        const stored = await storedCertificate(engine, STACK, stack.workspace.workDir);
        expect(stored.id).toBe(certificateId);
        expect(stored.outputs?.__provider).toBe(LEGACY_CLOSURE);
        expect(stored.inputs?.__provider).toBe(LEGACY_CLOSURE);
        expect(LEGACY_CLOSURE).toContain('loadCertificateModule(location, "provider")');
        expect(stored.outputs).not.toHaveProperty("origin");
    });

    it("is refreshed by its own closure without a change or a write", async () => {
        const before = callCounts(world);
        const refreshed = await stack.refresh();
        expect(changes(refreshed.summary.resourceChanges)).toEqual({ same: 3 });
        expect(since(world, before)).toMatchObject({ scalewayWrites: 0, cloudflare: 0 });
        expect(since(world, before).scaleway).toBeGreaterThan(0); // the old closure ran, through the shim
        expect(world.certificatesOn(lb)).toEqual([certificateId]);
    });

    it("is kept by the next up: no diff, no re-issue, no call anywhere", async () => {
        const before = callCounts(world);
        const up = await stack.up();
        expect(changes(up.summary.resourceChanges)).toEqual({ same: 3 });
        expect(since(world, before)).toEqual(NO_CALLS);
        expect(up.outputs.certificateId.value).toBe(certificateId);
        expect(up.outputs.fingerprint.value).toBe(fixture.resource.outputs.fingerprint);
        expect(world.certificatesOn(lb)).toEqual([certificateId]);
        // The engine keeps the outputs of an unchanged resource, closure included: the next delete runs the old one.
        const stored = await storedCertificate(engine, STACK, stack.workspace.workDir);
        expect(stored.inputs?.__provider).toContain('require("@scw-private-lb/certificate-provider/v1")');
        expect(stored.outputs?.__provider).toBe(LEGACY_CLOSURE);
    });

    it("is destroyed by its own closure: off the frontend and deleted from the LB", async () => {
        const before = callCounts(world);
        const destroyed = await stack.destroy();
        expect(changes(destroyed.summary.resourceChanges)).toEqual({ delete: 3 });
        expect(since(world, before)).toMatchObject({ cloudflareWrites: 0, ca: 0 });
        expect(world.frontendCertificates(lb)).toEqual([]);
        expect(world.certificatesOn(lb)).toEqual([]);
    });
});
