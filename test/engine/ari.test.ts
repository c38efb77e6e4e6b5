/**
 * ACME Renewal Information (RFC 9773) under the real Pulumi engine. Pebble 2.4.0 has none, so a stand-in
 * directory adds `renewalInfo` in front of it (support/renewalInfo.ts) and suggests the window the test sets.
 * A refresh reads the window the CA suggests; once it lies in the past, `up --refresh`
 * replaces the certificate create-before-delete, long before the provider's own schedule would.
 *
 * The renewal's order names its predecessor (`replaces`). Before a replacement the engine runs `check` again
 * without the old inputs (pkg/resource/deploy/step_generator.go in pulumi/pulumi), so the certID stored in
 * the inputs cannot reach `create`; `create` finds it on the LB instead, in the name of the certificate it
 * replaces (`… ari:<certID>`).
 */
import "reflect-metadata"; // @peculiar/x509 2.x resolves its services through tsyringe, which needs it.
import * as x509 from "@peculiar/x509";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as certificateModule from "../../components/certificate";
import { type CertificateWorld, type LoadBalancerSeed, startCertificateWorld } from "../certificate-provider-world";
import { CERTIFICATE_TYPE, callCounts, certificateProgram, since } from "./support/certificateStack";
import { storedCertificate } from "./support/checkouts";
import { changes, type Engine, startEngine } from "./support/engine";
import { type RenewalInfoServer, startRenewalInfoServer } from "./support/renewalInfo";

const STACK = "ari";
const HOUR_MS = 3_600_000;

let world: CertificateWorld;
let ari: RenewalInfoServer;
let engine: Engine;
let lb: LoadBalancerSeed;
let stack: Stack;

beforeAll(async () => {
    world = await startCertificateWorld();
    // Pebble's certificates last five years: a window a month ahead leaves the first one alone.
    ari = await startRenewalInfoServer(world.pebble, {
        start: new Date(Date.now() + 720 * HOUR_MS),
        end: new Date(Date.now() + 744 * HOUR_MS),
    });
    engine = await startEngine({ ...world.env, ACME_CA_CERTIFICATES: ari.caCertificatesPath });
    lb = world.seedLoadBalancer("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443");
    stack = await engine.stack({
        projectName: "engine-ari",
        stackName: STACK,
        program: certificateProgram(certificateModule, world, lb, { acmeServer: ari.directoryUrl, renewal: { useAri: true } }),
    });
});

afterAll(async () => {
    await stack?.destroy().catch(() => undefined);
    await Promise.all([world?.stop(), ari?.stop(), engine?.remove()]);
});

/** RFC 9773 §4.1: base64url(Authority Key Identifier) "." base64url(DER serial number content), from the PEM itself. */
function certIdOf(certificatePem: string): string {
    const certificate = new x509.X509Certificate(certificatePem);
    const keyId = certificate.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
    expect(keyId).toBeDefined();
    const serial = Buffer.from(certificate.serialNumber, "hex");
    const content = serial[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), serial]) : serial;
    return `${Buffer.from(keyId as string, "hex").toString("base64url")}.${content.toString("base64url")}`;
}

describe("ACME Renewal Information under the Pulumi engine", () => {
    let predecessor: string;
    let predecessorCertId: string;
    let renewalDueAt: number;

    it("1. up issues the certificate and asks the CA's renewalInfo about it", async () => {
        const up = await stack.up();
        expect(changes(up.summary.resourceChanges)).toEqual({ create: 3 });
        predecessor = up.outputs.certificateId.value as string;
        predecessorCertId = certIdOf(up.outputs.certificatePem.value as string);
        renewalDueAt = Date.parse(up.outputs.renewalDueAt.value as string);
        expect(ari.asked).toEqual([predecessorCertId]);
        expect(world.certificatesOn(lb)).toEqual([predecessor]);
    });

    it("2. refresh reads the CA's window and changes nothing", async () => {
        const before = callCounts(world);
        const refreshed = await stack.refresh();
        expect(changes(refreshed.summary.resourceChanges)).toEqual({ same: 3 });
        expect(since(world, before)).toMatchObject({ scalewayWrites: 0, cloudflare: 0, ca: 0 });
        expect(ari.asked).toEqual([predecessorCertId, predecessorCertId]);

        const stored = await storedCertificate(engine, STACK, stack.workspace.workDir);
        expect(stored.outputs?.certificateId).toBe(predecessor);
        // The renewal time lies inside the window suggested, a month ahead: nothing is due.
        const ariRenewalAt = Date.parse(stored.outputs?.ariRenewalAt as string);
        expect(ariRenewalAt).toBeGreaterThan(Date.now() + 719 * HOUR_MS);
        const preview = await stack.preview();
        expect(changes(preview.changeSummary)).toEqual({ same: 3 });
        expect(world.certificatesOn(lb)).toEqual([predecessor]);
    });

    it("3. once the window lies in the past, up --refresh replaces the certificate create-before-delete", async () => {
        ari.suggest({ start: new Date(Date.now() - 2 * HOUR_MS), end: new Date(Date.now() - HOUR_MS) });
        expect(renewalDueAt).toBeGreaterThan(Date.now() + 365 * 24 * HOUR_MS); // our own schedule: years away
        const steps: string[] = [];
        const output: string[] = [];
        const renewed = await stack.up({
            refresh: true,
            onOutput: (text: string) => output.push(text),
            onEvent: (event: EngineEvent) => {
                const metadata = event.resourcePreEvent?.metadata;
                if (metadata?.type === CERTIFICATE_TYPE) {
                    steps.push(metadata.op);
                }
            },
        });
        expect(changes(renewed.summary.resourceChanges)).toEqual({ replace: 1, same: 2 });
        expect(steps).toEqual(["refresh", "create-replacement", "replace", "delete-replaced"]);

        const successor = renewed.outputs.certificateId.value as string;
        expect(successor).not.toBe(predecessor);
        expect(world.certificatesOn(lb)).toEqual([successor]);
        expect(world.txtRecords()).toEqual([]);
        // The refresh asked about the predecessor, the create about the successor.
        const successorCertId = certIdOf(renewed.outputs.certificatePem.value as string);
        expect(successorCertId).not.toBe(predecessorCertId);
        expect(ari.asked).toEqual([predecessorCertId, predecessorCertId, predecessorCertId, successorCertId]);
        const stored = await storedCertificate(engine, STACK, stack.workspace.workDir);
        expect(stored.outputs?.ariCertId).toBe(successorCertId);
        // The order named its predecessor, as the provider's progress line says.
        expect(output.join("")).toContain(`replaces ${predecessorCertId}`);
    });
});
