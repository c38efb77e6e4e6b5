/**
 * Renewal under the real engine: Pebble issues 60-second certificates, so the one `up` created falls due
 * 40 s later (two thirds of its lifetime). The next `up` replaces it create-before-delete while a simulated
 * CCM moves the frontend to the successor, as it does when the Service annotation changes.
 */
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as certificateModule from "../../components/certificate";
import { type CertificateWorld, type LoadBalancerSeed, startCertificateWorld } from "../certificate-provider-world";
import { type SimulatedCcm, startSimulatedCcm } from "./support/ccm";
import { CERTIFICATE_TYPE, certificateProgram } from "./support/certificateStack";
import { changes, type Engine, startEngine } from "./support/engine";

const LIFETIME_SECONDS = 60;

let world: CertificateWorld;
let engine: Engine;
let lb: LoadBalancerSeed;
let stack: Stack;
let ccm: SimulatedCcm | undefined;

beforeAll(async () => {
    world = await startCertificateWorld({ certificateValidityPeriodSeconds: LIFETIME_SECONDS });
    engine = await startEngine(world.env);
    lb = world.seedLoadBalancer("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443");
    stack = await engine.stack({
        projectName: "engine-renewal",
        stackName: "renewal",
        program: certificateProgram(certificateModule, world, lb),
    });
    ccm = startSimulatedCcm(world, lb);
});

afterAll(async () => {
    ccm?.stop();
    await stack?.destroy().catch(() => undefined);
    await Promise.all([world?.stop(), engine?.remove()]);
});

describe("renewal under the Pulumi engine", () => {
    it("5. an up past two thirds of the lifetime replaces the certificate create-before-delete, leaving exactly one on the LB", async () => {
        const first = await stack.up();
        expect(changes(first.summary.resourceChanges)).toEqual({ create: 3 });
        const predecessor = first.outputs.certificateId.value as string;
        const notBefore = Date.parse(first.outputs.notBefore.value as string);
        const notAfter = Date.parse(first.outputs.notAfter.value as string);
        expect((notAfter - notBefore) / 1000).toBeCloseTo(LIFETIME_SECONDS, -1);
        const renewalDueAt = Date.parse(first.outputs.renewalDueAt.value as string);
        expect(renewalDueAt).toBe(notBefore + Math.round(((notAfter - notBefore) * 2) / 3));
        await vi.waitFor(() => expect(world.frontendCertificates(lb)).toEqual([predecessor]), { timeout: 10_000 }); // the CCM binds it

        // Before the renewal date nothing happens.
        expect(Date.now()).toBeLessThan(renewalDueAt);
        const early = await stack.preview();
        expect(changes(early.changeSummary)).toEqual({ same: 3 });

        await new Promise((resolve) => setTimeout(resolve, Math.max(0, renewalDueAt - Date.now() + 1_000)));
        expect(Date.now()).toBeLessThan(notAfter); // still valid: a renewal, not a rescue

        const steps: string[] = [];
        const callsBefore = world.scaleway.calls.length;
        const renewed = await stack.up({
            onEvent: (event: EngineEvent) => {
                const metadata = event.resourcePreEvent?.metadata;
                if (metadata?.type === CERTIFICATE_TYPE) {
                    steps.push(metadata.op);
                }
            },
        });
        expect(changes(renewed.summary.resourceChanges)).toEqual({ replace: 1, same: 2 });
        expect(steps).toEqual(["create-replacement", "replace", "delete-replaced"]);

        const successor = renewed.outputs.certificateId.value as string;
        expect(successor).not.toBe(predecessor);
        expect(Date.parse(renewed.outputs.notBefore.value as string)).toBeGreaterThan(notBefore);
        // On the LB: the upload came before the delete, and exactly the successor is left, on the frontend.
        const calls = world.scaleway.calls.slice(callsBefore);
        const upload = calls.findIndex((call) => call.method === "POST" && call.path.endsWith("/certificates"));
        const deletion = calls.findIndex((call) => call.method === "DELETE" && call.path.endsWith(predecessor.split("/")[1]));
        expect(upload).toBeGreaterThanOrEqual(0);
        expect(deletion).toBeGreaterThan(upload);
        expect(world.certificatesOn(lb)).toEqual([successor]);
        expect(world.frontendCertificates(lb)).toEqual([successor]);
        expect(world.txtRecords()).toEqual([]);

        // The Service goes first on destroy, and the CCM takes the certificate off the frontend.
        ccm?.stop();
        world.scaleway.simulateCcmReconcile(lb.frontendId, []);
        const destroyed = await stack.destroy();
        expect(changes(destroyed.summary.resourceChanges)).toEqual({ delete: 3 });
        expect(world.certificatesOn(lb)).toEqual([]);
    });
});
