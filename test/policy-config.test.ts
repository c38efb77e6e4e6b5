/**
 * The policy configurations the README passes with `--policy-pack-config` ship with the pack, and each
 * is one the pack accepts: known rules, enforcement levels CrossGuard knows, properties of the rule's
 * config schema, LB offers the program knows.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LB_TYPES } from "../components/config";
import { ENTRANCE_POLICIES, toResourceValidationPolicy } from "../policy/policies";
import { projectRoot } from "../scripts/stackConfig";

const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "remediate", "disabled"];
const readme = readFileSync(join(projectRoot, "README.md"), "utf8");

/** Why a `--policy-pack-config` document does not fit the pack (empty when it does). */
function configProblems(document: Record<string, unknown>): string[] {
    const problems: string[] = [];
    for (const [rule, value] of Object.entries(document)) {
        const policy = ENTRANCE_POLICIES.find((candidate) => candidate.name === rule);
        if (!policy) {
            problems.push(`${rule}: no such rule`);
            continue;
        }
        if (typeof value === "string") {
            if (!ENFORCEMENT_LEVELS.includes(value)) problems.push(`${rule}: unknown enforcement level ${value}`);
            continue;
        }
        const { enforcementLevel, ...properties } = value as Record<string, unknown>;
        if (enforcementLevel !== undefined && !(typeof enforcementLevel === "string" && ENFORCEMENT_LEVELS.includes(enforcementLevel)))
            problems.push(`${rule}: unknown enforcement level ${JSON.stringify(enforcementLevel)}`);
        const schema = toResourceValidationPolicy(policy).configSchema?.properties ?? {};
        for (const [property, setting] of Object.entries(properties)) {
            if (!(property in schema)) problems.push(`${rule}.${property}: not in the rule's config schema`);
            if (
                property === "allowedTypes" &&
                !(Array.isArray(setting) && setting.every((type) => (LB_TYPES as readonly string[]).includes(String(type))))
            ) {
                problems.push(`${rule}.allowedTypes: must list offers among ${LB_TYPES.join(", ")}`);
            }
        }
    }
    return problems;
}

describe("the policy configs the README uses", () => {
    const files = [...readme.matchAll(/--policy-pack-config ([^\s`]+)/g)].map((match) => match[1]);

    it("are shipped with the pack and named in the README", () => {
        expect(files).toEqual(expect.arrayContaining(["policy/policy-config.json", "policy/policy-config.migration.json"]));
    });

    it.each(["policy/policy-config.json", "policy/policy-config.migration.json"])("%s fits the pack's rules and schemas", (file) => {
        const document = JSON.parse(readFileSync(join(projectRoot, file), "utf8")) as Record<string, unknown>;
        expect(Object.keys(document).length).toBeGreaterThan(0);
        expect(configProblems(document)).toEqual([]);
    });

    it("shows in the README exactly the migration config it ships", () => {
        const shown = /policy\/policy-config\.migration\.json`:\n\n```json\n([\s\S]*?)```/.exec(readme)?.[1];
        expect(shown).toBeDefined();
        expect(JSON.parse(shown as string)).toEqual(
            JSON.parse(readFileSync(join(projectRoot, "policy", "policy-config.migration.json"), "utf8")),
        );
    });

    it("would refuse a misspelt rule, an unknown level and an unknown offer", () => {
        expect(
            configProblems({
                "private-loadbalancer": "advisory",
                "load-balancer-name": "warn",
                "private-load-balancer": { allowedTypes: ["LB-XXL"], types: [] },
            }),
        ).toEqual([
            "private-loadbalancer: no such rule",
            "load-balancer-name: unknown enforcement level warn",
            "private-load-balancer.allowedTypes: must list offers among LB-S, LB-GP-M, LB-GP-L, LB-GP-XL",
            "private-load-balancer.types: not in the rule's config schema",
        ]);
    });
});
