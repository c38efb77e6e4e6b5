/**
 * The project's own stack files (Pulumi.<stack>.yaml) are the user's: they edit them on day one (their
 * domains, networks, apps). So they only get the checks that hold for any valid stack, whatever its
 * content: it validates and holds no secret, the program runs with it, every app is reachable (an A
 * record in each of its environments pointing at its LB's private IP there, its Service on its LB),
 * nothing is proxied, and the policy pack passes. Every Pulumi.<stack>.yaml is checked, including new ones.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { appPlans, stackConfigFromPulumi } from "../components/config";
import { appFqdn } from "../components/naming";
import { checkInputs } from "../components/certificate/validation";
import { ENTRANCE_POLICIES, RESOURCE_TYPES } from "../policy/policies";
import { availableStacks, projectRoot, pulumiConfigOf } from "../scripts/stackConfig";
import { allRegistered, installMocks, valueOf } from "./support/pulumiMocks";
import type { Program } from "./support/program";

const stacks = availableStacks();

it("the project has stack files to check", () => {
    expect(stacks.length).toBeGreaterThan(0);
});

describe.each(stacks)("Pulumi.%s.yaml", (stack) => {
    it("validates, holds no secret, and runs: every app reachable, nothing proxied, every policy met", async () => {
        const text = readFileSync(join(projectRoot, `Pulumi.${stack}.yaml`), "utf8");
        // The user's own stack file: read, not trusted.
        const values = z.object({ config: z.record(z.string(), z.unknown()) }).parse(parse(text)).config;
        expect(Object.keys(values).join(" ")).not.toMatch(/secretKey|accessKey|apiToken|passphrase/i);
        expect(JSON.stringify(values)).not.toMatch(/"secure"|SCW[A-Z0-9]{17}/);
        const config = stackConfigFromPulumi(pulumiConfigOf(stack));

        // One run of the program per stack file, in this process.
        vi.resetModules();
        const world = await installMocks({ stack, config: pulumiConfigOf(stack) });
        const program: Program = await import("../index");
        await allRegistered();

        const loadBalancers = await valueOf(program.loadBalancers);
        const records = world.byType(RESOURCE_TYPES.dnsRecord).map((record) => record.inputs);
        for (const plan of appPlans(config)) {
            const lb = loadBalancers[plan.app.name];
            expect(lb.name).toBe(plan.loadBalancer.name);
            for (const env of plan.environments) {
                const fqdn = appFqdn(plan.app.name, config.environments[env].domain);
                expect({ fqdn, content: records.find((record) => record.name === fqdn)?.content }).toEqual({
                    fqdn,
                    content: lb.privateIps[env],
                });
            }
            const service = world
                .byType(RESOURCE_TYPES.service)
                .find(
                    (candidate) =>
                        (candidate.inputs.metadata as { namespace: string }).namespace === plan.app.namespace &&
                        candidate.name === plan.app.name,
                );
            expect(
                (service?.inputs.metadata as { annotations: Record<string, string> }).annotations[
                    "service.beta.kubernetes.io/scw-loadbalancer-id"
                ],
            ).toBe(lb.id);
        }
        expect(records.length).toBeGreaterThan(0);
        expect(records.filter((record) => record.proxied !== false)).toEqual([]);

        const violations = world.resources.flatMap((resource) => {
            const props = resource.type === RESOURCE_TYPES.certificate ? checkInputs(resource.inputs).inputs : resource.inputs;
            return ENTRANCE_POLICIES.flatMap((policy) =>
                policy.validate(resource.type, props, {}).map((message) => `${policy.name} on ${resource.name}: ${message}`),
            );
        });
        expect(violations).toEqual([]);
    });
});
