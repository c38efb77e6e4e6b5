/**
 * The project's policy pack (`policy/`) under the real CLI, `--policy-pack policy` on the suite's program.
 * The CLI built here has no Node.js language host, so it starts the pack through its fallback plugin
 * `pulumi-analyzer-policy-nodejs` (scripts/), which scripts/pulumi-cli.sh puts beside it.
 */
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as certificateModule from "../../components/certificate";
import { type CertificateWorld, type LoadBalancerSeed, startCertificateWorld } from "../certificate-provider-world";
import { callCounts, certificateProgram, NO_CALLS, since } from "./support/certificateStack";
import { changes, type Engine, REPOSITORY, startEngine } from "./support/engine";

const POLICY_PACK = path.join(REPOSITORY, "policy");

let world: CertificateWorld;
let engine: Engine;
let lb: LoadBalancerSeed;

beforeAll(async () => {
    world = await startCertificateWorld();
    engine = await startEngine(world.env);
    lb = world.seedLoadBalancer();
});

afterAll(async () => {
    await Promise.all([world?.stop(), engine?.remove()]);
});

async function stackWith(stackName: string, remainingFraction?: number): Promise<Stack> {
    const renewal = remainingFraction === undefined ? undefined : { remainingFraction };
    return engine.stack({
        projectName: "engine-policy",
        stackName,
        program: certificateProgram(certificateModule, world, lb, { renewal }),
    });
}

describe("the policy pack under the Pulumi CLI", () => {
    it("10. passes the suite's program, and the CLI reports the pack it ran", async () => {
        const before = callCounts(world);
        const preview = await (await stackWith("compliant")).preview({ policyPacks: [POLICY_PACK] });
        expect(changes(preview.changeSummary)).toEqual({ create: 3 });
        expect(preview.stdout).toMatch(/Policies:[\s\S]*scw-private-lb@v0\.1\.0/);
        expect(since(world, before)).toEqual(NO_CALLS);
    });

    it("10. stops a preview whose certificate renews too late, with the policy's message", async () => {
        const refused = await (await stackWith("late-renewal", 0.25)).preview({ policyPacks: [POLICY_PACK] }).then(
            (result) => `accepted:\n${result.stdout}`,
            (error: Error) => error.message,
        );
        expect(refused).toContain("acme-certificate-dns01-renewal");
        expect(refused).toContain("renewal.remainingFraction is 0.25: renew no later than when 1/3 of the lifetime remains");
    });
});
