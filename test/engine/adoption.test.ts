/**
 * Taking over the hand-made certificate under the real engine (README, "Migrating from the manual
 * procedure"): `adoptCertificateId` names a certificate already on the LB. A certificate for other names is
 * refused by `up` before anything changes; the right one is recorded by the first `up` without an ACME
 * order; once it falls due, the next `up` renews it create-before-delete (the stack still naming it: the
 * replacement is not the adopted certificate again) while a simulated CCM moves the frontend to the
 * successor, and the adopted certificate leaves the LB.
 */
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as certificateModule from "../../components/certificate";
import { type CertificateWorld, type LoadBalancerSeed, startCertificateWorld } from "../certificate-provider-world";
import { CERTIFICATE_TYPE, callCounts, certificateProgram, DOMAIN, NO_CALLS, since } from "./support/certificateStack";
import { storedCertificate } from "./support/checkouts";
import { changes, type Engine, startEngine } from "./support/engine";
import { handMadeCertificate } from "./support/handMade";

const STACK = "adoption";
const DAY = 86_400_000;

let world: CertificateWorld;
let engine: Engine;
let lb: LoadBalancerSeed;
/** What the program's `adoptCertificateId` is set to for the next engine run. */
let adoptCertificateId: string | undefined;
let stack: Stack;

beforeAll(async () => {
    world = await startCertificateWorld();
    engine = await startEngine(world.env);
    lb = world.seedLoadBalancer("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443");
    stack = await engine.stack({
        projectName: "engine-adoption",
        stackName: STACK,
        program: () => certificateProgram(certificateModule, world, lb, adoptCertificateId ? { adoptCertificateId } : {})(),
    });
});

afterAll(async () => {
    await stack?.destroy().catch(() => undefined);
    await Promise.all([world?.stop(), engine?.remove()]);
});

/** The CCM, as far as the renewal goes: once the successor exists the Service annotation names it, and the CCM puts it on the frontend. */
function ccmFollowingTheAnnotation(event: EngineEvent): void {
    const metadata = event.resOutputsEvent?.metadata;
    const successor: unknown = metadata?.new?.outputs?.certificateUuid;
    if (metadata?.type === CERTIFICATE_TYPE && metadata.op === "create-replacement" && typeof successor === "string") {
        world.scaleway.simulateCcmReconcile(lb.frontendId, [successor]);
    }
}

describe("adopting the hand-made certificate under the Pulumi engine", () => {
    let other: string;
    let handMade: string;
    let renewalDueAt: number;

    it("refuses at up a certificate for other names, with the message saying what to do, and changes nothing", async () => {
        other = await handMadeCertificate(world, lb, ["admin.example.org"], {
            notBefore: new Date(Date.now() - 30 * DAY),
            notAfter: new Date(Date.now() + 60 * DAY),
        });
        adoptCertificateId = other;
        const before = callCounts(world);
        await expect(stack.up()).rejects.toThrow(
            `cannot adopt LB certificate ${other}: it is for admin.example.org, but the resource's names are ${DOMAIN}; ` +
                "adopt a certificate for exactly these names, or remove adoptCertificateId to order a new certificate.",
        );
        expect(since(world, before)).toMatchObject({ scalewayWrites: 0, cloudflare: 0, ca: 0 });
        expect(world.certificatesOn(lb)).toEqual([other]);
        expect(world.frontendCertificates(lb)).toEqual([other]);
        await expect(storedCertificate(engine, STACK, stack.workspace.workDir)).rejects.toThrow("holds 0 certificate resources");
    });

    it("records the right one on the first up instead of ordering a certificate: no call to the CA, no write anywhere", async () => {
        // A one-minute certificate made 10 s ago: due 30 s from now, so a later up renews it.
        handMade = await handMadeCertificate(world, lb, [DOMAIN], {
            notBefore: new Date(Date.now() - 10_000),
            notAfter: new Date(Date.now() + 50_000),
        });
        adoptCertificateId = handMade;
        const before = callCounts(world);
        const up = await stack.up();
        expect(changes(up.summary.resourceChanges)).toEqual({ create: 1, same: 2 });
        expect(since(world, before)).toMatchObject({ scalewayWrites: 0, cloudflare: 0, ca: 0 });
        expect(since(world, before).scaleway).toBeGreaterThan(0); // it read the certificate from the LB
        expect(up.outputs.certificateId.value).toBe(handMade);
        expect(up.outputs.domains.value).toEqual([DOMAIN]);
        expect(up.outputs.bindingStatus.value).toBe("bound");
        expect(up.outputs.fingerprint.value).toMatch(/^sha1:([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
        expect(up.outputs.privateKeyPem.value).toBe("");
        expect(up.outputs.certificatePem.value).toBe("");
        renewalDueAt = Date.parse(up.outputs.renewalDueAt.value as string);
        expect(renewalDueAt).toBeGreaterThan(Date.now());
        expect((await storedCertificate(engine, STACK, stack.workspace.workDir)).outputs?.origin).toBe("adopted");
        expect(world.certificatesOn(lb).sort()).toEqual([other, handMade].sort());
        expect(world.frontendCertificates(lb)).toEqual([handMade]);
    });

    it("the next up renews it: a Let's Encrypt order, the frontend moved, the adopted certificate deleted from the LB", async () => {
        // The stack still names the adopted certificate (README step 8: it may stay): the replacement orders its own.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, renewalDueAt - Date.now() + 1_000)));
        const before = callCounts(world);
        const renewed = await stack.up({ onEvent: ccmFollowingTheAnnotation });
        expect(changes(renewed.summary.resourceChanges)).toEqual({ replace: 1, same: 2 });
        const made = since(world, before);
        expect(made.ca).toBeGreaterThan(0);
        expect(made.cloudflareWrites).toBe(2); // the TXT record, then its removal
        const successor = renewed.outputs.certificateId.value as string;
        expect(successor).not.toBe(handMade);
        expect(renewed.outputs.privateKeyPem.value).toContain("PRIVATE KEY");
        expect((await storedCertificate(engine, STACK, stack.workspace.workDir)).outputs?.origin).toBe("issued");
        expect(world.certificatesOn(lb).sort()).toEqual([other, successor].sort());
        expect(world.frontendCertificates(lb)).toEqual([successor]);
        expect(world.txtRecords()).toEqual([]);

        // A third up has nothing to do.
        const again = callCounts(world);
        expect(changes((await stack.up()).summary.resourceChanges)).toEqual({ same: 3 });
        expect(since(world, again)).toEqual(NO_CALLS);

        // The Service goes first on destroy, and the CCM takes the certificate off the frontend.
        world.scaleway.simulateCcmReconcile(lb.frontendId, []);
        const destroyed = await stack.destroy();
        expect(changes(destroyed.summary.resourceChanges)).toEqual({ delete: 3 });
        expect(world.certificatesOn(lb)).toEqual([other]);
    });
});
