/**
 * How the ACME client and the ARI lookup talk to a CA over HTTPS: a private axios instance (acme-client's
 * shared one carries process-wide settings), a request timeout, the extra CA, and network errors in words.
 */
import * as https from "node:https";
import { createSecureContext, rootCertificates } from "node:tls";
import * as acme from "acme-client";

export interface AcmeHttpOptions {
    /** Extra CA certificates (PEM) to trust for the server's TLS, on top of Node's bundled roots (e.g. Pebble's). */
    caCertificatesPem?: string;
    /** Bound on each request, connection included (default 30 s). */
    requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * One keep-alive agent per trust setting, shared by every issuance of the process: building a TLS
 * context from Node's ~150 bundled roots, and a TLS handshake per request, cost more than everything else
 * an issuance does against a nearby CA. Idle sockets do not keep the process alive.
 */
const agents = new Map<string, https.Agent>();

function agentFor(caCertificatesPem: string | undefined): https.Agent {
    const key = caCertificatesPem ?? "";
    let agent = agents.get(key);
    if (agent === undefined) {
        // Node's bundled roots stay trusted: `ca` alone would replace them, so add to them instead.
        const secureContext =
            caCertificatesPem === undefined ? undefined : createSecureContext({ ca: [...rootCertificates, caCertificatesPem] });
        agent = new https.Agent({ keepAlive: true, secureContext });
        agents.set(key, agent);
    }
    return agent;
}

/** An axios instance of its own per call, over the shared agent of its trust setting. */
export function createAcmeHttpClient(options: AcmeHttpOptions): ReturnType<typeof acme.axios.create> {
    return acme.axios.create({
        timeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        httpsAgent: agentFor(options.caCertificatesPem),
        // Statuses are judged by the callers, which know what each request expects.
        validateStatus: () => true,
    });
}

/**
 * Why a request never got an answer, in words: refused, unknown host, timed out, TLS not trusted.
 * Undefined when the error is not a network error (e.g. a bug in our code).
 */
export function networkErrorReason(error: unknown): string | undefined {
    if (!(error instanceof Error)) {
        return undefined;
    }
    const code = (error as Error & { code?: unknown }).code;
    switch (code) {
        case "ECONNREFUSED":
            return "connection refused (nothing listens there)";
        case "ENOTFOUND":
        case "EAI_AGAIN":
            return `host name does not resolve (${code})`;
        case "ECONNABORTED":
        case "ETIMEDOUT":
            return `no answer in time (${error.message})`;
        case "ECONNRESET":
        case "EPIPE":
            return `connection closed by the server (${code})`;
        case "EHOSTUNREACH":
        case "ENETUNREACH":
            return `network unreachable (${code})`;
    }
    if (typeof code === "string" && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code)) {
        return `TLS certificate not trusted (${code}: ${error.message}); set caCertificatesPem for a private CA`;
    }
    return undefined;
}
