import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { attachedEnvironments, certificateSettingsFor, ConfigError, decodePulumiConfig, parseStackConfig, stackConfigShape } from "../components/config";

const root = join(__dirname, "..");
const base = {
    environment: "prod",
    domain: "test",
    acmeEmail: "ops@example.com",
    environments: { prod: { domain: "prod.example.com", privateNetworkName: "pn-prod", cloudflareZone: "example.com" } },
    apps: [{ name: "test", namespace: "ops" }],
};

function problemsOf(raw: Record<string, unknown>): string[] {
    try {
        parseStackConfig(raw);
    } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
    }
    throw new Error("expected the config to be refused");
}

describe("parseStackConfig", () => {
    it("fills defaults for a minimal config", () => {
        const config = parseStackConfig(base);
        expect(config).toMatchObject({ zone: "fr-par-1", lbType: "LB-S", lbTags: [], reachableFrom: [], dnsTtl: 300, acmeServer: "letsencrypt", certificateKeyType: "ecdsa-p256" });
        expect(config.apps[0]).toMatchObject({ httpsPort: 443, targetPort: 80, extraPorts: [], ccm: {} });
        expect(config.kubeconfig).toBeUndefined();
    });

    it("treats Pulumi.yaml's empty defaults as unset", () => {
        const config = parseStackConfig({ ...base, kubeconfig: "", kubeContext: "", certificateProfile: "", renewalMinDaysRemaining: 0 });
        expect(config.kubeconfig).toBeUndefined();
        expect(config.certificateProfile).toBeUndefined();
        expect(config.renewalMinDaysRemaining).toBeUndefined();
    });

    const app = { name: "test", namespace: "ops" };
    const env = (overrides: Record<string, unknown>) => ({ environments: { prod: { ...base.environments.prod, ...overrides } } });
    it.each<[string, Record<string, unknown>, string[]]>([
        ["a missing environment", { environment: undefined }, ["scw-private-lb:environment: is required (expected string, received undefined)"]],
        ["a misspelt key", { enviroment: "prod" }, ["scw-private-lb: unknown key(s) enviroment: check the spelling against the README's config reference"]],
        ["a TTL below 60", { dnsTtl: 30 }, ["scw-private-lb:dnsTtl: must be at least 60 seconds (Cloudflare's minimum)"]],
        ["a fractional TTL", { dnsTtl: 90.5 }, ["scw-private-lb:dnsTtl: must be a whole number of seconds"]],
        ["an unknown LB offer", { lbType: "LB-XXL" }, ["scw-private-lb:lbType: must be one of LB-S, LB-GP-M, LB-GP-L, LB-GP-XL"]],
        ["a zone that is not a zone", { zone: "paris" }, ["scw-private-lb:zone: must be a Scaleway zone such as fr-par-1, nl-ams-1 or pl-waw-1"]],
        ["no app", { apps: [] }, ["scw-private-lb:apps: declare at least one app to expose"]],
        ["apps missing", { apps: undefined }, ["scw-private-lb:apps: is required (expected array, received undefined)"]],
        ["a bad email", { acmeEmail: "ops" }, ["scw-private-lb:acmeEmail: must be an email address for the ACME account (expiry notices)"]],
        ["a domain with a dot", { domain: "test.com" }, ["scw-private-lb:domain: must be the domain without extension, e.g. test for test.example.com (lowercase letters, digits, hyphens)"]],
        [
            "both a network id and name",
            env({ privateNetworkId: "fr-par/11111111-2222-4333-8444-555555555555" }),
            ["scw-private-lb:environments.prod: set exactly one of privateNetworkId or privateNetworkName"],
        ],
        [
            "a malformed network id",
            { environments: { prod: { domain: "prod.example.com", privateNetworkId: "pn-123", cloudflareZone: "example.com" } } },
            ["scw-private-lb:environments.prod.privateNetworkId: must be a private network id: <uuid> or <region>/<uuid>, e.g. fr-par/6ba7b810-9dad-11d1-80b4-00c04fd430c8"],
        ],
        ["no Cloudflare zone", { environments: { prod: { domain: "prod.example.com", privateNetworkName: "pn" } } }, ["scw-private-lb:environments.prod: set exactly one of cloudflareZoneId or cloudflareZone"]],
        ["a domain outside its zone", env({ domain: "prod.example.org" }), ['scw-private-lb:environments.prod.domain: "prod.example.org" is not inside the Cloudflare zone "example.com"']],
        ["a bad Cloudflare zone id", { environments: { prod: { domain: "prod.example.com", privateNetworkName: "pn", cloudflareZoneId: "xyz" } } }, ["scw-private-lb:environments.prod.cloudflareZoneId: must be a Cloudflare zone id (32 hex characters)"]],
        ["no entry for the own environment", { environment: "staging" }, ['scw-private-lb:environments: has no entry for this stack\'s environment "staging"']],
        ["an unknown reachableFrom environment", { reachableFrom: ["qa"] }, ['scw-private-lb:reachableFrom[0]: environment "qa" is not declared in environments']],
        ["the own environment in reachableFrom", { reachableFrom: ["prod"] }, ['scw-private-lb:reachableFrom[0]: "prod" is this stack\'s own environment: it is always attached']],
        ["a UDP port", { apps: [{ ...app, extraPorts: [{ name: "dns", port: 53, protocol: "UDP" }] }] }, ["scw-private-lb:apps[0].extraPorts[0].protocol: only TCP is supported: the Scaleway CCM creates TCP frontends only"]],
        ["TLS on port 80", { apps: [{ ...app, httpsPort: 80 }] }, ["scw-private-lb:apps[0].httpsPort: port 80 cannot carry the certificate: use 443 (or another TLS port)"]],
        ["a port out of range", { apps: [{ ...app, httpsPort: 70000 }] }, ["scw-private-lb:apps[0].httpsPort: must be a port between 1 and 65535"]],
        ["two apps on one LB port", { apps: [app, { name: "b", namespace: "ops" }] }, ['scw-private-lb:apps[1]: LB port 443 is already used by app "test": give each app its own httpsPort and extra ports']],
        ["the same app twice", { apps: [app, { ...app, httpsPort: 8443 }] }, ['scw-private-lb:apps[1].name: app "test" is declared twice']],
        ["a hostname DNS cannot carry", { apps: [{ name: "Te_st", namespace: "ops" }] }, ["scw-private-lb:apps[0].name: must be a DNS label (the hostname of the app, e.g. test)"]],
        ["a bad namespace", { apps: [{ name: "test", namespace: "Ops Tools" }] }, ["scw-private-lb:apps[0].namespace: must be a Kubernetes name: lowercase letters, digits and hyphens, at most 63 characters"]],
        ["a duplicate port name", { apps: [{ ...app, extraPorts: [{ name: "x", port: 81 }, { name: "x", port: 82 }] }] }, ['scw-private-lb:apps[0].extraPorts[1].name: port name "x" is used twice in this Service']],
        [
            "an unknown CCM setting and an incomplete http health check",
            { apps: [{ ...app, ccm: { healthCheckType: "http", bogus: "x" } }] },
            [
                "scw-private-lb:apps[0].ccm: unknown key(s) bogus: check the spelling against the README's config reference",
                'scw-private-lb:apps[0].ccm.healthCheckHttpUri: required when healthCheckType uses "http"',
                'scw-private-lb:apps[0].ccm.healthCheckHttpMethod: required when healthCheckType uses "http"',
                'scw-private-lb:apps[0].ccm.healthCheckHttpCode: required when healthCheckType uses "http"',
            ],
        ],
        ["a bad CCM duration", { apps: [{ ...app, ccm: { timeoutClient: "10 minutes" } }] }, ['scw-private-lb:apps[0].ccm.timeoutClient: "10 minutes" must be a Go duration such as 5s, 500ms, 10m or 1h30m']],
        ["a plain-http ACME server", { acmeServer: "http://acme.example.com/dir" }, ["scw-private-lb:acmeServer: must be letsencrypt, letsencrypt-staging or an https:// ACME directory URL"]],
        ["an unknown key type", { certificateKeyType: "ed25519" }, ["scw-private-lb:certificateKeyType: must be ecdsa-p256, rsa-2048 or rsa-4096"]],
        ["a renewal threshold out of range", { renewalMinDaysRemaining: 90 }, ["scw-private-lb:renewalMinDaysRemaining: must be between 1 and 60 days (0 turns it off)"]],
        ["a bad profile name", { certificateProfile: "Short Lived" }, ["scw-private-lb:certificateProfile: must be an ACME profile name such as classic, tlsserver or shortlived"]],
        [
            "a network of another region than the LB's zone",
            { zone: "nl-ams-1", environments: { prod: { domain: "prod.example.com", privateNetworkId: "fr-par/11111111-2222-4333-8444-555555555555", cloudflareZone: "example.com" } } },
            ["scw-private-lb:environments.prod.privateNetworkId: is in region fr-par but the LB is in zone nl-ams-1 (region nl-ams): an LB can only attach networks of its own region"],
        ],
        ["an extra port equal to the app's TLS port", { apps: [{ ...app, extraPorts: [{ name: "dup", port: 443 }] }] }, ["scw-private-lb:apps[0].extraPorts[0].port: port 443 is already this app's httpsPort"]],
        ["a number given as text", { dnsTtl: "abc" }, ["scw-private-lb:dnsTtl: expected number, received string"]],
        [
            "a certificate to adopt given as a bare uuid",
            { apps: [{ ...app, adoptCertificateId: "7c1c3e00-1111-4222-8333-944455556666" }] },
            ["scw-private-lb:apps[0].adoptCertificateId: must be a zoned certificate id <zone>/<uuid>, e.g. fr-par-1/7c1c3e00-1111-4222-8333-944455556666"],
        ],
        [
            "apps set as a JSON string without --path",
            { apps: '[{"name":"test"}' },
            ["scw-private-lb:apps: expected array, received string; write it as YAML in Pulumi.<stack>.yaml or set it with `pulumi config set --path`"],
        ],
    ])("refuses %s", (_name, overrides, expected) => {
        expect(problemsOf({ ...base, ...overrides })).toEqual(expected);
    });

    it("refuses more private networks than an LB accepts", () => {
        const environments = Object.fromEntries(
            Array.from({ length: 9 }, (_, i) => [`env${i}`, { domain: `env${i}.example.com`, privateNetworkName: `pn${i}`, cloudflareZone: "example.com" }]),
        );
        expect(problemsOf({ ...base, environment: "env0", environments, reachableFrom: Object.keys(environments).slice(1) })).toEqual([
            "scw-private-lb:reachableFrom: an LB accepts at most 8 private networks",
        ]);
    });

    it("allows a loopback http ACME server for local tests", () => {
        expect(parseStackConfig({ ...base, acmeServer: "http://127.0.0.1:14000/dir" }).acmeServer).toBe("http://127.0.0.1:14000/dir");
    });
});

describe("decodePulumiConfig", () => {
    it("keeps this project's keys and decodes Pulumi's string values", () => {
        expect(
            decodePulumiConfig({
                "scw-private-lb:environment": "prod",
                "scw-private-lb:dnsTtl": "300",
                "scw-private-lb:lbTags": '["a","b"]',
                "scw-private-lb:environments": '{"prod":{"domain":"prod.example.com"}}',
                "scaleway:zone": "fr-par-1",
            }),
        ).toEqual({ environment: "prod", dnsTtl: 300, lbTags: ["a", "b"], environments: { prod: { domain: "prod.example.com" } } });
    });
});

describe("the stack files", () => {
    const project = parse(readFileSync(join(root, "Pulumi.yaml"), "utf8"));
    const declared = project.config as Record<string, { type: string; description: string; default?: unknown; items?: { type: string } }>;

    it("declares every simple key of the schema with a type and a description", () => {
        const structured = ["environments", "apps"];
        expect(Object.keys(declared).sort()).toEqual(Object.keys(stackConfigShape.shape).filter((key) => !structured.includes(key)).sort());
        for (const [key, declaration] of Object.entries(declared)) {
            expect(["string", "integer", "boolean", "array"], key).toContain(declaration.type);
            expect(declaration.description, key).toMatch(/\w{3,}/);
        }
    });

    it("has Pulumi.yaml defaults that the schema accepts and agrees with", () => {
        const defaults = Object.fromEntries(Object.entries(declared).filter(([, d]) => d.default !== undefined).map(([key, d]) => [key, d.default]));
        const withPulumiDefaults = parseStackConfig({ ...base, ...defaults });
        const withSchemaDefaults = parseStackConfig(base);
        expect(withPulumiDefaults).toEqual(withSchemaDefaults);
    });

    it.each(["staging", "prod"])("Pulumi.%s.yaml is valid and holds no secret", (stack) => {
        const text = readFileSync(join(root, `Pulumi.${stack}.yaml`), "utf8");
        const values = parse(text).config as Record<string, unknown>;
        const projectValues = Object.fromEntries(
            Object.entries(values)
                .filter(([key]) => key.startsWith("scw-private-lb:"))
                .map(([key, value]) => [key.slice("scw-private-lb:".length), value]),
        );
        const config = parseStackConfig(projectValues);
        expect(config.environment).toBe(stack);
        expect(attachedEnvironments(config)[0]).toBe(stack);
        const keys = Object.keys(values).join(" ");
        expect(keys).not.toMatch(/secretKey|accessKey|apiToken|passphrase/i);
        expect(JSON.stringify(values)).not.toMatch(/"secure"|SCW[A-Z0-9]{17}/);
    });
});

describe("certificateSettingsFor", () => {
    const twoEnvironments = {
        ...base,
        reachableFrom: ["monitoring"],
        renewalMinDaysRemaining: 30,
        environments: {
            prod: base.environments.prod,
            monitoring: { domain: "monitoring.example.net", privateNetworkName: "pn-mon", cloudflareZone: "example.net" },
        },
        apps: [{ name: "test", namespace: "ops", httpsPort: 8443 }],
    };

    it("covers the app in every attached environment, own first, bound through the annotation on its TLS port", () => {
        const config = parseStackConfig(twoEnvironments);
        expect(certificateSettingsFor(config, config.apps[0])).toEqual({
            domains: ["test.prod.example.com", "test.monitoring.example.net"],
            zone: "fr-par-1",
            email: "ops@example.com",
            profile: undefined,
            keyType: "ecdsa-p256",
            renewal: { minDaysRemaining: 30 },
            binding: { mode: "annotation", frontendPort: 8443 },
            cloudflareZones: ["example.com", "example.net"],
        });
    });

    it("hands an app's certificate to adopt to the certificate", () => {
        const adoptCertificateId = "fr-par-1/7c1c3e00-1111-4222-8333-944455556666";
        const config = parseStackConfig({ ...twoEnvironments, apps: [{ name: "test", namespace: "ops", adoptCertificateId }] });
        expect(certificateSettingsFor(config, config.apps[0]).adoptCertificateId).toBe(adoptCertificateId);
    });

    it("gives check no zone list when a zone is known only by id", () => {
        const config = parseStackConfig({
            ...twoEnvironments,
            environments: { ...twoEnvironments.environments, monitoring: { domain: "monitoring.example.net", privateNetworkName: "pn-mon", cloudflareZoneId: "0123456789abcdef0123456789abcdef" } },
        });
        expect(certificateSettingsFor(config, config.apps[0]).cloudflareZones).toBeUndefined();
    });
});
