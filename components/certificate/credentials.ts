/**
 * Credentials and endpoints of the certificate provider. They are read when the provider runs, never taken
 * from resource inputs: inputs are stored in the stack's state, and a rotated token must not force a new
 * certificate.
 */
import { UUID_PATTERN } from "./ids";

export interface ScalewayCredentials {
    accessKey: string;
    secretKey: string;
    /** API base URL without a trailing slash (SCW_API_URL); the SDK's default when absent. */
    apiUrl?: string;
}

export interface CloudflareCredentials {
    apiToken: string;
    /** CLOUDFLARE_BASE_URL, for a local Cloudflare-compatible API. */
    baseUrl?: string;
}

/** Looks a key up in the stack configuration, e.g. `scaleway:secretKey`. */
export type ConfigLookup = (key: string) => string | undefined;

export type Environment = Readonly<Record<string, string | undefined>>;

export const SCALEWAY_ACCESS_KEY = { env: "SCW_ACCESS_KEY", config: "scaleway:accessKey" } as const;
export const SCALEWAY_SECRET_KEY = { env: "SCW_SECRET_KEY", config: "scaleway:secretKey" } as const;
export const CLOUDFLARE_API_TOKEN = { env: "CLOUDFLARE_API_TOKEN", config: "cloudflare:apiToken" } as const;

const SCALEWAY_ACCESS_KEY_PATTERN = /^SCW[A-Z0-9]{17}$/i;

interface Source {
    env: string;
    config: string;
}

const noConfig: ConfigLookup = () => undefined;

/** Stack config wins over the environment: it is the explicit, per-stack choice. */
function lookup(source: Source, env: Environment, config: ConfigLookup): string | undefined {
    const value = config(source.config) ?? env[source.env];
    const trimmed = value?.trim();
    return trimmed ? trimmed : undefined;
}

function missing(what: string, sources: Source[]): Error {
    const envs = sources.map((s) => s.env).join(" and ");
    const commands = sources.map((s) => `pulumi config set --secret ${s.config} <value>`).join("; ");
    return new Error(`${what} missing: set the environment variable ${envs}, or the stack config (${commands}).`);
}

function withoutTrailingSlashes(url: string): string {
    return url.replace(/\/+$/, "");
}

/**
 * Scaleway keys. Their shape is checked here because the Scaleway SDK's own check quotes the rejected key
 * in its error message, and a secret must never reach an error message.
 */
export function resolveScalewayCredentials(env: Environment, config: ConfigLookup = noConfig): ScalewayCredentials {
    const accessKey = lookup(SCALEWAY_ACCESS_KEY, env, config);
    const secretKey = lookup(SCALEWAY_SECRET_KEY, env, config);
    if (!accessKey || !secretKey) {
        throw missing("Scaleway credentials", [SCALEWAY_ACCESS_KEY, SCALEWAY_SECRET_KEY]);
    }
    if (!SCALEWAY_ACCESS_KEY_PATTERN.test(accessKey)) {
        throw new Error(
            `${SCALEWAY_ACCESS_KEY.env} / ${SCALEWAY_ACCESS_KEY.config} is not a Scaleway access key ` +
                "(expected SCW followed by 17 letters or digits).",
        );
    }
    if (!UUID_PATTERN.test(secretKey)) {
        throw new Error(`${SCALEWAY_SECRET_KEY.env} / ${SCALEWAY_SECRET_KEY.config} is not a Scaleway secret key (expected a UUID).`);
    }
    const apiUrl = env.SCW_API_URL?.trim();
    return { accessKey, secretKey, ...(apiUrl ? { apiUrl: withoutTrailingSlashes(apiUrl) } : {}) };
}

export function resolveCloudflareCredentials(env: Environment, config: ConfigLookup = noConfig): CloudflareCredentials {
    const apiToken = lookup(CLOUDFLARE_API_TOKEN, env, config);
    if (!apiToken) {
        throw missing("Cloudflare API token", [CLOUDFLARE_API_TOKEN]);
    }
    const baseUrl = env.CLOUDFLARE_BASE_URL?.trim();
    return { apiToken, ...(baseUrl ? { baseUrl: withoutTrailingSlashes(baseUrl) } : {}) };
}

/**
 * Path of a PEM file with extra CAs to trust for the ACME server (like lego's LEGO_CA_CERTIFICATES); this
 * is how a test CA such as Pebble is trusted without touching the process-wide trust store.
 */
export function acmeCaCertificatesPath(env: Environment): string | undefined {
    const path = env.ACME_CA_CERTIFICATES?.trim();
    return path ? path : undefined;
}
