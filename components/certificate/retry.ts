/**
 * Retries and polls of the certificate provider, in one place: the ACME transport, the Scaleway fetch,
 * and the polls of the CA's authorizations and order, of the TXT records' propagation and of the LB's
 * certificate status all use it. The rule: the first look comes at once; after that, a capped
 * exponential backoff with jitter (so that certificates started together do not retry together), or the
 * server's Retry-After when it sends one, whichever is longer. A server that asks for a longer wait than
 * the policy allows is not tried again early: its answer is the outcome.
 */

export type Sleep = (ms: number) => Promise<void>;
export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** How a request is retried. */
export interface RetryPolicy {
    /** Attempts in all, the first included. */
    attempts: number;
    baseDelayMs: number;
    maxDelayMs: number;
    /** The longest Retry-After waited for; a server asking for more gets no early retry, its answer stands. */
    retryAfterCapMs: number;
}

/** How something is polled until it is done. */
export interface PollPolicy {
    /** Bound on the whole wait. */
    timeoutMs: number;
    /** The wait after the first look (which comes at once); it doubles up to `maxDelayMs`. */
    firstDelayMs: number;
    maxDelayMs: number;
}

/** Retry-After in milliseconds from `now`: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfterMs(header: unknown, now: number = Date.now()): number | undefined {
    if (typeof header !== "string" || header.trim() === "") {
        return undefined;
    }
    const value = header.trim();
    if (/^\d+$/.test(value)) {
        return Number(value) * 1000;
    }
    const at = Date.parse(value);
    return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait after failed try number `attempt` (from 1): a ceiling of base·2^(attempt−1), capped at the
 * maximum, of which a random half to all is taken.
 */
export function backoffDelayMs(
    attempt: number,
    bounds: { baseDelayMs: number; maxDelayMs: number },
    random: () => number = Math.random,
): number {
    const ceiling = Math.min(bounds.maxDelayMs, bounds.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling * (0.5 + random() / 2));
}

/** The wait before another try: the backoff, or the server's Retry-After when it is longer. */
export function retryWaitMs(
    retryAfterMs: number | undefined,
    attempt: number,
    policy: RetryPolicy,
    random: () => number = Math.random,
): number {
    return Math.max(retryAfterMs ?? 0, backoffDelayMs(attempt, policy, random));
}

/** Whether an outcome is worth another try, and how long the server asked to wait. */
export type Verdict = { retry: false } | { retry: true; retryAfterMs?: number };

export interface RetryHooks<T> {
    sleep?: Sleep;
    random?: () => number;
    /** Before each wait: to log it, or to release what the outcome holds. */
    beforeRetry?: (outcome: T, attempt: number, delayMs: number) => void | Promise<void>;
}

/** Calls `call` until `judge` finds the outcome final or the attempts are spent, and gives the last outcome back. */
export async function withRetries<T>(
    policy: RetryPolicy,
    call: () => Promise<T>,
    judge: (outcome: T) => Verdict | Promise<Verdict>,
    hooks: RetryHooks<T> = {},
): Promise<T> {
    for (let attempt = 1; ; attempt++) {
        const outcome = await call();
        const verdict = await judge(outcome);
        if (!verdict.retry || attempt >= policy.attempts || (verdict.retryAfterMs ?? 0) > policy.retryAfterCapMs) {
            return outcome;
        }
        const delayMs = retryWaitMs(verdict.retryAfterMs, attempt, policy, hooks.random);
        await hooks.beforeRetry?.(outcome, attempt, delayMs);
        await (hooks.sleep ?? sleep)(delayMs);
    }
}

/** What one look found: done with a value, or not yet (with the server's Retry-After, if it sent one). */
export type Look<T> = { done: true; value: T } | { done: false; retryAfterMs?: number };

/**
 * Looks at once, then again after each backoff wait (or the server's longer Retry-After), until `look`
 * is done or the next look would come after the bound. Gives the last look back.
 */
export async function pollUntil<T>(
    policy: PollPolicy,
    look: () => Promise<Look<T>>,
    hooks: { sleep?: Sleep; random?: () => number } = {},
): Promise<Look<T>> {
    const deadline = Date.now() + policy.timeoutMs;
    const bounds = { baseDelayMs: policy.firstDelayMs, maxDelayMs: policy.maxDelayMs };
    for (let attempt = 1; ; attempt++) {
        const outcome = await look();
        if (outcome.done) {
            return outcome;
        }
        const delayMs = Math.max(outcome.retryAfterMs ?? 0, backoffDelayMs(attempt, bounds, hooks.random));
        if (Date.now() + delayMs > deadline) {
            return outcome;
        }
        await (hooks.sleep ?? sleep)(delayMs);
    }
}
