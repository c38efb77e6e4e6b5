/**
 * The certificate lifecycle behind `pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate`: what each
 * method of the dynamic provider does, with ordinary imports. It reaches the engine compiled, through the
 * package `@scw-private-lb/certificate-provider` (entry point `v1.ts`); the serialized half is
 * `dynamicProvider.ts`. Deletes and refreshes of old resources run this code too: it must keep reading
 * state written by every earlier version.
 */
import { readFileSync } from "node:fs";
import type * as pulumi from "@pulumi/pulumi";
import { issueCertificate, revokeCertificate } from "./acme";
import { fetchRenewalInfo, keepOrPickRenewalTime } from "./ari";
import {
    type ConfigLookup,
    type Environment,
    acmeCaCertificatesPath,
    resolveCloudflareCredentials,
    resolveScalewayCredentials,
} from "./credentials";
import {
    adoptionProblem,
    bindingStatusFor,
    carryOver,
    diffCertificate,
    driftFor,
    dueUnder,
    frontendPortLeftBehind,
    redact,
    sameValue,
    withoutUndefined,
} from "./decisions";
import { buildScalewayCertificateChain } from "./pem";
import { isRenewalDue, renewalDueAt } from "./renewal";
import {
    certificateName,
    createLoadBalancerCertificates,
    predecessorAriCertId,
    DEFAULT_SCALEWAY_TIMINGS,
    type LoadBalancerCertificates,
    type ScalewayTimings,
} from "./scaleway";
import type { BindingStatus, CertificateInputs, CertificateOutputs } from "./types";
import { checkInputs } from "./validation";

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

type Inputs = CertificateInputs & Record<string, unknown>;

/** A refresh may hand back the resource's inputs too (the engine stores them for the next `check`). */
type RefreshResult = Omit<pulumi.dynamic.ReadResult<CertificateOutputs>, "inputs"> & { inputs?: Record<string, unknown> };

export interface CertificateLifecycle {
    check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult>;
    diff(id: string, olds: CertificateOutputs, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult>;
    create(inputs: Inputs): Promise<pulumi.dynamic.CreateResult<CertificateOutputs>>;
    read(id: string, props: CertificateOutputs): Promise<RefreshResult>;
    update(id: string, olds: CertificateOutputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult<CertificateOutputs>>;
    delete(id: string, props: CertificateOutputs): Promise<void>;
}

/** What every operation needs: the clock, the LB client, the CA's extra trust, and the secrets to scrub. */
interface Context {
    now: () => Date;
    log: (line: string) => void;
    env: Environment;
    config: ConfigLookup | undefined;
    loadBalancer(): LoadBalancerCertificates;
    caCertificatesPem(): string | undefined;
}

function contextFor(options: LifecycleOptions, config: ConfigLookup | undefined, env: Environment): Context {
    const timings = options.scalewayTimings ?? DEFAULT_SCALEWAY_TIMINGS;
    return {
        now: options.now ?? (() => new Date()),
        log: options.log ?? ((line: string) => console.error(line)),
        env,
        config,
        loadBalancer: () => createLoadBalancerCertificates({ credentials: resolveScalewayCredentials(env, config), timings }),
        caCertificatesPem() {
            const file = acmeCaCertificatesPath(env);
            return file === undefined ? undefined : readFileSync(file, "utf8");
        },
    };
}

/** Runs `work`; an error leaves with every secret it could quote taken out (`secrets` is read after the failure). */
async function guarded<T>(context: Context, secrets: () => readonly (string | undefined)[], work: () => Promise<T>): Promise<T> {
    try {
        return await work();
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const { env, config } = context;
        const credentials = [env.SCW_SECRET_KEY, env.CLOUDFLARE_API_TOKEN, config?.("scaleway:secretKey"), config?.("cloudflare:apiToken")];
        throw new Error(redact(message, [...secrets(), ...credentials]));
    }
}

/** The time to renew at by the CA's ARI window; `previous` stays while the window holds it. */
async function ariRenewalAt(
    context: Context,
    inputs: CertificateInputs,
    ariCertId: string,
    previous?: string,
): Promise<string | undefined> {
    if (!inputs.renewal.useAri || ariCertId === "") {
        return undefined;
    }
    try {
        const info = await fetchRenewalInfo(inputs.acmeDirectoryUrl, ariCertId, {
            caCertificatesPem: context.caCertificatesPem(),
            now: context.now,
        });
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

/**
 * The certID of the certificate this one replaces, from the LB's certificates for the same names (their
 * names carry it). It travels there, in the resource's own data on the LB, because the engine hands a
 * replacement's `create` nothing of the predecessor: it re-checks the replacement without the stored
 * inputs. Best effort: without it the order is still valid.
 */
async function predecessorOnLb(context: Context, lb: LoadBalancerCertificates, inputs: Inputs): Promise<string | undefined> {
    try {
        return predecessorAriCertId(await lb.listCertificates(inputs.loadBalancerId), inputs.domains, context.now());
    } catch (error) {
        context.log(`ARI: could not list the LB's certificates to name the predecessor (${(error as Error).message}); ordering without it`);
        return undefined;
    }
}

/** Orders a certificate, uploads it, waits until the LB has it ready and binds it; nothing stays behind on failure. */
async function issue(
    context: Context,
    inputs: Inputs,
    keep: (privateKeyPem: string) => void,
): Promise<pulumi.dynamic.CreateResult<CertificateOutputs>> {
    const lb = context.loadBalancer();
    const issued = await issueCertificate({
        directoryUrl: inputs.acmeDirectoryUrl,
        accountKeyPem: inputs.accountKeyPem,
        email: inputs.email,
        domains: inputs.domains,
        keyType: inputs.keyType,
        profile: inputs.profile,
        replaces: inputs.renewal.useAri ? await predecessorOnLb(context, lb, inputs) : undefined,
        dnsResolvers: inputs.dnsResolvers,
        cloudflare: resolveCloudflareCredentials(context.env, context.config),
        caCertificatesPem: context.caCertificatesPem(),
        log: context.log,
    });
    keep(issued.privateKeyPem);
    const { leaf } = issued;
    const chain = buildScalewayCertificateChain(issued.privateKeyPem, issued.certificatePem);
    const certificateId = await lb.uploadCertificate(
        inputs.loadBalancerId,
        certificateName(inputs.domains, leaf.notAfter, leaf.serialNumber, issued.ariCertId),
        chain,
    );
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
        origin: "issued",
        renewalDueAt: renewalDueAt(leaf.notBefore, leaf.notAfter, inputs.renewal).toISOString(),
        ariCertId: issued.ariCertId,
        ariRenewalAt: await ariRenewalAt(context, inputs, issued.ariCertId),
        bindingStatus,
        drift: undefined,
    });
    return { id: certificateId, outs };
}

/**
 * Takes over a certificate already on the LB (made by hand) instead of ordering one: records its names,
 * dates and fingerprint, binds it in frontend mode, and schedules its renewal like any other. Its key
 * and chain stay with the LB: the API never returns them. A certificate already due for renewal is not
 * taken over: `order` makes its successor instead. That also covers the renewal of an adopted certificate
 * whose stack still names it: the engine creates the replacement from the program's inputs alone, and
 * adopting the predecessor again would make the replacement the very certificate it replaces.
 */
async function adopt(
    context: Context,
    inputs: Inputs & { adoptCertificateId: string },
    order: () => Promise<pulumi.dynamic.CreateResult<CertificateOutputs>>,
): Promise<pulumi.dynamic.CreateResult<CertificateOutputs>> {
    const lb = context.loadBalancer();
    const certificateId = inputs.adoptCertificateId;
    const state = await lb.getCertificateStatus(certificateId);
    if (state === undefined) {
        throw new Error(
            `cannot adopt LB certificate ${certificateId}: the LB ${inputs.loadBalancerId} has no such certificate; check adoptCertificateId.`,
        );
    }
    const problem = adoptionProblem(state, inputs.domains, context.now());
    if (problem !== undefined) {
        throw new Error(problem);
    }
    const notBefore = state.notValidBefore ?? context.now();
    const notAfter = state.notValidAfter as Date;
    const dueAt = renewalDueAt(notBefore, notAfter, inputs.renewal);
    if (isRenewalDue({ renewalDueAt: dueAt.toISOString() }, context.now())) {
        context.log(`LB: ${certificateId} is due for renewal since ${dueAt.toISOString()}: ordering its successor instead of adopting it`);
        return order();
    }
    const ports = await lb.frontendPortsCarrying(inputs.loadBalancerId, certificateId);
    const bindingStatus =
        inputs.binding.mode === "frontend" && !ports.includes(inputs.binding.frontendPort)
            ? await bind(lb, inputs, certificateId)
            : bindingStatusFor(inputs.binding, ports);
    context.log(`LB: adopted ${certificateId} (${state.name}), valid until ${notAfter.toISOString()}`);
    const outs: CertificateOutputs = withoutUndefined({
        ...inputs,
        certificateId,
        certificateUuid: certificateId.split("/")[1],
        fingerprint: `sha1:${state.fingerprint
            .toLowerCase()
            .replace(/[^0-9a-f]/g, "")
            .replace(/(..)(?!$)/g, "$1:")}`,
        serialNumber: "",
        notBefore: notBefore.toISOString(),
        notAfter: notAfter.toISOString(),
        certificatePem: "",
        privateKeyPem: "",
        origin: "adopted",
        renewalDueAt: dueAt.toISOString(),
        ariCertId: "",
        bindingStatus,
        drift: undefined,
    });
    return { id: certificateId, outs };
}

/** Refresh: the certificate is gone (blank id), drifted, or fine; a CA offering ARI may move its renewal time. */
async function refresh(context: Context, id: string, props: CertificateOutputs): Promise<RefreshResult> {
    const lb = context.loadBalancer();
    const state = await lb.getCertificateStatus(id);
    if (!state) {
        return { id: "" };
    }
    const ports = await lb.frontendPortsCarrying(props.loadBalancerId, id);
    const bindingStatus = bindingStatusFor(props.binding, ports);
    const ariTime = (await ariRenewalAt(context, props, props.ariCertId ?? "", props.ariRenewalAt)) ?? props.ariRenewalAt;
    const drift = driftFor(state, props.binding.mode, bindingStatus);
    // State written before adoption existed holds issued certificates only.
    const refreshed: CertificateOutputs = withoutUndefined({
        ...props,
        origin: props.origin ?? "issued",
        bindingStatus,
        drift,
        ariRenewalAt: ariTime,
    });
    return { id, props: refreshed };
}

/** Update in place: rebind in frontend mode, let go of a frontend left behind, recompute the renewal time. */
async function updateInPlace(
    context: Context,
    id: string,
    olds: CertificateOutputs,
    news: Inputs,
): Promise<pulumi.dynamic.UpdateResult<CertificateOutputs>> {
    const lb = context.loadBalancer();
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
}

async function remove(context: Context, id: string, props: CertificateOutputs): Promise<void> {
    const lb = context.loadBalancer();
    // Every frontend of ours lets go of it: the one frontend mode bound, and any an earlier version
    // left behind when the port changed (after a renewal they already serve the successor). The
    // CCM's frontends move off it with the Service annotation: deleteCertificate waits for that.
    await lb.unbindNonCcmFrontends(props.loadBalancerId, id);
    await lb.deleteCertificate(id);
    if (props.revokeOnDelete && props.certificatePem) {
        await revokeCertificate({
            directoryUrl: props.acmeDirectoryUrl,
            accountKeyPem: props.accountKeyPem,
            certificatePem: props.certificatePem,
            caCertificatesPem: context.caCertificatesPem(),
        });
    }
}

export function certificateLifecycle(
    options: LifecycleOptions,
    config: ConfigLookup | undefined,
    env: Environment = process.env,
): CertificateLifecycle {
    const context = contextFor(options, config, env);
    return {
        check(olds, news) {
            const { inputs, failures } = checkInputs(news);
            return Promise.resolve({ inputs: carryOver(olds, inputs), failures });
        },

        diff: (_id, olds, news) => Promise.resolve(diffCertificate(olds, news, context.now())),

        async create(inputs) {
            let privateKeyPem: string | undefined;
            return guarded(
                context,
                () => [inputs.accountKeyPem, privateKeyPem],
                () => {
                    const { adoptCertificateId } = inputs;
                    const order = () => issue(context, inputs, (key) => (privateKeyPem = key));
                    return adoptCertificateId === undefined ? order() : adopt(context, { ...inputs, adoptCertificateId }, order);
                },
            );
        },

        read: (id, props) =>
            guarded(
                context,
                () => [props.accountKeyPem, props.privateKeyPem],
                () => refresh(context, id, props),
            ),
        update: (id, olds, news) =>
            guarded(
                context,
                () => [olds.accountKeyPem, olds.privateKeyPem],
                () => updateInPlace(context, id, olds, news),
            ),
        delete: (id, props) =>
            guarded(
                context,
                () => [props.accountKeyPem, props.privateKeyPem],
                () => remove(context, id, props),
            ),
    };
}
