/**
 * The optional notice of `status`: a JSON POST of `{ "text": ... }` to the incoming webhook named by
 * STATUS_WEBHOOK_URL (Slack, Mattermost and Teams incoming webhooks accept it; docs/webhooks.md). The URL
 * holds the webhook's secret token, so no message ever quotes it.
 */
import type { Environment } from "../components/certificate/credentials";
import type { WebhookMessage } from "./statusReport";

export const WEBHOOK_VARIABLE = "STATUS_WEBHOOK_URL";
const TIMEOUT_MS = 10_000;

/** The webhook URL from the environment: undefined when unset; throws when it is not an https:// URL. */
export function webhookUrlOf(env: Environment): URL | undefined {
    const value = env[WEBHOOK_VARIABLE]?.trim();
    if (!value) {
        return undefined;
    }
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new Error(
            `${WEBHOOK_VARIABLE} is not a URL: set it to the https:// address of an incoming webhook (Slack, Mattermost, Teams), or unset it`,
        );
    }
    // Plain http only on the loopback interface (a local relay, the tests).
    const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
        throw new Error(`${WEBHOOK_VARIABLE} must be an https:// URL (the webhook's token travels in it), got a ${url.protocol} URL`);
    }
    return url;
}

/** POSTs `message`; throws an error that names the variable and the HTTP status, never the URL. */
export async function postWebhook(url: URL, message: WebhookMessage): Promise<void> {
    let response: Response;
    try {
        response = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(message),
            signal: AbortSignal.timeout(TIMEOUT_MS),
        });
    } catch (error) {
        const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : (error as Error).message;
        throw new Error(`the webhook in ${WEBHOOK_VARIABLE} (${url.host}) could not be reached: ${cause}`);
    }
    if (!response.ok) {
        throw new Error(
            `the webhook in ${WEBHOOK_VARIABLE} (${url.host}) answered HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`,
        );
    }
}
