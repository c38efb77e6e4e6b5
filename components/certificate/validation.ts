/**
 * Offline validation of the certificate resource's inputs. `check` runs it, so a bad input fails at
 * `pulumi preview` with a message that says what to fix, instead of half-way through an ACME order.
 * Pure: no network, no clock.
 */
import { createPrivateKey } from "node:crypto";
import { isIP } from "node:net";
import { renewalPolicyProblems } from "./renewal";
import { BINDING_MODES, KEY_TYPES, type Binding, type KeyType, type RenewalPolicy } from "./types";

/** What the engine sends during preview for a value that is not known yet. It is not an error. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const ACME_DIRECTORIES = {
    letsencrypt: "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;
export type AcmeServerAlias = keyof typeof ACME_DIRECTORIES;

export const DEFAULT_KEY_TYPE: KeyType = "ecdsa-p256";
export const DEFAULT_RENEWAL: RenewalPolicy = { remainingFraction: 1 / 3, useAri: true };
export const DEFAULT_BINDING: Binding = { mode: "annotation", frontendPort: 443 };
/** Let's Encrypt's limit of names per certificate. */
export const MAX_NAMES = 100;

export interface CheckFailure {
    property: string;
    reason: string;
}

const ZONE_PATTERN = /^[a-z]{2}-[a-z]{3}-[1-9]$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LABEL_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const EMAIL_PATTERN = /^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$/;
const PROFILE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

export function isUnknown(value: unknown): boolean {
    return value === UNKNOWN;
}

/** `letsencrypt` / `letsencrypt-staging` or a directory URL, as given to the component. */
export function resolveAcmeDirectory(server: string): string {
    return server in ACME_DIRECTORIES ? ACME_DIRECTORIES[server as AcmeServerAlias] : server;
}

/** `fr-par-1/<uuid>` → `{zone, uuid}`; undefined when malformed. */
export function parseZonedId(id: string): { zone: string; uuid: string } | undefined {
    const parts = id.split("/");
    if (parts.length !== 2 || !ZONE_PATTERN.test(parts[0]) || !UUID_PATTERN.test(parts[1])) {
        return undefined;
    }
    return { zone: parts[0], uuid: parts[1] };
}

/** Why a (lowercased) DNS name is unusable in a certificate, or undefined when it is fine. */
export function dnsNameProblem(name: string, allowWildcard: boolean): string | undefined {
    if (name.length === 0) {
        return "a name is empty: remove it.";
    }
    if (/[^\x20-\x7e]/.test(name)) {
        return `"${name}" contains non-ASCII characters: use its punycode (xn--) form.`;
    }
    if (name.length > 253) {
        return `"${name.slice(0, 40)}…" is longer than 253 characters.`;
    }
    if (name.endsWith(".")) {
        return `"${name}" ends with a dot: remove it.`;
    }
    const labels = name.split(".");
    if (labels[0] === "*") {
        if (!allowWildcard) {
            return `"${name}" is a wildcard name: set allowWildcard: true to request it.`;
        }
        labels.shift();
    }
    if (labels.some((label) => label.includes("*"))) {
        return `"${name}": a wildcard is only allowed as the whole leftmost label (*.example.com).`;
    }
    if (labels.length < 2) {
        return `"${name}" has a single label: use a fully qualified name such as ${name}.example.com.`;
    }
    if (!labels.every((label) => LABEL_PATTERN.test(label))) {
        return (
            `"${name}" is not a valid DNS name: each dot-separated label must be 1-63 letters, digits or ` +
            "hyphens, not starting or ending with a hyphen."
        );
    }
    return undefined;
}

/** The Cloudflare zone a name falls under (longest match), if any. */
export function zoneOf(name: string, zones: readonly string[]): string | undefined {
    const bare = name.startsWith("*.") ? name.slice(2) : name;
    return zones
        .filter((zone) => bare === zone || bare.endsWith(`.${zone}`))
        .sort((a, b) => b.length - a.length)[0];
}

function isLoopbackHost(hostname: string): boolean {
    const host = hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
}

function acmeDirectoryProblem(url: string): string | undefined {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        return `acmeServer "${url}" is neither letsencrypt, letsencrypt-staging nor an https URL of an ACME directory.`;
    }
    if (parsed.protocol === "https:") {
        return undefined;
    }
    if (parsed.protocol === "http:" && isLoopbackHost(parsed.hostname)) {
        return undefined;
    }
    return `ACME directory ${url} must use https (plain http is accepted only for a loopback test server).`;
}

function resolverProblem(resolver: string): boolean {
    if (isIP(resolver)) {
        return false;
    }
    const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(resolver);
    if (!match) {
        return true;
    }
    const host = match[1] ?? match[2];
    const port = Number(match[3]);
    const hostIsValid = match[1] !== undefined ? isIP(host) === 6 : isIP(host) === 4;
    return !hostIsValid || port < 1 || port > 65535;
}

function isPrivateKeyPem(pem: string): boolean {
    try {
        createPrivateKey(pem);
        return true;
    } catch {
        return false;
    }
}

function isWholeNumberIn(value: unknown, min: number, max: number): boolean {
    return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

type Props = Record<string, unknown>;

function asProps(value: unknown): Props | undefined {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Props) : undefined;
}

/** Fills an object's defaults; an explicit `undefined` does not override one. Other values stay for `check` to report. */
function withDefaults(value: unknown, defaults: object): unknown {
    const props = asProps(value);
    if (value !== undefined && !props) {
        return value;
    }
    const given = Object.entries(props ?? {}).filter(([, entry]) => entry !== undefined);
    return { ...defaults, ...Object.fromEntries(given) };
}

/** Lowercases names and fills every default, leaving unknown values untouched. */
export function normalizeInputs(raw: Props): Props {
    const domains = Array.isArray(raw.domains)
        ? raw.domains.map((name) => (typeof name === "string" && !isUnknown(name) ? name.trim().toLowerCase() : name))
        : raw.domains;
    const server = raw.acmeDirectoryUrl ?? ACME_DIRECTORIES.letsencrypt;
    return {
        ...raw,
        domains,
        acmeDirectoryUrl: typeof server === "string" && !isUnknown(server) ? resolveAcmeDirectory(server) : server,
        keyType: raw.keyType ?? DEFAULT_KEY_TYPE,
        challenge: "dns-01",
        renewal: withDefaults(raw.renewal, DEFAULT_RENEWAL),
        binding: withDefaults(raw.binding, DEFAULT_BINDING),
        allowWildcard: raw.allowWildcard ?? false,
        revokeOnDelete: raw.revokeOnDelete ?? false,
        ...(Array.isArray(raw.cloudflareZones)
            ? {
                  cloudflareZones: raw.cloudflareZones.map((zone) =>
                      typeof zone === "string" && !isUnknown(zone) ? zone.trim().toLowerCase() : zone,
                  ),
              }
            : {}),
    };
}

function knownStrings(values: unknown): string[] | undefined {
    if (!Array.isArray(values) || values.some(isUnknown)) {
        return undefined;
    }
    return values.filter((value): value is string => typeof value === "string");
}

function domainFailures(inputs: Props): CheckFailure[] {
    const domains = inputs.domains;
    if (isUnknown(domains)) {
        return [];
    }
    if (!Array.isArray(domains) || domains.length === 0) {
        return [{ property: "domains", reason: "domains must be a non-empty list of DNS names (the first is the common name)." }];
    }
    if (domains.length > MAX_NAMES) {
        return [
            {
                property: "domains",
                reason: `domains has ${domains.length} names; a certificate holds at most ${MAX_NAMES}: split them over several certificates.`,
            },
        ];
    }
    const allowWildcard = inputs.allowWildcard === true;
    const zones = knownStrings(inputs.cloudflareZones);
    const seen = new Set<string>();
    const failures: CheckFailure[] = [];
    domains.forEach((name, index) => {
        if (isUnknown(name)) {
            return;
        }
        const property = `domains[${index}]`;
        if (typeof name !== "string") {
            failures.push({ property, reason: `domains[${index}] must be a string.` });
            return;
        }
        const problem = dnsNameProblem(name, allowWildcard);
        if (problem) {
            failures.push({ property, reason: problem });
        } else if (seen.has(name)) {
            failures.push({ property, reason: `"${name}" is listed twice (names are compared lowercased): remove the duplicate.` });
        } else if (zones && zones.length > 0 && !zoneOf(name, zones)) {
            failures.push({
                property,
                reason: `"${name}" is not under any of the Cloudflare zones (${zones.join(", ")}): add its zone to cloudflareZones or fix the name.`,
            });
        }
        seen.add(name);
    });
    return failures;
}

function zoneFailures(inputs: Props): CheckFailure[] {
    const zones = inputs.cloudflareZones;
    if (zones === undefined || isUnknown(zones)) {
        return [];
    }
    if (!Array.isArray(zones)) {
        return [{ property: "cloudflareZones", reason: "cloudflareZones must be a list of zone names such as example.com." }];
    }
    return zones.flatMap((zone, index) =>
        isUnknown(zone) || (typeof zone === "string" && !dnsNameProblem(zone, false))
            ? []
            : [{ property: `cloudflareZones[${index}]`, reason: `cloudflareZones[${index}] "${String(zone)}" is not a DNS zone name such as example.com.` }],
    );
}

function loadBalancerFailures(inputs: Props): CheckFailure[] {
    const { loadBalancerId, zone } = inputs;
    const failures: CheckFailure[] = [];
    const zoneKnown = zone !== undefined && !isUnknown(zone);
    if (zoneKnown && (typeof zone !== "string" || !ZONE_PATTERN.test(zone))) {
        failures.push({ property: "zone", reason: `zone "${String(zone)}" is not a Scaleway zone such as fr-par-1.` });
    }
    if (isUnknown(loadBalancerId)) {
        return failures;
    }
    const parsed = typeof loadBalancerId === "string" ? parseZonedId(loadBalancerId) : undefined;
    if (!parsed) {
        failures.push({
            property: "loadBalancerId",
            reason:
                `loadBalancerId "${String(loadBalancerId)}" must be a zoned id <zone>/<uuid>, ` +
                "e.g. fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338.",
        });
    } else if (zoneKnown && typeof zone === "string" && ZONE_PATTERN.test(zone) && parsed.zone !== zone) {
        failures.push({
            property: "loadBalancerId",
            reason: `loadBalancerId is in zone ${parsed.zone} but zone is ${zone}: use the LB's own zone.`,
        });
    }
    return failures;
}

function renewalFailures(renewal: unknown): CheckFailure[] {
    if (isUnknown(renewal)) {
        return [];
    }
    const policy = asProps(renewal);
    if (!policy) {
        return [{ property: "renewal", reason: "renewal must be an object." }];
    }
    const { remainingFraction, minDaysRemaining, useAri } = policy;
    const failures: CheckFailure[] = [];
    if (!isUnknown(useAri) && typeof useAri !== "boolean") {
        failures.push({ property: "renewal.useAri", reason: "renewal.useAri must be true or false." });
    }
    for (const [key, value] of Object.entries({ remainingFraction, minDaysRemaining })) {
        if (value !== undefined && !isUnknown(value) && typeof value !== "number") {
            failures.push({ property: `renewal.${key}`, reason: `renewal.${key} must be a number; got ${JSON.stringify(value)}.` });
        }
    }
    if (failures.length > 0 || isUnknown(remainingFraction) || isUnknown(minDaysRemaining)) {
        return failures;
    }
    // The renewal module owns the rule, so it owns its limits too; its messages start with the property.
    return renewalPolicyProblems({
        remainingFraction: remainingFraction as number,
        minDaysRemaining: minDaysRemaining as number | undefined,
        useAri: useAri !== false,
    }).map((problem) => ({ property: problem.split(" ")[0], reason: `${problem}.` }));
}

function bindingFailures(binding: unknown): CheckFailure[] {
    if (isUnknown(binding)) {
        return [];
    }
    const props = asProps(binding);
    if (!props) {
        return [{ property: "binding", reason: "binding must be an object." }];
    }
    const failures: CheckFailure[] = [];
    if (!isUnknown(props.mode) && !(BINDING_MODES as readonly unknown[]).includes(props.mode)) {
        failures.push({
            property: "binding.mode",
            reason: `binding.mode "${String(props.mode)}" is unknown: use annotation (the default: the CCM binds it through the Service annotation) or frontend.`,
        });
    }
    if (!isUnknown(props.frontendPort) && !isWholeNumberIn(props.frontendPort, 1, 65535)) {
        failures.push({
            property: "binding.frontendPort",
            reason: `binding.frontendPort must be a whole number from 1 to 65535; got ${String(props.frontendPort)}.`,
        });
    }
    return failures;
}

function scalarFailures(inputs: Props): CheckFailure[] {
    const failures: CheckFailure[] = [];
    const known = (key: string): boolean => inputs[key] !== undefined && !isUnknown(inputs[key]);
    if (inputs.email === undefined) {
        failures.push({ property: "email", reason: "email is required: Let's Encrypt registers the ACME account with it." });
    } else if (known("email") && !(typeof inputs.email === "string" && EMAIL_PATTERN.test(inputs.email))) {
        failures.push({ property: "email", reason: `email "${String(inputs.email)}" is not an email address (expected name@domain.tld).` });
    }
    if (known("keyType") && !(KEY_TYPES as readonly unknown[]).includes(inputs.keyType)) {
        failures.push({ property: "keyType", reason: `keyType "${String(inputs.keyType)}" is unknown: use one of ${KEY_TYPES.join(", ")}.` });
    }
    if (known("acmeDirectoryUrl")) {
        const problem = acmeDirectoryProblem(String(inputs.acmeDirectoryUrl));
        if (problem) {
            failures.push({ property: "acmeDirectoryUrl", reason: problem });
        }
    }
    if (known("profile") && !(typeof inputs.profile === "string" && PROFILE_PATTERN.test(inputs.profile))) {
        failures.push({
            property: "profile",
            reason: `profile "${String(inputs.profile)}" is not a profile name; use one the CA offers, e.g. classic, tlsserver or shortlived.`,
        });
    }
    if (known("accountKeyPem") && !(typeof inputs.accountKeyPem === "string" && isPrivateKeyPem(inputs.accountKeyPem))) {
        failures.push({
            property: "accountKeyPem",
            reason: "accountKeyPem is not a PEM private key: pass a PEM-encoded ECDSA or RSA key, or leave it unset to let the component generate one.",
        });
    }
    for (const flag of ["allowWildcard", "revokeOnDelete"]) {
        if (known(flag) && typeof inputs[flag] !== "boolean") {
            failures.push({ property: flag, reason: `${flag} must be true or false.` });
        }
    }
    return failures;
}

function resolverFailures(resolvers: unknown): CheckFailure[] {
    if (resolvers === undefined || isUnknown(resolvers)) {
        return [];
    }
    if (!Array.isArray(resolvers)) {
        return [{ property: "dnsResolvers", reason: "dnsResolvers must be a list of resolver addresses such as 1.1.1.1 or 1.1.1.1:53." }];
    }
    return resolvers.flatMap((resolver, index) =>
        isUnknown(resolver) || (typeof resolver === "string" && !resolverProblem(resolver))
            ? []
            : [
                  {
                      property: `dnsResolvers[${index}]`,
                      reason: `dnsResolvers[${index}] "${String(resolver)}" must be an IP address or ip:port ([ipv6]:port for IPv6).`,
                  },
              ],
    );
}

/** Every problem with (normalized) inputs, one entry per offending property. */
export function validateInputs(inputs: Props): CheckFailure[] {
    return [
        ...domainFailures(inputs),
        ...zoneFailures(inputs),
        ...loadBalancerFailures(inputs),
        ...scalarFailures(inputs),
        ...renewalFailures(inputs.renewal),
        ...bindingFailures(inputs.binding),
        ...resolverFailures(inputs.dnsResolvers),
    ];
}

/** What `check` does: normalize, fill defaults, validate. */
export function checkInputs(raw: Props): { inputs: Props; failures: CheckFailure[] } {
    const inputs = normalizeInputs(raw);
    return { inputs, failures: validateInputs(inputs) };
}
