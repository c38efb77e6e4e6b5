/**
 * What the engine runs is not this module but the text Pulumi serializes from the provider object.
 * Serialize it the way `pulumi.dynamic.Resource` does, load the text in a fresh plain `node` process
 * the way the engine's dynamic-provider host does (require-from-string, then `.handler()`, then
 * `configure` with the stack config), and issue, refresh and delete a certificate through it.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCertificateProvider } from "../components/certificate/provider";
import type { CertificateOutputs } from "../components/certificate/types";
import { type CertificateWorld, startCertificateWorld } from "./certificate-provider-world";

const run = promisify(execFile);
const projectDir = path.resolve(__dirname, "..");

/** The engine's steps, in plain JavaScript: nothing from this repository is preloaded. */
const DRIVER = `
const fs = require("node:fs");
const requireFromString = require(require.resolve("require-from-string", { paths: [process.cwd()] }));
const [providerFile, operation, argumentFile] = process.argv.slice(2);
const argument = JSON.parse(fs.readFileSync(argumentFile, "utf8"));
const config = JSON.parse(process.env.DRIVER_STACK_CONFIG);
(async () => {
    const provider = requireFromString(fs.readFileSync(providerFile, "utf8")).handler();
    await provider.configure({ config: { get: (key) => config[key], require: (key) => config[key] } });
    let result;
    if (operation === "create") {
        const checked = await provider.check({}, argument);
        if (checked.failures && checked.failures.length > 0) throw new Error(JSON.stringify(checked.failures));
        const created = await provider.create(checked.inputs);
        const refreshed = await provider.read(created.id, created.outs);
        result = { created, refreshed, tsLoaderRegistered: require.extensions[".ts"] !== undefined };
    } else {
        await provider.delete(argument.id, argument.props);
        result = { deleted: argument.id };
    }
    process.stdout.write(JSON.stringify(result));
})().catch((error) => {
    process.stderr.write(String(error && error.message));
    process.exit(1);
});
`;

let world: CertificateWorld;
let workDir: string;
let providerFile: string;
let serializedText: string;

beforeAll(async () => {
    world = await startCertificateWorld();
    workDir = await mkdtemp(path.join(tmpdir(), "certificate-serialization-"));
    const provider = createCertificateProvider();
    // As @pulumi/pulumi/dynamic serializeProvider does.
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    serializedText = serialized.text;
    providerFile = path.join(workDir, "provider.js");
    await writeFile(providerFile, serializedText);
    await writeFile(path.join(workDir, "driver.js"), DRIVER);
}, 60_000);

afterAll(async () => {
    await world?.stop();
    if (workDir) {
        await rm(workDir, { recursive: true, force: true });
    }
});

async function engine(operation: "create" | "delete", argument: unknown): Promise<Record<string, unknown>> {
    const argumentFile = path.join(workDir, `${operation}.json`);
    await writeFile(argumentFile, JSON.stringify(argument));
    // Scaleway keys come through the stack config (configure), the rest through the environment.
    const { SCW_ACCESS_KEY, SCW_SECRET_KEY, ...environment } = world.env;
    const { stdout } = await run(process.execPath, [path.join(workDir, "driver.js"), providerFile, operation, argumentFile], {
        cwd: projectDir,
        env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            ...environment,
            DRIVER_STACK_CONFIG: JSON.stringify({ "scaleway:accessKey": SCW_ACCESS_KEY, "scaleway:secretKey": SCW_SECRET_KEY }),
        },
        timeout: 90_000,
    });
    return JSON.parse(stdout) as Record<string, unknown>;
}

describe("the serialized provider", () => {
    it("carries no library code, no absolute module paths of dependencies and no credentials", () => {
        expect(serializedText).toContain("loadCertificateModule");
        expect(serializedText).not.toMatch(/require\("[^"]*node_modules/);
        expect(serializedText).not.toMatch(/@scaleway|acme-client|cloudflare"/);
        for (const value of Object.values(world.env)) {
            expect(serializedText).not.toContain(value);
        }
    });

    it("issues, refreshes and deletes a certificate from a fresh node process", async () => {
        const lb = world.seedLoadBalancer();
        const { created, refreshed, tsLoaderRegistered } = (await engine("create", world.inputs(lb, { binding: { mode: "frontend" } }))) as {
            created: { id: string; outs: CertificateOutputs };
            refreshed: { id: string; props: CertificateOutputs };
            tsLoaderRegistered: boolean;
        };
        expect(tsLoaderRegistered).toBe(true);
        expect(created.id).toBe(created.outs.certificateId);
        expect(created.outs.bindingStatus).toBe("bound");
        expect(refreshed).toEqual({ id: created.id, props: created.outs });
        expect(world.certificatesOn(lb)).toEqual([created.id]);
        expect(world.frontendCertificates(lb)).toEqual([created.id]);
        expect(world.txtRecords()).toEqual([]);

        // Deletes run the closure stored in the old state, in a later process; in frontend mode they unbind first.
        expect(await engine("delete", { id: created.id, props: created.outs })).toEqual({ deleted: created.id });
        expect(world.certificatesOn(lb)).toEqual([]);
        expect(world.frontendCertificates(lb)).toEqual([]);
    });
});
