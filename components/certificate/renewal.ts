import type { RenewalPolicy } from "./types";

const MS_PER_DAY = 86_400_000;

export const REMAINING_FRACTION_MAX = 0.5;
export const MIN_DAYS_REMAINING_RANGE = { min: 1, max: 60 } as const;

/**
 * When a certificate valid from `notBefore` to `notAfter` becomes due for renewal: the earlier of
 * "at most `remainingFraction` of the lifetime remains" and "fewer than `minDaysRemaining` days remain".
 * Works from the certificate's own lifetime, so 90-day, 64-day, 45-day and 160-hour certificates all
 * renew at the same relative point instead of a fixed "30 days before expiry" that breaks short ones.
 *
 * The days floor is ignored when it would make the certificate due before half of its lifetime has
 * passed (more than `REMAINING_FRACTION_MAX` of it still remaining), which includes a floor as long as
 * the whole lifetime. Such a floor was meant for longer certificates (the manual procedure's 30 days, docs/manual-procedure.md, on a 31-day or
 * a 160-hour one) and would re-issue on nearly every `up`: the relative rule alone decides then. A floor
 * that lands exactly at half the lifetime is honoured.
 */
export function renewalDueAt(notBefore: Date, notAfter: Date, policy: RenewalPolicy): Date {
    const lifetimeMs = notAfter.getTime() - notBefore.getTime();
    const byFraction = notAfter.getTime() - policy.remainingFraction * lifetimeMs;
    if (policy.minDaysRemaining === undefined) {
        return new Date(byFraction);
    }
    const byDays = notAfter.getTime() - policy.minDaysRemaining * MS_PER_DAY;
    const earliest = notAfter.getTime() - REMAINING_FRACTION_MAX * lifetimeMs;
    return new Date(byDays < earliest ? byFraction : Math.min(byFraction, byDays));
}

/** The renewal times a stored certificate carries (a subset of `CertificateOutputs`). */
export interface RenewalSchedule {
    renewalDueAt: string;
    ariRenewalAt?: string;
}

/**
 * Whether the certificate should be renewed at `now`. The CA's ARI time can only bring a renewal
 * forward (e.g. ahead of a mass revocation), never postpone our own rule. A time that does not parse
 * counts as due: renewing early is cheap, an expired certificate on the admin entrance is not.
 */
export function isRenewalDue(schedule: RenewalSchedule, now: Date): boolean {
    const times = [schedule.renewalDueAt, schedule.ariRenewalAt].filter((t): t is string => t !== undefined);
    return times.some((time) => {
        const at = Date.parse(time);
        return Number.isNaN(at) || now.getTime() >= at;
    });
}

/**
 * Problems with a renewal policy, as messages for the user (empty when the policy is fine). A
 * `minDaysRemaining` too long for the certificate is not one: `renewalDueAt` ignores it.
 */
export function renewalPolicyProblems(policy: RenewalPolicy): string[] {
    const problems: string[] = [];
    const { remainingFraction, minDaysRemaining } = policy;
    if (!Number.isFinite(remainingFraction) || remainingFraction <= 0 || remainingFraction > REMAINING_FRACTION_MAX) {
        problems.push(
            `renewal.remainingFraction must be greater than 0 and at most ${REMAINING_FRACTION_MAX} ` +
                `(Let's Encrypt recommends 1/3), got ${remainingFraction}`,
        );
    }
    if (minDaysRemaining !== undefined) {
        const { min, max } = MIN_DAYS_REMAINING_RANGE;
        if (!Number.isInteger(minDaysRemaining) || minDaysRemaining < min || minDaysRemaining > max) {
            problems.push(`renewal.minDaysRemaining must be a whole number of days from ${min} to ${max}, got ${minDaysRemaining}`);
        }
    }
    return problems;
}
