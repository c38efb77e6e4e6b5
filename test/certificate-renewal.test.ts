import { describe, expect, it } from "vitest";
import { isRenewalDue, renewalDueAt, renewalPolicyProblems } from "../components/certificate/renewal";
import type { RenewalPolicy } from "../components/certificate/types";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const issued = new Date("2026-06-01T00:00:00Z");
const after = (ms: number): Date => new Date(issued.getTime() + ms);
const oneThird: RenewalPolicy = { remainingFraction: 1 / 3, useAri: true };

describe("renewalDueAt", () => {
    it.each([
        ["90-day", 90 * DAY, 60 * DAY],
        ["64-day", 64 * DAY, (64 * DAY * 2) / 3],
        ["45-day", 45 * DAY, 30 * DAY],
        ["160-hour", 160 * HOUR, (160 * HOUR * 2) / 3],
    ])("renews a %s certificate when a third of its lifetime remains", (_label, lifetime, dueAfter) => {
        expect(renewalDueAt(issued, after(lifetime), oneThird).getTime()).toBeCloseTo(after(dueAfter).getTime(), -1);
    });

    it("lets minDaysRemaining win when it comes first", () => {
        // 90-day cert: 1/3 says day 60, 45 days remaining says day 45.
        expect(renewalDueAt(issued, after(90 * DAY), { ...oneThird, minDaysRemaining: 45 })).toEqual(after(45 * DAY));
    });

    it("keeps the fraction rule when minDaysRemaining comes later", () => {
        // 45-day cert: 1/3 says day 30 (15 left); 10 days remaining would be day 35.
        expect(renewalDueAt(issued, after(45 * DAY), { ...oneThird, minDaysRemaining: 10 })).toEqual(after(30 * DAY));
    });

    it("ignores a minDaysRemaining as long as the lifetime, which would renew on every run", () => {
        // 160-hour certificate with the manual procedure's 30 days: the relative rule alone decides.
        expect(renewalDueAt(issued, after(160 * HOUR), { ...oneThird, minDaysRemaining: 30 }).getTime()).toBeCloseTo(
            after((160 * HOUR * 2) / 3).getTime(),
            -1,
        );
        // 3 days on the same certificate still leaves it half its lifetime, and still comes first.
        expect(renewalDueAt(issued, after(160 * HOUR), { ...oneThird, minDaysRemaining: 3 })).toEqual(after(160 * HOUR - 3 * DAY));
    });

    it("ignores a minDaysRemaining that would make the certificate due before half its lifetime", () => {
        // 30 days on a 31-day certificate would renew it a day after issuance, on nearly every run.
        expect(renewalDueAt(issued, after(31 * DAY), { ...oneThird, minDaysRemaining: 30 }).getTime()).toBeCloseTo(
            after((31 * DAY * 2) / 3).getTime(),
            -1,
        );
        // 6 days on a 160-hour certificate would renew it 16 hours after issuance.
        expect(renewalDueAt(issued, after(160 * HOUR), { ...oneThird, minDaysRemaining: 6 }).getTime()).toBeCloseTo(
            after((160 * HOUR * 2) / 3).getTime(),
            -1,
        );
        // 31 days on a 60-day certificate: day 29, just before half; 30 days: day 30, exactly half, still honoured.
        expect(renewalDueAt(issued, after(60 * DAY), { ...oneThird, minDaysRemaining: 31 })).toEqual(after(40 * DAY));
        expect(renewalDueAt(issued, after(60 * DAY), { ...oneThird, minDaysRemaining: 30 })).toEqual(after(30 * DAY));
    });

    it("keeps the manual procedure's 30 days on 64-day certificates: day 34, past half the lifetime", () => {
        expect(renewalDueAt(issued, after(64 * DAY), { ...oneThird, minDaysRemaining: 30 })).toEqual(after(34 * DAY));
    });

    it("reproduces the manual procedure's 30-days-before-expiry rule for a 90-day certificate", () => {
        expect(renewalDueAt(issued, after(90 * DAY), { remainingFraction: 0.25, minDaysRemaining: 30, useAri: false })).toEqual(
            after(60 * DAY),
        );
    });
});

describe("isRenewalDue", () => {
    const dueAt = after(60 * DAY);
    it("is false before and true from the due time on", () => {
        const schedule = { renewalDueAt: dueAt.toISOString() };
        expect(isRenewalDue(schedule, new Date(dueAt.getTime() - 1))).toBe(false);
        expect(isRenewalDue(schedule, dueAt)).toBe(true);
        expect(isRenewalDue(schedule, new Date(dueAt.getTime() + 1))).toBe(true);
    });

    it("lets the CA's ARI time bring renewal forward", () => {
        const schedule = { renewalDueAt: dueAt.toISOString(), ariRenewalAt: after(10 * DAY).toISOString() };
        expect(isRenewalDue(schedule, after(9 * DAY))).toBe(false);
        expect(isRenewalDue(schedule, after(10 * DAY))).toBe(true);
    });

    it("never lets a later ARI time postpone the renewal rule", () => {
        const schedule = { renewalDueAt: dueAt.toISOString(), ariRenewalAt: after(80 * DAY).toISOString() };
        expect(isRenewalDue(schedule, after(61 * DAY))).toBe(true);
    });

    it("treats a time that does not parse as due", () => {
        expect(isRenewalDue({ renewalDueAt: "not a date" }, issued)).toBe(true);
    });
});

describe("renewalPolicyProblems", () => {
    it("accepts the recommended policy and the manual procedure's 30 days", () => {
        expect(renewalPolicyProblems(oneThird)).toEqual([]);
        expect(renewalPolicyProblems({ ...oneThird, minDaysRemaining: 30 })).toEqual([]);
    });

    it.each([0, -0.1, 0.51, 1, Number.NaN])("rejects remainingFraction %s", (remainingFraction) => {
        const problems = renewalPolicyProblems({ ...oneThird, remainingFraction });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toContain("remainingFraction");
        expect(problems[0]).toContain(String(remainingFraction));
    });

    it("accepts remainingFraction 0.5 exactly", () => {
        expect(renewalPolicyProblems({ ...oneThird, remainingFraction: 0.5 })).toEqual([]);
    });

    it.each([0, 61, 2.5, -3])("rejects minDaysRemaining %s", (minDaysRemaining) => {
        const problems = renewalPolicyProblems({ ...oneThird, minDaysRemaining });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/minDaysRemaining must be a whole number of days from 1 to 60, got/);
    });

    it("reports every problem at once", () => {
        expect(renewalPolicyProblems({ remainingFraction: 2, minDaysRemaining: 0, useAri: true })).toHaveLength(2);
    });
});
