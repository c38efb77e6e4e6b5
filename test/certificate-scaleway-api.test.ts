/**
 * The Scaleway side against the strict local LB API, through the real @scaleway/sdk-lb client.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLoadBalancerCertificates, type LoadBalancerCertificates, type ScalewayTimings } from "../components/certificate/scaleway";
import { createTestChain } from "../local/certificates";
import { startScalewayServer, type FrontendSnapshot, type LocalScalewayServer } from "../local/scaleway-server";

const timings: ScalewayTimings = {
    retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20, retryAfterCapMs: 5_000 },
    ready: { timeoutMs: 2_000, firstDelayMs: 5, maxDelayMs: 20 },
    detach: { timeoutMs: 400, firstDelayMs: 10, maxDelayMs: 40 },
};

let server: LocalScalewayServer;
let lbId: string;
let frontend: FrontendSnapshot;
let bundle: string;
let otherBundle: string;
const waits: number[] = [];
let lb: LoadBalancerCertificates;

beforeAll(async () => {
    server = await startScalewayServer();
    [bundle, otherBundle] = await Promise.all(
        ["admin.example.com", "other.example.com"].map(async (name) => (await createTestChain({ dnsNames: [name] })).scalewayBundlePem),
    );
});

afterAll(async () => {
    await server?.stop();
});

beforeEach(() => {
    const seeded = server.seedLoadBalancer({ name: `private-lb-${Math.random().toString(36).slice(2, 8)}` });
    lbId = `${seeded.zone}/${seeded.id}`;
    frontend = server.seedFrontend({ lbId: seeded.id, name: "admin-https", inboundPort: 443, timeoutClientMs: 600_000, enableHttp3: true });
    waits.length = 0;
    lb = createLoadBalancerCertificates({
        credentials: { accessKey: server.credentials.accessKey, secretKey: server.credentials.secretKey, apiUrl: server.url },
        timings,
        sleep: async (ms) => {
            waits.push(ms);
            await new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20)));
        },
    });
});

function certificatesOnLb(): string[] {
    return server.state.certificates(lbId.split("/")[1]).map((certificate) => `${certificate.zone}/${certificate.id}`);
}

describe("upload, wait, bind", () => {
    it("uploads the one-blob chain, waits for ready, and binds it with every frontend field kept", async () => {
        server.setReadyAfter(2);
        const id = await lb.uploadCertificate(lbId, "admin.example.com exp 2026-08-28 0a1b2c3d", bundle);
        expect(id).toMatch(/^fr-par-1\/[0-9a-f-]{36}$/);
        const state = await lb.waitForReady(id);
        expect(state).toMatchObject({ id, status: "ready", name: "admin.example.com exp 2026-08-28 0a1b2c3d" });

        await lb.bindFrontend(lbId, 443, id);
        const [after] = server.state.frontends(frontend.lbId);
        const { certificateIds, updatedAt, ...kept } = after;
        const { certificateIds: before, updatedAt: beforeUpdate, ...original } = frontend;
        expect(kept).toEqual(original);
        expect(certificateIds).toEqual([id.split("/")[1]]);
        expect(before).toEqual([]);
        expect(updatedAt >= beforeUpdate).toBe(true);
        expect(await lb.frontendCarries(lbId, 443, id)).toBe(true);
        expect(await lb.frontendPortsCarrying(lbId, id)).toEqual([443]);
        expect((await lb.getCertificateStatus(id))?.status).toBe("ready");
    });

    it("unbinds only a certificate the frontend still carries, keeping the frontend's other fields", async () => {
        const first = await lb.uploadCertificate(lbId, "first", bundle);
        const successor = await lb.uploadCertificate(lbId, "successor", otherBundle);
        await lb.bindFrontend(lbId, 443, first);
        await lb.unbindFrontend(lbId, 443, first);
        const [after] = server.state.frontends(frontend.lbId);
        expect(after).toMatchObject({
            name: "admin-https",
            inboundPort: 443,
            timeoutClientMs: 600_000,
            enableHttp3: true,
            certificateIds: [],
        });

        await lb.bindFrontend(lbId, 443, successor);
        const updates = server.callCount("PUT", /\/frontends\//);
        await lb.unbindFrontend(lbId, 443, first);
        await lb.unbindFrontend(lbId, 9443, first);
        expect(server.callCount("PUT", /\/frontends\//)).toBe(updates);
        expect(server.state.frontends(frontend.lbId)[0].certificateIds).toEqual([successor.split("/")[1]]);
    });

    it("takes a certificate off every frontend but the CCM's, keeping their other certificates", async () => {
        const id = await lb.uploadCertificate(lbId, "spread", bundle);
        const other = await lb.uploadCertificate(lbId, "other", otherBundle);
        const [uuid, otherUuid] = [id, other].map((zoned) => zoned.split("/")[1]);
        const lbUuid = lbId.split("/")[1];
        server.seedFrontend({ lbId: lbUuid, name: "admin-https-alt", inboundPort: 8443, certificateIds: [otherUuid, uuid] });
        const ccm = server.seedFrontend({
            lbId: lbUuid,
            name: "915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_9443",
            inboundPort: 9443,
            certificateIds: [uuid],
        });
        server.simulateCcmReconcile(frontend.id, [uuid]);

        await lb.unbindNonCcmFrontends(lbId, id);
        expect(Object.fromEntries(server.state.frontends(lbUuid).map((f) => [f.name, f.certificateIds]))).toEqual({
            "admin-https": [],
            "admin-https-alt": [otherUuid],
            [ccm.name]: [uuid],
        });
        expect(server.callCount("PUT", new RegExp(`/frontends/${ccm.id}$`))).toBe(0);
    });

    it("refuses to bind a frontend the CCM owns, and one on a port without a frontend", async () => {
        const id = await lb.uploadCertificate(lbId, "ccm", bundle);
        server.seedFrontend({ lbId: lbId.split("/")[1], name: "915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_8443", inboundPort: 8443 });
        await expect(lb.bindFrontend(lbId, 8443, id)).rejects.toThrow(
            'Frontend 915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_8443 on port 8443 belongs to the Scaleway CCM, which reverts direct changes at its next reconcile: use binding mode "annotation" so the certificate id goes into the Service annotation.',
        );
        await expect(lb.bindFrontend(lbId, 9443, id)).rejects.toThrow(
            `LB ${lbId} has no frontend on port 9443: create it first, or bind through the Service annotation (binding mode "annotation").`,
        );
    });

    it("fails with the LB's status details on an upload in error, and deletes it", async () => {
        server.failCertificateUploads("certificate chain does not match the private key");
        const id = await lb.uploadCertificate(lbId, "broken", bundle);
        await expect(lb.waitForReady(id)).rejects.toThrow(
            "The load balancer rejected certificate broken (status error: certificate chain does not match the private key); it was deleted.",
        );
        expect(certificatesOnLb()).toEqual([]);
    });

    it("gives up on a certificate that stays pending, and deletes it", async () => {
        server.setReadyAfterMs(60_000);
        const impatient = createLoadBalancerCertificates({
            credentials: { accessKey: server.credentials.accessKey, secretKey: server.credentials.secretKey, apiUrl: server.url },
            timings: { ...timings, ready: { timeoutMs: 100, firstDelayMs: 10, maxDelayMs: 20 } },
        });
        try {
            const id = await impatient.uploadCertificate(lbId, "slow", bundle);
            await expect(impatient.waitForReady(id)).rejects.toThrow(`LB certificate ${id} was still pending after 0.1 s; it was deleted.`);
            expect(certificatesOnLb()).toEqual([]);
        } finally {
            server.setReadyAfterMs(0);
        }
    });

    it("reports a certificate that is gone as undefined", async () => {
        expect(await lb.getCertificateStatus(`${lbId.split("/")[0]}/0f7c1c3e-1111-4222-8333-944455556666`)).toBeUndefined();
    });
});

describe("retries", () => {
    it("rides out a burst of 5xx on the upload and leaves exactly one certificate", async () => {
        server.failNext({ method: "POST", pathPattern: "/certificates", status: 503, times: 3 });
        const id = await lb.uploadCertificate(lbId, "after-503", bundle);
        expect(certificatesOnLb()).toEqual([id]);
        expect(server.callCount("POST", /\/certificates$/)).toBeGreaterThanOrEqual(4);
        expect(waits).toHaveLength(3);
    });

    it("honours Retry-After on 429 and retries 409 transient_state", async () => {
        server.failNext({ method: "GET", pathPattern: "/frontends", status: 429, retryAfterSeconds: 2 });
        server.failNext({ method: "GET", pathPattern: "/frontends", status: 409 });
        expect(await lb.frontendPortsCarrying(lbId, `${lbId.split("/")[0]}/0f7c1c3e-1111-4222-8333-944455556666`)).toEqual([]);
        expect(waits[0]).toBe(2_000);
        expect(waits).toHaveLength(2);
    });

    it("keeps an accepted upload when the clean-up of namesakes cannot list the certificates", async () => {
        server.failNext({ method: "GET", pathPattern: /\/certificates$/, status: 503, times: timings.retry.attempts });
        const id = await lb.uploadCertificate(lbId, "listing-down", bundle);
        expect(certificatesOnLb()).toEqual([id]);
        expect(server.callCount("GET", /\/certificates$/)).toBeGreaterThanOrEqual(timings.retry.attempts);
    });

    it("gives up after the bounded attempts with the API's error, and leaves no certificate behind", async () => {
        server.failNext({ method: "POST", pathPattern: "/certificates", status: 502, times: timings.retry.attempts });
        await expect(lb.uploadCertificate(lbId, "never", bundle)).rejects.toThrow("http error 502: injected 502 unknown_error");
        expect(certificatesOnLb()).toEqual([]);
    });
});

describe("delete", () => {
    it("treats a certificate already gone as deleted", async () => {
        const id = await lb.uploadCertificate(lbId, "gone", bundle);
        await lb.deleteCertificate(id);
        await lb.deleteCertificate(id);
        expect(certificatesOnLb()).toEqual([]);
    });

    it("waits while a frontend still uses the certificate, and deletes it once the CCM moved to the successor", async () => {
        const old = await lb.uploadCertificate(lbId, "old", bundle);
        const successor = await lb.uploadCertificate(lbId, "new", otherBundle);
        server.simulateCcmReconcile(frontend.id, [old.split("/")[1]]);
        const deleting = lb.deleteCertificate(old);
        await new Promise((resolve) => setTimeout(resolve, 30));
        server.simulateCcmReconcile(frontend.id, [successor.split("/")[1]]);
        await deleting;
        expect(certificatesOnLb()).toEqual([successor]);
        expect(server.callCount("DELETE", /\/certificates\//)).toBeGreaterThanOrEqual(2);
    });

    it("fails with what to do when the CCM never moves off the certificate", async () => {
        const old = await lb.uploadCertificate(lbId, "stuck", bundle);
        server.simulateCcmReconcile(frontend.id, [old.split("/")[1]]);
        await expect(lb.deleteCertificate(old)).rejects.toThrow(
            `LB certificate ${old} is still used by a frontend after 0.4 s, so it was not deleted. The CCM has not moved the frontend ` +
                "to the new certificate yet: check that the Service's service.beta.kubernetes.io/scw-loadbalancer-certificate-ids " +
                "annotation names the new certificate id and that the CCM is running (kubectl describe service shows its events), " +
                "then run `pulumi up` again to retry the delete.",
        );
        expect(certificatesOnLb()).toEqual([old]);
    });
});
