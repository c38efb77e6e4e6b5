import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { unknownValue as UNKNOWN } from "@pulumi/pulumi/runtime/rpc";
import { ACME_DIRECTORIES, checkInputs, zoneOf } from "../components/certificate/validation";

const accountKeyPem = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();

const valid = {
    domains: ["Admin.Example.com", "admin.example.org"],
    loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
    email: "ops@example.com",
    accountKeyPem,
    cloudflareZones: ["example.com", "example.org"],
};

function failuresFor(overrides: Record<string, unknown>) {
    return checkInputs({ ...valid, ...overrides }).failures;
}

describe("checkInputs: a valid resource", () => {
    it("passes, lowercases the names and fills every default", () => {
        const { inputs, failures } = checkInputs(valid);
        expect(failures).toEqual([]);
        expect(inputs).toEqual({
            ...valid,
            domains: ["admin.example.com", "admin.example.org"],
            acmeDirectoryUrl: ACME_DIRECTORIES.letsencrypt,
            keyType: "ecdsa-p256",
            challenge: "dns-01",
            renewal: { remainingFraction: 1 / 3, useAri: true },
            binding: { mode: "annotation", frontendPort: 443 },
            allowWildcard: false,
            revokeOnDelete: false,
        });
    });

    it("resolves the staging alias, keeps given settings and ignores explicit undefined", () => {
        const { inputs, failures } = checkInputs({
            ...valid,
            acmeDirectoryUrl: "letsencrypt-staging",
            renewal: { remainingFraction: undefined, minDaysRemaining: 10 },
            binding: { mode: "frontend", frontendPort: undefined },
        });
        expect(failures).toEqual([]);
        expect(inputs.acmeDirectoryUrl).toBe(ACME_DIRECTORIES["letsencrypt-staging"]);
        expect(inputs.renewal).toEqual({ remainingFraction: 1 / 3, minDaysRemaining: 10, useAri: true });
        expect(inputs.binding).toEqual({ mode: "frontend", frontendPort: 443 });
    });

    it("accepts a loopback http directory, a wildcard when allowed, and resolvers with ports", () => {
        expect(
            failuresFor({
                acmeDirectoryUrl: "http://127.0.0.1:14000/dir",
                domains: ["*.example.com", "example.com"],
                allowWildcard: true,
                dnsResolvers: ["1.1.1.1", "127.0.0.1:8053", "[::1]:53", "2606:4700:4700::1111"],
            }),
        ).toEqual([]);
    });

    it("skips every check of a value unknown during preview", () => {
        const { failures, inputs } = checkInputs({
            domains: UNKNOWN,
            loadBalancerId: UNKNOWN,
            email: UNKNOWN,
            accountKeyPem: UNKNOWN,
            acmeDirectoryUrl: UNKNOWN,
            renewal: { remainingFraction: UNKNOWN },
            binding: UNKNOWN,
            zone: UNKNOWN,
            adoptCertificateId: UNKNOWN,
            dnsResolvers: [UNKNOWN, "1.1.1.1"],
            cloudflareZones: [UNKNOWN],
        });
        expect(failures).toEqual([]);
        expect(inputs.binding).toBe(UNKNOWN);
        expect(inputs.domains).toBe(UNKNOWN);
        expect(checkInputs({ ...valid, domains: ["admin.example.com", UNKNOWN] }).failures).toEqual([]);
    });
});

describe("checkInputs: bad inputs fail at preview with a message that says what to fix", () => {
    const cases: Array<[string, Record<string, unknown>, Array<{ property: string; reason: string }>]> = [
        [
            "no names",
            { domains: [] },
            [{ property: "domains", reason: "domains must be a non-empty list of DNS names (the first is the common name)." }],
        ],
        [
            "too many names",
            { domains: Array.from({ length: 101 }, (_, i) => `n${i}.example.com`) },
            [
                {
                    property: "domains",
                    reason: "domains has 101 names; a certificate holds at most 100: split them over several certificates.",
                },
            ],
        ],
        [
            "invalid label",
            { domains: ["admin.example.com", "bad_name.example.com"] },
            [
                {
                    property: "domains[1]",
                    reason: '"bad_name.example.com" is not a valid DNS name: each dot-separated label must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen.',
                },
            ],
        ],
        [
            "label starting with a hyphen",
            { domains: ["-admin.example.com"] },
            [
                {
                    property: "domains[0]",
                    reason: '"-admin.example.com" is not a valid DNS name: each dot-separated label must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen.',
                },
            ],
        ],
        [
            "name longer than 253 characters",
            { domains: [`${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.example.com`] },
            [{ property: "domains[0]", reason: `"${"a".repeat(40)}…" is longer than 253 characters.` }],
        ],
        [
            "trailing dot",
            { domains: ["admin.example.com."] },
            [{ property: "domains[0]", reason: '"admin.example.com." ends with a dot: remove it.' }],
        ],
        [
            "unicode name",
            { domains: ["bücher.example.com"] },
            [{ property: "domains[0]", reason: '"bücher.example.com" contains non-ASCII characters: use its punycode (xn--) form.' }],
        ],
        [
            "single label",
            { domains: ["admin"] },
            [{ property: "domains[0]", reason: '"admin" has a single label: use a fully qualified name such as admin.example.com.' }],
        ],
        [
            "duplicate after lowercasing",
            { domains: ["admin.example.com", "ADMIN.example.com"] },
            [
                {
                    property: "domains[1]",
                    reason: '"admin.example.com" is listed twice (names are compared lowercased): remove the duplicate.',
                },
            ],
        ],
        [
            "wildcard without allowWildcard",
            { domains: ["*.example.com"] },
            [{ property: "domains[0]", reason: '"*.example.com" is a wildcard name: set allowWildcard: true to request it.' }],
        ],
        [
            "wildcard not leftmost",
            { domains: ["admin.*.example.com"], allowWildcard: true },
            [
                {
                    property: "domains[0]",
                    reason: '"admin.*.example.com": a wildcard is only allowed as the whole leftmost label (*.example.com).',
                },
            ],
        ],
        [
            "name under no Cloudflare zone",
            { domains: ["admin.example.net"] },
            [
                {
                    property: "domains[0]",
                    reason: '"admin.example.net" is not under any of the Cloudflare zones (example.com, example.org): add its zone to cloudflareZones or fix the name.',
                },
            ],
        ],
        [
            "malformed Cloudflare zone",
            { cloudflareZones: ["example.com", "example.org", "not a zone"] },
            [{ property: "cloudflareZones[2]", reason: 'cloudflareZones[2] "not a zone" is not a DNS zone name such as example.com.' }],
        ],
        [
            "bare LB uuid",
            { loadBalancerId: "0d1b714f-2767-4937-a9e5-4399cfd45338" },
            [
                {
                    property: "loadBalancerId",
                    reason: 'loadBalancerId "0d1b714f-2767-4937-a9e5-4399cfd45338" must be a zoned id <zone>/<uuid>, e.g. fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338.',
                },
            ],
        ],
        [
            "LB in another zone",
            { zone: "nl-ams-1" },
            [{ property: "loadBalancerId", reason: "loadBalancerId is in zone fr-par-1 but zone is nl-ams-1: use the LB's own zone." }],
        ],
        ["malformed zone", { zone: "paris" }, [{ property: "zone", reason: 'zone "paris" is not a Scaleway zone such as fr-par-1.' }]],
        [
            "bad email",
            { email: "ops.example.com" },
            [{ property: "email", reason: 'email "ops.example.com" is not an email address (expected name@domain.tld).' }],
        ],
        [
            "missing email",
            { email: undefined },
            [{ property: "email", reason: "email is required: Let's Encrypt registers the ACME account with it." }],
        ],
        [
            "unknown key type",
            { keyType: "ed25519" },
            [{ property: "keyType", reason: 'keyType "ed25519" is unknown: use one of ecdsa-p256, rsa-2048, rsa-4096.' }],
        ],
        [
            "plain http directory on the network",
            { acmeDirectoryUrl: "http://acme.example.com/directory" },
            [
                {
                    property: "acmeDirectoryUrl",
                    reason: "ACME directory http://acme.example.com/directory must use https (plain http is accepted only for a loopback test server).",
                },
            ],
        ],
        [
            "unknown ACME server alias",
            { acmeDirectoryUrl: "zerossl" },
            [
                {
                    property: "acmeDirectoryUrl",
                    reason: 'acmeServer "zerossl" is neither letsencrypt, letsencrypt-staging nor an https URL of an ACME directory.',
                },
            ],
        ],
        [
            "remaining fraction out of range",
            { renewal: { remainingFraction: 0.9 } },
            [
                {
                    property: "renewal.remainingFraction",
                    reason: "renewal.remainingFraction must be greater than 0 and at most 0.5 (Let's Encrypt recommends 1/3), got 0.9.",
                },
            ],
        ],
        [
            "minimum days out of range",
            { renewal: { minDaysRemaining: 120 } },
            [
                {
                    property: "renewal.minDaysRemaining",
                    reason: "renewal.minDaysRemaining must be a whole number of days from 1 to 60, got 120.",
                },
            ],
        ],
        [
            "remaining fraction not a number",
            { renewal: { remainingFraction: "1/3" } },
            [{ property: "renewal.remainingFraction", reason: 'renewal.remainingFraction must be a number; got "1/3".' }],
        ],
        [
            "binding port out of range",
            { binding: { mode: "frontend", frontendPort: 70000 } },
            [{ property: "binding.frontendPort", reason: "binding.frontendPort must be a whole number from 1 to 65535; got 70000." }],
        ],
        [
            "unknown binding mode",
            { binding: { mode: "listener" } },
            [
                {
                    property: "binding.mode",
                    reason: 'binding.mode "listener" is unknown: use annotation (the default: the CCM binds it through the Service annotation) or frontend.',
                },
            ],
        ],
        [
            "account key that is not a key",
            { accountKeyPem: "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n" },
            [
                {
                    property: "accountKeyPem",
                    reason: "accountKeyPem is not a PEM private key: pass a PEM-encoded ECDSA or RSA key, or leave it unset to let the component generate one.",
                },
            ],
        ],
        [
            "resolver with a host name",
            { dnsResolvers: ["1.1.1.1", "dns.example.com:53"] },
            [
                {
                    property: "dnsResolvers[1]",
                    reason: 'dnsResolvers[1] "dns.example.com:53" must be an IP address or ip:port ([ipv6]:port for IPv6).',
                },
            ],
        ],
        [
            "profile with spaces",
            { profile: "short lived" },
            [
                {
                    property: "profile",
                    reason: 'profile "short lived" is not a profile name; use one the CA offers, e.g. classic, tlsserver or shortlived.',
                },
            ],
        ],
        ["non-boolean flag", { revokeOnDelete: "yes" }, [{ property: "revokeOnDelete", reason: "revokeOnDelete must be true or false." }]],
        [
            "an IP address as a name",
            { domains: ["admin.example.com", "10.0.0.1"] },
            [
                {
                    property: "domains[1]",
                    reason: '"10.0.0.1" is an IP address, not a DNS name: DNS-01 validates DNS names only; use the name the admins type.',
                },
            ],
        ],
        [
            "an IPv6 address as a name",
            { domains: ["fd00::1"] },
            [
                {
                    property: "domains[0]",
                    reason: '"fd00::1" is an IP address, not a DNS name: DNS-01 validates DNS names only; use the name the admins type.',
                },
            ],
        ],
        [
            "a numeric top-level label",
            { domains: ["admin.example.123"], cloudflareZones: undefined },
            [
                {
                    property: "domains[0]",
                    reason: '"admin.example.123" ends with a numeric label: no top-level domain is numeric; use a DNS name.',
                },
            ],
        ],
        [
            "missing LB id",
            { loadBalancerId: undefined },
            [
                {
                    property: "loadBalancerId",
                    reason: "loadBalancerId is required: a zoned id <zone>/<uuid>, e.g. fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338.",
                },
            ],
        ],
        [
            "certificate to adopt given as a bare uuid",
            { adoptCertificateId: "7c1c3e00-1111-4222-8333-944455556666" },
            [
                {
                    property: "adoptCertificateId",
                    reason: 'adoptCertificateId "7c1c3e00-1111-4222-8333-944455556666" must be a zoned id <zone>/<uuid>, e.g. fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338.',
                },
            ],
        ],
        [
            "certificate to adopt in another zone than the LB's zone, while the LB id is unknown (a preview creating the LB)",
            { loadBalancerId: UNKNOWN, zone: "fr-par-1", adoptCertificateId: "nl-ams-1/7c1c3e00-1111-4222-8333-944455556666" },
            [
                {
                    property: "adoptCertificateId",
                    reason: "adoptCertificateId is in zone nl-ams-1 but the LB is in fr-par-1: adopt a certificate of this LB.",
                },
            ],
        ],
        [
            "certificate to adopt in another zone than the LB",
            { adoptCertificateId: "nl-ams-1/7c1c3e00-1111-4222-8333-944455556666" },
            [
                {
                    property: "adoptCertificateId",
                    reason: "adoptCertificateId is in zone nl-ams-1 but the LB is in fr-par-1: adopt a certificate of this LB.",
                },
            ],
        ],
    ];

    it.each(cases)("%s", (_, overrides, expected) => {
        expect(failuresFor(overrides)).toEqual(expected);
    });

    it("reports one failure per offending property, all at once", () => {
        const failures = failuresFor({ email: "x", keyType: "dsa", binding: { frontendPort: 0 } });
        expect(failures.map((f) => f.property)).toEqual(["email", "keyType", "binding.frontendPort"]);
    });

    it("still hands back the inputs, normalized wherever they are valid, for the engine to show", () => {
        const { inputs, failures } = checkInputs({ ...valid, keyType: "dsa" });
        expect(failures.map((f) => f.property)).toEqual(["keyType"]);
        expect(inputs).toMatchObject({
            keyType: "dsa",
            domains: ["admin.example.com", "admin.example.org"],
            binding: { mode: "annotation", frontendPort: 443 },
        });
    });

    it("never quotes key material in a failure", () => {
        const failures = failuresFor({ accountKeyPem: `${accountKeyPem.slice(0, 60)}garbage` });
        expect(failures).toHaveLength(1);
        expect(failures[0].reason).not.toContain("BEGIN");
        expect(failures[0].reason).not.toContain(accountKeyPem.split("\n")[1]);
    });
});

describe("zoneOf", () => {
    it("picks the longest zone that covers a name, wildcards included", () => {
        expect(zoneOf("a.b.example.com", ["example.com", "b.example.com"])).toBe("b.example.com");
        expect(zoneOf("*.example.com", ["example.com"])).toBe("example.com");
        expect(zoneOf("badexample.com", ["example.com"])).toBeUndefined();
    });
});
