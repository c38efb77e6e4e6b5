/**
 * Issuing and revoking certificates with acme-client 5.4.0, DNS-01 on Cloudflare only.
 *
 * acme-client's transport is process-global (one axios instance, uncapped Retry-After sleeps, ~75 s of
 * retries on a refused connection ending in a TypeError). Instead of changing its global defaults,
 * every call gives its own Client a transport of its own (see `useOwnTransport`): a private axios
 * instance with a request timeout and the extra CA, bounded retries, a cap on Retry-After and plain
 * words for network errors. Concurrent issuances in one process therefore never share settings.
 */
import * as acme from "acme-client";
import type { Authorization, Order } from "acme-client";
// Type-only: acme-client's own typings are written against axios, its dependency.
import type { AxiosRequestConfig, AxiosResponse } from "axios";
import type { DnsChallenge, OrderCreateRequest } from "acme-client/types/rfc8555";
import { type AcmeHttpOptions, createAcmeHttpClient, DEFAULT_REQUEST_TIMEOUT_MS, networkErrorReason } from "./acmeHttp";
import { ariCertId } from "./ari";
import { type CloudflareOptions, type Dns01Challenge, validateTtl, withDns01Records } from "./dns01";
import { parseRetryAfterMs, pollUntil, type RetryPolicy, type Verdict, withRetries } from "./retry";
import { createCsr, generateCertificateKey } from "./keys";
import { type CertificateInfo, parseCertificateBundle } from "./pem";
import type { KeyType } from "./types";

export interface AcmeTimeouts {
    /** Bound on each HTTP request to the CA, connection included (default 30 s). */
    requestMs?: number;
    /** Longest Retry-After this run waits for; a CA asking for more fails the run (default 60 s). */
    maxRetryAfterSeconds?: number;
    /** Tries per request on 429, 5xx, timeouts and resets (default 4). */
    requestAttempts?: number;
    /** Bound on the wait until every TXT record is visible (default 180 s). */
    propagationMs?: number;
    /** Bound on the wait for the CA to validate the challenges, and again to issue (default 120 s). */
    validationMs?: number;
}

export interface IssueRequest {
    directoryUrl: string;
    /** ACME account key, PEM (RSA or ECDSA). The account is created on first use. */
    accountKeyPem: string;
    email: string;
    /** The first name becomes the CN; wildcards ("*.example.com") are allowed. */
    domains: string[];
    keyType: KeyType;
    /** ACME profile (e.g. Let's Encrypt "tlsserver", "shortlived"), sent in the new order as is. */
    profile?: string;
    /** RFC 9773 certID of the certificate this one replaces, sent in the new order as `replaces`. */
    replaces?: string;
    /** "ip" or "ip:port" resolvers for the propagation check instead of the zones' name servers. */
    dnsResolvers?: string[];
    /** TTL of the challenge TXT records, seconds (default 120, at least 60). */
    txtTtl?: number;
    cloudflare: CloudflareOptions;
    /** Extra CA certificates (PEM) to trust for the ACME server's TLS, e.g. Pebble's. */
    caCertificatesPem?: string;
    timeouts?: AcmeTimeouts;
    /** Progress lines (never key material). */
    log?: (line: string) => void;
}

export interface IssuedCertificate {
    /** Leaf then intermediates, PEM, as the CA returned them. */
    certificatePem: string;
    /** PKCS#8 PEM of the new certificate key. */
    privateKeyPem: string;
    leaf: CertificateInfo;
    /** RFC 9773 certID of the new certificate: what the next renewal sends as `replaces`. */
    ariCertId: string;
}

export interface RevokeRequest {
    directoryUrl: string;
    accountKeyPem: string;
    /** The certificate (the leaf is the first block). */
    certificatePem: string;
    caCertificatesPem?: string;
    /** RFC 5280 reason code (default 0, unspecified; 4 is superseded). */
    reason?: number;
    timeouts?: Pick<AcmeTimeouts, "requestMs" | "maxRetryAfterSeconds" | "requestAttempts">;
    log?: (line: string) => void;
}

const DEFAULT_MAX_RETRY_AFTER_SECONDS = 60;
const DEFAULT_REQUEST_ATTEMPTS = 4;
const DEFAULT_VALIDATION_MS = 120_000;
/** Retries of one request: 1 s, 2 s, 4 s, then 8 s at most (jittered), or the CA's Retry-After. */
const REQUEST_BACKOFF = { baseDelayMs: 1_000, maxDelayMs: 8_000 };
/** Polls of authorizations and orders: the first look at once, then 50 ms doubling up to 5 s, or the CA's Retry-After. */
const STATUS_POLL = { firstDelayMs: 50, maxDelayMs: 5_000 };

/** The one method of acme-client's internal HttpClient every request goes through. */
interface AcmeTransport {
    request(url: string, method: string, options?: AxiosRequestConfig): Promise<AxiosResponse<unknown>>;
}

export class AcmeServerUnreachableError extends Error {
    override name = "AcmeServerUnreachableError";
}

export class AcmeRetryAfterTooLongError extends Error {
    override name = "AcmeRetryAfterTooLongError";
}

interface TransportSettings {
    http: AcmeHttpOptions;
    maxRetryAfterMs: number;
    attempts: number;
    log: (line: string) => void;
}

/** What the transport saw of the CA's answers: the Retry-After of the last answer from each URL, for the polls. */
type RetryAfterByUrl = Map<string, number>;

/** One request's outcome: an answer, or a network error (with its reason in words when it is one). */
type Exchange = { response: AxiosResponse<unknown> } | { error: unknown; reason: string | undefined };

/** Whether a failed request is worth another try: the server is there but busy, or the line dropped. */
function isRetryableStatus(status: number): boolean {
    return status === 429 || status >= 500;
}

/** "3600 s (1 h)"-style wording for the time a CA asks to wait. */
export function describeWait(ms: number): string {
    const seconds = Math.ceil(ms / 1000);
    const hours = Math.floor(seconds / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    const rough = hours > 0 ? `${hours} h${minutes > 0 ? ` ${minutes} min` : ""}` : minutes > 0 ? `${minutes} min` : undefined;
    return rough === undefined ? `${seconds} s` : `${seconds} s (${rough})`;
}

function problemDetail(data: unknown): string {
    if (typeof data === "object" && data !== null && "detail" in data && typeof data.detail === "string") {
        return `: ${data.detail}`;
    }
    return "";
}

function isTransientNetworkError(error: unknown): boolean {
    const code = (error as { code?: unknown } | undefined)?.code;
    return code === "ECONNRESET" || code === "ECONNABORTED" || code === "ETIMEDOUT" || code === "EPIPE";
}

async function send(http: ReturnType<typeof createAcmeHttpClient>, config: AxiosRequestConfig): Promise<Exchange> {
    try {
        return { response: await http.request(config) };
    } catch (error) {
        return { error, reason: networkErrorReason(error) };
    }
}

/** Another try for a dropped line or a busy CA; none when the CA asks to wait longer than this run does. */
function exchangeVerdict(exchange: Exchange, what: string, maxRetryAfterMs: number): Verdict {
    if ("error" in exchange) {
        return { retry: exchange.reason !== undefined && isTransientNetworkError(exchange.error) };
    }
    const { response } = exchange;
    if (!isRetryableStatus(response.status)) {
        return { retry: false };
    }
    const header: unknown = response.headers["retry-after"];
    const retryAfterMs = parseRetryAfterMs(header);
    if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs) {
        throw new AcmeRetryAfterTooLongError(
            `the ACME server answered HTTP ${response.status} to ${what}${problemDetail(response.data)} ` +
                `and asks to wait ${describeWait(retryAfterMs)} (Retry-After: ${String(header)}) before trying again; ` +
                `this run waits at most ${describeWait(maxRetryAfterMs)}, try again later`,
        );
    }
    return { retry: true, retryAfterMs };
}

/** The request function acme-client's HttpClient gets instead of its own (see the module comment). */
function ownRequest(settings: TransportSettings, retryAfterByUrl: RetryAfterByUrl): AcmeTransport["request"] {
    const http = createAcmeHttpClient(settings.http);
    const policy: RetryPolicy = { attempts: settings.attempts, ...REQUEST_BACKOFF, retryAfterCapMs: settings.maxRetryAfterMs };
    return async (url, method, options = {}) => {
        const config: AxiosRequestConfig = {
            ...options,
            url,
            method,
            headers: { ...options.headers, "Content-Type": "application/jose+json" },
        };
        const what = `${method.toUpperCase()} ${url}`;
        const exchange = await withRetries(
            policy,
            () => send(http, config),
            (outcome) => exchangeVerdict(outcome, what, settings.maxRetryAfterMs),
            {
                beforeRetry: (outcome, attempt, delayMs) => {
                    const seen = "error" in outcome ? `: ${outcome.reason}` : ` answered HTTP ${outcome.response.status}`;
                    settings.log(`ACME: ${what}${seen}; try ${attempt + 1} of ${settings.attempts} in ${describeWait(delayMs)}`);
                },
            },
        );
        if ("error" in exchange) {
            if (exchange.reason === undefined) {
                throw exchange.error;
            }
            throw new AcmeServerUnreachableError(`cannot reach the ACME server at ${url}: ${exchange.reason}`);
        }
        const retryAfterMs = parseRetryAfterMs(exchange.response.headers["retry-after"]);
        if (retryAfterMs === undefined) {
            retryAfterByUrl.delete(url);
        } else {
            retryAfterByUrl.set(url, retryAfterMs);
        }
        // A retryable status after the last try goes back too: acme-client turns the CA's problem document into its error.
        return exchange.response;
    };
}

/** An acme-client Client over a transport of its own; fails loudly if acme-client's internals no longer look as expected. */
function createClient(
    request: { directoryUrl: string; accountKeyPem: string; caCertificatesPem?: string },
    timeouts: AcmeTimeouts,
    log: (line: string) => void,
): { client: acme.Client; retryAfterByUrl: RetryAfterByUrl } {
    const client = new acme.Client({ directoryUrl: request.directoryUrl, accountKey: request.accountKeyPem });
    const internals = (client as unknown as { http?: Partial<AcmeTransport> }).http;
    if (typeof internals?.request !== "function") {
        throw new Error("acme-client's HttpClient has no request method any more; this module supports acme-client 5.4.x");
    }
    const retryAfterByUrl: RetryAfterByUrl = new Map();
    internals.request = ownRequest(
        {
            http: { caCertificatesPem: request.caCertificatesPem, requestTimeoutMs: timeouts.requestMs ?? DEFAULT_REQUEST_TIMEOUT_MS },
            maxRetryAfterMs: (timeouts.maxRetryAfterSeconds ?? DEFAULT_MAX_RETRY_AFTER_SECONDS) * 1000,
            attempts: timeouts.requestAttempts ?? DEFAULT_REQUEST_ATTEMPTS,
            log,
        },
        retryAfterByUrl,
    );
    return { client, retryAfterByUrl };
}

/** Lowercased, trimmed names; refuses an empty list and duplicates, which the CA would refuse later. */
export function normalizeDomains(domains: string[]): string[] {
    const names = domains.map((domain) => domain.trim().toLowerCase().replace(/\.$/, ""));
    if (names.length === 0) {
        throw new Error("ACME: at least one domain name is required");
    }
    const duplicates = names.filter((name, index) => names.indexOf(name) !== index);
    if (duplicates.length > 0) {
        throw new Error(`ACME: duplicate domain names: ${[...new Set(duplicates)].join(", ")}`);
    }
    return names;
}

/** The name an authorization covers, as the order asked for it ("*.example.com" for a wildcard). */
function authorizedName(authorization: Pick<Authorization, "identifier" | "wildcard">): string {
    return `${authorization.wildcard ? "*." : ""}${authorization.identifier.value}`;
}

/** The dns-01 challenge of an authorization, or an error naming what the CA offers instead. */
export function dnsChallengeOf(authorization: Pick<Authorization, "identifier" | "challenges" | "wildcard">): DnsChallenge {
    const challenge = authorization.challenges.find((candidate): candidate is DnsChallenge => candidate.type === "dns-01");
    if (challenge === undefined) {
        const offered = authorization.challenges.map((candidate) => candidate.type).join(", ") || "none";
        throw new Error(
            `ACME: the CA offers no dns-01 challenge for ${authorizedName(authorization)} (it offers: ${offered}); a private load balancer can only be validated over DNS`,
        );
    }
    return challenge;
}

/** Names the certificate must carry but does not: a CA that drops a name must not go unnoticed. */
function missingNames(leaf: CertificateInfo, domains: string[]): string[] {
    const present = new Set(leaf.dnsNames.map((name) => name.toLowerCase()));
    return domains.filter((domain) => !present.has(domain));
}

/** An ACME object the CA works on (authorization, order) as its last answer showed it. */
interface Pollable {
    status: string;
    url?: string;
}

/**
 * Polls the CA until every object `look` fetches is valid: the first look at once, then the backoff, or
 * the CA's own Retry-After when it is longer. An invalid object fails with the CA's words (`failure`).
 */
async function waitUntilValid<T extends Pollable>(
    what: string,
    look: () => Promise<T[]>,
    failure: (item: T) => string,
    retryAfterByUrl: RetryAfterByUrl,
    timeoutMs: number,
): Promise<T[]> {
    const outcome = await pollUntil({ timeoutMs, ...STATUS_POLL }, async () => {
        const items = await look();
        const failed = items.find(
            (item) => item.status === "invalid" || item.status === "revoked" || item.status === "deactivated" || item.status === "expired",
        );
        if (failed !== undefined) {
            throw new Error(failure(failed));
        }
        if (items.every((item) => item.status === "valid")) {
            return { done: true, value: items };
        }
        const asked = items.map((item) => (item.url === undefined ? undefined : retryAfterByUrl.get(item.url)));
        return { done: false, retryAfterMs: Math.max(0, ...asked.filter((ms): ms is number => ms !== undefined)) };
    });
    if (!outcome.done) {
        throw new Error(`ACME: ${what} not valid after ${Math.round(timeoutMs / 1000)} s; the CA may be slow, try again later`);
    }
    return outcome.value;
}

/** The CA's words for a failed authorization: its challenge's problem document. */
function authorizationFailure(authorization: Authorization): string {
    const problems = authorization.challenges.flatMap((challenge) => {
        const error = (challenge as { error?: { detail?: string; type?: string } }).error;
        return error === undefined ? [] : [error.detail ?? error.type ?? "no detail"];
    });
    return `ACME: the CA did not validate ${authorizedName(authorization)} (authorization ${authorization.status}${problems.length > 0 ? `: ${problems.join("; ")}` : ""})`;
}

/** Creates the account (or finds it) and the order; an order naming a predecessor the CA says was already replaced goes again without it. */
async function openOrder(client: acme.Client, request: IssueRequest, domains: string[], log: (line: string) => void): Promise<Order> {
    log(`ACME: using account ${request.email} at ${request.directoryUrl}`);
    await client.createAccount({ termsOfServiceAgreed: true, contact: [`mailto:${request.email}`] });
    // Extra order fields (profile, RFC 9773 replaces) are sent as they are by acme-client.
    const orderFor = (replaces: string | undefined): OrderCreateRequest & { profile?: string; replaces?: string } => ({
        identifiers: domains.map((value) => ({ type: "dns", value })),
        ...(request.profile !== undefined ? { profile: request.profile } : {}),
        ...(replaces !== undefined ? { replaces } : {}),
    });
    const profile = request.profile ? ` (profile ${request.profile})` : "";
    let replaces = request.replaces;
    let order: Order;
    try {
        order = await client.createOrder(orderFor(replaces));
    } catch (error) {
        // RFC 9773 §5: 409 alreadyReplaced (a run that finalized the successor but failed later), or a
        // predecessor the CA does not take from this account: naming it is an optimisation, the order is not.
        if (replaces === undefined || !(error instanceof Error)) {
            throw error;
        }
        log(`ACME: the CA refuses the order naming ${replaces} as predecessor (${error.message}); ordering without naming it`);
        replaces = undefined;
        order = await client.createOrder(orderFor(replaces));
    }
    log(`ACME: order for ${domains.join(", ")}${profile}${replaces ? ` replaces ${replaces}` : " created"}`);
    return order;
}

/** Publishes the DNS-01 records, has the CA validate every pending authorization, and removes the records. */
async function proveControl(
    client: acme.Client,
    order: Order,
    request: IssueRequest,
    domains: string[],
    retryAfterByUrl: RetryAfterByUrl,
): Promise<void> {
    const log = request.log ?? (() => undefined);
    const timeouts = request.timeouts ?? {};
    // In the order the names were asked for (CAs list authorizations in any order): records and logs follow it.
    const pending = (await client.getAuthorizations(order))
        .filter((authorization) => authorization.status !== "valid")
        .sort((a, b) => domains.indexOf(authorizedName(a)) - domains.indexOf(authorizedName(b)));
    const challenges = pending.map((authorization) => ({ authorization, challenge: dnsChallengeOf(authorization) }));
    const dns01: Dns01Challenge[] = await Promise.all(
        challenges.map(async ({ authorization, challenge }) => ({
            identifier: authorization.identifier.value,
            value: await client.getChallengeKeyAuthorization(challenge),
        })),
    );
    const dnsOptions = {
        cloudflare: request.cloudflare,
        ttl: request.txtTtl,
        resolvers: request.dnsResolvers,
        propagationTimeoutMs: timeouts.propagationMs,
        log,
    };
    await withDns01Records(dns01, dnsOptions, async () => {
        await Promise.all(challenges.map(({ challenge }) => client.completeChallenge(challenge)));
        log(`ACME: ${challenges.length} challenge(s) submitted, waiting for the CA to validate`);
        const authorizations = () => client.getAuthorizations(order);
        await waitUntilValid(
            "the authorizations are",
            authorizations,
            authorizationFailure,
            retryAfterByUrl,
            timeouts.validationMs ?? DEFAULT_VALIDATION_MS,
        );
        log("ACME: every authorization is valid");
    });
}

/**
 * Orders a certificate for `request.domains`, proves control over DNS-01 on Cloudflare, and returns
 * the certificate, its new private key and what the provider stores about it. TXT records are
 * removed whatever happens.
 */
export async function issueCertificate(request: IssueRequest): Promise<IssuedCertificate> {
    const log = request.log ?? (() => undefined);
    const timeouts = request.timeouts ?? {};
    const domains = normalizeDomains(request.domains);
    if (request.txtTtl !== undefined) {
        // Checked before the CA is asked for an order that would then be wasted.
        validateTtl(request.txtTtl);
    }
    const { client, retryAfterByUrl } = createClient(request, timeouts, log);
    const order = await openOrder(client, request, domains, log);
    await proveControl(client, order, request, domains, retryAfterByUrl);

    const key = await generateCertificateKey(request.keyType);
    const finalized = await client.finalizeOrder(order, await createCsr(domains, key));
    const [valid] = await waitUntilValid(
        "the order is",
        async () => [await client.getOrder(finalized)],
        (failed) =>
            `ACME: the CA failed the order for ${domains.join(", ")} (status ${failed.status}${problemDetail((failed as { error?: unknown }).error)})`,
        retryAfterByUrl,
        timeouts.validationMs ?? DEFAULT_VALIDATION_MS,
    );
    const certificatePem = await client.getCertificate(valid);
    const { leaf } = parseCertificateBundle(certificatePem);
    const missing = missingNames(leaf, domains);
    if (missing.length > 0) {
        throw new Error(`ACME: the issued certificate (serial ${leaf.serialNumber}) lacks ${missing.join(", ")}`);
    }
    log(`ACME: issued serial ${leaf.serialNumber}, valid until ${leaf.notAfter.toISOString()}`);
    return { certificatePem, privateKeyPem: key.privateKeyPem, leaf, ariCertId: ariCertId(leaf) };
}

/** Revokes a certificate with the account that ordered it; a certificate already revoked counts as done. */
export async function revokeCertificate(request: RevokeRequest): Promise<void> {
    const log = request.log ?? (() => undefined);
    const { leaf, leafPem } = parseCertificateBundle(request.certificatePem);
    const { client } = createClient(request, request.timeouts ?? {}, log);
    await client.createAccount({ onlyReturnExisting: true });
    try {
        await client.revokeCertificate(leafPem, { reason: request.reason ?? 0 });
        log(`ACME: revoked serial ${leaf.serialNumber}`);
    } catch (error) {
        if (error instanceof Error && /already.*revoked/i.test(error.message)) {
            log(`ACME: serial ${leaf.serialNumber} was already revoked`);
            return;
        }
        throw error;
    }
}
