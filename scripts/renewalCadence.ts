/**
 * Does a renewal schedule fit the certificates it renews? A certificate renews only when something runs
 * `pulumi up`, so the schedule must run at least daily and at least four times inside each certificate's
 * renewal window (from its renewal date to its expiry), or one failed or skipped run leaves it expired.
 * The window comes from the certificate's lifetime (its ACME profile, docs/lets-encrypt.md) and the
 * provider's own renewal rule (`renewalDueAt`). Pure functions; the cron expressions are read by croner.
 */
import { Cron } from "croner";
import { renewalDueAt } from "../components/certificate/renewal";
import type { RenewalPolicy } from "../components/certificate/types";
import { DEFAULT_RENEWAL, type LetsEncryptProfile } from "../components/certificate/validation";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The schedule must run at least this often, whatever the certificates. */
export const MAX_RUN_GAP_MS = DAY_MS;
/** Runs needed inside one renewal window: one failed or skipped run must still leave three chances. */
export const MIN_RUNS_PER_WINDOW = 4;

/**
 * The shortest lifetime Let's Encrypt has announced for each profile (docs/lets-encrypt.md): `classic`
 * goes from 90 to 64 days on 2027-02-10 and to 45 days on 2028-02-16, `tlsserver` is 45 days since
 * 2026-05-13, `shortlived` is 160 hours. A schedule that fits these keeps fitting as lifetimes shrink.
 */
export const PROFILE_LIFETIME_MS: Readonly<Record<string, number | undefined>> = {
    classic: 45 * DAY_MS,
    tlsserver: 45 * DAY_MS,
    shortlived: 160 * HOUR_MS,
} satisfies Record<LetsEncryptProfile, number>;
/** The profile a CA picks when the order names none. */
export const DEFAULT_PROFILE = "classic";

/** The renewal policy a stack's certificates get: the provider's defaults plus the stack's day floor. */
export function renewalPolicyOf(renewalMinDaysRemaining: number | undefined): RenewalPolicy {
    return { ...DEFAULT_RENEWAL, ...(renewalMinDaysRemaining !== undefined ? { minDaysRemaining: renewalMinDaysRemaining } : {}) };
}

/** From the renewal date to the expiry of a certificate of `lifetimeMs`, under `policy`. */
export function renewalWindowMs(lifetimeMs: number, policy: RenewalPolicy): number {
    const notBefore = new Date(0);
    const notAfter = new Date(lifetimeMs);
    return notAfter.getTime() - renewalDueAt(notBefore, notAfter, policy).getTime();
}

/** Why `pattern` is not a cron expression (5 fields, UTC, as GitHub Actions and cron read it), or undefined. */
export function cronProblem(pattern: string): string | undefined {
    try {
        new Cron(pattern, { timezone: "UTC", paused: true });
        return undefined;
    } catch (error) {
        return `"${pattern}" is not a cron expression: ${(error as Error).message}`;
    }
}

/**
 * The longest time between two runs of the schedule (several cron expressions run as one schedule), from
 * `from` (UTC, as GitHub Actions reads cron), the wait for the first run included. The horizon covers two
 * months of any length: enough to see every gap that matters here (anything over a day fails anyway).
 */
export function longestGapMs(crons: readonly string[], from: Date, horizonMs = 64 * DAY_MS): number {
    if (crons.length === 0) {
        return Number.POSITIVE_INFINITY;
    }
    const end = from.getTime() + horizonMs;
    const schedules = crons.map((pattern) => new Cron(pattern, { timezone: "UTC", paused: true }));
    let longest = 0;
    let previous = from.getTime();
    while (previous < end) {
        const next = Math.min(...schedules.map((schedule) => schedule.nextRun(new Date(previous))?.getTime() ?? Number.POSITIVE_INFINITY));
        longest = Math.max(longest, Math.min(next, end) - previous);
        if (!Number.isFinite(next)) {
            return Number.POSITIVE_INFINITY;
        }
        previous = next;
    }
    return longest;
}

export interface CertificateKind {
    /** Who has certificates of this kind, e.g. `stack prod`. */
    holder: string;
    /** ACME profile; the CA's default when absent. */
    profile?: string;
    renewalMinDaysRemaining?: number;
}

export interface CadenceVerdict {
    /** The schedule is too sparse: the check fails. */
    problems: string[];
    /** What could not be judged (a profile of unknown lifetime). */
    warnings: string[];
    longestGapMs: number;
}

/** A span as a person reads it: `6 h`, `13.3 h`, `7 days`. */
export function hours(ms: number): string {
    return ms >= 7 * DAY_MS ? `${+(ms / DAY_MS).toFixed(1)} days` : `${+(ms / HOUR_MS).toFixed(1)} h`;
}

/** Judges the schedule `crons` against the certificates it must keep renewed. */
export function checkRenewalCadence(crons: readonly string[], certificates: readonly CertificateKind[], from: Date): CadenceVerdict {
    const gap = longestGapMs(crons, from);
    const problems: string[] = [];
    const warnings: string[] = [];
    if (crons.length === 0) {
        problems.push("the renewal workflow has no schedule: certificates renew only when `pulumi up` runs");
    } else if (gap > MAX_RUN_GAP_MS) {
        problems.push(`the renewal schedule (${crons.join(", ")}) leaves up to ${hours(gap)} between runs: run it at least daily`);
    }
    for (const certificate of certificates) {
        const profile = certificate.profile ?? DEFAULT_PROFILE;
        const lifetime = PROFILE_LIFETIME_MS[profile];
        if (lifetime === undefined) {
            warnings.push(
                `${certificate.holder}: the lifetime of ACME profile "${profile}" is unknown, so the schedule cannot be judged for it (known: ${Object.keys(PROFILE_LIFETIME_MS).join(", ")})`,
            );
            continue;
        }
        const window = renewalWindowMs(lifetime, renewalPolicyOf(certificate.renewalMinDaysRemaining));
        const runs = window / gap;
        if (crons.length > 0 && runs < MIN_RUNS_PER_WINDOW) {
            problems.push(
                `${certificate.holder}: ${profile} certificates (${hours(lifetime)}) renew within their last ${hours(window)}, ` +
                    `but the schedule runs only ${runs.toFixed(1)} times in that window (longest gap ${hours(gap)}): ` +
                    `run it at least every ${hours(window / MIN_RUNS_PER_WINDOW)}`,
            );
        }
    }
    return { problems, warnings, longestGapMs: gap };
}
