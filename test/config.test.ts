import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
    appPlans,
    certificateSettingsFor,
    ConfigError,
    decodePulumiConfig,
    loadBalancerPlans,
    NUMERIC_KEYS,
    parseStackConfig,
    stackConfigFromPulumi,
    stackConfigShape,
} from "../components/config";

const root = join(__dirname, "..");
const base = {
    environment: "prod",
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
        expect(config).toMatchObject({
            zone: "fr-par-1",
            lbType: "LB-S",
            lbTags: [],
            reachableFrom: [],
            dnsTtl: 300,
            acmeServer: "letsencrypt",
            certificateKeyType: "ecdsa-p256",
        });
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
        [
            "a missing environment",
            { environment: undefined },
            ["scw-private-lb:environment: is required: name the environment this stack deploys, e.g. prod (a key of environments)"],
        ],
        ["a misspelt key", { enviroment: "prod" }, ["scw-private-lb:enviroment: unknown key: did you mean environment?"]],
        ["a TTL below 60", { dnsTtl: 30 }, ["scw-private-lb:dnsTtl: must be at least 60 seconds (Cloudflare's minimum)"]],
        ["a fractional TTL", { dnsTtl: 90.5 }, ["scw-private-lb:dnsTtl: must be a whole number of seconds"]],
        ["an unknown LB offer", { lbType: "LB-XXL" }, ["scw-private-lb:lbType: must be one of LB-S, LB-GP-M, LB-GP-L, LB-GP-XL"]],
        [
            "a zone that is not a zone",
            { zone: "paris" },
            [
                'scw-private-lb:zone: "paris" is not a zone of Scaleway\'s LB service: use one of fr-par-1, fr-par-2, nl-ams-1, nl-ams-2, nl-ams-3, pl-waw-1, pl-waw-2, pl-waw-3',
            ],
        ],
        ["no app", { apps: [] }, ["scw-private-lb:apps: declare at least one app to expose"]],
        [
            "apps missing",
            { apps: undefined },
            ["scw-private-lb:apps: is required: list the apps to expose, each { name, namespace } at least"],
        ],
        [
            "a bad email",
            { acmeEmail: "ops" },
            [
                "scw-private-lb:acmeEmail: must be an email address: the ACME account's contact (Let's Encrypt sends no expiry notices any more)",
            ],
        ],
        [
            "both a network id and name",
            env({ privateNetworkId: "fr-par/11111111-2222-4333-8444-555555555555" }),
            ["scw-private-lb:environments.prod: set exactly one of privateNetworkId or privateNetworkName"],
        ],
        [
            "a malformed network id",
            { environments: { prod: { domain: "prod.example.com", privateNetworkId: "pn-123", cloudflareZone: "example.com" } } },
            [
                "scw-private-lb:environments.prod.privateNetworkId: must be a private network id: <region>/<uuid>, e.g. fr-par/6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            ],
        ],
        [
            "no Cloudflare zone",
            { environments: { prod: { domain: "prod.example.com", privateNetworkName: "pn" } } },
            ["scw-private-lb:environments.prod: set exactly one of cloudflareZoneId or cloudflareZone"],
        ],
        [
            "a domain outside its zone",
            env({ domain: "prod.example.org" }),
            ['scw-private-lb:environments.prod.domain: "prod.example.org" is not inside the Cloudflare zone "example.com"'],
        ],
        [
            "a bad Cloudflare zone id",
            { environments: { prod: { domain: "prod.example.com", privateNetworkName: "pn", cloudflareZoneId: "xyz" } } },
            ["scw-private-lb:environments.prod.cloudflareZoneId: must be a Cloudflare zone id (32 hex characters)"],
        ],
        [
            "no entry for the own environment",
            { environment: "staging" },
            ['scw-private-lb:environments: has no entry for this stack\'s environment "staging"'],
        ],
        [
            "an unknown reachableFrom environment",
            { reachableFrom: ["qa"] },
            ['scw-private-lb:reachableFrom[0]: environment "qa" is not declared in environments'],
        ],
        [
            "the own environment in reachableFrom",
            { reachableFrom: ["prod"] },
            ['scw-private-lb:reachableFrom[0]: "prod" is this stack\'s own environment: it is always attached'],
        ],
        [
            "a UDP port",
            { apps: [{ ...app, extraPorts: [{ name: "dns", port: 53, protocol: "UDP" }] }] },
            ["scw-private-lb:apps[0].extraPorts[0].protocol: only TCP is supported: the Scaleway CCM creates TCP frontends only"],
        ],
        [
            "TLS on port 80",
            { apps: [{ ...app, httpsPort: 80 }] },
            ["scw-private-lb:apps[0].httpsPort: port 80 cannot carry the certificate: use 443 (or another TLS port)"],
        ],
        [
            "a port out of range",
            { apps: [{ ...app, httpsPort: 70000 }] },
            ["scw-private-lb:apps[0].httpsPort: must be a port between 1 and 65535"],
        ],
        [
            "two apps on one LB port",
            { apps: [app, { name: "b", namespace: "ops", shareLoadBalancerWith: "test" }] },
            [
                'scw-private-lb:apps[1]: LB port 443 is already used by app "test" on the LB private-lb-prod-test it shares: give the apps of one LB distinct httpsPort and extra ports',
            ],
        ],
        ["the same app twice", { apps: [app, { ...app, httpsPort: 8443 }] }, ['scw-private-lb:apps[1].name: app "test" is declared twice']],
        [
            "a hostname DNS cannot carry",
            { apps: [{ name: "Te_st", namespace: "ops" }] },
            ["scw-private-lb:apps[0].name: must be a DNS label (the hostname of the app, e.g. test)"],
        ],
        [
            "a bad namespace",
            { apps: [{ name: "test", namespace: "Ops Tools" }] },
            ["scw-private-lb:apps[0].namespace: must be a Kubernetes name: lowercase letters, digits and hyphens, at most 63 characters"],
        ],
        [
            "a duplicate port name",
            {
                apps: [
                    {
                        ...app,
                        extraPorts: [
                            { name: "x", port: 81 },
                            { name: "x", port: 82 },
                        ],
                    },
                ],
            },
            ['scw-private-lb:apps[0].extraPorts[1].name: port name "x" is used twice in this Service'],
        ],
        [
            "an unknown CCM setting and an incomplete http health check",
            { apps: [{ ...app, ccm: { healthCheckType: "http", bogus: "x" } }] },
            [
                "scw-private-lb:apps[0].ccm.bogus: unknown key: check it against the README's configuration reference",
                'scw-private-lb:apps[0].ccm.healthCheckHttpUri: required when healthCheckType uses "http"',
                'scw-private-lb:apps[0].ccm.healthCheckHttpMethod: required when healthCheckType uses "http"',
                'scw-private-lb:apps[0].ccm.healthCheckHttpCode: required when healthCheckType uses "http"',
            ],
        ],
        [
            "a bad CCM duration",
            { apps: [{ ...app, ccm: { timeoutClient: "10 minutes" } }] },
            ['scw-private-lb:apps[0].ccm.timeoutClient: "10 minutes" must be a Go duration such as 5s, 500ms, 10m or 1h30m'],
        ],
        [
            "a plain-http ACME server",
            { acmeServer: "http://acme.example.com/dir" },
            ["scw-private-lb:acmeServer: must be letsencrypt, letsencrypt-staging or an https:// ACME directory URL"],
        ],
        [
            "an unknown key type",
            { certificateKeyType: "ed25519" },
            ["scw-private-lb:certificateKeyType: must be ecdsa-p256, rsa-2048 or rsa-4096"],
        ],
        [
            "a renewal threshold out of range",
            { renewalMinDaysRemaining: 90 },
            ["scw-private-lb:renewalMinDaysRemaining: must be between 1 and 60 days (0 turns it off)"],
        ],
        [
            "a Let's Encrypt profile with a typo",
            { certificateProfile: "shortlivd" },
            [
                "scw-private-lb:certificateProfile: \"shortlivd\" is not a profile of Let's Encrypt: use classic, tlsserver, shortlived, or leave it unset for the CA's default",
            ],
        ],
        [
            "a bad profile name",
            { certificateProfile: "Short Lived" },
            ["scw-private-lb:certificateProfile: must be an ACME profile name such as classic, tlsserver or shortlived"],
        ],
        [
            "a network of another region than the LB's zone",
            {
                zone: "nl-ams-1",
                environments: {
                    prod: {
                        domain: "prod.example.com",
                        privateNetworkId: "fr-par/11111111-2222-4333-8444-555555555555",
                        cloudflareZone: "example.com",
                    },
                },
            },
            [
                "scw-private-lb:environments.prod.privateNetworkId: is in region fr-par but the LB private-lb-prod-test is in zone nl-ams-1 (region nl-ams): an LB can only attach networks of its own region",
            ],
        ],
        [
            "an extra port equal to the app's TLS port",
            { apps: [{ ...app, extraPorts: [{ name: "dup", port: 443 }] }] },
            ["scw-private-lb:apps[0].extraPorts[0].port: port 443 is already this app's httpsPort"],
        ],
        ["a number given as text", { dnsTtl: "abc" }, ['scw-private-lb:dnsTtl: must be a number, not the text "abc"']],
        [
            "a certificate to adopt given as a bare uuid",
            { apps: [{ ...app, adoptCertificateId: "7c1c3e00-1111-4222-8333-944455556666" }] },
            [
                "scw-private-lb:apps[0].adoptCertificateId: must be a zoned certificate id <zone>/<uuid>, e.g. fr-par-1/7c1c3e00-1111-4222-8333-944455556666",
            ],
        ],
        [
            "a certificate to adopt in another zone than the app's LB",
            { apps: [{ ...app, adoptCertificateId: "nl-ams-1/7c1c3e00-1111-4222-8333-944455556666" }] },
            [
                "scw-private-lb:apps[0].adoptCertificateId: is in zone nl-ams-1 but the app's LB private-lb-prod-test is in fr-par-1: adopt a certificate of that LB",
            ],
        ],
        [
            "apps set as a JSON string without --path",
            { apps: '[{"name":"test"}' },
            [
                'scw-private-lb:apps: must be a list, not the text "[{"name":"test"}"; write it as YAML in Pulumi.<stack>.yaml or set it with `pulumi config set --path`',
            ],
        ],
    ])("refuses %s", (_name, overrides, expected) => {
        expect(problemsOf({ ...base, ...overrides })).toEqual(expected);
    });

    it("refuses more private networks than an LB accepts", () => {
        const environments = Object.fromEntries(
            Array.from({ length: 9 }, (_, i) => [
                `env${i}`,
                { domain: `env${i}.example.com`, privateNetworkName: `pn${i}`, cloudflareZone: "example.com" },
            ]),
        );
        expect(problemsOf({ ...base, environment: "env0", environments, reachableFrom: Object.keys(environments).slice(1) })).toEqual([
            "scw-private-lb:reachableFrom: the LB private-lb-env0-test would attach 9 private networks: an LB accepts at most 8",
        ]);
    });

    it("allows a loopback http ACME server for local tests", () => {
        expect(parseStackConfig({ ...base, acmeServer: "http://127.0.0.1:14000/dir" }).acmeServer).toBe("http://127.0.0.1:14000/dir");
    });
});

describe("per-app LBs", () => {
    const environments = {
        prod: base.environments.prod,
        monitoring: {
            domain: "monitoring.example.com",
            privateNetworkId: "fr-par/11111111-2222-4333-8444-555555555555",
            cloudflareZone: "example.com",
        },
        qa: { domain: "qa.example.com", privateNetworkName: "pn-qa", cloudflareZone: "example.com" },
    };
    const three = {
        ...base,
        environments,
        reachableFrom: ["monitoring"],
        lbTags: ["env=prod"],
        apps: [
            { name: "test", namespace: "ops" },
            { name: "backoffice", namespace: "bo", zone: "fr-par-2", lbType: "LB-GP-M", lbTags: [], reachableFrom: ["qa"] },
            { name: "grafana", namespace: "mon", httpsPort: 8443, shareLoadBalancerWith: "test" },
        ],
    };

    it("gives each app its own LB named private-lb-<env>-<app>, with the stack's defaults unless the app overrides them", () => {
        expect(loadBalancerPlans(parseStackConfig(three))).toEqual([
            {
                owner: "test",
                name: "private-lb-prod-test",
                zone: "fr-par-1",
                type: "LB-S",
                tags: ["env=prod"],
                environments: ["prod", "monitoring"],
            },
            {
                owner: "backoffice",
                name: "private-lb-prod-backoffice",
                zone: "fr-par-2",
                type: "LB-GP-M",
                tags: [],
                environments: ["prod", "qa"],
            },
        ]);
    });

    it("puts an app that shares another app's LB on that LB, reachable where the LB is (or fewer environments)", () => {
        const plans = appPlans(parseStackConfig(three));
        expect(plans.map((plan) => [plan.app.name, plan.loadBalancer.name, plan.environments])).toEqual([
            ["test", "private-lb-prod-test", ["prod", "monitoring"]],
            ["backoffice", "private-lb-prod-backoffice", ["prod", "qa"]],
            ["grafana", "private-lb-prod-test", ["prod", "monitoring"]],
        ]);
        const fewer = appPlans(parseStackConfig({ ...three, apps: [three.apps[0], { ...three.apps[2], reachableFrom: [] }] }));
        expect(fewer[1].environments).toEqual(["prod"]);
    });

    it("lets apps with their own LBs use the same port; only apps of one LB need distinct ports", () => {
        expect(() =>
            parseStackConfig({
                ...base,
                apps: [
                    { name: "a", namespace: "x" },
                    { name: "b", namespace: "x" },
                ],
            }),
        ).not.toThrow();
    });

    const app = (overrides: Record<string, unknown>) => ({
        ...three,
        apps: [three.apps[0], { name: "grafana", namespace: "mon", httpsPort: 8443, ...overrides }],
    });
    it.each<[string, Record<string, unknown>, string[]]>([
        [
            "sharing an app that does not exist",
            app({ shareLoadBalancerWith: "tset" }),
            ['scw-private-lb:apps[1].shareLoadBalancerWith: no app "tset" in this stack: name one of test'],
        ],
        [
            "sharing its own LB",
            app({ shareLoadBalancerWith: "grafana" }),
            [
                "scw-private-lb:apps[1].shareLoadBalancerWith: an app cannot share its own LB: remove shareLoadBalancerWith, or name another app",
            ],
        ],
        [
            "sharing an app that shares itself",
            { ...three, apps: [...three.apps, { name: "kibana", namespace: "mon", httpsPort: 9443, shareLoadBalancerWith: "grafana" }] },
            [
                'scw-private-lb:apps[3].shareLoadBalancerWith: app "grafana" itself shares the LB of "test": name the app that owns the LB, "test"',
            ],
        ],
        [
            "an LB setting on an app that shares",
            app({ shareLoadBalancerWith: "test", lbType: "LB-GP-M" }),
            [
                'scw-private-lb:apps[1].lbType: app "grafana" shares the LB of "test": set lbType on "test" instead, or drop shareLoadBalancerWith',
            ],
        ],
        [
            "an environment the shared LB is not attached to",
            app({ shareLoadBalancerWith: "test", reachableFrom: ["qa"] }),
            [
                'scw-private-lb:apps[1].reachableFrom[0]: the LB of "test" that this app shares is not attached to "qa": add "qa" to the reachableFrom of "test", or drop it here',
            ],
        ],
        [
            "an app's reachableFrom naming an undeclared environment",
            app({ reachableFrom: ["staging"] }),
            ['scw-private-lb:apps[1].reachableFrom[0]: environment "staging" is not declared in environments'],
        ],
        [
            "an app's zone that is not an LB zone",
            app({ zone: "fr-par-3" }),
            [
                'scw-private-lb:apps[1].zone: "fr-par-3" is not a zone of Scaleway\'s LB service: use one of fr-par-1, fr-par-2, nl-ams-1, nl-ams-2, nl-ams-3, pl-waw-1, pl-waw-2, pl-waw-3',
            ],
        ],
    ])("refuses %s", (_name, config, expected) => {
        expect(problemsOf(config)).toEqual(expected);
    });
});

/** The config mistakes a new user makes (issue 9): each fails naming the key and saying what to write. */
describe("config mistakes, in words a person understands", () => {
    const network = (privateNetworkId: string) => ({
        environments: { prod: { domain: "prod.example.com", privateNetworkId, cloudflareZone: "example.com" } },
    });
    it.each<[string, Record<string, unknown>, string[]]>([
        [
            "a zone that does not exist (fr-par-4)",
            { zone: "fr-par-4" },
            [
                'scw-private-lb:zone: "fr-par-4" is not a zone of Scaleway\'s LB service: use one of fr-par-1, fr-par-2, nl-ams-1, nl-ams-2, nl-ams-3, pl-waw-1, pl-waw-2, pl-waw-3',
            ],
        ],
        [
            "a private network id of 36 hex digits without dashes",
            network("fr-par/3b9f6e2a1c4d4e8fa7b65d4c3b2a1f0e"),
            [
                'scw-private-lb:environments.prod.privateNetworkId: "fr-par/3b9f6e2a1c4d4e8fa7b65d4c3b2a1f0e" is a UUID without its dashes: write fr-par/3b9f6e2a-1c4d-4e8f-a7b6-5d4c3b2a1f0e',
            ],
        ],
        [
            "36 hex digits without dashes (a UUID's length with its dashes)",
            network("fr-par/3b9f6e2a1c4d4e8fa7b65d4c3b2a1f0e1234"),
            [
                'scw-private-lb:environments.prod.privateNetworkId: "fr-par/3b9f6e2a1c4d4e8fa7b65d4c3b2a1f0e1234" has 36 hex digits and no dashes: a private network id is <region>/<uuid>, the UUID being 32 hex digits written 8-4-4-4-12, e.g. fr-par/6ba7b810-9dad-11d1-80b4-00c04fd430c8',
            ],
        ],
        [
            "a UUID without dashes under a zone",
            network("fr-par-1/3b9f6e2a1c4d4e8fa7b65d4c3b2a1f0e"),
            [
                'scw-private-lb:environments.prod.privateNetworkId: "fr-par-1/3b9f6e2a1c4d4e8fa7b65d4c3b2a1f0e" is a UUID without its dashes: write fr-par/3b9f6e2a-1c4d-4e8f-a7b6-5d4c3b2a1f0e',
            ],
        ],
        [
            "a zoned id where a regional one belongs",
            network("fr-par-1/3b9f6e2a-1c4d-4e8f-a7b6-5d4c3b2a1f0e"),
            [
                'scw-private-lb:environments.prod.privateNetworkId: "fr-par-1/3b9f6e2a-1c4d-4e8f-a7b6-5d4c3b2a1f0e" is a zoned id, but private networks are regional: use the region, fr-par/3b9f6e2a-1c4d-4e8f-a7b6-5d4c3b2a1f0e',
            ],
        ],
        [
            "an environment name the schema refuses (was: Invalid key in record)",
            { environment: "prod", environments: { prod: base.environments.prod, Staging: base.environments.prod } },
            [
                'scw-private-lb:environments: "Staging" is not a valid name: use 1-20 lowercase letters, digits or hyphens, starting with a letter',
            ],
        ],
        [
            "an empty network name (was: Too small: expected string to have >=1 characters)",
            { environments: { prod: { domain: "prod.example.com", privateNetworkName: "", cloudflareZone: "example.com" } } },
            ["scw-private-lb:environments.prod.privateNetworkName: must not be empty: give the name of the environment's private network"],
        ],
        [
            "no environments (was: is required (expected record, received undefined))",
            { environments: undefined },
            [
                "scw-private-lb:environments: is required: declare each environment as <name>: { domain, privateNetworkId or privateNetworkName, cloudflareZoneId or cloudflareZone }",
            ],
        ],
        [
            "proxied: true",
            { apps: [{ name: "test", namespace: "ops", proxied: true }] },
            [
                "scw-private-lb:apps[0].proxied: records are never proxied, by design: they point at the LB's private IPs, which Cloudflare's proxy cannot reach (and a proxied admin name would be public); remove proxied",
            ],
        ],
        [
            "a number where text is expected (YAML reads bare digits as a number)",
            { apps: [{ name: "test", namespace: 2024 }] },
            [
                'scw-private-lb:apps[0].namespace: must be text, not the number 2024: quote it in the stack file ("2024"), YAML reads bare digits as a number',
            ],
        ],
        [
            "the stack-level domain of the old layout",
            { domain: "test" },
            [
                "scw-private-lb:domain: the stack-level domain is gone: each app has its own LB named private-lb-<environment>-<app name>; remove domain (to keep today's LB, see the README's Migrating section)",
            ],
        ],
    ])("refuses %s", (_name, overrides, expected) => {
        const problems = problemsOf({ ...base, ...overrides });
        expect(problems).toEqual(expected);
        expect(problems.join("\n")).not.toMatch(/Invalid key in record|Too small|Invalid input|expected \w+, received|Unrecognized key/);
    });

    const pulumiConfig = (extra: Record<string, string>) => ({
        "scw-private-lb:environment": "prod",
        "scw-private-lb:acmeEmail": "ops@example.com",
        "scw-private-lb:environments": JSON.stringify(base.environments),
        "scw-private-lb:apps": JSON.stringify(base.apps),
        "scaleway:zone": "fr-par-1",
        ...extra,
    });

    it("keeps a value made only of digits as text where text is expected (Pulumi hands every value as a string)", () => {
        expect(stackConfigFromPulumi(pulumiConfig({ "scw-private-lb:kubeContext": "2024" })).kubeContext).toBe("2024");
        expect(stackConfigFromPulumi(pulumiConfig({ "scw-private-lb:dnsTtl": "120" })).dnsTtl).toBe(120);
    });

    it.each<[string, Record<string, string>, string]>([
        [
            "a key under a misspelt project namespace",
            { "scw-privat-lb:dnsTtl": "60" },
            '"scw-privat-lb:dnsTtl: "scw-privat-lb" is not this project\'s namespace, so the key would be ignored: write scw-private-lb:dnsTtl',
        ],
    ])("refuses %s instead of leaving the default in force", (_name, extra, expected) => {
        expect(() => stackConfigFromPulumi(pulumiConfig(extra))).toThrow(new ConfigError([expected.replace(/^"/, "")]));
    });

    it("leaves the providers' own keys alone (scaleway:zone is not this project's zone)", () => {
        expect(decodePulumiConfig(pulumiConfig({ "cloudflare:apiToken": "x", "kubernetes:context": "y" })).problems).toEqual([]);
    });
});

describe("decodePulumiConfig", () => {
    it("keeps this project's keys and decodes each as the schema expects it", () => {
        expect(
            decodePulumiConfig({
                "scw-private-lb:environment": "prod",
                "scw-private-lb:dnsTtl": "300",
                "scw-private-lb:acmeEmail": "2024",
                "scw-private-lb:lbTags": '["a","b"]',
                "scw-private-lb:environments": '{"prod":{"domain":"prod.example.com"}}',
                "scaleway:zone": "fr-par-1",
            }),
        ).toEqual({
            values: {
                environment: "prod",
                dnsTtl: 300,
                acmeEmail: "2024",
                lbTags: ["a", "b"],
                environments: { prod: { domain: "prod.example.com" } },
            },
            problems: [],
        });
    });
});

describe("Pulumi.yaml", () => {
    const project = parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as {
        config: Record<string, { type: string; description: string; default?: unknown; items?: { type: string } }>;
    };
    const declared = project.config;

    it("declares every simple key of the schema with a type and a description, integers exactly for the numeric keys", () => {
        const structured = ["environments", "apps"];
        expect(Object.keys(declared).sort()).toEqual(
            Object.keys(stackConfigShape.shape)
                .filter((key) => !structured.includes(key))
                .sort(),
        );
        for (const [key, declaration] of Object.entries(declared)) {
            expect(["string", "integer", "boolean", "array"], key).toContain(declaration.type);
            expect(declaration.description, key).toMatch(/\w{3,}/);
        }
        expect(
            Object.keys(declared)
                .filter((key) => declared[key].type === "integer")
                .sort(),
        ).toEqual([...NUMERIC_KEYS].sort());
    });

    it("has defaults that the schema accepts and agrees with", () => {
        const defaults = Object.fromEntries(
            Object.entries(declared)
                .filter(([, d]) => d.default !== undefined)
                .map(([key, d]) => [key, d.default]),
        );
        const withPulumiDefaults = parseStackConfig({ ...base, ...defaults });
        const withSchemaDefaults = parseStackConfig(base);
        expect(withPulumiDefaults).toEqual(withSchemaDefaults);
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
        apps: [{ name: "test", namespace: "ops", httpsPort: 8443, zone: "nl-ams-1" }],
    };

    it("covers the app in every environment it answers in, own first, on its LB's zone, bound through the annotation on its TLS port", () => {
        const config = parseStackConfig(twoEnvironments);
        expect(certificateSettingsFor(config, appPlans(config)[0])).toEqual({
            domains: ["test.prod.example.com", "test.monitoring.example.net"],
            zone: "nl-ams-1",
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
        expect(certificateSettingsFor(config, appPlans(config)[0]).adoptCertificateId).toBe(adoptCertificateId);
    });

    it("gives check no zone list when a zone is known only by id", () => {
        const config = parseStackConfig({
            ...twoEnvironments,
            environments: {
                ...twoEnvironments.environments,
                monitoring: {
                    domain: "monitoring.example.net",
                    privateNetworkName: "pn-mon",
                    cloudflareZoneId: "0123456789abcdef0123456789abcdef",
                },
            },
        });
        expect(certificateSettingsFor(config, appPlans(config)[0]).cloudflareZones).toBeUndefined();
    });
});
