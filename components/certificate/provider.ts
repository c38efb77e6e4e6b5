/**
 * The dynamic provider behind `pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate`.
 *
 * Two halves:
 * - `createCertificateProvider()` is what Pulumi serializes into the stack's state and runs in its
 *   dynamic-provider process. Its methods hold no library code: each `require()`s this module from disk
 *   at run time and delegates to the lifecycle. A serialized closure cannot carry relative requires
 *   (the engine loads it as a module without a file name) nor top-level imports (they are baked in as
 *   deep paths), so the closure captures only where this directory is, as a path relative to the
 *   project (the engine runs providers from the project directory) with the absolute path as fallback.
 *   The engine's provider process does not run ts-node, so the loader registers it (transpile only)
 *   when it finds TypeScript sources. Deletes of old resources run the closure from their state, and so
 *   load the current lifecycle code: it must keep reading state written by earlier versions.
 * - `certificateLifecycle()` is the implementation: ordinary TypeScript with ordinary imports.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { issueCertificate, revokeCertificate } from "./acme";
import { fetchRenewalInfo, keepOrPickRenewalTime } from "./ari";
import { type ConfigLookup, type Environment, acmeCaCertificatesPath, resolveCloudflareCredentials, resolveScalewayCredentials } from "./credentials";
import { buildScalewayCertificateChain } from "./pem";
import { isRenewalDue, renewalDueAt } from "./renewal";
import {
    certificateName,
    createLoadBalancerCertificates,
    DEFAULT_SCALEWAY_TIMINGS,
    type LoadBalancerCertificates,
    type ScalewayTimings,
} from "./scaleway";
import type { BindingStatus, CertificateInputs, CertificateOutputs, RenewalPolicy } from "./types";
import { checkInputs, isUnknown } from "./validation";

// ---------------------------------------------------------------------------------------------------
// Decisions (pure)

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
    return typeof value === "object" && value !== null && !containsUnknown(value) && typeof (value as RenewalPolicy).remainingFraction === "number";
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
    /** The renewal replaces the same names from the same CA account: the new order may name its predecessor (ARI). */
    isRenewal: boolean;
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
    if (renewalDue) {
        replaces.push("renewalDueAt");
    }
    if (olds.drift?.startsWith(DRIFT_CERTIFICATE_ERROR)) {
        replaces.push("certificateId");
    }
    const sameAccount = !replaces.includes("acmeDirectoryUrl") && !replaces.includes("accountKeyPem");
    if (replaces.length > 0) {
        return { changes: true, replaces, deleteBeforeReplace: false, isRenewal: sameAccount && !replaces.includes("domains") };
    }
    const updates = UPDATE_PROPERTIES.filter((key) => !sameValue(olds[key], news[key]));
    const rebind = olds.drift === DRIFT_FRONTEND_UNBOUND;
    return { changes: updates.length > 0 || rebind, replaces: [], deleteBeforeReplace: false, isRenewal: false };
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

/** Where a renewal stashes its predecessor's ARI certID for the `create` that follows in the same process. */
export function predecessorKey(inputs: Pick<CertificateInputs, "loadBalancerId" | "domains" | "acmeDirectoryUrl">): string {
    return canonical([inputs.acmeDirectoryUrl, inputs.loadBalancerId, inputs.domains]);
}

// ---------------------------------------------------------------------------------------------------
// The lifecycle (I/O)

export interface LifecycleOptions {
    /** The clock `diff` judges renewals by (tests move it). */
    now?: () => Date;
    scalewayTimings?: ScalewayTimings;
    /**
     * Progress of an issuance (order, TXT records, propagation, validation). Defaults to the provider
     * process's stderr (stdout carries the plugin's port handshake); the lines never carry key material.
     */
    log?: (line: string) => void;
}

/**
 * Process-global on purpose: `diff` sees the old outputs (the predecessor's ARI certID) but the
 * replacement's `create` only gets the new inputs. Both run in the same provider process during one
 * `up`, so `diff` leaves the certID here for `create`. Best effort: without it the order simply goes
 * without `replaces` (valid, just not exempt from rate limits).
 */
function predecessors(): Map<string, string> {
    const slot = Symbol.for("scw-private-lb.certificate.ari-predecessors");
    const holder = globalThis as typeof globalThis & { [slot]?: Map<string, string> };
    holder[slot] ??= new Map<string, string>();
    return holder[slot];
}

type Inputs = CertificateInputs & Record<string, unknown>;

export interface CertificateLifecycle {
    check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult>;
    diff(id: string, olds: CertificateOutputs, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult>;
    create(inputs: Inputs): Promise<pulumi.dynamic.CreateResult<CertificateOutputs>>;
    read(id: string, props: CertificateOutputs): Promise<pulumi.dynamic.ReadResult<CertificateOutputs>>;
    update(id: string, olds: CertificateOutputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult<CertificateOutputs>>;
    delete(id: string, props: CertificateOutputs): Promise<void>;
}

export function certificateLifecycle(options: LifecycleOptions, config: ConfigLookup | undefined, env: Environment = process.env): CertificateLifecycle {
    const now = options.now ?? (() => new Date());
    const timings = options.scalewayTimings ?? DEFAULT_SCALEWAY_TIMINGS;
    const log = options.log ?? ((line: string) => console.error(line));

    function loadBalancer(): LoadBalancerCertificates {
        return createLoadBalancerCertificates({ credentials: resolveScalewayCredentials(env, config), timings });
    }

    function caCertificatesPem(): string | undefined {
        const file = acmeCaCertificatesPath(env);
        return file === undefined ? undefined : readFileSync(file, "utf8");
    }

    /** Runs `work`; an error leaves with every secret it could quote taken out (`secrets` is read after the failure). */
    async function guarded<T>(secrets: () => readonly (string | undefined)[], work: () => Promise<T>): Promise<T> {
        try {
            return await work();
        } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            const credentials = [env.SCW_SECRET_KEY, env.CLOUDFLARE_API_TOKEN, config?.("scaleway:secretKey"), config?.("cloudflare:apiToken")];
            throw new Error(redact(message, [...secrets(), ...credentials]));
        }
    }

    /** The time to renew at by the CA's ARI window; `previous` stays while the window holds it. */
    async function ariRenewalAt(inputs: CertificateInputs, ariCertId: string, previous?: string): Promise<string | undefined> {
        if (!inputs.renewal.useAri) {
            return undefined;
        }
        try {
            const info = await fetchRenewalInfo(inputs.acmeDirectoryUrl, ariCertId, { caCertificatesPem: caCertificatesPem(), now });
            return info && keepOrPickRenewalTime(info.suggestedWindow, previous).toISOString();
        } catch {
            // ARI only ever brings a renewal forward; without an answer our own schedule still holds.
            return undefined;
        }
    }

    async function bind(lb: LoadBalancerCertificates, inputs: CertificateInputs, certificateId: string): Promise<BindingStatus> {
        if (inputs.binding.mode === "annotation") {
            return "annotation-pending";
        }
        await lb.bindFrontend(inputs.loadBalancerId, inputs.binding.frontendPort, certificateId);
        return "bound";
    }

    return {
        async check(_olds, news) {
            return checkInputs(news);
        },

        async diff(_id, olds, news) {
            const { isRenewal, ...result } = diffCertificate(olds, news, now());
            // `replaces` only goes to a CA that offers ARI, which is when the predecessor got an ARI time.
            if (isRenewal && olds.ariCertId && olds.ariRenewalAt !== undefined) {
                predecessors().set(predecessorKey(olds), olds.ariCertId);
            }
            return result;
        },

        async create(inputs) {
            let privateKeyPem: string | undefined;
            return guarded(() => [inputs.accountKeyPem, privateKeyPem], async () => {
                const lb = loadBalancer();
                const key = predecessorKey(inputs);
                const replaces = inputs.renewal.useAri ? predecessors().get(key) : undefined;
                const issued = await issueCertificate({
                    directoryUrl: inputs.acmeDirectoryUrl,
                    accountKeyPem: inputs.accountKeyPem,
                    email: inputs.email,
                    domains: inputs.domains,
                    keyType: inputs.keyType,
                    profile: inputs.profile,
                    replaces,
                    dnsResolvers: inputs.dnsResolvers,
                    cloudflare: resolveCloudflareCredentials(env, config),
                    caCertificatesPem: caCertificatesPem(),
                    log,
                });
                // Once an order naming it is finalized the predecessor counts as replaced: a retry must not name it again.
                predecessors().delete(key);
                privateKeyPem = issued.privateKeyPem;
                const { leaf } = issued;
                const chain = buildScalewayCertificateChain(issued.privateKeyPem, issued.certificatePem);
                const name = certificateName(inputs.domains, leaf.notAfter, leaf.serialNumber);
                const certificateId = await lb.uploadCertificate(inputs.loadBalancerId, name, chain);
                let bindingStatus: BindingStatus;
                try {
                    await lb.waitForReady(certificateId);
                    bindingStatus = await bind(lb, inputs, certificateId);
                } catch (error) {
                    // No orphans: what could not be bound does not stay on the LB.
                    await lb.deleteCertificate(certificateId).catch(() => undefined);
                    throw error;
                }
                const outs: CertificateOutputs = withoutUndefined({
                    ...inputs,
                    certificateId,
                    certificateUuid: certificateId.split("/")[1],
                    fingerprint: leaf.fingerprintSha256,
                    serialNumber: leaf.serialNumber,
                    notBefore: leaf.notBefore.toISOString(),
                    notAfter: leaf.notAfter.toISOString(),
                    certificatePem: issued.certificatePem,
                    privateKeyPem: issued.privateKeyPem,
                    renewalDueAt: renewalDueAt(leaf.notBefore, leaf.notAfter, inputs.renewal).toISOString(),
                    ariCertId: issued.ariCertId,
                    ariRenewalAt: await ariRenewalAt(inputs, issued.ariCertId),
                    bindingStatus,
                    drift: undefined,
                });
                return { id: certificateId, outs };
            });
        },

        async read(id, props) {
            return guarded(() => [props.accountKeyPem, props.privateKeyPem], async () => {
                const lb = loadBalancer();
                const state = await lb.getCertificateStatus(id);
                if (!state) {
                    return { id: "" };
                }
                const ports = await lb.frontendPortsCarrying(props.loadBalancerId, id);
                const bindingStatus = bindingStatusFor(props.binding, ports);
                return {
                    id,
                    props: withoutUndefined({
                        ...props,
                        bindingStatus,
                        drift: driftFor(state, props.binding.mode, bindingStatus),
                        ariRenewalAt: (await ariRenewalAt(props, props.ariCertId, props.ariRenewalAt)) ?? props.ariRenewalAt,
                    }),
                };
            });
        },

        async update(id, olds, news) {
            return guarded(() => [olds.accountKeyPem, olds.privateKeyPem], async () => {
                const lb = loadBalancer();
                const rebind =
                    news.binding.mode === "frontend" &&
                    (olds.bindingStatus !== "bound" || olds.drift !== undefined || !sameValue(olds.binding, news.binding));
                if (rebind) {
                    await lb.bindFrontend(news.loadBalancerId, news.binding.frontendPort, id);
                }
                // After the new binding holds: a bind that fails leaves the old frontend serving.
                const leftBehind = frontendPortLeftBehind(olds.binding, news.binding);
                if (leftBehind !== undefined) {
                    await lb.unbindFrontend(news.loadBalancerId, leftBehind, id);
                }
                const stillBoundByCcm = olds.binding.mode === "annotation" && olds.bindingStatus === "bound";
                const bindingStatus: BindingStatus =
                    news.binding.mode === "frontend" ? (rebind ? "bound" : olds.bindingStatus) : stillBoundByCcm ? "bound" : "annotation-pending";
                return {
                    outs: withoutUndefined({
                        ...olds,
                        ...news,
                        ...dueUnder(olds, news.renewal),
                        ariRenewalAt: news.renewal.useAri ? olds.ariRenewalAt : undefined,
                        bindingStatus,
                        drift: undefined,
                    }),
                };
            });
        },

        async delete(id, props) {
            await guarded(() => [props.accountKeyPem, props.privateKeyPem], async () => {
                const lb = loadBalancer();
                // Every frontend of ours lets go of it: the one frontend mode bound, and any an earlier version
                // left behind when the port changed (after a renewal they already serve the successor). The
                // CCM's frontends move off it with the Service annotation: deleteCertificate waits for that.
                await lb.unbindNonCcmFrontends(props.loadBalancerId, id);
                await lb.deleteCertificate(id);
                if (props.revokeOnDelete) {
                    await revokeCertificate({
                        directoryUrl: props.acmeDirectoryUrl,
                        accountKeyPem: props.accountKeyPem,
                        certificatePem: props.certificatePem,
                        caCertificatesPem: caCertificatesPem(),
                    });
                }
            });
        },
    };
}

// ---------------------------------------------------------------------------------------------------
// The serialized half

/** Where the certificate modules live, captured when the program loads this module. */
interface ModuleLocation {
    relativeToProject: string;
    absolute: string;
}

const CERTIFICATE_MODULES: ModuleLocation = {
    relativeToProject: path.relative(process.cwd(), __dirname),
    absolute: __dirname,
};

/**
 * Loads a certificate module from disk inside the provider process. Runs in the serialized closure:
 * it may only use `require` and its arguments.
 */
function loadCertificateModule(location: ModuleLocation, name: string): unknown {
    const nodePath = require("node:path") as typeof import("node:path");
    const fs = require("node:fs") as typeof import("node:fs");
    const directories = [nodePath.resolve(location.relativeToProject), location.absolute];
    const exists = (directory: string, extension: string) => fs.existsSync(nodePath.join(directory, `${name}${extension}`));
    const directory = directories.find((candidate) => exists(candidate, ".js") || exists(candidate, ".ts"));
    if (directory === undefined) {
        throw new Error(
            `certificate provider: cannot find the module "${name}" in ${directories.join(" or ")}; run Pulumi from the project directory`,
        );
    }
    if (!exists(directory, ".js") && require.extensions[".ts"] === undefined) {
        const tsNode = require(require.resolve("ts-node", { paths: [directory] })) as typeof import("ts-node");
        tsNode.register({ transpileOnly: true, compilerOptions: { module: "commonjs" } });
    }
    return require(nodePath.join(directory, name));
}

/**
 * The provider object Pulumi serializes. `options` must be plain data plus self-contained functions:
 * it is serialized with it.
 */
export function createCertificateProvider(options: LifecycleOptions = {}): pulumi.dynamic.ResourceProvider {
    const location = CERTIFICATE_MODULES;
    const runtime: { config?: ConfigLookup } = {};
    const lifecycle = (): CertificateLifecycle => {
        const implementation = loadCertificateModule(location, "provider") as typeof import("./provider");
        return implementation.certificateLifecycle(options, runtime.config);
    };
    return {
        async configure(request) {
            runtime.config = (key) => request.config.get(key);
        },
        check: (olds, news) => lifecycle().check(olds, news),
        diff: (id, olds, news) => lifecycle().diff(id, olds, news),
        create: (inputs) => lifecycle().create(inputs),
        read: (id, props) => lifecycle().read(id, props),
        update: (id, olds, news) => lifecycle().update(id, olds, news),
        delete: (id, props) => lifecycle().delete(id, props),
    };
}
