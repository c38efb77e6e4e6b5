/**
 * The Scaleway side of the certificate provider: upload a certificate to a load balancer, wait until it
 * is usable, bind it to a frontend (frontend mode), and delete it once nothing uses it.
 *
 * The Scaleway SDK does no retries, and the LB API answers 429 and transient_state in practice, so every
 * HTTP call goes through a fetch that retries with bounded, jittered exponential backoff.
 */
import { createAdvancedClient, Errors, withHTTPClient, withProfile } from "@scaleway/sdk-client";
import { Lbv1 } from "@scaleway/sdk-lb";
import type { ScalewayCredentials } from "./credentials";
import { type PollPolicy, type RetryPolicy, parseRetryAfterMs, pollUntil, type Sleep, sleep, type Verdict, withRetries } from "./retry";
import { parseZonedId } from "./ids";

type Frontend = Lbv1.Frontend;
type UpdateFrontendRequest = Lbv1.ZonedApiUpdateFrontendRequest;
type Zone = NonNullable<UpdateFrontendRequest["zone"]>;

export type { RetryPolicy } from "./retry";

export interface ScalewayTimings {
    retry: RetryPolicy;
    /** Waiting for an uploaded certificate to leave `pending`. */
    ready: PollPolicy;
    /** Waiting for the CCM to move a frontend off a certificate we want to delete. */
    detach: PollPolicy;
}

export const DEFAULT_SCALEWAY_TIMINGS: ScalewayTimings = {
    retry: { attempts: 6, baseDelayMs: 500, maxDelayMs: 20_000, retryAfterCapMs: 60_000 },
    // A custom certificate is parsed on upload: it is usually ready at the first or second look.
    ready: { timeoutMs: 120_000, firstDelayMs: 50, maxDelayMs: 5_000 },
    // The CCM reconciles a Service change within seconds, and every ~100 s anyway.
    detach: { timeoutMs: 300_000, firstDelayMs: 2_000, maxDelayMs: 30_000 },
};

/** The API's status of an uploaded certificate. */
export interface LbCertificateState {
    /** Zoned id `<zone>/<uuid>`. */
    id: string;
    name: string;
    status: Lbv1.CertificateStatus;
    statusDetails?: string;
    /** The LB's own fingerprint of the leaf (SHA-1, as the API computes it). */
    fingerprint: string;
    /** The leaf's common name, and its other DNS names (the API lists the CN apart). */
    commonName: string;
    subjectAlternativeName: string[];
    notValidBefore?: Date;
    notValidAfter?: Date;
}

/** `lbId` and `certificateId` are zoned ids `<zone>/<uuid>` everywhere in this module. */
export interface LoadBalancerCertificates {
    uploadCertificate(lbId: string, name: string, chainBlob: string): Promise<string>;
    waitForReady(certificateId: string): Promise<LbCertificateState>;
    getCertificateStatus(certificateId: string): Promise<LbCertificateState | undefined>;
    deleteCertificate(certificateId: string): Promise<void>;
    /** Frontend mode: the frontend on `port` serves this certificate only. */
    bindFrontend(lbId: string, port: number, certificateId: string): Promise<void>;
    /** Frontend mode: takes the certificate off the frontend on `port`, if it is there. */
    unbindFrontend(lbId: string, port: number, certificateId: string): Promise<void>;
    /** Takes the certificate off every frontend that carries it except the CCM's, which only the Service annotation moves. */
    unbindNonCcmFrontends(lbId: string, certificateId: string): Promise<void>;
    frontendCarries(lbId: string, port: number, certificateId: string): Promise<boolean>;
    /** Inbound ports of the LB's frontends that carry the certificate (whoever bound it: us or the CCM). */
    frontendPortsCarrying(lbId: string, certificateId: string): Promise<number[]>;
    /** Every certificate the LB holds. */
    listCertificates(lbId: string): Promise<LbCertificateState[]>;
}

// ---------------------------------------------------------------------------------------------------
// Decisions (pure)

export interface ResponseSummary {
    status: number;
    /** `type` of a Scaleway JSON error body, e.g. `transient_state`. */
    errorType?: string;
    retryAfter?: string | null;
}

/**
 * Whether an answer of the LB API is worth another try: 429, 5xx and 409 transient_state are (with the
 * Retry-After any of them sends); nothing else is.
 */
export function scalewayVerdict(response: ResponseSummary, now: number = Date.now()): Verdict {
    const retryable =
        response.status === 429 || response.status >= 500 || (response.status === 409 && response.errorType === "transient_state");
    if (!retryable) {
        return { retry: false };
    }
    return { retry: true, retryAfterMs: parseRetryAfterMs(response.retryAfter, now) };
}

/** At most 255 characters, like other Scaleway resource names. */
export const CERTIFICATE_NAME_MAX_LENGTH = 255;

/**
 * A name a person can read in the console: the common name, how many other names, the expiry date and
 * the start of the serial (which keeps two certificates for the same names apart). Public data only.
 */
export function certificateName(domains: readonly string[], notAfter: Date, serialNumber: string, ariCertId?: string): string {
    const others = domains.length > 1 ? ` +${domains.length - 1}` : "";
    const ari = ariCertId !== undefined ? ` ${ARI_NAME_TAG}${ariCertId}` : "";
    const suffix = `${others} exp ${notAfter.toISOString().slice(0, 10)} ${serialNumber.slice(0, 8)}${ari}`;
    const commonName = domains[0].slice(0, CERTIFICATE_NAME_MAX_LENGTH - suffix.length);
    return `${commonName}${suffix}`;
}

/**
 * The RFC 9773 certID a certificate's name carries (`… ari:<certID>`), so that the renewal can name its
 * predecessor: the engine gives a replacement's `create` only the new inputs, and the LB keeps no leaf.
 */
const ARI_NAME_TAG = "ari:";
const ARI_IN_NAME = /\sari:([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

export function ariCertIdInName(name: string): string | undefined {
    return ARI_IN_NAME.exec(name)?.[1];
}

/**
 * The certID of the certificate a new one for `domains` replaces: among the LB's ready, unexpired
 * certificates for exactly these names that carry a certID in their name, the one that expires last.
 */
export function predecessorAriCertId(
    certificates: readonly Pick<LbCertificateState, "name" | "status" | "commonName" | "subjectAlternativeName" | "notValidAfter">[],
    domains: readonly string[],
    now: Date,
): string | undefined {
    const wanted = [...new Set(domains)].sort().join(",");
    const candidates = certificates.filter(
        (certificate) =>
            certificate.status === "ready" &&
            ariCertIdInName(certificate.name) !== undefined &&
            (certificate.notValidAfter?.getTime() ?? 0) > now.getTime() &&
            [...new Set([certificate.commonName, ...certificate.subjectAlternativeName])].sort().join(",") === wanted,
    );
    const latest = candidates.sort((a, b) => (b.notValidAfter?.getTime() ?? 0) - (a.notValidAfter?.getTime() ?? 0))[0];
    return latest && ariCertIdInName(latest.name);
}

/** Frontends the CCM creates are named `<service-uid>_tcp_<port>`; it reverts any direct change to them. */
export function isCcmOwnedFrontend(name: string): boolean {
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_tcp_\d+$/i.test(name);
}

/** The frontends to take a certificate off before deleting it: those carrying it, except the CCM's (which revert any direct change). */
export function frontendsToRelease<T extends Pick<Frontend, "name" | "certificateIds">>(
    frontends: readonly T[],
    certificateUuid: string,
): T[] {
    return frontends.filter((frontend) => frontend.certificateIds.includes(certificateUuid) && !isCcmOwnedFrontend(frontend.name));
}

/** The frontend fields a PUT must send back. */
export type FrontendSettings = Pick<
    Frontend,
    "id" | "name" | "inboundPort" | "timeoutClient" | "certificateIds" | "enableHttp3" | "connectionRateLimit" | "enableAccessLogs"
> & { backend?: Pick<Lbv1.Backend, "id"> };

/** PUT frontend replaces the whole frontend: send back every field it has, with only the certificates changed. */
export function frontendUpdateRequest(zone: Zone, frontend: FrontendSettings, certificateUuids: string[]): UpdateFrontendRequest {
    if (!frontend.backend?.id) {
        throw new Error(`frontend ${frontend.name} (${frontend.id}) has no backend: the API cannot update it`);
    }
    return {
        zone,
        frontendId: frontend.id,
        name: frontend.name,
        inboundPort: frontend.inboundPort,
        backendId: frontend.backend.id,
        timeoutClient: frontend.timeoutClient,
        certificateIds: certificateUuids,
        enableHttp3: frontend.enableHttp3,
        connectionRateLimit: frontend.connectionRateLimit,
        enableAccessLogs: frontend.enableAccessLogs,
    };
}

/**
 * The API refuses to delete a certificate a frontend still uses (400, "certificate is used on a frontend").
 * The SDK words an `invalid_arguments` error from its details alone, so the API's own message is only in
 * `rawMessage`.
 */
export function isStillAttachedRefusal(error: unknown): boolean {
    return (
        error instanceof Errors.ScalewayError &&
        error.status === 400 &&
        [error.message, error.rawMessage].some((text) => text !== undefined && /frontend/i.test(text))
    );
}

function isNotFound(error: unknown): boolean {
    return error instanceof Errors.ScalewayError && error.status === 404;
}

function splitId(id: string, what: string): { zone: Zone; uuid: string } {
    const parsed = parseZonedId(id);
    if (!parsed) {
        throw new Error(`${what} "${id}" is not a zoned id <zone>/<uuid>`);
    }
    return { zone: parsed.zone, uuid: parsed.uuid };
}

// ---------------------------------------------------------------------------------------------------
// I/O

async function summarize(response: Response): Promise<ResponseSummary> {
    let errorType: string | undefined;
    if (response.status === 409 && response.headers.get("content-type")?.startsWith("application/json")) {
        const body: unknown = await response
            .clone()
            .json()
            .catch(() => undefined);
        if (typeof body === "object" && body !== null && "type" in body && typeof body.type === "string") {
            errorType = body.type;
        }
    }
    return { status: response.status, errorType, retryAfter: response.headers.get("retry-after") };
}

/** A fetch for the SDK that retries what is worth retrying, within the policy's bounds. */
export function retryingFetch(policy: RetryPolicy, wait: Sleep = sleep, baseFetch: typeof fetch = fetch): typeof fetch {
    return async (input, init) => {
        const request = new Request(input, init);
        return withRetries(
            policy,
            () => baseFetch(request.clone()),
            async (response) => scalewayVerdict(await summarize(response)),
            { sleep: wait, beforeRetry: async (response) => void (await response.body?.cancel()) },
        );
    };
}

function seconds(ms: number): string {
    return ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}

function toState(zone: Zone, certificate: Lbv1.Certificate): LbCertificateState {
    return {
        id: `${zone}/${certificate.id}`,
        name: certificate.name,
        status: certificate.status,
        statusDetails: certificate.statusDetails,
        fingerprint: certificate.fingerprint,
        commonName: certificate.commonName,
        subjectAlternativeName: certificate.subjectAlternativeName,
        notValidBefore: certificate.notValidBefore,
        notValidAfter: certificate.notValidAfter,
    };
}

export interface ScalewayOptions {
    credentials: ScalewayCredentials;
    timings?: ScalewayTimings;
    sleep?: Sleep;
}

export function createLoadBalancerCertificates(options: ScalewayOptions): LoadBalancerCertificates {
    return new ScalewayLoadBalancerCertificates(options);
}

/** The LB API behind `LoadBalancerCertificates`, with its retrying fetch. */
class ScalewayLoadBalancerCertificates implements LoadBalancerCertificates {
    private readonly timings: ScalewayTimings;
    private readonly wait: Sleep;
    private readonly api: Lbv1.ZonedAPI;

    constructor(options: ScalewayOptions) {
        this.timings = options.timings ?? DEFAULT_SCALEWAY_TIMINGS;
        this.wait = options.sleep ?? sleep;
        const { accessKey, secretKey, apiUrl } = options.credentials;
        this.api = new Lbv1.ZonedAPI(
            createAdvancedClient(
                withProfile({ accessKey, secretKey, ...(apiUrl ? { apiURL: apiUrl } : {}) }),
                withHTTPClient(retryingFetch(this.timings.retry, this.wait)),
            ),
        );
    }

    private async frontendsOf(lbId: string): Promise<{ zone: Zone; frontends: Frontend[] }> {
        const { zone, uuid } = splitId(lbId, "loadBalancerId");
        return { zone, frontends: await this.api.listFrontends({ zone, lbId: uuid }).all() };
    }

    async frontendPortsCarrying(lbId: string, certificateId: string): Promise<number[]> {
        const certificate = splitId(certificateId, "certificateId");
        const { frontends } = await this.frontendsOf(lbId);
        return frontends.filter((frontend) => frontend.certificateIds.includes(certificate.uuid)).map((frontend) => frontend.inboundPort);
    }

    private async frontendOnPort(lbId: string, port: number): Promise<{ zone: Zone; frontend: Frontend }> {
        const { zone, frontends: all } = await this.frontendsOf(lbId);
        const frontends = all.filter((frontend) => frontend.inboundPort === port);
        if (frontends.length !== 1) {
            throw new Error(
                frontends.length === 0
                    ? `LB ${lbId} has no frontend on port ${port}: create it first, or bind through the Service annotation (binding mode "annotation").`
                    : `LB ${lbId} has ${frontends.length} frontends on port ${port}: cannot tell which one to bind.`,
            );
        }
        return { zone, frontend: frontends[0] };
    }

    async getCertificateStatus(certificateId: string): Promise<LbCertificateState | undefined> {
        const { zone, uuid } = splitId(certificateId, "certificateId");
        try {
            return toState(zone, await this.api.getCertificate({ zone, certificateId: uuid }));
        } catch (error) {
            if (isNotFound(error)) {
                return undefined;
            }
            throw error;
        }
    }

    private async deleteOnce(certificateId: string): Promise<void> {
        const { zone, uuid } = splitId(certificateId, "certificateId");
        try {
            await this.api.deleteCertificate({ zone, certificateId: uuid });
        } catch (error) {
            if (!isNotFound(error)) {
                throw error;
            }
        }
    }

    async deleteCertificate(certificateId: string): Promise<void> {
        const outcome = await pollUntil<undefined>(
            this.timings.detach,
            async () => {
                try {
                    await this.deleteOnce(certificateId);
                    return { done: true, value: undefined };
                } catch (error) {
                    if (isStillAttachedRefusal(error)) {
                        return { done: false };
                    }
                    throw error;
                }
            },
            { sleep: this.wait },
        );
        if (!outcome.done) {
            throw new Error(
                `LB certificate ${certificateId} is still used by a frontend after ${seconds(this.timings.detach.timeoutMs)} s, ` +
                    "so it was not deleted. The CCM has not moved the frontend to the new certificate yet: check that the Service's " +
                    "service.beta.kubernetes.io/scw-loadbalancer-certificate-ids annotation names the new certificate id and that the " +
                    "CCM is running (kubectl describe service shows its events), then run `pulumi up` again to retry the delete.",
            );
        }
    }

    /** Sets the frontend's certificates to `wanted`, then reads the frontend back to check the API kept them. */
    private async putFrontendCertificates(zone: Zone, frontend: Frontend, wanted: string[]): Promise<void> {
        const port = frontend.inboundPort;
        if (isCcmOwnedFrontend(frontend.name)) {
            throw new Error(
                `Frontend ${frontend.name} on port ${port} belongs to the Scaleway CCM, which reverts direct changes at its next ` +
                    'reconcile: use binding mode "annotation" so the certificate id goes into the Service annotation.',
            );
        }
        await this.api.updateFrontend(frontendUpdateRequest(zone, frontend, wanted));
        const after = await this.api.getFrontend({ zone, frontendId: frontend.id });
        if (after.certificateIds.join(",") !== wanted.join(",")) {
            throw new Error(
                `Frontend ${frontend.name} on port ${port} carries [${after.certificateIds.join(", ")}] after the update, not [${wanted.join(", ")}].`,
            );
        }
    }

    /** Sets the certificates of the frontend on `port` to what `choose` makes of the current ones. */
    private async setFrontendCertificates(lbId: string, port: number, choose: (current: string[]) => string[]): Promise<void> {
        const { zone, frontend } = await this.frontendOnPort(lbId, port);
        await this.putFrontendCertificates(zone, frontend, choose(frontend.certificateIds));
    }

    async listCertificates(lbId: string): Promise<LbCertificateState[]> {
        const { zone, uuid } = splitId(lbId, "loadBalancerId");
        return (await this.api.listCertificates({ zone, lbId: uuid }).all()).map((certificate) => toState(zone, certificate));
    }

    /** Deletes certificates with this name other than `keep`: a retried POST may have created one twice. */
    private async removeNamesakes(lbId: string, name: string, keep: string | undefined): Promise<void> {
        const { zone, uuid } = splitId(lbId, "loadBalancerId");
        const namesakes = (await this.api.listCertificates({ zone, lbId: uuid, name }).all()).filter(
            (certificate) => certificate.name === name && `${zone}/${certificate.id}` !== keep,
        );
        for (const certificate of namesakes) {
            await this.deleteOnce(`${zone}/${certificate.id}`);
        }
    }

    async uploadCertificate(lbId: string, name: string, chainBlob: string): Promise<string> {
        const { zone, uuid } = splitId(lbId, "loadBalancerId");
        let created: Lbv1.Certificate;
        try {
            created = await this.api.createCertificate({ zone, lbId: uuid, name, customCertificate: { certificateChain: chainBlob } });
        } catch (error) {
            await this.removeNamesakes(lbId, name, undefined).catch(() => undefined);
            throw error;
        }
        const id = `${zone}/${created.id}`;
        // Housekeeping only: the upload worked, and failing now would orphan it (the caller never learns
        // its id) and waste an issuance. A twin left by an unlistable LB is harmless and visible by name.
        await this.removeNamesakes(lbId, name, id).catch(() => undefined);
        return id;
    }

    async waitForReady(certificateId: string): Promise<LbCertificateState> {
        const outcome = await pollUntil<LbCertificateState>(
            this.timings.ready,
            async () => {
                const state = await this.getCertificateStatus(certificateId);
                if (!state) {
                    throw new Error(`LB certificate ${certificateId} disappeared while waiting for it to become ready`);
                }
                return state.status === "pending" ? { done: false } : { done: true, value: state };
            },
            { sleep: this.wait },
        );
        if (!outcome.done) {
            await this.deleteOnce(certificateId);
            throw new Error(
                `LB certificate ${certificateId} was still pending after ${seconds(this.timings.ready.timeoutMs)} s; it was deleted.`,
            );
        }
        if (outcome.value.status !== "ready") {
            await this.deleteOnce(certificateId);
            throw new Error(
                `The load balancer rejected certificate ${outcome.value.name} (status ${outcome.value.status}: ` +
                    `${outcome.value.statusDetails ?? "no details"}); it was deleted.`,
            );
        }
        return outcome.value;
    }

    async bindFrontend(lbId: string, port: number, certificateId: string): Promise<void> {
        await this.setFrontendCertificates(lbId, port, () => [splitId(certificateId, "certificateId").uuid]);
    }

    async unbindFrontend(lbId: string, port: number, certificateId: string): Promise<void> {
        if (!(await this.frontendPortsCarrying(lbId, certificateId)).includes(port)) {
            return;
        }
        const { uuid } = splitId(certificateId, "certificateId");
        await this.setFrontendCertificates(lbId, port, (current) => current.filter((id) => id !== uuid));
    }

    async unbindNonCcmFrontends(lbId: string, certificateId: string): Promise<void> {
        const { uuid } = splitId(certificateId, "certificateId");
        const { zone, frontends } = await this.frontendsOf(lbId);
        for (const frontend of frontendsToRelease(frontends, uuid)) {
            await this.putFrontendCertificates(
                zone,
                frontend,
                frontend.certificateIds.filter((id) => id !== uuid),
            );
        }
    }

    async frontendCarries(lbId: string, port: number, certificateId: string): Promise<boolean> {
        return (await this.frontendPortsCarrying(lbId, certificateId)).includes(port);
    }
}
