import { ResourceValidationArgs } from "@pulumi/policy";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import {
    certificateMappingProblems,
    certificateViolations,
    ENTRANCE_POLICIES,
    isPrivateAddress,
    loadBalancerNameProblems,
    LoadBalancerTypeConfig,
    privateDnsViolations,
    privateLoadBalancerViolations,
    privateServiceViolations,
    Props,
    RESOURCE_TYPES,
    serviceCertificateViolations,
    toResourceValidationPolicy,
} from "./policies";
import { unknownCheckingProxy } from "./proxy";

const LB_ID = "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338";
const CERT_ID = "fr-par-1/6ba7b810-9dad-41d1-80b4-00c04fd430c8";
const A = "service.beta.kubernetes.io/scw-loadbalancer-";

/** Runs a policy the way the policy server does: props behind the unknown-checking proxy, violations collected. */
function runPolicy(name: string, type: string, props: Props, config: LoadBalancerTypeConfig = {}): string[] {
    const policy = ENTRANCE_POLICIES.find((candidate) => candidate.name === name);
    if (policy === undefined) {
        throw new Error(`no policy ${name}`);
    }
    const validation = toResourceValidationPolicy(policy);
    const violations: string[] = [];
    const args: ResourceValidationArgs = {
        type,
        props: unknownCheckingProxy(props),
        urn: `urn:pulumi:prod::scw-private-lb::${type}::resource`,
        name: "resource",
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
        },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string) => {
            throw new Error(`not applicable: ${reason}`);
        },
    };
    validation.validateResource(args, (message) => violations.push(message));
    return violations;
}

/** What PrivateLoadBalancer registers (components/privateLoadBalancer.ts). */
const programLoadBalancer = (): Props => ({
    name: "private-lb-prod-test",
    type: "LB-S",
    zone: "fr-par-1",
    assignFlexibleIp: false,
    assignFlexibleIpv6: false,
    externalPrivateNetworks: true,
    tags: ["env=prod"],
});

const service = (annotations: Record<string, string> | string, ports: number[] = [443, 81]): Props => ({
    metadata: { name: "test-lb-private", namespace: "ops-tools", annotations },
    spec: {
        type: "LoadBalancer",
        selector: { app: "test" },
        ports: ports.map((port) => ({ name: `p${port}`, port, targetPort: 80, protocol: "TCP" })),
    },
});

const compliantAnnotations = (): Record<string, string> => ({
    [`${A}externally-managed`]: "true",
    [`${A}id`]: LB_ID,
    [`${A}zone`]: "fr-par-1",
    [`${A}private`]: "true",
    [`${A}certificate-ids`]: `443:${CERT_ID}`,
});

describe("every rule is in the pack, mandatory, and ignores other resource types", () => {
    it("lists six named rules", () => {
        expect(ENTRANCE_POLICIES.map((policy) => policy.name)).toEqual([
            "private-load-balancer",
            "load-balancer-name",
            "private-service-annotations",
            "service-certificate-mapping",
            "private-dns-not-proxied",
            "acme-certificate-dns01-renewal",
        ]);
        expect(ENTRANCE_POLICIES.map((policy) => toResourceValidationPolicy(policy).enforcementLevel)).toEqual(Array(6).fill("mandatory"));
    });

    it("passes a resource of a type no rule is about, however it looks", () => {
        for (const policy of ENTRANCE_POLICIES) {
            expect(
                policy.validate(
                    "aws:s3/bucket:Bucket",
                    { assignFlexibleIp: true, proxied: true, content: "10.0.0.1", challenge: "http-01" },
                    {},
                ),
            ).toEqual([]);
        }
    });
});

describe("private-load-balancer", () => {
    it("passes the LB the program declares", () => {
        expect(runPolicy("private-load-balancer", RESOURCE_TYPES.loadBalancer, programLoadBalancer())).toEqual([]);
    });

    it("refuses a flexible IPv4, explicit or by omission (the API assigns one by default)", () => {
        expect(
            runPolicy("private-load-balancer", RESOURCE_TYPES.loadBalancer, { ...programLoadBalancer(), assignFlexibleIp: true }),
        ).toEqual(["assignFlexibleIp is true: a private LB has no public IP; set assignFlexibleIp: false"]);
        const { assignFlexibleIp: _omitted, ...withoutFlag } = programLoadBalancer();
        expect(runPolicy("private-load-balancer", RESOURCE_TYPES.loadBalancer, withoutFlag)).toEqual([
            "assignFlexibleIp is not set: the Scaleway API then assigns a public flexible IPv4; set assignFlexibleIp: false",
        ]);
    });

    it("refuses a flexible IPv6 and IP ids, even an IP id not known yet", () => {
        const violations = runPolicy("private-load-balancer", RESOURCE_TYPES.loadBalancer, {
            ...programLoadBalancer(),
            assignFlexibleIpv6: true,
            ipId: unknownValue,
            ipIds: ["fr-par-1/11111111-2222-4333-8444-555555555555"],
        });
        expect(violations).toEqual([
            "assignFlexibleIpv6 is true: a private LB has no public IPv6; set assignFlexibleIpv6: false",
            "ipId is set: a private LB must not be attached to a flexible IP; remove ipId",
            "ipIds is set: a private LB must not be attached to flexible IPs; remove ipIds",
        ]);
        expect(runPolicy("private-load-balancer", RESOURCE_TYPES.loadBalancer, { ...programLoadBalancer(), ipId: "", ipIds: [] })).toEqual(
            [],
        );
    });

    it("accepts the program's offers by default, compares case-insensitively, and narrows through policy config", () => {
        expect(runPolicy("private-load-balancer", RESOURCE_TYPES.loadBalancer, { ...programLoadBalancer(), type: "lb-gp-m" })).toEqual([]);
        expect(runPolicy("private-load-balancer", RESOURCE_TYPES.loadBalancer, { ...programLoadBalancer(), type: "LB-XS" })).toEqual([
            `type "LB-XS" is not an allowed LB offer: use one of LB-S, LB-GP-M, LB-GP-L, LB-GP-XL`,
        ]);
        expect(
            runPolicy(
                "private-load-balancer",
                RESOURCE_TYPES.loadBalancer,
                { ...programLoadBalancer(), type: "LB-GP-M" },
                { allowedTypes: ["LB-S"] },
            ),
        ).toEqual([`type "LB-GP-M" is not an allowed LB offer: use one of LB-S`]);
    });

    it("does not fail on a flag that is unknown during preview", () => {
        expect(
            privateLoadBalancerViolations(RESOURCE_TYPES.loadBalancer, {
                ...programLoadBalancer(),
                assignFlexibleIp: unknownValue,
                type: unknownValue,
            }),
        ).toEqual([]);
    });
});

describe("load-balancer-name", () => {
    it("passes private-lb-<env>-<app>, hyphenated parts included", () => {
        expect(runPolicy("load-balancer-name", RESOURCE_TYPES.loadBalancer, programLoadBalancer())).toEqual([]);
        expect(loadBalancerNameProblems("private-lb-pre-prod-my-app")).toEqual([]);
    });

    it("refuses names off the convention, with the reason", () => {
        expect(runPolicy("load-balancer-name", RESOURCE_TYPES.loadBalancer, { ...programLoadBalancer(), name: "lb-prod-test" })).toEqual([
            `name "lb-prod-test" does not start with "private-lb-": follow the convention private-lb-<env>-<app>, e.g. private-lb-prod-test for the app test.<prod domain>`,
        ]);
        expect(loadBalancerNameProblems("private-lb-prod")).toEqual([
            `name "private-lb-prod" does not name both an environment and an app: follow the convention private-lb-<env>-<app>, e.g. private-lb-prod-test for the app test.<prod domain>`,
        ]);
        expect(loadBalancerNameProblems("private-lb-prod--test")[0]).toContain("does not name both an environment and an app");
        expect(loadBalancerNameProblems(`private-lb-prod-${"x".repeat(60)}`)[0]).toMatch(/is 76 characters long: at most 63/);
    });

    it("refuses an unnamed LB (the provider would pick a random name) and skips an unknown one", () => {
        const { name: _omitted, ...unnamed } = programLoadBalancer();
        expect(runPolicy("load-balancer-name", RESOURCE_TYPES.loadBalancer, unnamed)).toEqual([
            "name is not set: the provider would pick a random name; name the LB private-lb-<env>-<app>",
        ]);
        expect(runPolicy("load-balancer-name", RESOURCE_TYPES.loadBalancer, { ...programLoadBalancer(), name: unknownValue })).toEqual([]);
    });
});

describe("private-service-annotations", () => {
    it("passes a Service annotated like PrivateService does", () => {
        expect(runPolicy("private-service-annotations", RESOURCE_TYPES.service, service(compliantAnnotations()))).toEqual([]);
    });

    it("refuses a missing private annotation, a bare LB id and a zone that disagrees", () => {
        const { [`${A}private`]: _omitted, ...annotations } = compliantAnnotations();
        expect(
            runPolicy("private-service-annotations", RESOURCE_TYPES.service, service({ ...annotations, [`${A}id`]: LB_ID.split("/")[1] })),
        ).toEqual([
            `${A}private is missing: set it to "true", or the CCM cannot publish the private LB's IP ("no ip found for lb")`,
            `${A}id: "${LB_ID.split("/")[1]}" is not a zoned id: expected <zone>/<uuid>, e.g. fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338`,
        ]);
        expect(
            runPolicy(
                "private-service-annotations",
                RESOURCE_TYPES.service,
                service({ ...compliantAnnotations(), [`${A}zone`]: "nl-ams-1", [`${A}private`]: "false" }),
            ),
        ).toEqual([
            `${A}private is "false": set it to "true", or the CCM cannot publish the private LB's IP ("no ip found for lb")`,
            `${A}zone is "nl-ams-1" but the LB id is in fr-par-1: make them agree`,
        ]);
        const { [`${A}id`]: _id, ...withoutId } = compliantAnnotations();
        expect(runPolicy("private-service-annotations", RESOURCE_TYPES.service, service(withoutId))).toEqual([
            `${A}id is missing: an externally managed Service must name its LB as <zone>/<uuid>`,
        ]);
    });

    it("leaves Services the CCM does not drive as externally managed alone", () => {
        expect(runPolicy("private-service-annotations", RESOURCE_TYPES.service, service({ "example.com/team": "ops" }))).toEqual([]);
        expect(
            runPolicy("private-service-annotations", RESOURCE_TYPES.service, { metadata: { name: "plain" }, spec: { type: "ClusterIP" } }),
        ).toEqual([]);
    });

    it("skips what preview cannot know: the whole annotation map or one value", () => {
        expect(privateServiceViolations(RESOURCE_TYPES.service, service(unknownValue))).toEqual([]);
        expect(
            runPolicy(
                "private-service-annotations",
                RESOURCE_TYPES.service,
                service({ ...compliantAnnotations(), [`${A}id`]: unknownValue }),
            ),
        ).toEqual([]);
    });
});

describe("service-certificate-mapping", () => {
    it("passes 443:<zoned id>, bare uuids and several port groups", () => {
        expect(runPolicy("service-certificate-mapping", RESOURCE_TYPES.service, service(compliantAnnotations()))).toEqual([]);
        expect(certificateMappingProblems(`443,8443:${CERT_ID},${CERT_ID.split("/")[1]};9443:${CERT_ID}`, [443, 8443, 9443])).toEqual([]);
    });

    it("refuses a Service with no mapping: the entrance is HTTPS-only", () => {
        const { [`${A}certificate-ids`]: _omitted, ...annotations } = compliantAnnotations();
        expect(runPolicy("service-certificate-mapping", RESOURCE_TYPES.service, service(annotations))).toEqual([
            `${A}certificate-ids is missing: the entrance is HTTPS-only; map the TLS port to its certificate, e.g. "443:<zone>/<certificate uuid>"`,
        ]);
    });

    it("refuses a bare id, port 80, a port the Service lacks and a malformed id", () => {
        expect(
            runPolicy(
                "service-certificate-mapping",
                RESOURCE_TYPES.service,
                service({ ...compliantAnnotations(), [`${A}certificate-ids`]: CERT_ID }),
            ),
        ).toEqual([`"${CERT_ID}" has no port: the CCM would bind it to every frontend, port 80 included; write 443:${CERT_ID}`]);
        expect(certificateMappingProblems(`80,8443:${CERT_ID};x:not-an-id`, [443, 81])).toEqual([
            `"80,8443:${CERT_ID}": port 80 stays plain HTTP; terminate TLS on 443 (or another TLS port)`,
            `"80,8443:${CERT_ID}": port 8443 is not a port of this Service (443, 81)`,
            `"x:not-an-id": "x" is not a port number`,
            `"x:not-an-id": "not-an-id" is not an LB certificate id (<uuid> or <zone>/<uuid>)`,
        ]);
    });

    it("does not fail while the certificate id is unknown (first preview), and checks ports once it is known", () => {
        expect(
            runPolicy(
                "service-certificate-mapping",
                RESOURCE_TYPES.service,
                service({ ...compliantAnnotations(), [`${A}certificate-ids`]: unknownValue }),
            ),
        ).toEqual([]);
        expect(serviceCertificateViolations(RESOURCE_TYPES.service, service(unknownValue))).toEqual([]);
        expect(
            runPolicy("service-certificate-mapping", RESOURCE_TYPES.service, {
                ...service(compliantAnnotations()),
                spec: { type: "LoadBalancer", ports: unknownValue },
            }),
        ).toEqual([]);
        expect(runPolicy("service-certificate-mapping", RESOURCE_TYPES.service, service(compliantAnnotations(), [8443]))).toEqual([
            `"443:${CERT_ID}": port 443 is not a port of this Service (8443)`,
        ]);
    });
});

describe("private-dns-not-proxied", () => {
    const record = (content: string, proxied: unknown): Props => ({
        zoneId: "0".repeat(32),
        name: "test.prod.example.com",
        type: "A",
        content,
        proxied,
        ttl: 300,
    });

    it("passes an unproxied private record and a proxied public one", () => {
        expect(runPolicy("private-dns-not-proxied", RESOURCE_TYPES.dnsRecord, record("172.16.4.7", false))).toEqual([]);
        expect(runPolicy("private-dns-not-proxied", RESOURCE_TYPES.dnsRecord, record("203.0.113.9", true))).toEqual([]);
    });

    it("refuses a proxied record to a private address, in the current and the legacy resource", () => {
        expect(runPolicy("private-dns-not-proxied", RESOURCE_TYPES.dnsRecord, record("10.1.2.3", true))).toEqual([
            "record test.prod.example.com points at the private address 10.1.2.3 but is proxied: Cloudflare's proxy cannot reach it; set proxied: false",
        ]);
        expect(runPolicy("private-dns-not-proxied", RESOURCE_TYPES.legacyDnsRecord, record("100.64.0.10", true))).toHaveLength(1);
    });

    it("knows the private ranges: RFC 1918, 100.64/10 and IPv6 ULA", () => {
        const privateOnes = ["10.0.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.1", "100.64.0.1", "100.127.255.254", "fd12:3456::1"];
        const publicOnes = ["172.32.0.1", "100.128.0.1", "8.8.8.8", "2001:db8::1", "not-an-ip", "test.example.com"];
        expect(privateOnes.filter(isPrivateAddress)).toEqual(privateOnes);
        expect(publicOnes.filter(isPrivateAddress)).toEqual([]);
    });

    it("does not fail while the LB's address or the proxied flag is unknown", () => {
        expect(privateDnsViolations(RESOURCE_TYPES.dnsRecord, record(unknownValue, true))).toEqual([]);
        expect(runPolicy("private-dns-not-proxied", RESOURCE_TYPES.dnsRecord, record("10.1.2.3", unknownValue))).toEqual([]);
    });
});

describe("acme-certificate-dns01-renewal", () => {
    /** Inputs as the provider's `check` leaves them: the engine hands policies the checked inputs. */
    const certificate = (overrides: Props = {}): Props => ({
        domains: ["test.prod.example.com"],
        loadBalancerId: LB_ID,
        challenge: "dns-01",
        renewal: { remainingFraction: 1 / 3, useAri: true },
        binding: { mode: "annotation", frontendPort: 443 },
        ...overrides,
    });

    it("passes dns-01 renewed at 1/3 or earlier", () => {
        expect(runPolicy("acme-certificate-dns01-renewal", RESOURCE_TYPES.certificate, certificate())).toEqual([]);
        expect(
            runPolicy(
                "acme-certificate-dns01-renewal",
                RESOURCE_TYPES.certificate,
                certificate({ renewal: { remainingFraction: 0.5, useAri: false } }),
            ),
        ).toEqual([]);
    });

    it("refuses another challenge and a renewal later than 1/3 of the lifetime", () => {
        expect(
            runPolicy(
                "acme-certificate-dns01-renewal",
                RESOURCE_TYPES.certificate,
                certificate({ challenge: "http-01", renewal: { remainingFraction: 0.25, useAri: true } }),
            ),
        ).toEqual([
            `challenge is "http-01": a private LB is unreachable from the CA, only dns-01 can validate its names`,
            "renewal.remainingFraction is 0.25: renew no later than when 1/3 of the lifetime remains (remainingFraction >= 1/3), short-lived certificates leave no slack otherwise",
        ]);
        expect(certificateViolations(RESOURCE_TYPES.certificate, { domains: ["a.example.com"] })).toEqual([
            "challenge is not set: a private LB is unreachable from the CA, only dns-01 can validate its names",
            "renewal.remainingFraction is not set: renew no later than when 1/3 of the lifetime remains (remainingFraction >= 1/3), short-lived certificates leave no slack otherwise",
        ]);
    });

    it("does not fail on an unknown renewal during preview", () => {
        expect(runPolicy("acme-certificate-dns01-renewal", RESOURCE_TYPES.certificate, certificate({ renewal: unknownValue }))).toEqual([]);
    });
});
