/** ACME Renewal Information (RFC 9773): the CA's suggested renewal window for a certificate. */
import { z } from "zod";
import { type AcmeHttpOptions, createAcmeHttpClient, networkErrorReason } from "./acmeHttp";
import { parseRetryAfterMs } from "./retry";
import type { CertificateInfo } from "./pem";

/** RFC 9773 §4.3: Retry-After below a minute counts as a minute, above a day as a day. */
export const ARI_CHECK_INTERVAL_BOUNDS_MS = { min: 60_000, max: 86_400_000 } as const;
/** When the server sends no usable Retry-After, check again after six hours (RFC 9773 §4.3.3). */
export const ARI_DEFAULT_CHECK_INTERVAL_MS = 6 * 3_600_000;

export interface RenewalWindow {
    start: Date;
    end: Date;
}

export interface RenewalInfo {
    suggestedWindow: RenewalWindow;
    explanationURL?: string;
    /** When to ask again, from the server's Retry-After (clamped to a minute..a day). */
    nextCheckAt: Date;
}

/** RFC 9773 §4.1 certID: base64url(AKI keyIdentifier) "." base64url(serial DER content bytes), unpadded. */
export function ariCertId(certificate: Pick<CertificateInfo, "authorityKeyIdentifier" | "serialNumber">): string {
    if (certificate.authorityKeyIdentifier === undefined) {
        throw new Error(`certificate ${certificate.serialNumber} has no Authority Key Identifier, so it has no ARI certID`);
    }
    const keyIdentifier = Buffer.from(certificate.authorityKeyIdentifier, "hex");
    return `${keyIdentifier.toString("base64url")}.${serialContentBytes(certificate.serialNumber).toString("base64url")}`;
}

/** The DER INTEGER content of a positive serial given as magnitude hex: a zero byte first when the high bit is set. */
function serialContentBytes(serialHex: string): Buffer {
    const magnitude = Buffer.from(serialHex.length % 2 === 0 ? serialHex : `0${serialHex}`, "hex");
    return magnitude[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude;
}

const renewalInfoSchema = z.object({
    suggestedWindow: z.object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) }),
    explanationURL: z.string().optional(),
});

const directorySchema = z.object({ renewalInfo: z.string().optional() });

/**
 * The CA's suggested renewal window for `certId`, or undefined when the directory offers no
 * `renewalInfo` (Pebble 2.4.0, older CAs). Throws when the CA offers ARI but the lookup fails, so the
 * caller can fall back to its own schedule and say why.
 */
export async function fetchRenewalInfo(
    directoryUrl: string,
    certId: string,
    options: AcmeHttpOptions & { now?: () => Date } = {},
): Promise<RenewalInfo | undefined> {
    const http = createAcmeHttpClient(options);
    const getJson = async (url: string): Promise<{ data: unknown; retryAfter: unknown }> => {
        let response;
        try {
            response = await http.get(url, { responseType: "json" });
        } catch (error) {
            throw new Error(`ARI: cannot reach ${url}: ${networkErrorReason(error) ?? String(error)}`);
        }
        if (response.status !== 200) {
            throw new Error(`ARI: GET ${url} answered HTTP ${response.status}`);
        }
        return { data: response.data, retryAfter: response.headers["retry-after"] };
    };

    const directory = directorySchema.safeParse((await getJson(directoryUrl)).data);
    if (!directory.success) {
        throw new Error(`ARI: ${directoryUrl} is not an ACME directory (${z.prettifyError(directory.error)})`);
    }
    if (directory.data.renewalInfo === undefined) {
        return undefined;
    }
    const url = `${directory.data.renewalInfo.replace(/\/+$/, "")}/${certId}`;
    const { data, retryAfter } = await getJson(url);
    const parsed = renewalInfoSchema.safeParse(data);
    if (!parsed.success) {
        throw new Error(`ARI: ${url} answered an invalid RenewalInfo (${z.prettifyError(parsed.error)})`);
    }
    const start = new Date(parsed.data.suggestedWindow.start);
    const end = new Date(parsed.data.suggestedWindow.end);
    if (end.getTime() <= start.getTime()) {
        // RFC 9773 §4.2: such a window is invalid and must be treated like no answer.
        throw new Error(`ARI: ${url} answered a window that ends (${end.toISOString()}) before it starts (${start.toISOString()})`);
    }
    const now = (options.now ?? (() => new Date()))();
    return {
        suggestedWindow: { start, end },
        explanationURL: parsed.data.explanationURL,
        nextCheckAt: new Date(now.getTime() + nextCheckDelayMs(parseRetryAfterMs(retryAfter, now.getTime()))),
    };
}

function nextCheckDelayMs(retryAfterMs: number | undefined): number {
    if (retryAfterMs === undefined) {
        return ARI_DEFAULT_CHECK_INTERVAL_MS;
    }
    const { min, max } = ARI_CHECK_INTERVAL_BOUNDS_MS;
    return Math.min(max, Math.max(min, retryAfterMs));
}

/** A uniformly random time in [start, end), as RFC 9773 §4.2 asks, to spread renewals out. */
export function pickRenewalTime(window: RenewalWindow, random: () => number = Math.random): Date {
    const span = window.end.getTime() - window.start.getTime();
    return new Date(window.start.getTime() + Math.floor(random() * span));
}

/**
 * The renewal time for a window just fetched: `previous` (picked from an earlier answer) while the window
 * still holds it, so that a refresh does not move the time and rewrite the state on every run; a fresh
 * pick once the CA moved the window away from it (or there was none).
 */
export function keepOrPickRenewalTime(window: RenewalWindow, previous: string | undefined, random: () => number = Math.random): Date {
    const kept = previous === undefined ? Number.NaN : Date.parse(previous);
    return kept >= window.start.getTime() && kept < window.end.getTime() ? new Date(kept) : pickRenewalTime(window, random);
}
