import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
    ARI_DEFAULT_CHECK_INTERVAL_MS,
    ariCertId,
    fetchRenewalInfo,
    keepOrPickRenewalTime,
    pickRenewalTime,
} from "../components/certificate/ari";
import { parseCertificate } from "../components/certificate/pem";
import { certificateLifecycle } from "../components/certificate/lifecycle";
import { createLoadBalancerCertificates } from "../components/certificate/scaleway";
import type { CertificateInputs, CertificateOutputs } from "../components/certificate/types";
import { checkInputs } from "../components/certificate/validation";
import { createTestCa, createTestChain, issueTestLeaf } from "../local/certificates";
import { freeTcpPort } from "../local/ports";
import { startScalewayServer, type LocalScalewayServer } from "../local/scaleway-server";

// RFC 9773 Appendix A: AKI 69:88:5B:6B:..., serial 0x87654321 whose DER carries a leading zero byte.
const RFC_9773_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIBQzCB66ADAgECAgUAh2VDITAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpFeGFt
cGxlIENBMCIYDzAwMDEwMTAxMDAwMDAwWhgPMDAwMTAxMDEwMDAwMDBaMBYxFDAS
BgNVBAMTC2V4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeBZu
7cbpAYNXZLbbh8rNIzuOoqOOtmxA1v7cRm//AwyMwWxyHz4zfwmBhcSrf47NUAFf
qzLQ2PPQxdTXREYEnKMjMCEwHwYDVR0jBBgwFoAUaYhba4dGQEHhs3uEe6CuLN4B
yNQwCgYIKoZIzj0EAwIDRwAwRAIge09+S5TZAlw5tgtiVvuERV6cT4mfutXIlwTb
+FYN/8oCIClDsqBklhB9KAelFiYt9+6FDj3z4KGVelYM5MdsO3pK
-----END CERTIFICATE-----
`;
const RFC_9773_CERT_ID = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";

describe("ariCertId", () => {
    it("matches the RFC 9773 example, leading zero byte of the serial included", () => {
        const certificate = parseCertificate(RFC_9773_CERTIFICATE);
        expect(certificate.authorityKeyIdentifier).toBe("69885b6b87464041e1b37b847ba0ae2cde01c8d4");
        expect(certificate.serialNumber).toBe("87654321");
        expect(ariCertId(certificate)).toBe(RFC_9773_CERT_ID);
    });

    it("adds no zero byte when the serial's high bit is clear, and pads odd hex", () => {
        expect(ariCertId({ authorityKeyIdentifier: "fbffbf", serialNumber: "7f01" })).toBe("-_-_.fwE");
        expect(ariCertId({ authorityKeyIdentifier: "01", serialNumber: "abc" })).toBe("AQ.Crw");
    });

    it("explains that a certificate without AKI has no certID", () => {
        expect(() => ariCertId({ serialNumber: "0102" })).toThrow("certificate 0102 has no Authority Key Identifier");
    });
});

describe("pickRenewalTime", () => {
    const window = { start: new Date("2026-07-01T00:00:00Z"), end: new Date("2026-07-03T00:00:00Z") };
    it("maps the random draw uniformly onto [start, end)", () => {
        expect(pickRenewalTime(window, () => 0)).toEqual(window.start);
        expect(pickRenewalTime(window, () => 0.5)).toEqual(new Date("2026-07-02T00:00:00Z"));
        expect(pickRenewalTime(window, () => 0.999999999).getTime()).toBeLessThan(window.end.getTime());
    });

    it("stays inside the window with the default random source", () => {
        for (let i = 0; i < 100; i++) {
            const at = pickRenewalTime(window).getTime();
            expect(at).toBeGreaterThanOrEqual(window.start.getTime());
            expect(at).toBeLessThan(window.end.getTime());
        }
    });
});

describe("keepOrPickRenewalTime", () => {
    const window = { start: new Date("2026-07-01T00:00:00Z"), end: new Date("2026-07-03T00:00:00Z") };
    const draw = () => 0.25; // a fresh pick lands on 2026-07-01T12:00Z

    it("keeps the time picked before while the window still holds it", () => {
        expect(keepOrPickRenewalTime(window, "2026-07-02T06:30:00.000Z", draw)).toEqual(new Date("2026-07-02T06:30:00Z"));
        expect(keepOrPickRenewalTime(window, window.start.toISOString(), draw)).toEqual(window.start);
    });

    it("picks anew when the window moved away from it, or there was none", () => {
        const fresh = new Date("2026-07-01T12:00:00Z");
        expect(keepOrPickRenewalTime(window, "2026-06-30T23:59:59.999Z", draw)).toEqual(fresh);
        expect(keepOrPickRenewalTime(window, window.end.toISOString(), draw)).toEqual(fresh);
        expect(keepOrPickRenewalTime(window, undefined, draw)).toEqual(fresh);
        expect(keepOrPickRenewalTime(window, "not a date", draw)).toEqual(fresh);
    });
});

interface Reply {
    status: number;
    body: unknown;
    headers?: Record<string, string>;
}

describe("fetchRenewalInfo against a local ACME directory", () => {
    let server: https.Server;
    let baseUrl: string;
    let caCertificatesPem: string;
    let routes: Map<string, Reply>;
    const requested: string[] = [];
    const now = new Date("2026-07-01T00:00:00Z");
    const window = { start: "2026-08-01T00:00:00Z", end: "2026-08-03T00:00:00Z" };

    beforeAll(async () => {
        const ca = await createTestCa({ commonName: "ARI test CA" });
        const leaf = await issueTestLeaf(ca, { ipAddresses: ["127.0.0.1"] });
        caCertificatesPem = ca.certificatePem;
        server = https.createServer({ key: leaf.privateKeyPem, cert: leaf.certificatePem }, (request, response) => {
            requested.push(request.url ?? "");
            const reply = routes.get(request.url ?? "") ?? { status: 404, body: { type: "urn:ietf:params:acme:error:malformed" } };
            response.writeHead(reply.status, { "Content-Type": "application/json", ...reply.headers });
            response.end(JSON.stringify(reply.body));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    beforeEach(() => {
        requested.length = 0;
        routes = new Map([
            ["/dir", { status: 200, body: { newNonce: `${baseUrl}/nonce`, renewalInfo: `${baseUrl}/renewal-info` } }],
            [`/renewal-info/${RFC_9773_CERT_ID}`, { status: 200, body: { suggestedWindow: window }, headers: { "Retry-After": "21600" } }],
        ]);
    });

    const fetchIt = () => fetchRenewalInfo(`${baseUrl}/dir`, RFC_9773_CERT_ID, { caCertificatesPem, now: () => now });

    it("reads the suggested window and schedules the next check from Retry-After", async () => {
        routes.set(`/renewal-info/${RFC_9773_CERT_ID}`, {
            status: 200,
            body: { suggestedWindow: window, explanationURL: "https://ca.example/why" },
            headers: { "Retry-After": "3600" },
        });
        expect(await fetchIt()).toEqual({
            suggestedWindow: { start: new Date(window.start), end: new Date(window.end) },
            explanationURL: "https://ca.example/why",
            nextCheckAt: new Date(now.getTime() + 3_600_000),
        });
        expect(requested).toEqual(["/dir", `/renewal-info/${RFC_9773_CERT_ID}`]);
    });

    it.each([
        ["5", 60_000],
        ["604800", 86_400_000],
        [undefined, ARI_DEFAULT_CHECK_INTERVAL_MS],
    ])("clamps Retry-After %j to a next check %d ms away", async (retryAfter, delayMs) => {
        routes.set(`/renewal-info/${RFC_9773_CERT_ID}`, {
            status: 200,
            body: { suggestedWindow: window },
            headers: retryAfter === undefined ? {} : { "Retry-After": retryAfter },
        });
        expect((await fetchIt())?.nextCheckAt).toEqual(new Date(now.getTime() + delayMs));
    });

    it("answers undefined when the directory offers no renewalInfo, as Pebble 2.4.0's does", async () => {
        routes.set("/dir", { status: 200, body: { newNonce: `${baseUrl}/nonce` } });
        expect(await fetchIt()).toBeUndefined();
        expect(requested).toEqual(["/dir"]);
    });

    it("says which URL failed when the CA does not know the certificate", async () => {
        routes.delete(`/renewal-info/${RFC_9773_CERT_ID}`);
        await expect(fetchIt()).rejects.toThrow(`ARI: GET ${baseUrl}/renewal-info/${RFC_9773_CERT_ID} answered HTTP 404`);
    });

    it("refuses a window that ends before it starts", async () => {
        routes.set(`/renewal-info/${RFC_9773_CERT_ID}`, {
            status: 200,
            body: { suggestedWindow: { start: window.end, end: window.start } },
        });
        await expect(fetchIt()).rejects.toThrow(/answered a window that ends \(2026-08-01T00:00:00.000Z\) before it starts/);
    });

    it("refuses a RenewalInfo without a proper window", async () => {
        routes.set(`/renewal-info/${RFC_9773_CERT_ID}`, { status: 200, body: { suggestedWindow: { start: "tomorrow" } } });
        await expect(fetchIt()).rejects.toThrow(/answered an invalid RenewalInfo[\s\S]*suggestedWindow/);
    });

    it("does not trust the server without its CA", async () => {
        await expect(fetchRenewalInfo(`${baseUrl}/dir`, RFC_9773_CERT_ID)).rejects.toThrow(
            /ARI: cannot reach .*: TLS certificate not trusted/,
        );
    });

    describe("the provider's refresh", () => {
        let scaleway: LocalScalewayServer;
        let caDirectory: string;
        let props: CertificateOutputs;
        const env: Record<string, string> = {};

        beforeAll(async () => {
            scaleway = await startScalewayServer();
            caDirectory = mkdtempSync(path.join(tmpdir(), "ari-ca-"));
            const caFile = path.join(caDirectory, "ca.pem");
            writeFileSync(caFile, caCertificatesPem);
            Object.assign(env, {
                SCW_ACCESS_KEY: scaleway.credentials.accessKey,
                SCW_SECRET_KEY: scaleway.credentials.secretKey,
                SCW_API_URL: scaleway.url,
                ACME_CA_CERTIFICATES: caFile,
            });
            const lb = scaleway.seedLoadBalancer({ name: "private-lb-ari" });
            const chain = await createTestChain({ dnsNames: ["admin.example.com"] });
            const certificateId = await createLoadBalancerCertificates({
                credentials: { accessKey: env.SCW_ACCESS_KEY, secretKey: env.SCW_SECRET_KEY, apiUrl: env.SCW_API_URL },
            }).uploadCertificate(`${lb.zone}/${lb.id}`, "admin.example.com", chain.scalewayBundlePem);
            const checked = checkInputs({
                domains: ["admin.example.com"],
                loadBalancerId: `${lb.zone}/${lb.id}`,
                acmeDirectoryUrl: `${baseUrl}/dir`,
                email: "ops@example.com",
                accountKeyPem: generateKeyPairSync("ec", { namedCurve: "P-256" })
                    .privateKey.export({ type: "pkcs8", format: "pem" })
                    .toString(),
            });
            expect(checked.failures ?? []).toEqual([]);
            props = {
                ...(checked.inputs as unknown as CertificateInputs),
                certificateId,
                certificateUuid: certificateId.split("/")[1],
                fingerprint: "ab:cd",
                serialNumber: "87654321",
                notBefore: "2026-06-01T00:00:00.000Z",
                notAfter: "2026-08-30T00:00:00.000Z",
                certificatePem: chain.fullChainPem,
                privateKeyPem: chain.leaf.privateKeyPem,
                renewalDueAt: "2026-07-31T00:00:00.000Z",
                ariCertId: RFC_9773_CERT_ID,
                bindingStatus: "annotation-pending",
            };
        });
        afterAll(async () => {
            await scaleway?.stop();
            rmSync(caDirectory, { recursive: true, force: true });
        });

        const refresh = async (state: CertificateOutputs): Promise<string | undefined> =>
            ((await certificateLifecycle({ now: () => now }, undefined, env).read(state.certificateId, state)).props as CertificateOutputs)
                .ariRenewalAt;

        it("keeps the stored ARI time while the CA's window still holds it, so a refresh changes nothing", async () => {
            const first = await refresh(props);
            expect(Date.parse(first ?? "")).toBeGreaterThanOrEqual(Date.parse(window.start));
            expect(Date.parse(first ?? "")).toBeLessThan(Date.parse(window.end));
            const stored = { ...props, ariRenewalAt: first };
            expect(await refresh(stored)).toBe(first);
            expect(await refresh(stored)).toBe(first);
        });

        it("hands no inputs back: the engine keeps the stored ones, so a refresh changes no input", async () => {
            const read = await certificateLifecycle({ now: () => now }, undefined, env).read(props.certificateId, props);
            expect(read.inputs).toBeUndefined();
        });

        it("picks a new time inside the window once the CA moved the window away from the stored one", async () => {
            const moved = { start: "2026-07-10T00:00:00Z", end: "2026-07-11T00:00:00Z" };
            routes.set(`/renewal-info/${RFC_9773_CERT_ID}`, { status: 200, body: { suggestedWindow: moved } });
            const picked = Date.parse((await refresh({ ...props, ariRenewalAt: "2026-08-02T00:00:00.000Z" })) ?? "");
            expect(picked).toBeGreaterThanOrEqual(Date.parse(moved.start));
            expect(picked).toBeLessThan(Date.parse(moved.end));
        });
    });

    it("says when nothing listens", async () => {
        const closedPort = await freeTcpPort();
        await expect(fetchRenewalInfo(`https://127.0.0.1:${closedPort}/dir`, RFC_9773_CERT_ID, { caCertificatesPem })).rejects.toThrow(
            `ARI: cannot reach https://127.0.0.1:${closedPort}/dir: connection refused`,
        );
    });
});
