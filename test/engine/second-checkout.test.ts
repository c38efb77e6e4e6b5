/**
 * State written from one checkout, then refreshed, renewed and destroyed from a second checkout at another
 * path, as when a teammate or CI runs the stack. The first checkout holds the project's files with this
 * checkout's node_modules linked, its program loaded from there, and is moved away once it has written the
 * state. The second is a copy of the tracked files installed by its own `npm ci --omit=dev` (no vitest, no
 * link to this checkout): the engine runs there, so its dynamic-provider process (the `@pulumi/pulumi` host
 * and the stored closures) must find the provider by package name in that checkout's node_modules, from the
 * consumer project inside it too, and after the source folder is renamed and the whole checkout moved.
 * An inline program runs in the test process and must share the Automation API's `@pulumi/pulumi` (a second
 * copy of the SDK, the second checkout's, left `up` hanging), so the program of the
 * second checkout is this checkout's component: the same sources, and a stored closure without any path.
 */
import { existsSync, realpathSync } from "node:fs";
import { rename } from "node:fs/promises";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CertificateWorld, type LoadBalancerSeed, startCertificateWorld } from "../certificate-provider-world";
import * as certificateModule from "../../components/certificate";
import { type CertificateModule, callCounts, certificateProgram, since } from "./support/certificateStack";
import { installedCheckout, linkedCheckout, storedCertificate, storedClosure } from "./support/checkouts";
import { changes, type Engine, REPOSITORY, startEngine } from "./support/engine";

const PROJECT = "engine-checkouts";
const STACK = "shared";
const PACKAGE = "@scw-private-lb/certificate-provider";
/** Short-lived certificates, so that the second checkout renews the first one's within the run. */
const LIFETIME_SECONDS = 60;

let world: CertificateWorld;
let engine: Engine;
let lb: LoadBalancerSeed;
let second: string;
const startDirectory = process.cwd();

/** The stack run from `directory`, with it as working directory. */
function stackFrom(directory: string, component: CertificateModule = certificateModule): Promise<Stack> {
    process.chdir(directory);
    return engine.stack({ projectName: PROJECT, stackName: STACK, program: certificateProgram(component, world, lb), workDir: directory });
}

/** The stored closure requires the package by name and holds no path of any checkout and no ts-node. */
function expectPackagedClosure(closure: string, checkouts: string[]): void {
    expect(closure).toContain(`require("${PACKAGE}/v1")`);
    for (const directory of [...checkouts, REPOSITORY, engine.root]) {
        expect(closure).not.toContain(directory);
    }
    expect(closure).not.toMatch(/ts-node|components\/certificate|node_modules|__dirname/);
}

beforeAll(async () => {
    world = await startCertificateWorld({ certificateValidityPeriodSeconds: LIFETIME_SECONDS });
    engine = await startEngine(world.env);
    lb = world.seedLoadBalancer("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443");
    second = path.join(engine.root, "ci-runner");
    await installedCheckout(second);
}, 300_000);

afterAll(async () => {
    process.chdir(startDirectory);
    await Promise.all([world?.stop(), engine?.remove()]);
});

describe("a stack run from two checkouts", () => {
    let first: string;
    let issued: { certificateId: string; renewalDueAt: number };

    it("8. the first checkout's up stores a provider that requires the package by name, with no path of that checkout", async () => {
        first = await linkedCheckout(engine, "alice");
        const component = (await import(path.join(first, "components", "certificate", "index.ts"))) as CertificateModule;
        const up = await (await stackFrom(first, component)).up();
        expect(changes(up.summary.resourceChanges)).toEqual({ create: 3 });
        issued = {
            certificateId: up.outputs.certificateId.value as string,
            renewalDueAt: Date.parse(up.outputs.renewalDueAt.value as string),
        };
        expectPackagedClosure(storedClosure(await storedCertificate(engine, STACK, first)), [first]);
        await rename(first, path.join(engine.root, "alice-moved-away"));
    });

    it("8. the second checkout, installed without dev dependencies, refreshes it with the package built in its own node_modules", async () => {
        expect(existsSync(path.join(second, "node_modules", "vitest"))).toBe(false);
        expect(realpathSync(path.join(second, "node_modules", PACKAGE))).toBe(path.join(second, "packages", "certificate-provider"));
        const stack = await stackFrom(second);

        // Without the second checkout's build the engine's provider cannot run: it resolves nothing elsewhere.
        const dist = path.join(second, "packages", "certificate-provider", "dist");
        await rename(dist, `${dist}-hidden`);
        try {
            await expect(stack.refresh()).rejects.toThrow(`certificate provider: cannot load ${PACKAGE}/v1 from ${second} (`);
        } finally {
            await rename(`${dist}-hidden`, dist);
        }

        const before = callCounts(world);
        const refreshed = await stack.refresh();
        expect(changes(refreshed.summary.resourceChanges)).toEqual({ same: 3 });
        expect(since(world, before)).toMatchObject({ scalewayWrites: 0, cloudflare: 0 });
        expect(since(world, before).scaleway).toBeGreaterThan(0); // the provider ran, from the second checkout
        expect(world.certificatesOn(lb)).toEqual([issued.certificateId]);
    });

    it("8. the consumer project inside the second checkout stores no path to the component and runs up and destroy", async () => {
        const consumerDir = path.join(second, "examples", "consumer");
        expect(existsSync(path.join(consumerDir, "node_modules"))).toBe(false); // it resolves from the checkout's root
        const consumerLb = world.seedLoadBalancer();
        process.chdir(consumerDir);
        const consumer = await engine.stack({
            projectName: "scw-private-lb-consumer",
            stackName: "consumer",
            program: certificateProgram(certificateModule, world, consumerLb),
            workDir: consumerDir,
            ownProjectFile: true,
            ownNodeModules: true,
        });
        // Keys the consumer's Pulumi.yaml declares without a default; this program reads none of them.
        await consumer.setAllConfig({
            acmeEmail: { value: "ops@example.com" },
            entranceStack: { value: "organization/scw-private-lb/shared" },
            shareLoadBalancerWith: { value: "admin" },
        });
        let before = callCounts(world);
        const up = await consumer.up();
        expect(changes(up.summary.resourceChanges)).toEqual({ create: 3 });
        expect(since(world, before)).toMatchObject({ scalewayWrites: 1, cloudflareWrites: 2 });
        expect(world.certificatesOn(consumerLb)).toEqual([up.outputs.certificateId.value]);
        const closure = storedClosure(await storedCertificate(engine, "consumer", consumerDir));
        expect(closure).not.toContain("../../components");
        expectPackagedClosure(closure, [second]);

        before = callCounts(world);
        const destroyed = await consumer.destroy();
        expect(changes(destroyed.summary.resourceChanges)).toEqual({ delete: 3 });
        expect(since(world, before)).toMatchObject({ scalewayWrites: 1, ca: 0 });
        expect(world.certificatesOn(consumerLb)).toEqual([]);
    });

    it("8. the second checkout renews the first one's certificate: created by its program, the predecessor deleted by the stored closure", async () => {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, issued.renewalDueAt - Date.now() + 1_000)));
        const stack = await stackFrom(second);
        const before = callCounts(world);
        const renewed = await stack.up();
        expect(changes(renewed.summary.resourceChanges)).toEqual({ replace: 1, same: 2 });
        expect(since(world, before).ca).toBeGreaterThan(0);
        const successor = renewed.outputs.certificateId.value as string;
        expect(successor).not.toBe(issued.certificateId);
        expect(world.certificatesOn(lb)).toEqual([successor]);
        expect(world.txtRecords()).toEqual([]);
        expectPackagedClosure(storedClosure(await storedCertificate(engine, STACK, second)), [second]);
    });

    it("8. after the source folder is renamed and the checkout moved, refresh and destroy still work", async () => {
        await rename(path.join(second, "components"), path.join(second, "certificate-sources"));
        const moved = path.join(engine.root, "ci-runner-moved");
        await rename(second, moved);
        const stack = await stackFrom(moved);

        let before = callCounts(world);
        const refreshed = await stack.refresh();
        expect(changes(refreshed.summary.resourceChanges)).toEqual({ same: 3 });
        expect(since(world, before).scaleway).toBeGreaterThan(0);

        before = callCounts(world);
        const destroyed = await stack.destroy();
        expect(changes(destroyed.summary.resourceChanges)).toEqual({ delete: 3 });
        expect(since(world, before)).toMatchObject({ scalewayWrites: 1, cloudflareWrites: 0, ca: 0 });
        expect(world.certificatesOn(lb)).toEqual([]);
    });
});
