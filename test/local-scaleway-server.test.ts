import { createClient, Errors } from "@scaleway/sdk-client";
import { Lbv1 } from "@scaleway/sdk-lb";
import { createHash, randomUUID, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestChain, type TestChain } from "../local/certificates";
import { parseCertificateBundle } from "../local/scaleway-bundle";
import {
    CERTIFICATE_IN_USE_MESSAGE,
    startScalewayServer,
    type LoadBalancerSnapshot,
    type LocalScalewayServer,
} from "../local/scaleway-server";

const {
    DeniedAuthenticationError,
    InvalidArgumentsError,
    QuotasExceededError,
    ResourceNotFoundError,
    TooManyRequestsError,
    TransientStateError,
} = Errors;
type ScalewayError = Errors.ScalewayError;
type InvalidArgumentsError = Errors.InvalidArgumentsError;
type TooManyRequestsError = Errors.TooManyRequestsError;

let server: LocalScalewayServer;
let api: Lbv1.ZonedAPI;
let chain: TestChain;
let otherChain: TestChain;

beforeAll(async () => {
    server = await startScalewayServer();
    api = new Lbv1.ZonedAPI(createClient(server.clientSettings));
    chain = await createTestChain({ dnsNames: ["admin.example.com", "admin.example.fr"] });
    otherChain = await createTestChain({ dnsNames: ["other.example.com"] });
});

afterAll(async () => {
    await server?.stop();
});

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<ScalewayError> {
    try {
        await promise;
    } catch (error) {
        return error as ScalewayError;
    }
    throw new Error("expected the call to be rejected");
}

function seedLb(networks: { id: string; ip: string }[] = []): LoadBalancerSnapshot {
    return server.seedLoadBalancer({ name: `private-lb-prod-${randomUUID().slice(0, 6)}`, privateNetworks: networks });
}

async function uploadCertificate(lbId: string, bundle = chain.scalewayBundlePem, name = "admin-cert"): Promise<Lbv1.Certificate> {
    return api.createCertificate({ lbId, name, customCertificate: { certificateChain: bundle } });
}

describe("authentication and wire format", () => {
    it("rejects requests without the secret key as X-Auth-Token", async () => {
        const lb = seedLb();
        const response = await fetch(`${server.url}/lb/v1/zones/fr-par-1/lbs/${lb.id}`);
        expect(response.status).toBe(401);
        expect(response.headers.get("content-type")).toBe("application/json");
        expect(await response.json()).toMatchObject({ type: "denied_authentication" });

        const wrongKey = new Lbv1.ZonedAPI(createClient({ ...server.clientSettings, secretKey: randomUUID() }));
        const error = await rejection(wrongKey.getLb({ lbId: lb.id }));
        expect(error).toBeInstanceOf(DeniedAuthenticationError);
        expect(error.status).toBe(401);
    });

    it("answers with Content-Type exactly application/json, which the SDK needs to parse", async () => {
        const lb = seedLb();
        const response = await fetch(`${server.url}/lb/v1/zones/fr-par-1/lbs/${lb.id}`, {
            headers: { "X-Auth-Token": server.credentials.secretKey },
        });
        expect(response.headers.get("content-type")).toBe("application/json");
        const fetched = await api.getLb({ lbId: lb.id });
        expect(fetched).toMatchObject({ id: lb.id, name: lb.name, zone: "fr-par-1", region: "fr-par", status: "ready", type: "lb-s" });
        expect(fetched.ip).toEqual([]);
        expect(fetched.createdAt).toBeInstanceOf(Date);
    });

    it("records every call", async () => {
        const lb = seedLb();
        const before = server.callCount("GET", new RegExp(`/lbs/${lb.id}$`));
        await api.getLb({ lbId: lb.id });
        expect(server.callCount("GET", new RegExp(`/lbs/${lb.id}$`))).toBe(before + 1);
        expect(server.calls.at(-1)).toMatchObject({ method: "GET", path: `/lb/v1/zones/fr-par-1/lbs/${lb.id}`, status: 200 });
    });
});

describe("load balancers, private networks and IPAM", () => {
    it("looks LBs up by id and by name, scoped to the zone in the path", async () => {
        const lb = seedLb();
        const { lbs, totalCount } = await api.listLbs({ name: lb.name });
        expect(totalCount).toBe(1);
        expect(lbs[0]?.id).toBe(lb.id);
        const wrongZone = await rejection(api.getLb({ lbId: lb.id, zone: "nl-ams-1" }));
        expect(wrongZone).toBeInstanceOf(ResourceNotFoundError);
        expect(wrongZone).toMatchObject({ resource: "lb", resourceId: lb.id });
    });

    it("does not route an id still carrying its zone prefix (the SDK does not encode path params)", async () => {
        const lb = seedLb();
        const error = await rejection(api.getLb({ lbId: `fr-par-1/${lb.id}` }));
        expect(error.status).toBe(404);
    });

    it("serves the LB's private addresses through IPAM in CIDR notation, filterable by network", async () => {
        const staging = randomUUID();
        const production = randomUUID();
        const lb = seedLb([
            { id: production, ip: "172.16.4.10/22" },
            { id: staging, ip: "172.16.8.20" },
        ]);
        const ipam = async (query: string) => {
            const response = await fetch(`${server.url}/ipam/v1/regions/fr-par/ips?${query}`, {
                headers: { "X-Auth-Token": server.credentials.secretKey },
            });
            expect(response.headers.get("content-type")).toBe("application/json");
            return (await response.json()) as {
                ips: { address: string; resource: { type: string; id: string }; source: { private_network_id: string } }[];
                total_count: number;
            };
        };
        const all = await ipam(`resource_type=lb_server&resource_id=${lb.id}`);
        expect(all.total_count).toBe(2);
        expect(all.ips.map((ip) => ip.address).sort()).toEqual(["172.16.4.10/22", "172.16.8.20/22"]);
        expect(all.ips[0]?.resource).toMatchObject({ type: "lb_server", id: lb.id });
        const one = await ipam(`resource_type=lb_server&resource_id=${lb.id}&private_network_id=${staging}`);
        expect(one.ips.map((ip) => ip.address)).toEqual(["172.16.8.20/22"]);
        expect((await ipam(`resource_type=lb_server&resource_id=${randomUUID()}`)).total_count).toBe(0);
    });

    it("attaches private networks up to 8, refuses duplicates, and shows them in IPAM", async () => {
        const lb = seedLb();
        const first = randomUUID();
        const attached = await api.attachPrivateNetwork({
            lbId: lb.id,
            privateNetworkId: first,
            staticConfig: { ipAddress: ["10.10.0.5"] },
        });
        expect(attached).toMatchObject({ privateNetworkId: first, status: "ready" });
        expect((await rejection(api.attachPrivateNetwork({ lbId: lb.id, privateNetworkId: first }))).status).toBe(409);
        for (let index = 1; index < 8; index++) await api.attachPrivateNetwork({ lbId: lb.id, privateNetworkId: randomUUID() });
        const ninth = await rejection(api.attachPrivateNetwork({ lbId: lb.id, privateNetworkId: randomUUID() }));
        expect(ninth).toBeInstanceOf(InvalidArgumentsError);
        const listed = await api.listLbPrivateNetworks({ lbId: lb.id }).all();
        expect(listed).toHaveLength(8);
        expect(server.state.loadBalancers().find((candidate) => candidate.id === lb.id)?.privateNetworks[0]).toMatchObject({
            privateNetworkId: first,
            ipAddress: "10.10.0.5",
        });
        expect((await api.getLb({ lbId: lb.id })).privateNetworkCount).toBe(8);
    });
});

describe("frontends", () => {
    it("paginates like the real API: 20 per page unless asked, with total_count", async () => {
        const lb = seedLb();
        for (let port = 1; port <= 25; port++) server.seedFrontend({ lbId: lb.id, name: `fe-${port}`, inboundPort: 8000 + port });
        const firstPage = await api.listFrontends({ lbId: lb.id });
        expect(firstPage.frontends).toHaveLength(20);
        expect(firstPage.totalCount).toBe(25);
        expect(await api.listFrontends({ lbId: lb.id }).all()).toHaveLength(25);
        expect((await api.listFrontends({ lbId: lb.id, name: "fe-2" })).totalCount).toBe(7);
        expect((await rejection(api.listFrontends({ lbId: lb.id, pageSize: 101 }))).status).toBe(400);
    });

    it("rejects a PUT missing a required field, naming it", async () => {
        const lb = seedLb();
        const frontend = server.seedFrontend({ lbId: lb.id, name: "svc_tcp_443", inboundPort: 443 });
        const error = await rejection(
            api.updateFrontend({
                frontendId: frontend.id,
                name: frontend.name,
                inboundPort: 443,
                backendId: frontend.backendId,
            } as Lbv1.ZonedApiUpdateFrontendRequest),
        );
        expect(error).toBeInstanceOf(InvalidArgumentsError);
        expect((error as InvalidArgumentsError).details).toEqual([
            expect.objectContaining({ argumentName: "enable_http3", reason: "required" }),
        ]);
    });

    it("treats PUT as a full replace: omitted optional fields reset, timeout_client is milliseconds", async () => {
        const lb = seedLb();
        const certificate = await uploadCertificate(lb.id);
        const frontend = server.seedFrontend({
            lbId: lb.id,
            name: "svc_tcp_443",
            inboundPort: 443,
            certificateIds: [certificate.id],
            timeoutClientMs: 600000,
            enableHttp3: true,
        });
        const current = await api.getFrontend({ frontendId: frontend.id });
        expect(current.timeoutClient).toBe(600000);
        expect(current.certificateIds).toEqual([certificate.id]);

        const roundTripped = await api.updateFrontend({
            frontendId: frontend.id,
            name: current.name,
            inboundPort: current.inboundPort,
            backendId: current.backend?.id ?? "",
            enableHttp3: current.enableHttp3,
            timeoutClient: current.timeoutClient,
            certificateIds: current.certificateIds,
            enableAccessLogs: current.enableAccessLogs,
        });
        expect(roundTripped).toMatchObject({ timeoutClient: 600000, certificateIds: [certificate.id], enableHttp3: true });

        const partial = await api.updateFrontend({
            frontendId: frontend.id,
            name: current.name,
            inboundPort: 443,
            backendId: frontend.backendId,
            enableHttp3: false,
        });
        expect(partial.certificateIds).toEqual([]);
        expect(partial.timeoutClient).toBeNull();

        const badTimeout = await rejection(
            api.updateFrontend({
                frontendId: frontend.id,
                name: current.name,
                inboundPort: 443,
                backendId: frontend.backendId,
                enableHttp3: false,
                timeoutClient: "600s",
            }),
        );
        expect((badTimeout as InvalidArgumentsError).details[0]?.argumentName).toBe("timeout_client");
    });

    it("only binds certificates that exist on the same LB", async () => {
        const lb = seedLb();
        const elsewhere = seedLb();
        const foreign = await uploadCertificate(elsewhere.id);
        const frontend = server.seedFrontend({ lbId: lb.id, name: "svc_tcp_443", inboundPort: 443 });
        const base = { frontendId: frontend.id, name: frontend.name, inboundPort: 443, backendId: frontend.backendId, enableHttp3: false };
        for (const certificateIds of [[foreign.id], [randomUUID()]]) {
            const error = await rejection(api.updateFrontend({ ...base, certificateIds }));
            expect(error).toBeInstanceOf(InvalidArgumentsError);
            expect((error as InvalidArgumentsError).details[0]?.argumentName).toBe("certificate_ids");
        }
        const zoned = await rejection(api.updateFrontend({ ...base, certificateIds: [`fr-par-1/${foreign.id}`] }));
        expect(zoned.status).toBe(400);
    });

    it("refuses a second frontend on a port already in use", async () => {
        const lb = seedLb();
        const existing = server.seedFrontend({ lbId: lb.id, name: "svc_tcp_443", inboundPort: 443 });
        const error = await rejection(
            api.createFrontend({
                lbId: lb.id,
                name: "renamed",
                inboundPort: 443,
                backendId: existing.backendId,
                enableHttp3: false,
                enableAccessLogs: false,
            }),
        );
        expect((error as InvalidArgumentsError).details[0]?.argumentName).toBe("inbound_port");
    });

    it("lets the CCM reconcile overwrite certificate_ids set by a direct call", async () => {
        const lb = seedLb();
        const certificate = await uploadCertificate(lb.id);
        const frontend = server.seedFrontend({ lbId: lb.id, name: "uid_tcp_443", inboundPort: 443 });
        await api.updateFrontend({
            frontendId: frontend.id,
            name: frontend.name,
            inboundPort: 443,
            backendId: frontend.backendId,
            enableHttp3: false,
            certificateIds: [certificate.id],
        });
        server.simulateCcmReconcile(frontend.id, []);
        expect((await api.getFrontend({ frontendId: frontend.id })).certificateIds).toEqual([]);
        expect(() => server.simulateCcmReconcile(frontend.id, [randomUUID()])).toThrow(/not on load balancer/);
    });
});

describe("certificates", () => {
    beforeEach(() => {
        server.setReadyAfter(1);
        server.setReadyAfterMs(0);
    });

    it("parses the uploaded bundle: CN, extra SANs, SHA-1 fingerprint, validity; never returns the chain", async () => {
        const lb = seedLb();
        const created = await uploadCertificate(lb.id);
        const leaf = new X509Certificate(chain.leaf.certificatePem);
        expect(created).toMatchObject({
            type: "custom",
            status: "pending",
            commonName: "admin.example.com",
            subjectAlternativeName: ["admin.example.fr"],
            fingerprint: createHash("sha1").update(leaf.raw).digest("hex"),
            name: "admin-cert",
        });
        expect(Math.abs((created.notValidAfter?.getTime() ?? 0) - Date.parse(leaf.validTo))).toBeLessThan(1000);
        const raw = await fetch(`${server.url}/lb/v1/zones/fr-par-1/certificates/${created.id}`, {
            headers: { "X-Auth-Token": server.credentials.secretKey },
        });
        const text = await raw.text();
        expect(text).not.toContain("BEGIN");
        expect(text).not.toContain("certificate_chain");
        expect(server.state.certificates(lb.id)[0]?.certificateChain).toBe(chain.scalewayBundlePem);
    });

    it("is pending on the first GET and ready on the second by default; waitForCertificate gets there", async () => {
        const lb = seedLb();
        const created = await uploadCertificate(lb.id);
        expect((await api.getCertificate({ certificateId: created.id })).status).toBe("pending");
        expect((await api.getCertificate({ certificateId: created.id })).status).toBe("ready");

        const awaited = await uploadCertificate(lb.id);
        const ready = await api.waitForCertificate({ certificateId: awaited.id }, { minDelay: 1, maxDelay: 1, timeout: 10 });
        expect(ready.status).toBe("ready");
    });

    it("counts GETs of single certificates and of lists towards readiness", async () => {
        const lb = seedLb();
        server.setReadyAfter(3);
        const slower = await uploadCertificate(lb.id);
        expect((await api.getCertificate({ certificateId: slower.id })).status).toBe("pending");
        expect((await api.listCertificates({ lbId: lb.id })).certificates[0]?.status).toBe("pending");
        expect((await api.getCertificate({ certificateId: slower.id })).status).toBe("pending");
        expect((await api.getCertificate({ certificateId: slower.id })).status).toBe("ready");
        expect(server.state.certificates(lb.id)[0]?.status).toBe("ready");
    });

    it("can stay pending for a time instead of a number of GETs", async () => {
        const lb = seedLb();
        server.setReadyAfter(0);
        server.setReadyAfterMs(300);
        const created = await uploadCertificate(lb.id);
        expect((await api.getCertificate({ certificateId: created.id })).status).toBe("pending");
        await expect
            .poll(async () => (await api.getCertificate({ certificateId: created.id })).status, { timeout: 3_000, interval: 50 })
            .toBe("ready");
    });

    it("ends an upload in error with status details when told to", async () => {
        const lb = seedLb();
        server.failCertificateUploads("certificate chain is not trusted");
        const failed = await uploadCertificate(lb.id);
        expect((await api.getCertificate({ certificateId: failed.id })).status).toBe("pending");
        expect(await api.getCertificate({ certificateId: failed.id })).toMatchObject({
            status: "error",
            statusDetails: "certificate chain is not trusted",
        });
        const next = await uploadCertificate(lb.id);
        await api.getCertificate({ certificateId: next.id });
        expect(await api.getCertificate({ certificateId: next.id })).toMatchObject({ status: "ready", statusDetails: null });
    });

    it("rejects bundles without a key, without a certificate, with a foreign key or garbage", async () => {
        const lb = seedLb();
        const bundles = {
            noKey: chain.fullChainPem,
            noCertificate: chain.leaf.privateKeyPem,
            foreignKey: `${otherChain.leaf.privateKeyPem}\n${chain.fullChainPem}`,
            intermediateFirst: `${chain.leaf.privateKeyPem}\n${chain.intermediate.certificatePem}\n${chain.leaf.certificatePem}`,
            garbage: "not a pem",
        };
        for (const [label, bundle] of Object.entries(bundles)) {
            const error = await rejection(uploadCertificate(lb.id, bundle));
            expect(error, label).toBeInstanceOf(InvalidArgumentsError);
            expect((error as InvalidArgumentsError).details[0]?.argumentName, label).toBe("certificate_chain");
        }
        expect(server.state.certificates(lb.id)).toHaveLength(0);
    });

    it("accepts only the name on PUT", async () => {
        const lb = seedLb();
        const created = await uploadCertificate(lb.id);
        expect((await api.updateCertificate({ certificateId: created.id, name: "renamed" })).name).toBe("renamed");
        const response = await fetch(`${server.url}/lb/v1/zones/fr-par-1/certificates/${created.id}`, {
            method: "PUT",
            headers: { "X-Auth-Token": server.credentials.secretKey, "Content-Type": "application/json" },
            body: JSON.stringify({ name: "x", custom_certificate: { certificate_chain: chain.scalewayBundlePem } }),
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ type: "invalid_arguments", details: [{ argument_name: "custom_certificate" }] });
    });

    it("refuses to delete a certificate bound to a frontend, and deletes it once unbound", async () => {
        const lb = seedLb();
        const created = await uploadCertificate(lb.id);
        const frontend = server.seedFrontend({ lbId: lb.id, name: "uid_tcp_443", inboundPort: 443, certificateIds: [created.id] });
        const refused = await rejection(api.deleteCertificate({ certificateId: created.id }));
        expect(refused).toBeInstanceOf(InvalidArgumentsError);
        expect(refused.status).toBe(400);
        expect(refused.rawMessage).toBe(CERTIFICATE_IN_USE_MESSAGE);
        expect(refused.message).toContain("certificate is used on a frontend");

        server.simulateCcmReconcile(frontend.id, []);
        await api.deleteCertificate({ certificateId: created.id });
        const gone = await rejection(api.getCertificate({ certificateId: created.id }));
        expect(gone).toBeInstanceOf(ResourceNotFoundError);
        expect(gone).toMatchObject({ resource: "certificate", resourceId: created.id });
    });

    it("holds at most 200 certificates per LB", async () => {
        const lb = seedLb();
        for (let index = 0; index < 200; index++) await uploadCertificate(lb.id, chain.scalewayBundlePem, `cert-${index}`);
        const error = await rejection(uploadCertificate(lb.id));
        expect(error).toBeInstanceOf(QuotasExceededError);
        expect(error.status).toBe(400);
        expect(await api.listCertificates({ lbId: lb.id }).all()).toHaveLength(200);
    });

    it("refuses Let's Encrypt certificates on a private LB", async () => {
        const lb = seedLb();
        const error = await rejection(
            api.createCertificate({
                lbId: lb.id,
                name: "le",
                letsencrypt: { commonName: "admin.example.com", subjectAlternativeName: [] },
            }),
        );
        expect(error).toBeInstanceOf(InvalidArgumentsError);
    });
});

describe("fault injection", () => {
    it("answers 429 with Retry-After as TooManyRequestsError, for the given number of times", async () => {
        const lb = seedLb();
        server.failNext({ method: "GET", pathPattern: /\/lbs\/[^/]+$/, status: 429, times: 2, retryAfterSeconds: 7 });
        const response = await fetch(`${server.url}/lb/v1/zones/fr-par-1/lbs/${lb.id}`, {
            headers: { "X-Auth-Token": server.credentials.secretKey },
        });
        expect(response.status).toBe(429);
        expect(response.headers.get("retry-after")).toBe("7");
        const error = await rejection(api.getLb({ lbId: lb.id }));
        expect(error).toBeInstanceOf(TooManyRequestsError);
        expect((error as TooManyRequestsError).resetSeconds).toBe(7);
        expect((await api.getLb({ lbId: lb.id })).id).toBe(lb.id);
    });

    it("answers 409 transient_state as TransientStateError and 5xx as a plain ScalewayError", async () => {
        const lb = seedLb();
        const frontend = server.seedFrontend({ lbId: lb.id, name: "uid_tcp_443", inboundPort: 443 });
        server.failNext({ method: "PUT", pathPattern: "/frontends/", status: 409 });
        const transient = await rejection(
            api.updateFrontend({
                frontendId: frontend.id,
                name: frontend.name,
                inboundPort: 443,
                backendId: frontend.backendId,
                enableHttp3: false,
            }),
        );
        expect(transient).toBeInstanceOf(TransientStateError);
        expect(transient).toMatchObject({ resource: "frontend", resourceId: frontend.id, currentState: "pending" });

        server.failNext({ pathPattern: "/frontends/", status: 503 });
        const unavailable = await rejection(api.getFrontend({ frontendId: frontend.id }));
        expect(unavailable.status).toBe(503);
        expect(unavailable.name).toBe("ScalewayError");
        expect((await api.getFrontend({ frontendId: frontend.id })).id).toBe(frontend.id);
    });
});

describe("parseCertificateBundle", () => {
    it("accepts key, leaf and intermediates in one blob, in any key position", () => {
        const keyLast = `${chain.fullChainPem}\n${chain.leaf.privateKeyPem}`;
        const parsed = parseCertificateBundle(keyLast);
        expect(parsed.ok).toBe(true);
        if (parsed.ok) expect(parsed.bundle.intermediates).toHaveLength(1);
    });

    it("rejects two private keys", () => {
        const parsed = parseCertificateBundle(`${chain.leaf.privateKeyPem}\n${chain.scalewayBundlePem}`);
        expect(parsed).toEqual({ ok: false, reason: "the certificate chain contains more than one private key" });
    });
});
