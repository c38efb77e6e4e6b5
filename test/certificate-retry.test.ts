/** The one retry and poll module: Retry-After, the capped jittered backoff, retries, polls. */
import { describe, expect, it } from "vitest";
import { backoffDelayMs, parseRetryAfterMs, pollUntil, type RetryPolicy, retryWaitMs, withRetries } from "../components/certificate/retry";

const policy: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, retryAfterCapMs: 5_000 };

describe("parseRetryAfterMs", () => {
    const now = Date.parse("2026-07-01T00:00:00Z");
    it.each([
        ["120", 120_000],
        [" 0 ", 0],
        ["Wed, 01 Jul 2026 00:10:00 GMT", 600_000],
        ["Tue, 30 Jun 2026 00:00:00 GMT", 0],
        ["soon", undefined],
        ["", undefined],
        [undefined, undefined],
        [null, undefined],
    ])("reads %j as %j ms", (header, expected) => {
        expect(parseRetryAfterMs(header, now)).toBe(expected);
    });
});

describe("backoffDelayMs", () => {
    it("doubles a ceiling per attempt up to the cap, and takes a random half to all of it", () => {
        expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, policy, () => 1))).toEqual([100, 200, 400, 800, 1_000]);
        expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, policy, () => 0))).toEqual([50, 100, 200, 400, 500]);
        expect(backoffDelayMs(3, policy, () => 0.5)).toBe(300);
    });
});

describe("retryWaitMs", () => {
    it("waits the server's Retry-After or the backoff, whichever is longer", () => {
        expect(retryWaitMs(2_000, 1, policy)).toBe(2_000);
        expect(retryWaitMs(50, 3, policy, () => 1)).toBe(400);
        expect(retryWaitMs(undefined, 2, policy, () => 1)).toBe(200);
    });
});

describe("withRetries", () => {
    it("tries again while the verdict says so, waiting what the server asked or the backoff", async () => {
        const outcomes = [503, 429, 200];
        const waits: number[] = [];
        const released: number[] = [];
        const result = await withRetries(
            policy,
            () => Promise.resolve(outcomes.shift() as number),
            (status) => (status === 200 ? { retry: false } : { retry: true, retryAfterMs: status === 429 ? 1_000 : undefined }),
            { sleep: (ms) => Promise.resolve(void waits.push(ms)), random: () => 1, beforeRetry: (status) => void released.push(status) },
        );
        expect(result).toBe(200);
        expect(waits).toEqual([100, 1_000]);
        expect(released).toEqual([503, 429]);
    });

    it("does not try again early when the server asks for a longer wait than the cap: its answer stands", async () => {
        const waits: number[] = [];
        let calls = 0;
        const result = await withRetries(
            policy,
            () => Promise.resolve(++calls),
            () => ({ retry: true, retryAfterMs: 120_000 }),
            { sleep: (ms) => Promise.resolve(void waits.push(ms)) },
        );
        expect([result, calls, waits]).toEqual([1, 1, []]);
    });

    it("gives the last outcome back once the attempts are spent", async () => {
        let calls = 0;
        const result = await withRetries(
            policy,
            () => Promise.resolve(++calls),
            () => ({ retry: true }),
            { sleep: () => Promise.resolve() },
        );
        expect(result).toBe(policy.attempts);
        expect(calls).toBe(policy.attempts);
    });
});

describe("pollUntil", () => {
    it("looks at once, then after each backoff wait, and a Retry-After longer than the backoff wins", async () => {
        const looks = [{ done: false as const }, { done: false as const, retryAfterMs: 3_000 }, { done: true as const, value: "ready" }];
        const waits: number[] = [];
        const outcome = await pollUntil(
            { timeoutMs: 60_000, firstDelayMs: 50, maxDelayMs: 1_000 },
            () => Promise.resolve(looks.shift() as (typeof looks)[number]),
            {
                sleep: (ms) => Promise.resolve(void waits.push(ms)),
                random: () => 1,
            },
        );
        expect(outcome).toEqual({ done: true, value: "ready" });
        expect(waits).toEqual([50, 3_000]);
    });

    it("stops with the last look when the next one would come after the bound", async () => {
        let looks = 0;
        const outcome = await pollUntil(
            { timeoutMs: 120, firstDelayMs: 50, maxDelayMs: 1_000 },
            () => {
                looks += 1;
                return Promise.resolve({ done: false });
            },
            { random: () => 1 },
        );
        expect(outcome).toEqual({ done: false });
        expect(looks).toBe(2);
    });
});
