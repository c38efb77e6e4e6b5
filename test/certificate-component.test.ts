/**
 * The AcmeCertificate component under Pulumi mocks: which resources it registers, with which inputs
 * and options, and how the dynamic resource's outputs reach the component. (Mocks never run a dynamic
 * provider's methods; the provider tests do.)
 */
import { generateKeyPairSync } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { CERTIFICATE_TYPE, installMocks, MockWorld, RegisteredResource, SECRET_SIG, valueOf } from "./support/pulumiMocks";

/** Matches any string (vitest types its asymmetric matchers `any`). */
const ANY_STRING: unknown = expect.any(String);

/** What the dynamic provider would compute, as the mock answers it. */
const COMPUTED = {
    certificateId: "fr-par-1/6c0e6d5e-8d0b-4bb4-9f59-0d5f3a0c9a11",
    certificateUuid: "6c0e6d5e-8d0b-4bb4-9f59-0d5f3a0c9a11",
    fingerprint: "ab:cd:ef",
    serialNumber: "03a1",
    notBefore: "2026-05-01T00:00:00.000Z",
    notAfter: "2026-07-30T00:00:00.000Z",
    certificatePem: "leaf",
    privateKeyPem: "key",
    renewalDueAt: "2026-06-30T00:00:00.000Z",
    bindingStatus: "annotation-pending",
    origin: "issued",
};
let world: MockWorld;
let certificateModule: typeof import("../components/certificate");

function isSecretOnWire(value: unknown): boolean {
    return typeof value === "object" && value !== null && SECRET_SIG in value;
}

beforeAll(async () => {
    world = await installMocks({
        override(args, inputs) {
            if (args.type === CERTIFICATE_TYPE) {
                return { id: COMPUTED.certificateId, state: { ...inputs, ...COMPUTED, ariCertId: "aki.serial" } };
            }
            if (args.type === "tls:index/privateKey:PrivateKey") {
                return { id: `${args.name}-id`, state: { ...inputs, privateKeyPem: "generated-account-key" } };
            }
            return undefined;
        },
    });
    certificateModule = await import("../components/certificate");
});

function registration(name: string): RegisteredResource {
    const found = world.resources.find((r) => r.name === name);
    if (!found) {
        throw new Error(`${name} was not registered; got ${world.resources.map((r) => r.name).join(", ")}`);
    }
    return found;
}

function inputsOf(name: string): Record<string, unknown> {
    return registration(name).inputs;
}

describe("AcmeCertificate", () => {
    it("creates its account key and the dynamic resource under itself, with the secret outputs declared", async () => {
        const certificate = new certificateModule.AcmeCertificate("admin", {
            domains: ["admin.example.com", "admin.example.org"],
            loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
            email: "ops@example.com",
            cloudflareZones: ["example.com", "example.org"],
        });
        expect(await valueOf(certificate.certificateId)).toBe("fr-par-1/6c0e6d5e-8d0b-4bb4-9f59-0d5f3a0c9a11");

        const component = registration("admin");
        expect(component.type).toBe("scw-private-lb:certificate:AcmeCertificate");
        expect(component.urn).toBe("urn:pulumi:test::scw-private-lb::scw-private-lb:certificate:AcmeCertificate::admin");

        const accountKey = registration("admin-account-key");
        expect(accountKey.type).toBe("tls:index/privateKey:PrivateKey");
        expect(accountKey.parent).toContain("scw-private-lb:certificate:AcmeCertificate::admin");
        expect(inputsOf("admin-account-key")).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });

        const dynamic = registration("admin-certificate");
        expect(dynamic.type).toBe("pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate");
        expect(dynamic.parent).toContain("scw-private-lb:certificate:AcmeCertificate::admin");
        expect(dynamic.additionalSecretOutputs).toEqual(["privateKeyPem", "accountKeyPem"]);
        expect(isSecretOnWire(dynamic.wire.accountKeyPem)).toBe(true);

        const inputs = inputsOf("admin-certificate");
        expect(inputs).toMatchObject({
            domains: ["admin.example.com", "admin.example.org"],
            loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
            acmeDirectoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
            email: "ops@example.com",
            accountKeyPem: { [SECRET_SIG]: ANY_STRING, value: "generated-account-key" },
            cloudflareZones: ["example.com", "example.org"],
        });
        // Credentials are never inputs: they are read when the provider runs.
        for (const key of Object.keys(inputs)) {
            expect(key).not.toMatch(/token|secret|accessKey/i);
        }
        const serializedProvider = String(inputs.__provider);
        expect(serializedProvider).toContain(`require("@scw-private-lb/certificate-provider/v1")`);
        expect(serializedProvider).not.toContain("BEGIN");
    });

    it("keeps the children of a renamed certificate: their old URNs follow the component's alias", async () => {
        const oldUrn = "urn:pulumi:test::scw-private-lb::scw-private-lb:certificate:AcmeCertificate::renamed-certificate";
        const certificate = new certificateModule.AcmeCertificate(
            "renamed",
            { domains: ["renamed.example.com"], loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338", email: "ops@example.com" },
            { aliases: [oldUrn] },
        );
        await valueOf(certificate.certificateId);
        const child = "urn:pulumi:test::scw-private-lb::scw-private-lb:certificate:AcmeCertificate$";
        expect(registration("renamed").aliases).toEqual([oldUrn]);
        expect(registration("renamed-certificate").aliases).toEqual([
            `${child}pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate::renamed-certificate-certificate`,
        ]);
        expect(registration("renamed-account-key").aliases).toEqual([
            `${child}tls:index/privateKey:PrivateKey::renamed-certificate-account-key`,
        ]);
    });

    it("wires every output of the dynamic resource to the component", async () => {
        const certificate = new certificateModule.AcmeCertificate("wired", {
            domains: ["wired.example.com"],
            loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
            email: "ops@example.com",
        });
        const wired: Record<string, pulumi.Output<unknown>> = {
            certificateId: certificate.certificateId,
            certificateUuid: certificate.certificateUuid,
            fingerprint: certificate.fingerprint,
            serialNumber: certificate.serialNumber,
            notBefore: certificate.notBefore,
            notAfter: certificate.notAfter,
            certificatePem: certificate.certificatePem,
            privateKeyPem: certificate.privateKeyPem,
            domains: certificate.domains,
            renewalDueAt: certificate.renewalDueAt,
            bindingStatus: certificate.bindingStatus,
            origin: certificate.origin,
        };
        const outputs = await valueOf(pulumi.all(wired));
        expect(outputs).toEqual({ ...COMPUTED, domains: ["wired.example.com"] });
    });

    it("uses the caller's account key (as a secret), the staging alias and the given settings", async () => {
        const accountKeyPem = generateKeyPairSync("ec", { namedCurve: "P-256" })
            .privateKey.export({ type: "pkcs8", format: "pem" })
            .toString();
        const passedThrough = {
            zone: "fr-par-1",
            keyType: "rsa-2048" as const,
            profile: "tlsserver",
            renewal: { remainingFraction: 0.25, useAri: false },
            binding: { mode: "frontend" as const, frontendPort: 8443 },
            dnsResolvers: ["1.1.1.1"],
            revokeOnDelete: true,
            adoptCertificateId: "fr-par-1/7c1c3e00-1111-4222-8333-944455556666",
        };
        const certificate = new certificateModule.AcmeCertificate("own-key", {
            domains: ["own.example.com"],
            loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
            email: "ops@example.com",
            acmeServer: "letsencrypt-staging",
            accountKeyPem,
            ...passedThrough,
        });
        await valueOf(certificate.certificateId);
        expect(world.resources.find((r) => r.name === "own-key-account-key")).toBeUndefined();
        expect(isSecretOnWire(registration("own-key-certificate").wire.accountKeyPem)).toBe(true);
        expect(inputsOf("own-key-certificate")).toMatchObject({
            acmeDirectoryUrl: "https://acme-staging-v02.api.letsencrypt.org/directory",
            accountKeyPem: { [SECRET_SIG]: ANY_STRING, value: accountKeyPem },
            ...passedThrough,
        });
    });
});
