/**
 * The provider's decisions, without any network: what `diff` answers, how `read` words drift, and how
 * errors are scrubbed.
 */
import { describe, expect, it } from "vitest";
import {
    bindingStatusFor,
    diffCertificate,
    driftFor,
    frontendPortLeftBehind,
    namesOf,
    adoptionProblem,
    carryOver,
    redact,
    sameValue,
} from "../components/certificate/decisions";
import type { CertificateOutputs } from "../components/certificate/types";
import { unknownValue as UNKNOWN } from "@pulumi/pulumi/runtime/rpc";

const notBefore = "2026-05-01T00:00:00.000Z";
const notAfter = "2026-07-30T00:00:00.000Z"; // 90 days: due at day 60 with 1/3 remaining

const inputs = {
    domains: ["admin.example.com", "admin.example.org"],
    loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
    acmeDirectoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
    email: "ops@example.com",
    accountKeyPem: "-----BEGIN PRIVATE KEY-----\naccount\n-----END PRIVATE KEY-----\n",
    keyType: "ecdsa-p256" as const,
    challenge: "dns-01" as const,
    renewal: { remainingFraction: 1 / 3, useAri: true },
    binding: { mode: "annotation" as const, frontendPort: 443 },
    allowWildcard: false,
    revokeOnDelete: false,
};

const olds: CertificateOutputs = {
    ...inputs,
    certificateId: "fr-par-1/6c0e6d5e-8d0b-4bb4-9f59-0d5f3a0c9a11",
    certificateUuid: "6c0e6d5e-8d0b-4bb4-9f59-0d5f3a0c9a11",
    fingerprint: "ab:cd",
    serialNumber: "03a1",
    notBefore,
    notAfter,
    certificatePem: "-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n",
    privateKeyPem: "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n",
    renewalDueAt: "2026-06-30T00:00:00.000Z",
    ariCertId: "aki.serial",
    bindingStatus: "annotation-pending",
};

const early = new Date("2026-05-10T00:00:00Z");

describe("diffCertificate", () => {
    it("changes nothing when the inputs are the same and the certificate is not due", () => {
        expect(diffCertificate(olds, { ...inputs, __provider: "serialized" }, early)).toEqual({
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
    });

    it("ignores key order in nested settings", () => {
        const news = { ...inputs, renewal: { useAri: true, remainingFraction: 1 / 3 } };
        expect(diffCertificate(olds, news, early).changes).toBe(false);
    });

    it("replaces, create-before-delete, once the renewal falls due", () => {
        expect(diffCertificate(olds, inputs, new Date("2026-06-30T00:00:01Z"))).toEqual({
            changes: true,
            replaces: ["renewalDueAt"],
            deleteBeforeReplace: false,
        });
        expect(diffCertificate(olds, inputs, new Date("2026-06-29T23:59:59Z")).changes).toBe(false);
    });

    it("judges the renewal by the new policy, and by the CA's ARI time only while ARI is on", () => {
        const stricter = { ...inputs, renewal: { remainingFraction: 0.5, useAri: true } };
        expect(diffCertificate(olds, stricter, new Date("2026-06-16T00:00:00Z")).replaces).toEqual(["renewalDueAt"]);

        const withAri = { ...olds, ariRenewalAt: "2026-05-05T00:00:00.000Z" };
        expect(diffCertificate(withAri, inputs, early).replaces).toEqual(["renewalDueAt"]);
        const ariOff = { ...inputs, renewal: { remainingFraction: 1 / 3, useAri: false } };
        expect(diffCertificate(withAri, ariOff, early)).toMatchObject({ changes: true, replaces: [] });
    });

    it("replaces when a name, the key type, the profile, the CA, the account or the LB changes", () => {
        const cases: Array<[string, Record<string, unknown>]> = [
            ["domains", { domains: ["admin.example.org", "admin.example.com"] }],
            ["keyType", { keyType: "rsa-2048" }],
            ["profile", { profile: "tlsserver" }],
            ["acmeDirectoryUrl", { acmeDirectoryUrl: "https://acme-staging-v02.api.letsencrypt.org/directory" }],
            ["accountKeyPem", { accountKeyPem: "other" }],
            ["loadBalancerId", { loadBalancerId: "fr-par-1/7c1c3e00-1111-4222-8333-944455556666" }],
        ];
        for (const [property, change] of cases) {
            expect(diffCertificate(olds, { ...inputs, ...change }, early), property).toEqual({
                changes: true,
                replaces: [property],
                deleteBeforeReplace: false,
            });
        }
    });

    it("treats a value unknown during preview as a change", () => {
        expect(diffCertificate(olds, { ...inputs, loadBalancerId: UNKNOWN }, early).replaces).toEqual(["loadBalancerId"]);
        expect(diffCertificate(olds, { ...inputs, binding: { mode: "annotation", frontendPort: UNKNOWN } }, early)).toMatchObject({
            changes: true,
            replaces: [],
        });
    });

    it("updates in place for binding, policy and contact changes", () => {
        for (const change of [
            { binding: { mode: "frontend", frontendPort: 443 } },
            { renewal: { remainingFraction: 0.25, useAri: true } },
            { email: "security@example.com" },
            { dnsResolvers: ["1.1.1.1"] },
            { revokeOnDelete: true },
            { cloudflareZones: ["example.com", "example.org"] },
        ]) {
            expect(diffCertificate(olds, { ...inputs, ...change }, early)).toEqual({
                changes: true,
                replaces: [],
                deleteBeforeReplace: false,
            });
        }
    });

    it("repairs drift found by refresh: re-issue a certificate in error, rebind an unbound frontend", () => {
        expect(diffCertificate({ ...olds, drift: "certificate-error: expired" }, inputs, early)).toMatchObject({
            changes: true,
            replaces: ["certificateId"],
        });
        expect(diffCertificate({ ...olds, drift: "frontend-unbound" }, inputs, early)).toMatchObject({ changes: true, replaces: [] });
    });
});

describe("bindingStatusFor and driftFor", () => {
    it("reads frontend mode against its own port and annotation mode against any frontend", () => {
        expect(bindingStatusFor({ mode: "frontend", frontendPort: 443 }, [443])).toBe("bound");
        expect(bindingStatusFor({ mode: "frontend", frontendPort: 443 }, [8443])).toBe("unbound");
        expect(bindingStatusFor({ mode: "annotation", frontendPort: 443 }, [])).toBe("annotation-pending");
        expect(bindingStatusFor({ mode: "annotation", frontendPort: 443 }, [8443])).toBe("bound");
    });

    it("reports an LB certificate in error, and an unbound frontend in frontend mode only", () => {
        expect(driftFor({ status: "error", statusDetails: "expired" }, "annotation", "bound")).toBe("certificate-error: expired");
        expect(driftFor({ status: "ready" }, "frontend", "unbound")).toBe("frontend-unbound");
        expect(driftFor({ status: "ready" }, "annotation", "annotation-pending")).toBeUndefined();
        expect(driftFor({ status: "ready" }, "frontend", "bound")).toBeUndefined();
    });
});

describe("frontendPortLeftBehind", () => {
    const on = (frontendPort: number) => ({ mode: "frontend" as const, frontendPort });
    const annotation = { mode: "annotation" as const, frontendPort: 443 };
    it("is the old frontend port once frontend mode moves to another port or to the annotation", () => {
        expect(frontendPortLeftBehind(on(443), on(8443))).toBe(443);
        expect(frontendPortLeftBehind(on(8443), annotation)).toBe(8443);
    });

    it("is nothing when the frontend stays, or when the annotation bound it", () => {
        expect(frontendPortLeftBehind(on(443), on(443))).toBeUndefined();
        expect(frontendPortLeftBehind(annotation, on(8443))).toBeUndefined();
        expect(frontendPortLeftBehind(annotation, { ...annotation, frontendPort: 8443 })).toBeUndefined();
    });
});

describe("redact", () => {
    it("takes out PEM blocks, even cut off, and known secret values", () => {
        const message = `bad chain ${olds.privateKeyPem} token=cf-secret-token-123 tail -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE`;
        expect(redact(message, ["cf-secret-token-123", undefined, "short"])).toBe(
            "bad chain [redacted PEM]\n token=[redacted] tail [redacted PEM]",
        );
    });
});

describe("sameValue", () => {
    it("compares arrays in order and objects by content", () => {
        expect(sameValue(["a", "b"], ["a", "b"])).toBe(true);
        expect(sameValue(["a", "b"], ["b", "a"])).toBe(false);
        expect(sameValue({ a: 1, b: undefined }, { a: 1 })).toBe(true);
        expect(sameValue(undefined, undefined)).toBe(true);
        expect(sameValue("x", UNKNOWN)).toBe(false);
    });
});

describe("carryOver (what check hands on from the stored inputs)", () => {
    it("adopts only when the resource does not exist yet", () => {
        const adopting = { ...inputs, adoptCertificateId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338" };
        expect(carryOver({}, adopting).adoptCertificateId).toBe(adopting.adoptCertificateId);
        expect(carryOver(adopting, adopting)).not.toHaveProperty("adoptCertificateId");
    });
});

describe("adoptionProblem", () => {
    const candidate = {
        id: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
        status: "ready",
        commonName: "admin.example.com",
        subjectAlternativeName: ["Admin.Example.org"],
        notValidAfter: new Date("2026-06-01T00:00:00Z"),
    };
    const now = new Date("2026-05-20T00:00:00Z");

    it("accepts a ready, unexpired certificate for exactly the resource's names, in any order", () => {
        expect(namesOf(candidate)).toEqual(["admin.example.com", "admin.example.org"]);
        expect(adoptionProblem(candidate, ["admin.example.org", "admin.example.com"], now)).toBeUndefined();
    });

    it("refuses other names, an expired certificate and one the LB has in error, saying what to do", () => {
        expect(adoptionProblem(candidate, ["admin.example.com"], now)).toBe(
            `cannot adopt LB certificate ${candidate.id}: it is for admin.example.com, admin.example.org, but the resource's names are admin.example.com; ` +
                "adopt a certificate for exactly these names, or remove adoptCertificateId to order a new certificate.",
        );
        expect(adoptionProblem(candidate, ["admin.example.com", "admin.example.org"], new Date("2026-06-02T00:00:00Z"))).toBe(
            `cannot adopt LB certificate ${candidate.id}: it expired on 2026-06-01T00:00:00.000Z; remove adoptCertificateId to order a new certificate.`,
        );
        expect(
            adoptionProblem({ ...candidate, status: "error", statusDetails: "bad chain" }, ["admin.example.com", "admin.example.org"], now),
        ).toMatch(/it is in status error \(bad chain\); only a ready certificate can be adopted/);
    });
});
