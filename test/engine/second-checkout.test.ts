/**
 * State written from one checkout, then refreshed, updated and destroyed from a second checkout at another
 * path, as when a teammate or CI runs the stack. Each checkout holds the project's files (the components and
 * the package files, its node_modules linked) and is the project folder the engine runs in; the program is
 * loaded from the checkout with the checkout as working directory, as `pulumi up` run there would. The first
 * checkout is moved away before the second one runs, so nothing can be read from its path.
 */
import { cp, rename } from "node:fs/promises";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CertificateWorld, type LoadBalancerSeed, startCertificateWorld } from "../certificate-provider-world";
import { type CertificateModule, callCounts, certificateProgram, NO_CALLS, since } from "./support/certificateStack";
import { changes, type Engine, linkNodeModules, REPOSITORY, startEngine } from "./support/engine";

const PROJECT = "engine-checkouts";
const STACK = "shared";
const CHECKOUT_FILES = ["components", "package.json", "tsconfig.json"];

let world: CertificateWorld;
let engine: Engine;
let lb: LoadBalancerSeed;
const startDirectory = process.cwd();

async function checkout(name: string): Promise<string> {
    const directory = path.join(engine.root, name);
    await Promise.all(CHECKOUT_FILES.map((file) => cp(path.join(REPOSITORY, file), path.join(directory, file), { recursive: true })));
    await linkNodeModules(directory);
    return directory;
}

/** The stack as seen from `directory`: the program loaded from there, with it as working directory. */
async function stackFrom(directory: string, email: string): Promise<Stack> {
    process.chdir(directory);
    const module = (await import(path.join(directory, "components", "certificate", "index.ts"))) as CertificateModule;
    const program = certificateProgram(module, world, lb, { email });
    return engine.stack({ projectName: PROJECT, stackName: STACK, program, workDir: directory });
}

beforeAll(async () => {
    world = await startCertificateWorld();
    engine = await startEngine(world.env);
    lb = world.seedLoadBalancer("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443");
});

afterAll(async () => {
    process.chdir(startDirectory);
    await Promise.all([world?.stop(), engine?.remove()]);
});

describe("a stack run from two checkouts", () => {
    it("8. state written from one checkout is refreshed, updated and destroyed from another at a different path", async () => {
        const first = await checkout("alice");
        const up = await (await stackFrom(first, "ops@example.com")).up();
        expect(changes(up.summary.resourceChanges)).toEqual({ create: 3 });
        const certificateId = up.outputs.certificateId.value as string;
        await rename(first, path.join(engine.root, "alice-moved-away"));

        const second = await checkout("ci");
        const stack = await stackFrom(second, "platform@example.com");
        let before = callCounts(world);
        const refreshed = await stack.refresh();
        expect(changes(refreshed.summary.resourceChanges)).toEqual({ same: 3 });
        expect(since(world, before).scaleway).toBeGreaterThan(0); // the provider ran, from the second checkout

        // A new contact address is an in-place update of the stored settings: no new certificate.
        before = callCounts(world);
        const updated = await stack.up();
        expect(changes(updated.summary.resourceChanges)).toEqual({ update: 1, same: 2 });
        expect(since(world, before)).toEqual(NO_CALLS);
        expect(updated.outputs.certificateId.value).toBe(certificateId);
        expect(world.certificatesOn(lb)).toEqual([certificateId]);

        before = callCounts(world);
        const destroyed = await stack.destroy();
        expect(changes(destroyed.summary.resourceChanges)).toEqual({ delete: 3 });
        expect(since(world, before).scalewayWrites).toBe(1);
        expect(world.certificatesOn(lb)).toEqual([]);
    });
});
