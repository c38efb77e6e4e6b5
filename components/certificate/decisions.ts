/**
 * The certificate provider's decisions, pure: what `diff` answers, how `read` words drift, which frontend
 * an update leaves, how errors are scrubbed. No network, no clock of their own.
 */
import { isRenewalDue, renewalDueAt } from "./renewal";
import type { BindingStatus, CertificateInputs, CertificateOutputs, RenewalPolicy } from "./types";
import { isUnknown } from "./validation";

/** Changing any of these needs a new certificate (or a new upload to another LB). */
export const REPLACE_PROPERTIES = ["domains", "keyType", "profile", "acmeDirectoryUrl", "accountKeyPem", "loadBalancerId"] as const;
/** Changing these only updates the stored state, or rebinds the frontend. */
export const UPDATE_PROPERTIES = [
    "binding",
    "renewal",
    "email",
    "dnsResolvers",
    "allowWildcard",
    "revokeOnDelete",
    "cloudflareZones",
    "zone",
] as const;

export const DRIFT_CERTIFICATE_ERROR = "certificate-error";
/**
 * The replace reasons of a renewal or a repair, as `diff` names them: the certificate fell due, or the LB
 * reports it in error. Any other reason is a changed input, i.e. a configuration change.
 */
export const RENEWAL_REPLACE_REASONS = ["renewalDueAt", "certificateId"] as const;
export const DRIFT_FRONTEND_UNBOUND = "frontend-unbound";

/** Order-insensitive for object keys, order-sensitive for arrays (the first name is the common name). */
function canonical(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(canonical).join(",")}]`;
    }
    if (typeof value === "object" && value !== null) {
        const entries = Object.entries(value)
            .filter(([, entry]) => entry !== undefined)
            .sort(([a], [b]) => a.localeCompare(b));
        return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonical(entry)}`).join(",")}}`;
    }
    return JSON.stringify(value) ?? "undefined";
}

function containsUnknown(value: unknown): boolean {
    if (isUnknown(value)) {
        return true;
    }
    if (typeof value === "object" && value !== null) {
        return Object.values(value).some(containsUnknown);
    }
    return false;
}

/** Equal when both are known and canonically identical; a value unknown during preview may differ. */
export function sameValue(old: unknown, next: unknown): boolean {
    return !containsUnknown(next) && canonical(old) === canonical(next);
}

function isRenewalPolicy(value: unknown): value is RenewalPolicy {
    return (
        typeof value === "object" &&
        value !== null &&
        !containsUnknown(value) &&
        typeof (value as RenewalPolicy).remainingFraction === "number"
    );
}

/** When the stored certificate falls due under `policy` (the new one, when it is known). */
export function dueUnder(olds: CertificateOutputs, policy: RenewalPolicy): { renewalDueAt: string; ariRenewalAt?: string } {
    return {
        renewalDueAt: renewalDueAt(new Date(olds.notBefore), new Date(olds.notAfter), policy).toISOString(),
        ...(policy.useAri && olds.ariRenewalAt ? { ariRenewalAt: olds.ariRenewalAt } : {}),
    };
}

export interface CertificateDiff {
    changes: boolean;
    replaces: string[];
    deleteBeforeReplace: false;
}

/**
 * What `diff` answers. Replace when the certificate must be re-issued (a due renewal, the LB reports the
 * certificate in error, or an identity property changed); update when only the binding or settings moved
 * (or the frontend lost the certificate); nothing otherwise, so a second `up` is a no-op.
 * Create-before-delete: the successor is bound before the predecessor goes.
 */
export function diffCertificate(olds: CertificateOutputs, news: Record<string, unknown>, now: Date): CertificateDiff {
    const replaces: string[] = REPLACE_PROPERTIES.filter((key) => !sameValue(olds[key], news[key]));
    const policy = isRenewalPolicy(news.renewal) ? news.renewal : olds.renewal;
    const renewalDue = isRenewalDue(dueUnder(olds, policy), now);
    const [due, inError] = RENEWAL_REPLACE_REASONS;
    if (renewalDue) {
        replaces.push(due);
    }
    if (olds.drift?.startsWith(DRIFT_CERTIFICATE_ERROR)) {
        replaces.push(inError);
    }
    if (replaces.length > 0) {
        return { changes: true, replaces, deleteBeforeReplace: false };
    }
    const updates = UPDATE_PROPERTIES.filter((key) => !sameValue(olds[key], news[key]));
    const rebind = olds.drift === DRIFT_FRONTEND_UNBOUND;
    return { changes: updates.length > 0 || rebind, replaces: [], deleteBeforeReplace: false };
}

/** How the certificate is bound, from the frontend ports that carry it. */
export function bindingStatusFor(binding: CertificateInputs["binding"], portsCarrying: readonly number[]): BindingStatus {
    if (binding.mode === "frontend") {
        return portsCarrying.includes(binding.frontendPort) ? "bound" : "unbound";
    }
    return portsCarrying.length > 0 ? "bound" : "annotation-pending";
}

/**
 * The frontend port an update must take the certificate off: the one it was bound to in frontend mode,
 * once the binding points at another port or goes through the annotation. Nobody else would ever let go
 * of it, and the LB refuses to delete a certificate a frontend carries.
 */
export function frontendPortLeftBehind(old: CertificateInputs["binding"], next: CertificateInputs["binding"]): number | undefined {
    if (old.mode !== "frontend" || (next.mode === "frontend" && next.frontendPort === old.frontendPort)) {
        return undefined;
    }
    return old.frontendPort;
}

/** What `read` reports as drift for the next `up` to repair, if anything. */
export function driftFor(
    state: { status: string; statusDetails?: string },
    mode: CertificateInputs["binding"]["mode"],
    bindingStatus: BindingStatus,
): string | undefined {
    if (state.status === "error") {
        return `${DRIFT_CERTIFICATE_ERROR}: ${state.statusDetails ?? "the load balancer reports the certificate in error"}`;
    }
    return mode === "frontend" && bindingStatus === "unbound" ? DRIFT_FRONTEND_UNBOUND : undefined;
}

/** State values must not be `undefined` (the engine's wire format has no such thing). */
export function withoutUndefined<T extends object>(value: T): T {
    return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g;

/** An error message with every PEM block and every known secret value taken out. */
export function redact(message: string, secrets: readonly (string | undefined)[]): string {
    const known = secrets.filter((secret): secret is string => typeof secret === "string" && secret.length >= 8);
    return known.reduce((text, secret) => text.split(secret).join("[redacted]"), message.replace(PEM_BLOCK, "[redacted PEM]"));
}

/**
 * Inputs that `check` manages itself (see `carryOver`): they change between two runs of the same program,
 * so they say nothing about a change of configuration.
 */
export const PROVIDER_MANAGED_INPUTS = ["adoptCertificateId"] as const;

/** Stored inputs of a resource that exists (check gets `{}` for a new one). */
function describesExistingResource(olds: Record<string, unknown>): boolean {
    return olds.domains !== undefined;
}

/**
 * What `check` hands on beyond the validated inputs, from the resource's stored inputs (`olds`):
 * `adoptCertificateId` only while the resource does not exist yet, so that an existing resource's inputs
 * never differ by it. (The engine re-checks a replacement without stored inputs, so its create may still see
 * the id: `adopt` orders a successor instead of taking over a certificate already due.)
 */
export function carryOver(olds: Record<string, unknown>, inputs: Record<string, unknown>): Record<string, unknown> {
    const { adoptCertificateId, ...rest } = inputs;
    return withoutUndefined({ ...rest, adoptCertificateId: describesExistingResource(olds) ? undefined : adoptCertificateId });
}

/** What the LB says about a certificate offered for adoption. */
export interface AdoptionCandidate {
    id: string;
    status: string;
    statusDetails?: string;
    commonName: string;
    subjectAlternativeName: readonly string[];
    notValidAfter?: Date;
}

/** The names a certificate on the LB carries: its common name and its other names, lowercased, sorted. */
export function namesOf(candidate: Pick<AdoptionCandidate, "commonName" | "subjectAlternativeName">): string[] {
    return [...new Set([candidate.commonName, ...candidate.subjectAlternativeName].map((name) => name.toLowerCase()))].sort();
}

/** Why a certificate on the LB cannot be adopted for `domains` at `now`, or undefined when it can. */
export function adoptionProblem(candidate: AdoptionCandidate, domains: readonly string[], now: Date): string | undefined {
    const drop = "or remove adoptCertificateId to order a new certificate";
    if (candidate.status !== "ready") {
        const details = candidate.statusDetails ? ` (${candidate.statusDetails})` : "";
        return `cannot adopt LB certificate ${candidate.id}: it is in status ${candidate.status}${details}; only a ready certificate can be adopted: fix it on the LB, ${drop}.`;
    }
    if (candidate.notValidAfter === undefined || candidate.notValidAfter.getTime() <= now.getTime()) {
        const when = candidate.notValidAfter ? `expired on ${candidate.notValidAfter.toISOString()}` : "has no expiry date";
        return `cannot adopt LB certificate ${candidate.id}: it ${when}; remove adoptCertificateId to order a new certificate.`;
    }
    const carried = namesOf(candidate);
    const wanted = [...domains].sort();
    if (carried.join(",") !== wanted.join(",")) {
        return (
            `cannot adopt LB certificate ${candidate.id}: it is for ${carried.join(", ")}, but the resource's names are ${wanted.join(", ")}; ` +
            `adopt a certificate for exactly these names, ${drop}.`
        );
    }
    return undefined;
}
