/**
 * The CrossGuard rules of the private admin entrance. Each rule is a pure function over a resource's
 * type and inputs that returns the violations as messages (empty when the resource complies or the
 * rule does not apply), so tests call them directly and `index.ts` only wires them into a PolicyPack.
 *
 * Preview: a value that depends on a resource not created yet is unknown. The policy SDK hands such
 * props behind a proxy that throws `UnknownValueError` on access; every rule reads through `known()`
 * and skips the one check that needs the missing value instead of failing. The same resource is
 * checked again at `up`, when every input is known.
 */
import { BlockList, isIP } from "node:net";
import { PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { ANNOTATION_PREFIX } from "../components/annotations";
import { LB_TYPES } from "../components/config";
import { isDnsLabel, isUuid, LOAD_BALANCER_NAME_PREFIX, loadBalancerName, parseZonedId } from "../components/naming";
import { unknownCheckingProxy, UnknownValueError } from "./proxy";

export const RESOURCE_TYPES = {
    loadBalancer: "scaleway:loadbalancers/loadBalancer:LoadBalancer",
    service: "kubernetes:core/v1:Service",
    dnsRecord: "cloudflare:index/dnsRecord:DnsRecord",
    /** Cloudflare provider v5 and older programs; deprecated in v6 but still accepted. */
    legacyDnsRecord: "cloudflare:index/record:Record",
    certificate: "pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate",
} as const;

/** Renew no later than when a third of the lifetime remains (Let's Encrypt's recommendation). */
export const MIN_REMAINING_FRACTION = 1 / 3;

export type Props = Record<string, unknown>;

export interface LoadBalancerTypeConfig {
    /** LB offers a stack may use; defaults to every offer the program accepts. */
    allowedTypes?: string[];
}

const NOT_KNOWN: unique symbol = Symbol("not known during preview");
type Known<T> = T | typeof NOT_KNOWN;

/** Reads a value, or says it is not known yet (preview) instead of throwing. */
function known<T>(read: () => T): Known<T> {
    try {
        return read();
    } catch (error) {
        if (error instanceof UnknownValueError) {
            return NOT_KNOWN;
        }
        throw error;
    }
}

/** Walks nested objects; undefined as soon as a level is missing or not an object. */
function field(value: unknown, ...path: string[]): unknown {
    return path.reduce<unknown>(
        (current, key) => (current !== null && typeof current === "object" ? (current as Props)[key] : undefined),
        value,
    );
}

/** A prop's value in a message: text as is, anything else as JSON (an object never shows as "[object Object]"). */
function shown(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Wraps props like the policy SDK does (idempotent on props it already wrapped). */
function checked(props: Props): Props {
    return unknownCheckingProxy(props);
}

// ---------------------------------------------------------------------------------------------
// Load balancer

export function privateLoadBalancerViolations(type: string, props: Props, config: LoadBalancerTypeConfig = {}): string[] {
    if (type !== RESOURCE_TYPES.loadBalancer) {
        return [];
    }
    const lb = checked(props);
    const violations: string[] = [];
    const flexibleIpv4 = known(() => lb.assignFlexibleIp);
    if (flexibleIpv4 === undefined) {
        violations.push("assignFlexibleIp is not set: the Scaleway API then assigns a public flexible IPv4; set assignFlexibleIp: false");
    } else if (flexibleIpv4 !== false && flexibleIpv4 !== NOT_KNOWN) {
        violations.push(`assignFlexibleIp is ${shown(flexibleIpv4)}: a private LB has no public IP; set assignFlexibleIp: false`);
    }
    if (known(() => lb.assignFlexibleIpv6) === true) {
        violations.push("assignFlexibleIpv6 is true: a private LB has no public IPv6; set assignFlexibleIpv6: false");
    }
    // Any IP id, even one not known yet, attaches a flexible (public) IP.
    const ipId = known(() => lb.ipId);
    if (ipId === NOT_KNOWN || (ipId !== undefined && ipId !== null && ipId !== "")) {
        violations.push("ipId is set: a private LB must not be attached to a flexible IP; remove ipId");
    }
    const ipIds = known(() => lb.ipIds);
    if (ipIds === NOT_KNOWN || (Array.isArray(ipIds) && ipIds.length > 0)) {
        violations.push("ipIds is set: a private LB must not be attached to flexible IPs; remove ipIds");
    }
    const lbType = known(() => lb.type);
    const allowed = config.allowedTypes ?? [...LB_TYPES];
    if (typeof lbType === "string" && !allowed.some((candidate) => candidate.toUpperCase() === lbType.toUpperCase())) {
        violations.push(`type "${lbType}" is not an allowed LB offer: use one of ${allowed.join(", ")}`);
    }
    return violations;
}

/** Why `name` does not follow `private-lb-<env>-<app>` (the app's host label: test for test.<env domain>); empty when it does. */
export function loadBalancerNameProblems(name: string): string[] {
    const prefix = `${LOAD_BALANCER_NAME_PREFIX}-`;
    const convention = `follow the convention ${prefix}<env>-<app>, e.g. ${prefix}prod-test for the app test.<prod domain>`;
    if (!name.startsWith(prefix)) {
        return [`name "${name}" does not start with "${prefix}": ${convention}`];
    }
    const rest = name.slice(prefix.length);
    const separator = rest.indexOf("-");
    const environment = rest.slice(0, separator);
    const app = rest.slice(separator + 1);
    if (separator < 0 || !isDnsLabel(environment) || !isDnsLabel(app)) {
        return [`name "${name}" does not name both an environment and an app: ${convention}`];
    }
    try {
        loadBalancerName(environment, app);
        return [];
    } catch (error) {
        return [(error as Error).message];
    }
}

export function loadBalancerNameViolations(type: string, props: Props): string[] {
    if (type !== RESOURCE_TYPES.loadBalancer) {
        return [];
    }
    const name = known(() => checked(props).name);
    if (name === NOT_KNOWN) {
        return [];
    }
    if (typeof name !== "string" || name === "") {
        return ["name is not set: the provider would pick a random name; name the LB private-lb-<env>-<app>"];
    }
    return loadBalancerNameProblems(name);
}

// ---------------------------------------------------------------------------------------------
// Kubernetes Service handed to the Scaleway CCM

const annotation = (name: string) => `${ANNOTATION_PREFIX}scw-loadbalancer-${name}`;

/**
 * The annotations of a Service the CCM drives as externally managed; undefined when the rule does
 * not apply (not a Service, or not externally managed) or cannot tell yet (annotations unknown).
 */
function externallyManagedAnnotations(type: string, props: Props): Props | undefined {
    if (type !== RESOURCE_TYPES.service) {
        return undefined;
    }
    const annotations = known(() => field(checked(props), "metadata", "annotations"));
    if (annotations === NOT_KNOWN || annotations === null || typeof annotations !== "object") {
        return undefined;
    }
    const externallyManaged = known(() => (annotations as Props)[annotation("externally-managed")]);
    return externallyManaged === "true" ? (annotations as Props) : undefined;
}

export function privateServiceViolations(type: string, props: Props): string[] {
    const annotations = externallyManagedAnnotations(type, props);
    if (annotations === undefined) {
        return [];
    }
    const violations: string[] = [];
    const isPrivate = known(() => annotations[annotation("private")]);
    if (isPrivate !== "true" && isPrivate !== NOT_KNOWN) {
        violations.push(
            `${annotation("private")} is ${isPrivate === undefined ? "missing" : `"${shown(isPrivate)}"`}: ` +
                `set it to "true", or the CCM cannot publish the private LB's IP ("no ip found for lb")`,
        );
    }
    const lbId = known(() => annotations[annotation("id")]);
    const zone = known(() => annotations[annotation("zone")]);
    if (lbId === undefined) {
        violations.push(`${annotation("id")} is missing: an externally managed Service must name its LB as <zone>/<uuid>`);
    } else if (lbId !== NOT_KNOWN) {
        try {
            const zoned = parseZonedId(shown(lbId));
            if (typeof zone === "string" && zone !== zoned.zone) {
                violations.push(`${annotation("zone")} is "${zone}" but the LB id is in ${zoned.zone}: make them agree`);
            }
        } catch (error) {
            violations.push(`${annotation("id")}: ${(error as Error).message}`);
        }
    }
    return violations;
}

function isCertificateId(value: string): boolean {
    if (isUuid(value)) {
        return true;
    }
    try {
        parseZonedId(value);
        return true;
    } catch {
        return false;
    }
}

/**
 * Problems of a `scw-loadbalancer-certificate-ids` value: `<ports>:<ids>[;<ports>:<ids>]` with ports
 * the Service exposes. A bare id (no port) is refused: the CCM would also put it on port 80.
 */
export function certificateMappingProblems(mapping: string, servicePorts: Known<number[]>): string[] {
    const problems: string[] = [];
    for (const entry of mapping.split(";")) {
        const colon = entry.indexOf(":");
        if (colon < 0) {
            problems.push(`"${entry}" has no port: the CCM would bind it to every frontend, port 80 included; write 443:${entry}`);
            continue;
        }
        const ports = entry.slice(0, colon).split(",");
        const ids = entry.slice(colon + 1).split(",");
        for (const port of ports) {
            if (!/^[0-9]+$/.test(port)) {
                problems.push(`"${entry}": "${port}" is not a port number`);
            } else if (Number(port) === 80) {
                problems.push(`"${entry}": port 80 stays plain HTTP; terminate TLS on 443 (or another TLS port)`);
            } else if (servicePorts !== NOT_KNOWN && !servicePorts.includes(Number(port))) {
                problems.push(`"${entry}": port ${port} is not a port of this Service (${servicePorts.join(", ")})`);
            }
        }
        for (const id of ids.filter((candidate) => !isCertificateId(candidate))) {
            problems.push(`"${entry}": "${id}" is not an LB certificate id (<uuid> or <zone>/<uuid>)`);
        }
    }
    return problems;
}

export function serviceCertificateViolations(type: string, props: Props): string[] {
    const annotations = externallyManagedAnnotations(type, props);
    if (annotations === undefined) {
        return [];
    }
    const mapping = known(() => annotations[annotation("certificate-ids")]);
    if (mapping === NOT_KNOWN) {
        return [];
    }
    if (mapping === undefined || mapping === "") {
        return [
            `${annotation("certificate-ids")} is missing: the entrance is HTTPS-only; map the TLS port to its certificate, e.g. "443:<zone>/<certificate uuid>"`,
        ];
    }
    const servicePorts = known(() => {
        const ports = field(checked(props), "spec", "ports");
        return Array.isArray(ports) ? ports.map((port) => Number(field(port, "port"))) : [];
    });
    return certificateMappingProblems(shown(mapping), servicePorts);
}

// ---------------------------------------------------------------------------------------------
// Cloudflare records

const PRIVATE_RANGES = new BlockList();
PRIVATE_RANGES.addSubnet("10.0.0.0", 8, "ipv4");
PRIVATE_RANGES.addSubnet("172.16.0.0", 12, "ipv4");
PRIVATE_RANGES.addSubnet("192.168.0.0", 16, "ipv4");
PRIVATE_RANGES.addSubnet("100.64.0.0", 10, "ipv4"); // carrier-grade NAT (RFC 6598)
PRIVATE_RANGES.addSubnet("fc00::", 7, "ipv6"); // unique local addresses

/** RFC 1918, RFC 6598 (100.64/10) or IPv6 ULA: reachable only from inside a network. */
export function isPrivateAddress(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && PRIVATE_RANGES.check(address, family === 4 ? "ipv4" : "ipv6");
}

export function privateDnsViolations(type: string, props: Props): string[] {
    if (type !== RESOURCE_TYPES.dnsRecord && type !== RESOURCE_TYPES.legacyDnsRecord) {
        return [];
    }
    const record = checked(props);
    const content = known(() => record.content);
    if (typeof content !== "string" || !isPrivateAddress(content)) {
        return [];
    }
    if (known(() => record.proxied) !== true) {
        return [];
    }
    const name = known(() => record.name);
    const subject = typeof name === "string" ? `record ${name}` : "record";
    return [`${subject} points at the private address ${content} but is proxied: Cloudflare's proxy cannot reach it; set proxied: false`];
}

// ---------------------------------------------------------------------------------------------
// ACME certificates

export function certificateViolations(type: string, props: Props): string[] {
    if (type !== RESOURCE_TYPES.certificate) {
        return [];
    }
    const certificate = checked(props);
    const violations: string[] = [];
    const challenge = known(() => certificate.challenge);
    if (challenge !== "dns-01" && challenge !== NOT_KNOWN) {
        violations.push(
            `challenge is ${challenge === undefined ? "not set" : `"${shown(challenge)}"`}: a private LB is unreachable from the CA, only dns-01 can validate its names`,
        );
    }
    const remainingFraction = known(() => field(certificate, "renewal", "remainingFraction"));
    if (remainingFraction !== NOT_KNOWN && (typeof remainingFraction !== "number" || !(remainingFraction >= MIN_REMAINING_FRACTION))) {
        violations.push(
            `renewal.remainingFraction is ${remainingFraction === undefined ? "not set" : shown(remainingFraction)}: ` +
                `renew no later than when 1/3 of the lifetime remains (remainingFraction >= 1/3), short-lived certificates leave no slack otherwise`,
        );
    }
    return violations;
}

// ---------------------------------------------------------------------------------------------
// The pack

export interface EntrancePolicy {
    name: string;
    description: string;
    configSchema?: PolicyConfigSchema;
    validate(type: string, props: Props, config: LoadBalancerTypeConfig): string[];
}

export const ENTRANCE_POLICIES: EntrancePolicy[] = [
    {
        name: "private-load-balancer",
        description: "Scaleway LBs are private (no flexible IPv4/IPv6, no IP ids) and of an allowed offer.",
        configSchema: { properties: { allowedTypes: { type: "array", items: { type: "string" }, default: [...LB_TYPES] } } },
        validate: privateLoadBalancerViolations,
    },
    {
        name: "load-balancer-name",
        description: "Scaleway LBs are named private-lb-<env>-<app>, one per app (the app's host label: test for test.<env domain>).",
        validate: loadBalancerNameViolations,
    },
    {
        name: "private-service-annotations",
        description: "Externally managed LoadBalancer Services carry the private annotation and a zoned LB id.",
        validate: privateServiceViolations,
    },
    {
        name: "service-certificate-mapping",
        description: "Externally managed LoadBalancer Services map their TLS port to a certificate (<port>:<id>).",
        validate: serviceCertificateViolations,
    },
    {
        name: "private-dns-not-proxied",
        description: "DNS records pointing at private addresses are not proxied by Cloudflare.",
        validate: privateDnsViolations,
    },
    {
        name: "acme-certificate-dns01-renewal",
        description: "ACME certificates use dns-01 and renew no later than when 1/3 of the lifetime remains.",
        validate: certificateViolations,
    },
];

/** The CrossGuard form of a rule: every violation message is reported against the resource. */
/** A policy of the pack: one validation, synchronous (its violations are all reported when it returns). */
export type EntranceValidationPolicy = Omit<ResourceValidationPolicy, "validateResource"> & {
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => void;
};

export function toResourceValidationPolicy(policy: EntrancePolicy): EntranceValidationPolicy {
    return {
        name: policy.name,
        description: policy.description,
        enforcementLevel: "mandatory",
        configSchema: policy.configSchema,
        validateResource: (args, reportViolation) => {
            for (const message of policy.validate(args.type, args.props, args.getConfig<LoadBalancerTypeConfig>())) {
                reportViolation(message);
            }
        },
    };
}
