/**
 * The dynamic provider driven the way the engine drives it (check → diff → create → read → update →
 * delete), against Pebble, the local Cloudflare API and the local Scaleway LB API. The provider
 * object is the one the component serializes; its methods load the lifecycle from disk.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import * as https from "node:https";
import type * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createCertificateProvider } from "../components/certificate/dynamicProvider";
import { ariCertIdInName, createLoadBalancerCertificates, type ScalewayTimings } from "../components/certificate/scaleway";
import type { CertificateOutputs } from "../components/certificate/types";
import { createTestChain } from "../local/certificates";
import { type CertificateWorld, type LoadBalancerSeed, startCertificateWorld } from "./certificate-provider-world";

const timings: ScalewayTimings = {
    retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 50, retryAfterCapMs: 1_500 },
    ready: { timeoutMs: 5_000, firstDelayMs: 10, maxDelayMs: 100 },
    detach: { timeoutMs: 5_000, firstDelayMs: 20, maxDelayMs: 100 },
};

let world: CertificateWorld;
let savedEnv: NodeJS.ProcessEnv;
let clock: () => Date = () => new Date();
/** The progress lines the provider shows during `pulumi up`, checked for secrets at the end. */
const logLines: string[] = [];
const log = (line: string) => logLines.push(line);
const provider = createCertificateProvider({ now: () => clock(), scalewayTimings: timings, log });
const impatient = createCertificateProvider({
    scalewayTimings: { ...timings, detach: { timeoutMs: 300, firstDelayMs: 20, maxDelayMs: 50 } },
    log,
});
/** Every error message and every stored output, checked for secrets at the end. */
const seenMessages: string[] = [];
const seenOutputs: CertificateOutputs[] = [];

beforeAll(async () => {
    world = await startCertificateWorld();
    savedEnv = { ...process.env };
    Object.assign(process.env, world.env);
}, 60_000);

afterAll(async () => {
    process.env = savedEnv;
    await world?.stop();
});

function required<T>(method: T | undefined): T {
    if (!method) {
        throw new Error("the provider lacks a method the engine calls");
    }
    return method;
}

async function checked(raw: Record<string, unknown>, olds: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const result: pulumi.dynamic.CheckResult = await required(provider.check)(olds, raw);
    expect(result.failures ?? []).toEqual([]);
    return z.record(z.string(), z.unknown()).parse(result.inputs);
}

async function create(raw: Record<string, unknown>, using: pulumi.dynamic.ResourceProvider = provider): Promise<CertificateOutputs> {
    const result = await using.create(await checked(raw));
    const outs = result.outs as CertificateOutputs;
    expect(result.id).toBe(outs.certificateId);
    seenOutputs.push(outs);
    return outs;
}

async function diff(olds: CertificateOutputs, raw: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
    return required(provider.diff)(olds.certificateId, olds, await checked(raw, olds as unknown as Record<string, unknown>));
}

async function failure(work: Promise<unknown>): Promise<string> {
    try {
        await work;
    } catch (error) {
        const message = (error as Error).message;
        seenMessages.push(message);
        return message;
    }
    throw new Error("expected a failure");
}

function uuidOf(certificateId: string): string {
    return certificateId.split("/")[1];
}

function leafOf(outs: CertificateOutputs): X509Certificate {
    return new X509Certificate(outs.certificatePem);
}

describe("issuing", () => {
    it("issues for one name, uploads it for the annotation, and a second pass changes nothing", async () => {
        const lb = world.seedLoadBalancer("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443");
        const raw = world.inputs(lb, { domains: ["Admin.Example.com"] });
        const outs = await create(raw);

        expect(outs.certificateId).toMatch(/^fr-par-1\/[0-9a-f-]{36}$/);
        expect(outs.certificateUuid).toBe(uuidOf(outs.certificateId));
        expect(world.certificatesOn(lb)).toEqual([outs.certificateId]);
        expect(world.frontendCertificates(lb)).toEqual([]);
        expect(outs.bindingStatus).toBe("annotation-pending");
        expect(world.txtRecords()).toEqual([]);

        const leaf = leafOf(outs);
        expect(leaf.subjectAltName).toBe("DNS:admin.example.com");
        expect(outs.domains).toEqual(["admin.example.com"]);
        expect(outs.fingerprint).toBe(leaf.fingerprint256.toLowerCase());
        expect(outs.serialNumber).toBe(leaf.serialNumber.toLowerCase());
        expect(outs.notAfter).toBe(new Date(leaf.validTo).toISOString());
        expect(leaf.checkPrivateKey(createPrivateKey(outs.privateKeyPem))).toBe(true);
        const lifetime = Date.parse(outs.notAfter) - Date.parse(outs.notBefore);
        expect(Date.parse(outs.renewalDueAt)).toBe(Date.parse(outs.notBefore) + Math.round((2 / 3) * lifetime));

        const [uploaded] = world.scaleway.state.certificates(lb.lbUuid);
        expect(uploaded.name).toMatch(/^admin\.example\.com exp \d{4}-\d{2}-\d{2} [0-9a-f]{1,8} ari:[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
        expect(ariCertIdInName(uploaded.name)).toBe(outs.ariCertId);

        expect(await diff(outs, raw)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        const refreshed = await required(provider.read)(outs.certificateId, outs);
        expect(refreshed).toEqual({ id: outs.certificateId, props: outs });

        // The CCM binds it once the Service annotation names it; refresh sees that.
        world.scaleway.simulateCcmReconcile(lb.frontendId, [outs.certificateUuid]);
        const bound = await required(provider.read)(outs.certificateId, outs);
        expect(z.object({ bindingStatus: z.string() }).parse(bound.props).bindingStatus).toBe("bound");

        world.scaleway.simulateCcmReconcile(lb.frontendId, []);
        await required(provider.delete)(outs.certificateId, outs);
        expect(world.certificatesOn(lb)).toEqual([]);
    });

    it("issues for several names in two zones and binds it to its own frontend in frontend mode", async () => {
        const lb = world.seedLoadBalancer();
        const domains = ["admin.example.com", "admin.example.org", "api.admin.example.org"];
        const outs = await create(world.inputs(lb, { domains, binding: { mode: "frontend" }, keyType: "rsa-2048" }));
        expect(outs.bindingStatus).toBe("bound");
        expect(world.frontendCertificates(lb)).toEqual([outs.certificateId]);
        expect(leafOf(outs).subjectAltName?.split(", ").sort()).toEqual(domains.map((name) => `DNS:${name}`).sort());
        expect(leafOf(outs).publicKey.asymmetricKeyType).toBe("rsa");
        expect(world.txtRecords()).toEqual([]);
        expect((await diff(outs, world.inputs(lb, { domains, binding: { mode: "frontend" }, keyType: "rsa-2048" }))).changes).toBe(false);

        // Removing the resource takes the certificate off the frontend it bound, then off the LB.
        await required(provider.delete)(outs.certificateId, outs);
        expect(world.frontendCertificates(lb)).toEqual([]);
        expect(world.certificatesOn(lb)).toEqual([]);
    });

    it("rejects bad inputs in check, before anything is ordered", async () => {
        const lb = world.seedLoadBalancer();
        const result = await required(provider.check)({}, world.inputs(lb, { domains: ["admin.example.net"], loadBalancerId: lb.lbUuid }));
        expect(result.failures?.map((f) => f.property)).toEqual(["domains[0]", "loadBalancerId"]);
    });
});

describe("renewal", () => {
    it("replaces at 2/3 of the lifetime; the successor is bound before the predecessor goes (frontend mode)", async () => {
        const lb = world.seedLoadBalancer();
        const raw = world.inputs(lb, { binding: { mode: "frontend" } });
        const first = await create(raw);
        const lifetime = Date.parse(first.notAfter) - Date.parse(first.notBefore);
        try {
            clock = () => new Date(Date.parse(first.notBefore) + 0.6 * lifetime);
            expect((await diff(first, raw)).changes).toBe(false);
            clock = () => new Date(Date.parse(first.notBefore) + 0.7 * lifetime);
            expect(await diff(first, raw)).toEqual({ changes: true, replaces: ["renewalDueAt"], deleteBeforeReplace: false });
        } finally {
            clock = () => new Date();
        }

        const second = await create(raw);
        expect(world.frontendCertificates(lb)).toEqual([second.certificateId]);
        expect(world.certificatesOn(lb).sort()).toEqual([first.certificateId, second.certificateId].sort());
        await required(provider.delete)(first.certificateId, first);
        expect(world.certificatesOn(lb)).toEqual([second.certificateId]);
        expect(world.frontendCertificates(lb)).toEqual([second.certificateId]);
        expect(second.serialNumber).not.toBe(first.serialNumber);
    });

    it("in annotation mode, deletes the predecessor once the CCM moved the frontend to the successor", async () => {
        const lb = world.seedLoadBalancer("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443");
        const raw = world.inputs(lb);
        const first = await create(raw);
        world.scaleway.simulateCcmReconcile(lb.frontendId, [first.certificateUuid]);

        const second = await create(raw);
        expect(second.bindingStatus).toBe("annotation-pending");
        const deletesBefore = world.scaleway.callCount("DELETE", /\/certificates\//);
        const deleting = required(provider.delete)(first.certificateId, first);
        await expect
            .poll(() => world.scaleway.callCount("DELETE", /\/certificates\//), { timeout: 5_000, interval: 10 })
            .toBeGreaterThan(deletesBefore);
        expect(world.certificatesOn(lb)).toContain(first.certificateId);
        world.scaleway.simulateCcmReconcile(lb.frontendId, [second.certificateUuid]);
        await deleting;
        expect(world.certificatesOn(lb)).toEqual([second.certificateId]);
        expect(world.frontendCertificates(lb)).toEqual([second.certificateId]);
    });

    it("fails the delete with what to do when the CCM never moves off the predecessor", async () => {
        const lb = world.seedLoadBalancer("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443");
        const outs = await create(world.inputs(lb), impatient);
        world.scaleway.simulateCcmReconcile(lb.frontendId, [outs.certificateUuid]);
        const message = await failure(required(impatient.delete)(outs.certificateId, outs));
        expect(message).toContain(`LB certificate ${outs.certificateId} is still used by a frontend after 0.3 s, so it was not deleted.`);
        expect(message).toContain("run `pulumi up` again to retry the delete");
        expect(world.certificatesOn(lb)).toEqual([outs.certificateId]);
    });
});

describe("moving the binding", () => {
    const CCM_FRONTEND = "915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443";

    /** Inbound port → zoned ids of the certificates each frontend of the LB carries. */
    function carriedByPort(lb: { lbId: string; lbUuid: string }): Record<number, string[]> {
        const zone = lb.lbId.split("/")[0];
        return Object.fromEntries(
            world.scaleway.state
                .frontends(lb.lbUuid)
                .map((frontend) => [frontend.inboundPort, frontend.certificateIds.map((id) => `${zone}/${id}`)]),
        );
    }

    async function update(olds: CertificateOutputs, raw: Record<string, unknown>): Promise<CertificateOutputs> {
        const news = await checked(raw, olds as unknown as Record<string, unknown>);
        expect(await required(provider.diff)(olds.certificateId, olds, news)).toEqual({
            changes: true,
            replaces: [],
            deleteBeforeReplace: false,
        });
        const outs = (await required(provider.update)(olds.certificateId, olds, news)).outs as CertificateOutputs;
        seenOutputs.push(outs);
        return outs;
    }

    it("a new frontend port takes the certificate off the old frontend, so the delete needs no one to let go of it", async () => {
        const lb = world.seedLoadBalancer();
        world.scaleway.seedFrontend({ lbId: lb.lbUuid, name: "admin-https-alt", inboundPort: 8443 });
        const first = await create(world.inputs(lb, { binding: { mode: "frontend", frontendPort: 443 } }));
        expect(carriedByPort(lb)).toEqual({ 443: [first.certificateId], 8443: [] });

        const moved = await update(first, world.inputs(lb, { binding: { mode: "frontend", frontendPort: 8443 } }));
        expect(moved).toMatchObject({ bindingStatus: "bound", binding: { mode: "frontend", frontendPort: 8443 } });
        expect(carriedByPort(lb)).toEqual({ 443: [], 8443: [first.certificateId] });

        await required(impatient.delete)(moved.certificateId, moved);
        expect(carriedByPort(lb)).toEqual({ 443: [], 8443: [] });
        expect(world.certificatesOn(lb)).toEqual([]);
    });

    it("switching from frontend to annotation mode lets go of the frontend it had bound", async () => {
        const lb = world.seedLoadBalancer();
        const first = await create(world.inputs(lb, { binding: { mode: "frontend" } }));
        expect(world.frontendCertificates(lb)).toEqual([first.certificateId]);

        const annotated = await update(first, world.inputs(lb, { binding: { mode: "annotation" } }));
        expect(annotated.bindingStatus).toBe("annotation-pending");
        expect(world.frontendCertificates(lb)).toEqual([]);
        expect(world.certificatesOn(lb)).toEqual([first.certificateId]);

        await required(impatient.delete)(annotated.certificateId, annotated);
        expect(world.certificatesOn(lb)).toEqual([]);
    });

    it("a delete takes the certificate off every frontend of ours that still carries it, and waits for the CCM's", async () => {
        // As an earlier version left it: bound to 443, then moved to 8443 without letting go of 443.
        const lb = world.seedLoadBalancer();
        const alternate = world.scaleway.seedFrontend({ lbId: lb.lbUuid, name: "admin-https-alt", inboundPort: 8443 });
        const ccm = world.scaleway.seedFrontend({ lbId: lb.lbUuid, name: CCM_FRONTEND.replace("_443", "_9443"), inboundPort: 9443 });
        const outs = await create(world.inputs(lb, { binding: { mode: "frontend", frontendPort: 443 } }));
        world.scaleway.simulateCcmReconcile(alternate.id, [outs.certificateUuid]);
        world.scaleway.simulateCcmReconcile(ccm.id, [outs.certificateUuid]);
        const stale: CertificateOutputs = { ...outs, binding: { mode: "frontend", frontendPort: 8443 } };

        const deletesBefore = world.scaleway.callCount("DELETE", /\/certificates\//);
        const deleting = required(provider.delete)(stale.certificateId, stale);
        await expect
            .poll(() => world.scaleway.callCount("DELETE", /\/certificates\//), { timeout: 5_000, interval: 10 })
            .toBeGreaterThan(deletesBefore);
        expect(carriedByPort(lb)).toEqual({ 443: [], 8443: [], 9443: [outs.certificateId] });
        world.scaleway.simulateCcmReconcile(ccm.id, []);
        await deleting;
        expect(world.certificatesOn(lb)).toEqual([]);
        expect(world.scaleway.callCount("PUT", new RegExp(`/frontends/${ccm.id}$`))).toBe(0);
    });
});

describe("adopting a certificate made by hand", () => {
    const DAY = 86_400_000;

    /** What the manual procedure left: a certificate uploaded to the LB and bound by the CCM through the annotation. */
    async function handMade(lb: LoadBalancerSeed, dnsNames: string[], validity: { notBefore: Date; notAfter: Date }): Promise<string> {
        const chain = await createTestChain({ dnsNames, ...validity });
        const direct = createLoadBalancerCertificates({
            credentials: { accessKey: world.env.SCW_ACCESS_KEY, secretKey: world.env.SCW_SECRET_KEY, apiUrl: world.env.SCW_API_URL },
        });
        const certificateId = await direct.uploadCertificate(lb.lbId, "admin certbot", chain.scalewayBundlePem);
        world.scaleway.simulateCcmReconcile(lb.frontendId, [uuidOf(certificateId)]);
        return certificateId;
    }
    const current = () => ({ notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() + 60 * DAY) });

    it("records it instead of ordering one, changes nothing on the next up, and renewal replaces and deletes it", async () => {
        const lb = world.seedLoadBalancer("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443");
        const validity = current();
        const adopted = await handMade(lb, ["admin.example.com", "admin.example.org"], validity);
        const raw = world.inputs(lb, { domains: ["admin.example.com", "admin.example.org"], adoptCertificateId: adopted });
        const ordersBefore = logLines.filter((line) => line.startsWith("ACME: order")).length;
        const outs = await create(raw);

        expect(outs).toMatchObject({
            certificateId: adopted,
            origin: "adopted",
            privateKeyPem: "",
            certificatePem: "",
            bindingStatus: "bound",
        });
        expect(outs.notAfter).toBe(new Date(Math.floor(validity.notAfter.getTime() / 1000) * 1000).toISOString());
        const [onLb] = world.scaleway.state.certificates(lb.lbUuid);
        expect(outs.fingerprint).toBe(`sha1:${onLb.fingerprint.match(/../g)?.join(":")}`);
        expect(logLines.filter((line) => line.startsWith("ACME: order")).length).toBe(ordersBefore);
        expect(world.certificatesOn(lb)).toEqual([adopted]);
        expect(world.txtRecords()).toEqual([]);

        expect(await diff(outs, raw)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        let successor: CertificateOutputs;
        try {
            clock = () => new Date(outs.renewalDueAt);
            expect(await diff(outs, raw)).toEqual({ changes: true, replaces: ["renewalDueAt"], deleteBeforeReplace: false });
            // The engine re-checks the replacement without the stored inputs, so its create still names the
            // adopted certificate: due now, it is not adopted again, and the renewal orders one of its own.
            successor = (await required(provider.create)(await checked(raw))).outs as CertificateOutputs;
        } finally {
            clock = () => new Date();
        }
        expect(logLines).toContain(
            `LB: ${adopted} is due for renewal since ${outs.renewalDueAt}: ordering its successor instead of adopting it`,
        );
        seenOutputs.push(successor);
        expect(successor).toMatchObject({ origin: "issued", domains: ["admin.example.com", "admin.example.org"] });
        expect(successor.certificateId).not.toBe(adopted);
        expect(successor.privateKeyPem).toContain("PRIVATE KEY");
        world.scaleway.simulateCcmReconcile(lb.frontendId, [successor.certificateUuid]);
        await required(provider.delete)(adopted, outs);
        expect(world.certificatesOn(lb)).toEqual([successor.certificateId]);
    });

    it("refuses a certificate for other names, an expired one and an unknown id, leaving the LB as it was", async () => {
        const lb = world.seedLoadBalancer("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443");
        const other = await handMade(lb, ["admin.example.org"], current());
        const expired = await handMade(lb, ["admin.example.com"], {
            notBefore: new Date(Date.now() - 100 * DAY),
            notAfter: new Date(Date.now() - DAY),
        });
        const attempt = (adoptCertificateId: string) => failure(create(world.inputs(lb, { adoptCertificateId })));

        expect(await attempt(other)).toBe(
            `cannot adopt LB certificate ${other}: it is for admin.example.org, but the resource's names are admin.example.com; ` +
                "adopt a certificate for exactly these names, or remove adoptCertificateId to order a new certificate.",
        );
        expect(await attempt(expired)).toMatch(
            new RegExp(
                `^cannot adopt LB certificate ${expired}: it expired on .+; remove adoptCertificateId to order a new certificate\\.$`,
            ),
        );
        const unknown = `${lb.lbId.split("/")[0]}/0d1b714f-2767-4937-a9e5-4399cfd45338`;
        expect(await attempt(unknown)).toBe(
            `cannot adopt LB certificate ${unknown}: the LB ${lb.lbId} has no such certificate; check adoptCertificateId.`,
        );
        expect(world.certificatesOn(lb).sort()).toEqual([other, expired].sort());
    });
});

describe("ARI predecessor and revocation", () => {
    it("names the predecessor's certID in the replacement's order, from the name of the certificate on the LB", async () => {
        const lb = world.seedLoadBalancer();
        const raw = world.inputs(lb);
        const first = await create(raw);
        // The engine re-checks a replacement without the stored inputs, then creates it from those inputs alone.
        const second = (await required(provider.create)(await checked(raw))).outs as CertificateOutputs;
        seenOutputs.push(second);
        expect(logLines).toContain(`ACME: order for admin.example.com replaces ${first.ariCertId}`);
        expect(second.serialNumber).not.toBe(first.serialNumber);
        expect(second.ariCertId).not.toBe(first.ariCertId);
        // A certificate for other names has no predecessor on this LB.
        logLines.length = 0;
        const other = (await required(provider.create)(await checked(world.inputs(lb, { domains: ["other.example.com"] }))))
            .outs as CertificateOutputs;
        seenOutputs.push(other);
        expect(logLines).toContain("ACME: order for other.example.com created");
    });

    it("revokes on delete when asked to", async () => {
        const lb = world.seedLoadBalancer();
        const outs = await create(world.inputs(lb, { revokeOnDelete: true }));
        const status = async (): Promise<string> =>
            new Promise((resolve, reject) => {
                https
                    .get(
                        `${world.pebble.managementUrl}/cert-status-by-serial/${outs.serialNumber}`,
                        { ca: world.pebble.caCertPem },
                        (response) => {
                            let body = "";
                            response.on("data", (chunk) => (body += chunk));
                            response.on("end", () => resolve((JSON.parse(body) as { Status: string }).Status));
                        },
                    )
                    .on("error", reject);
            });
        expect(await status()).toBe("Valid");
        await required(provider.delete)(outs.certificateId, outs);
        expect(world.certificatesOn(lb)).toEqual([]);
        expect(await status()).toBe("Revoked");
    });
});

describe("drift", () => {
    it("reports a certificate deleted behind its back as gone", async () => {
        const lb = world.seedLoadBalancer();
        const outs = await create(world.inputs(lb));
        const direct = createLoadBalancerCertificates({
            credentials: { accessKey: world.env.SCW_ACCESS_KEY, secretKey: world.env.SCW_SECRET_KEY, apiUrl: world.env.SCW_API_URL },
        });
        await direct.deleteCertificate(outs.certificateId);
        expect(await required(provider.read)(outs.certificateId, outs)).toEqual({ id: "" });
    });

    it("sees an unbound frontend in frontend mode, and the next up rebinds it without re-issuing", async () => {
        const lb = world.seedLoadBalancer();
        const raw = world.inputs(lb, { binding: { mode: "frontend" } });
        const outs = await create(raw);
        world.scaleway.simulateCcmReconcile(lb.frontendId, []);

        const refreshed = await required(provider.read)(outs.certificateId, outs);
        const drifted = refreshed.props as CertificateOutputs;
        expect(drifted).toMatchObject({ bindingStatus: "unbound", drift: "frontend-unbound" });

        const news = await checked(raw, drifted as unknown as Record<string, unknown>);
        expect(await required(provider.diff)(outs.certificateId, drifted, news)).toEqual({
            changes: true,
            replaces: [],
            deleteBeforeReplace: false,
        });
        const updated = (await required(provider.update)(outs.certificateId, drifted, news)).outs as CertificateOutputs;
        expect(updated.bindingStatus).toBe("bound");
        expect(updated.drift).toBeUndefined();
        expect(updated.serialNumber).toBe(outs.serialNumber);
        expect(world.frontendCertificates(lb)).toEqual([outs.certificateId]);
        expect(await diff(updated, raw)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it("updates a renewal policy in place and recomputes when it falls due", async () => {
        const lb = world.seedLoadBalancer();
        const outs = await create(world.inputs(lb));
        const raw = world.inputs(lb, { renewal: { remainingFraction: 0.5 } });
        expect(await diff(outs, raw)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        const updated = (
            await required(provider.update)(outs.certificateId, outs, await checked(raw, outs as unknown as Record<string, unknown>))
        ).outs as CertificateOutputs;
        const lifetime = Date.parse(outs.notAfter) - Date.parse(outs.notBefore);
        expect(Date.parse(updated.renewalDueAt)).toBe(Date.parse(outs.notBefore) + Math.round(0.5 * lifetime));
        expect(updated.certificateId).toBe(outs.certificateId);
        expect(world.certificatesOn(lb)).toEqual([outs.certificateId]);
    });
});

describe("failures leave no TXT record and no certificate behind", () => {
    it("an upload the LB marks as error", async () => {
        const lb = world.seedLoadBalancer();
        world.scaleway.failCertificateUploads("certificate chain is not trusted");
        const message = await failure(create(world.inputs(lb)));
        expect(message).toMatch(
            /^The load balancer rejected certificate admin\.example\.com exp .+ \(status error: certificate chain is not trusted\); it was deleted\.$/,
        );
        expect(world.certificatesOn(lb)).toEqual([]);
        expect(world.txtRecords()).toEqual([]);
    });

    it("a frontend that cannot be bound", async () => {
        const lb = world.seedLoadBalancer();
        const message = await failure(create(world.inputs(lb, { binding: { mode: "frontend", frontendPort: 8443 } })));
        expect(message).toBe(
            `LB ${lb.lbId} has no frontend on port 8443: create it first, or bind through the Service annotation (binding mode "annotation").`,
        );
        expect(world.certificatesOn(lb)).toEqual([]);
        expect(world.txtRecords()).toEqual([]);
    });

    it("a burst of Scaleway 5xx within the retry bound, then one beyond it", async () => {
        const lb = world.seedLoadBalancer();
        world.scaleway.failNext({ method: "POST", pathPattern: "/certificates", status: 503, times: timings.retry.attempts - 1 });
        const outs = await create(world.inputs(lb));
        expect(world.certificatesOn(lb)).toEqual([outs.certificateId]);

        const other = world.seedLoadBalancer();
        world.scaleway.failNext({ method: "POST", pathPattern: "/certificates", status: 503, times: timings.retry.attempts });
        const message = await failure(create(world.inputs(other)));
        expect(message).toBe("http error 503: injected 503 unknown_error");
        expect(world.certificatesOn(other)).toEqual([]);
        expect(world.txtRecords()).toEqual([]);
    });

    it("a certificate listing that keeps failing after the upload: the upload stands, and is the only certificate", async () => {
        const lb = world.seedLoadBalancer();
        const listing = /\/lbs\/[0-9a-f-]{36}\/certificates$/;
        world.scaleway.failNext({ method: "GET", pathPattern: listing, status: 503, times: timings.retry.attempts });
        const outs = await create(world.inputs(lb));
        expect(world.scaleway.callCount("GET", listing)).toBeGreaterThanOrEqual(timings.retry.attempts);
        expect(world.certificatesOn(lb)).toEqual([outs.certificateId]);
        expect(world.txtRecords()).toEqual([]);
        await required(provider.delete)(outs.certificateId, outs);
        expect(world.certificatesOn(lb)).toEqual([]);
    });

    it("a 429 with Retry-After while waiting for the upload", async () => {
        const lb = world.seedLoadBalancer();
        world.scaleway.failNext({ method: "GET", pathPattern: /\/certificates\/[0-9a-f-]{36}$/, status: 429, retryAfterSeconds: 1 });
        const outs = await create(world.inputs(lb));
        expect(world.certificatesOn(lb)).toEqual([outs.certificateId]);
        expect(world.txtRecords()).toEqual([]);
    });
});

describe("secrets", () => {
    it("appear in no error message, no progress line, no output other than the secret ones, and no LB certificate name", () => {
        expect(seenOutputs.length).toBeGreaterThan(5);
        expect(logLines.some((line) => line.startsWith("DNS-01: creating TXT _acme-challenge."))).toBe(true);
        expect(seenMessages.length).toBeGreaterThan(3);
        const keyBody = (pem: string) => pem.split("\n").slice(1, 3).join("");
        const secrets = [
            world.env.SCW_SECRET_KEY,
            world.env.CLOUDFLARE_API_TOKEN,
            keyBody(world.accountKeyPem),
            // An adopted certificate's key stays with the LB: its output is empty.
            ...seenOutputs.filter((outs) => outs.origin !== "adopted").map((outs) => keyBody(outs.privateKeyPem)),
        ];
        const names = world.scaleway.state.loadBalancers().flatMap((lb) => world.scaleway.state.certificates(lb.id).map((c) => c.name));
        const publicOutputs = seenOutputs.map(({ privateKeyPem: _key, accountKeyPem: _account, ...rest }) => JSON.stringify(rest));
        for (const text of [...seenMessages, ...logLines, ...names, ...publicOutputs]) {
            for (const secret of secrets) {
                expect(text.includes(secret), `a secret leaked into: ${text.slice(0, 120)}`).toBe(false);
            }
        }
    });
});
