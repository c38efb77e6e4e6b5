/**
 * Offline validation of the certificate resource's inputs: one zod schema. `check` runs it, so a bad
 * input fails at `pulumi preview` with a message that says what to fix, instead of half-way through an
 * ACME order. It also fills the defaults and lowercases the names. A value the engine does not know yet
 * during preview (`unknownValue`) passes as it is, wherever it stands. Pure: no network, no clock.
 */
import { createPrivateKey } from "node:crypto";
import { isIP } from "node:net";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { z } from "zod";
import { parseZonedId, ZONE_PATTERN } from "./ids";
import { renewalPolicyProblems } from "./renewal";
import { BINDING_MODES, KEY_TYPES, type Binding, type KeyType, type RenewalPolicy } from "./types";

export const ACME_DIRECTORIES = {
    letsencrypt: "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;
export type AcmeServerAlias = keyof typeof ACME_DIRECTORIES;
/** The ACME profiles Let's Encrypt offers (docs/lets-encrypt.md); other CAs may name others. */
export const LETS_ENCRYPT_PROFILES = ["classic", "tlsserver", "shortlived"] as const;
export type LetsEncryptProfile = (typeof LETS_ENCRYPT_PROFILES)[number];

export const DEFAULT_KEY_TYPE: KeyType = "ecdsa-p256";
export const DEFAULT_RENEWAL: RenewalPolicy = { remainingFraction: 1 / 3, useAri: true };
export const DEFAULT_BINDING: Binding = { mode: "annotation", frontendPort: 443 };
/** Let's Encrypt's limit of names per certificate. */
export const MAX_NAMES = 100;

export interface CheckFailure {
    property: string;
    reason: string;
}

const LABEL_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const EMAIL_PATTERN = /^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$/;
const PROFILE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

/** Whether the engine sent a value it does not know yet (preview). */
export function isUnknown(value: unknown): boolean {
    return value === unknownValue;
}

/** `letsencrypt` / `letsencrypt-staging` or a directory URL, as given to the component. */
export function resolveAcmeDirectory(server: string): string {
    return server in ACME_DIRECTORIES ? ACME_DIRECTORIES[server as AcmeServerAlias] : server;
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
    if (isIP(name) !== 0) {
        return `"${name}" is an IP address, not a DNS name: DNS-01 validates DNS names only; use the name the admins type.`;
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
    if (/^\d+$/.test(labels[labels.length - 1])) {
        return `"${name}" ends with a numeric label: no top-level domain is numeric; use a DNS name.`;
    }
    return undefined;
}

/** The Cloudflare zone a name falls under (longest match), if any. */
export function zoneOf(name: string, zones: readonly string[]): string | undefined {
    const bare = name.startsWith("*.") ? name.slice(2) : name;
    return zones.filter((zone) => bare === zone || bare.endsWith(`.${zone}`)).sort((a, b) => b.length - a.length)[0];
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
    if (parsed.protocol === "https:" || (parsed.protocol === "http:" && isLoopbackHost(parsed.hostname))) {
        return undefined;
    }
    return `ACME directory ${url} must use https (plain http is accepted only for a loopback test server).`;
}

/** "ip", "ip:port" or "[ipv6]:port". */
function isResolverAddress(resolver: string): boolean {
    if (isIP(resolver)) {
        return true;
    }
    const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(resolver);
    if (!match) {
        return false;
    }
    const port = Number(match[3]);
    const hostIsValid = match[1] !== undefined ? isIP(match[1]) === 6 : isIP(match[2]) === 4;
    return hostIsValid && port >= 1 && port <= 65535;
}

function isPrivateKeyPem(pem: string): boolean {
    try {
        createPrivateKey(pem);
        return true;
    } catch {
        return false;
    }
}

/** A value unknown during preview passes as it is; a known one must match `schema` (its issues keep their paths). */
function orUnknown<T extends z.ZodType>(schema: T) {
    return z.unknown().transform((value, context): z.output<T> | typeof unknownValue => {
        if (value === unknownValue) {
            return unknownValue;
        }
        const parsed = schema.safeParse(value);
        if (parsed.success) {
            return parsed.data;
        }
        for (const issue of parsed.error.issues) {
            context.issues.push({ code: "custom", message: issue.message, path: issue.path, input: value });
        }
        return z.NEVER;
    });
}

/** A list whose every known item must pass `problem(item, index)` (its message names the item). */
function listOf(notAList: string, problem: (item: unknown, index: number) => string | undefined) {
    return z.array(z.unknown(), { error: notAList }).superRefine((items, context) => {
        items.forEach((item, index) => {
            const message = isUnknown(item) ? undefined : problem(item, index);
            if (message !== undefined) {
                context.addIssue({ code: "custom", path: [index], message });
            }
        });
    });
}

const lowercased = (value: unknown): unknown => (typeof value === "string" && !isUnknown(value) ? value.trim().toLowerCase() : value);

/** What a property's check needs from its siblings, read from the raw inputs before the schema runs. */
interface Siblings {
    allowWildcard: boolean;
    /** Known, lowercased Cloudflare zones; undefined when not given or not known yet. */
    zones?: string[];
    /** The LB's zone, from a known and well-formed `loadBalancerId`. */
    lbZone?: string;
    /** A known, well-formed `zone`. */
    zone?: string;
}

function siblingsOf(raw: Record<string, unknown>): Siblings {
    const zones = raw.cloudflareZones;
    const knownZones =
        Array.isArray(zones) && !zones.some(isUnknown)
            ? zones.map(lowercased).filter((zone): zone is string => typeof zone === "string")
            : undefined;
    const lbId = typeof raw.loadBalancerId === "string" ? parseZonedId(raw.loadBalancerId) : undefined;
    const zone = typeof raw.zone === "string" && ZONE_PATTERN.test(raw.zone) ? raw.zone : undefined;
    // The LB id is unknown during a preview that creates the LB; the zone given beside it is known then.
    return { allowWildcard: raw.allowWildcard === true, zones: knownZones, lbZone: lbId?.zone ?? zone, zone };
}

const NOT_A_NAME_LIST = "domains must be a non-empty list of DNS names (the first is the common name).";

function domainsSchema(siblings: Siblings) {
    const zones = siblings.zones !== undefined && siblings.zones.length > 0 ? siblings.zones : undefined;
    return z
        .array(z.preprocess(lowercased, z.unknown()), { error: NOT_A_NAME_LIST })
        .min(1, NOT_A_NAME_LIST)
        .max(MAX_NAMES, {
            error: (issue) =>
                `domains has ${(issue.input as unknown[]).length} names; a certificate holds at most ${MAX_NAMES}: split them over several certificates.`,
        })
        .superRefine((names, context) => {
            const seen = new Set<string>();
            names.forEach((name, index) => {
                const message = isUnknown(name) ? undefined : domainProblem(name, index, siblings, zones, seen);
                if (message !== undefined) {
                    context.addIssue({ code: "custom", path: [index], message });
                }
            });
        });
}

function domainProblem(
    name: unknown,
    index: number,
    siblings: Siblings,
    zones: string[] | undefined,
    seen: Set<string>,
): string | undefined {
    if (typeof name !== "string") {
        return `domains[${index}] must be a string.`;
    }
    const problem = dnsNameProblem(name, siblings.allowWildcard);
    if (problem !== undefined) {
        return problem;
    }
    if (seen.has(name)) {
        return `"${name}" is listed twice (names are compared lowercased): remove the duplicate.`;
    }
    seen.add(name);
    if (zones !== undefined && zoneOf(name, zones) === undefined) {
        return `"${name}" is not under any of the Cloudflare zones (${zones.join(", ")}): add its zone to cloudflareZones or fix the name.`;
    }
    return undefined;
}

/** A string matching `pattern`; anything else fails with `message(value)`. */
function matching(pattern: RegExp, message: (value: unknown) => string) {
    return z.string({ error: (issue) => message(issue.input) }).regex(pattern, { error: (issue) => message(issue.input) });
}

/** A zoned id `<zone>/<uuid>` that, when the zone it must share is known, is in it. */
function zonedIdSchema(property: string, sameZoneAs: { zone: string | undefined; message: (zone: string, other: string) => string }) {
    return z.string({ error: (issue) => zonedIdMessage(property, issue.input) }).superRefine((id, context) => {
        const parsed = parseZonedId(id);
        if (parsed === undefined) {
            context.addIssue({ code: "custom", message: zonedIdMessage(property, id) });
        } else if (sameZoneAs.zone !== undefined && parsed.zone !== sameZoneAs.zone) {
            context.addIssue({ code: "custom", message: sameZoneAs.message(parsed.zone, sameZoneAs.zone) });
        }
    });
}

function zonedIdMessage(property: string, value: unknown): string {
    if (value === undefined) {
        return `${property} is required: a zoned id <zone>/<uuid>, e.g. fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338.`;
    }
    return `${property} "${typeof value === "string" ? value : JSON.stringify(value)}" must be a zoned id <zone>/<uuid>, e.g. fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338.`;
}

const NOT_A_KEY =
    "accountKeyPem is not a PEM private key: pass a PEM-encoded ECDSA or RSA key, or leave it unset to let the component generate one.";

const numberOf = (property: string) => z.number({ error: (issue) => `${property} must be a number; got ${JSON.stringify(issue.input)}.` });

const renewalSchema = z
    .object(
        {
            remainingFraction: orUnknown(numberOf("renewal.remainingFraction")).default(DEFAULT_RENEWAL.remainingFraction),
            minDaysRemaining: orUnknown(numberOf("renewal.minDaysRemaining")).optional(),
            useAri: orUnknown(z.boolean({ error: "renewal.useAri must be true or false." })).default(DEFAULT_RENEWAL.useAri),
        },
        { error: "renewal must be an object." },
    )
    .superRefine((policy, context) => {
        if (isUnknown(policy.remainingFraction) || isUnknown(policy.minDaysRemaining) || isUnknown(policy.useAri)) {
            return;
        }
        // The renewal module owns the rule, so it owns its limits too; its messages start with the property.
        for (const problem of renewalPolicyProblems(policy as RenewalPolicy)) {
            const [property] = problem.split(" ");
            context.addIssue({ code: "custom", path: [property.replace(/^renewal\./, "")], message: `${problem}.` });
        }
    });

const frontendPortMessage = (value: unknown) => `binding.frontendPort must be a whole number from 1 to 65535; got ${String(value)}.`;

const bindingSchema = z.object(
    {
        mode: orUnknown(
            z.enum(BINDING_MODES, {
                error: (issue) =>
                    `binding.mode "${String(issue.input)}" is unknown: use annotation (the default: the CCM binds it through the Service annotation) or frontend.`,
            }),
        ).default(DEFAULT_BINDING.mode),
        frontendPort: orUnknown(
            z
                .number({ error: (issue) => frontendPortMessage(issue.input) })
                .refine((port) => Number.isInteger(port) && port >= 1 && port <= 65535, {
                    error: (issue) => frontendPortMessage(issue.input),
                }),
        ).default(DEFAULT_BINDING.frontendPort),
    },
    { error: "binding must be an object." },
);

const flag = (property: string) => orUnknown(z.boolean({ error: `${property} must be true or false.` })).default(false);

/** The inputs' schema; the checks that compare a property with a sibling read the siblings first. */
function inputsSchema(siblings: Siblings) {
    return z.looseObject({
        domains: orUnknown(domainsSchema(siblings)),
        cloudflareZones: orUnknown(
            listOf("cloudflareZones must be a list of zone names such as example.com.", (zone, index) =>
                typeof zone === "string" && dnsNameProblem(zone, false) === undefined
                    ? undefined
                    : `cloudflareZones[${index}] "${String(zone)}" is not a DNS zone name such as example.com.`,
            ).transform((zones) => zones.map(lowercased)),
        ).optional(),
        zone: orUnknown(matching(ZONE_PATTERN, (value) => `zone "${String(value)}" is not a Scaleway zone such as fr-par-1.`)).optional(),
        loadBalancerId: orUnknown(
            zonedIdSchema("loadBalancerId", {
                zone: siblings.zone,
                message: (lbZone, zone) => `loadBalancerId is in zone ${lbZone} but zone is ${zone}: use the LB's own zone.`,
            }),
        ),
        email: orUnknown(
            z
                .string({
                    error: (issue) =>
                        issue.input === undefined
                            ? "email is required: Let's Encrypt registers the ACME account with it."
                            : emailMessage(issue.input),
                })
                .refine((email) => EMAIL_PATTERN.test(email), { error: (issue) => emailMessage(issue.input) }),
        ),
        keyType: orUnknown(
            z.enum(KEY_TYPES, { error: (issue) => `keyType "${String(issue.input)}" is unknown: use one of ${KEY_TYPES.join(", ")}.` }),
        ).default(DEFAULT_KEY_TYPE),
        acmeDirectoryUrl: orUnknown(
            z
                .string()
                .transform(resolveAcmeDirectory)
                .superRefine((url, context) => {
                    const problem = acmeDirectoryProblem(url);
                    if (problem !== undefined) {
                        context.addIssue({ code: "custom", message: problem });
                    }
                }),
        ).default(ACME_DIRECTORIES.letsencrypt),
        profile: orUnknown(
            matching(
                PROFILE_PATTERN,
                (value) =>
                    `profile "${String(value)}" is not a profile name; use one the CA offers, e.g. classic, tlsserver or shortlived.`,
            ),
        ).optional(),
        accountKeyPem: orUnknown(z.string({ error: NOT_A_KEY }).refine(isPrivateKeyPem, { error: NOT_A_KEY })).optional(),
        allowWildcard: flag("allowWildcard"),
        revokeOnDelete: flag("revokeOnDelete"),
        challenge: z.literal("dns-01").default("dns-01"),
        renewal: orUnknown(renewalSchema).default(DEFAULT_RENEWAL),
        binding: orUnknown(bindingSchema).default(DEFAULT_BINDING),
        dnsResolvers: orUnknown(
            listOf("dnsResolvers must be a list of resolver addresses such as 1.1.1.1 or 1.1.1.1:53.", (resolver, index) =>
                typeof resolver === "string" && isResolverAddress(resolver)
                    ? undefined
                    : `dnsResolvers[${index}] "${String(resolver)}" must be an IP address or ip:port ([ipv6]:port for IPv6).`,
            ),
        ).optional(),
        adoptCertificateId: orUnknown(
            zonedIdSchema("adoptCertificateId", {
                zone: siblings.lbZone,
                message: (certificateZone, lbZone) =>
                    `adoptCertificateId is in zone ${certificateZone} but the LB is in ${lbZone}: adopt a certificate of this LB.`,
            }),
        ).optional(),
    });
}

function emailMessage(value: unknown): string {
    return `email "${String(value)}" is not an email address (expected name@domain.tld).`;
}

/** `domains[1]`, `renewal.remainingFraction`: the property a failure names. */
function propertyOf(path: readonly PropertyKey[]): string {
    return path.map((part, index) => (typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`)).join("");
}

/** What `check` does: validate, lowercase the names and fill every default; one failure per offending property. */
export function checkInputs(raw: Record<string, unknown>): { inputs: Record<string, unknown>; failures: CheckFailure[] } {
    const schema = inputsSchema(siblingsOf(raw));
    const parsed = schema.safeParse(raw);
    if (parsed.success) {
        return { inputs: withoutUndefinedValues(parsed.data), failures: [] };
    }
    // The engine still shows the inputs: normalized wherever they are valid, as given where they are not.
    const inputs = Object.fromEntries(
        Object.entries(schema.shape).map(([key, property]) => {
            const one = property.safeParse(raw[key]);
            return [key, one.success ? one.data : raw[key]];
        }),
    );
    const failures = parsed.error.issues.map((issue) => ({ property: propertyOf(issue.path), reason: issue.message }));
    return {
        inputs: withoutUndefinedValues({ ...raw, ...inputs }),
        failures: failures.filter((failure, index) => failures.findIndex((other) => other.property === failure.property) === index),
    };
}

function withoutUndefinedValues(value: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined));
}
