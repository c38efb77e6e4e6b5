/**
 * What the engine runs is not this module but the text Pulumi serializes from the provider object, in the
 * engine's dynamic-provider process, later, from whatever directory holds the project. Serialize it the
 * way `pulumi.dynamic.Resource` does, load the text in a fresh plain `node` process the way the engine's
 * dynamic-provider host does (require-from-string, then `.handler()`, then `configure` with the stack
 * config), and drive a certificate through it, from a checkout that is not this one:
 * - at another path, without `components/` (the source folder renamed away) and without any dev
 *   dependency: its `node_modules` holds only the lockfile's non-dev packages, and the provider package
 *   built by the install;
 * - with state written by the code before the provider was packaged (test/fixtures/), whose closure
 *   loads `components/certificate/provider` by path: refreshed, kept, renewed and destroyed.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCertificateProvider } from "../components/certificate/dynamicProvider";
import type { LifecycleOptions } from "../components/certificate/lifecycle";
import { buildScalewayCertificateChain } from "../components/certificate/pem";
import { createLoadBalancerCertificates } from "../components/certificate/scaleway";
import type { CertificateOutputs } from "../components/certificate/types";
import { type CertificateWorld, type LoadBalancerSeed, startCertificateWorld } from "./certificate-provider-world";

const run = promisify(execFile);
const projectDir = path.resolve(__dirname, "..");
const PACKAGE = "@scw-private-lb/certificate-provider";

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
    switch (operation) {
        case "check": result = await provider.check(argument.olds, argument.news); break;
        case "diff": result = await provider.diff(argument.id, argument.olds, argument.news); break;
        case "create": result = await provider.create(argument.inputs); break;
        case "read": result = await provider.read(argument.id, argument.props); break;
        case "delete": await provider.delete(argument.id, argument.props); result = { deleted: argument.id }; break;
        default: throw new Error("unknown operation " + operation);
    }
    const loaded = Object.keys(require.cache);
    process.stdout.write(JSON.stringify({ result, loaded, tsLoaderRegistered: require.extensions[".ts"] !== undefined }));
})().catch((error) => {
    process.stderr.write(String(error && error.message));
    process.exit(1);
});
`;

interface LockfilePackage {
    dev?: boolean;
    link?: boolean;
}

/**
 * A checkout elsewhere, as `npm ci --omit=dev` leaves it: the lockfile's top-level non-dev packages (linked
 * from this checkout's node_modules, not copied: 300 MB) and the provider package with its build. No
 * `components/`, no TypeScript sources. With `legacyShim`, the one file old state loads by path.
 */
function makeCheckout(directory: string, options: { legacyShim: boolean; built?: boolean }): void {
    const lock = JSON.parse(readFileSync(path.join(projectDir, "package-lock.json"), "utf8")) as {
        packages: Record<string, LockfilePackage>;
    };
    const packageDir = path.join(directory, "packages", "certificate-provider");
    mkdirSync(packageDir, { recursive: true });
    cpSync(path.join(projectDir, "packages", "certificate-provider", "package.json"), path.join(packageDir, "package.json"));
    if (options.built ?? true) {
        cpSync(path.join(projectDir, "packages", "certificate-provider", "dist"), path.join(packageDir, "dist"), { recursive: true });
    }
    for (const [key, entry] of Object.entries(lock.packages)) {
        const name = key.startsWith("node_modules/") ? key.slice("node_modules/".length) : undefined;
        if (name === undefined || name.includes("node_modules/") || entry.dev) {
            continue;
        }
        const link = path.join(directory, "node_modules", name);
        mkdirSync(path.dirname(link), { recursive: true });
        symlinkSync(name === PACKAGE ? packageDir : path.join(projectDir, "node_modules", name), link);
    }
    if (options.legacyShim) {
        mkdirSync(path.join(directory, "components", "certificate"), { recursive: true });
        cpSync(
            path.join(projectDir, "components", "certificate", "provider.js"),
            path.join(directory, "components", "certificate", "provider.js"),
        );
    }
}

let world: CertificateWorld;
let workDir: string;
let elsewhere: string;
let serializedText: string;

async function serialize(options: LifecycleOptions, file: string): Promise<string> {
    const provider = createCertificateProvider(options);
    // As @pulumi/pulumi/dynamic serializeProvider does.
    const { text } = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    await writeFile(path.join(workDir, file), text);
    return text;
}

beforeAll(async () => {
    world = await startCertificateWorld();
    workDir = await mkdtemp(path.join(tmpdir(), "certificate-serialization-"));
    serializedText = await serialize({}, "provider.js");
    // The renewal's clock, serialized with the provider like any option.
    await serialize({ now: () => new Date("2030-06-01T00:00:00Z") }, "provider-in-2030.js");
    await writeFile(path.join(workDir, "driver.js"), DRIVER);
    elsewhere = path.join(workDir, "another-checkout");
    makeCheckout(elsewhere, { legacyShim: true });
}, 60_000);

afterAll(async () => {
    await world?.stop();
    if (workDir) {
        await rm(workDir, { recursive: true, force: true });
    }
});

/** What `check` answers (the SDK's CheckResult types the inputs `any`). */
interface Checked {
    inputs: Record<string, unknown>;
    failures?: pulumi.dynamic.CheckFailure[];
}

interface EngineAnswer<T> {
    result: T;
    loaded: string[];
    tsLoaderRegistered: boolean;
}

async function engine<T>(providerFile: string, operation: string, argument: unknown, cwd: string = elsewhere): Promise<EngineAnswer<T>> {
    const argumentFile = path.join(workDir, `${operation}.json`);
    await writeFile(argumentFile, JSON.stringify(argument));
    // Scaleway keys come through the stack config (configure), the rest through the environment.
    const { SCW_ACCESS_KEY, SCW_SECRET_KEY, ...environment } = world.env;
    const { stdout } = await run(
        process.execPath,
        [path.join(workDir, "driver.js"), path.join(workDir, providerFile), operation, argumentFile],
        {
            cwd,
            env: {
                PATH: process.env.PATH,
                HOME: process.env.HOME,
                ...environment,
                DRIVER_STACK_CONFIG: JSON.stringify({ "scaleway:accessKey": SCW_ACCESS_KEY, "scaleway:secretKey": SCW_SECRET_KEY }),
            },
            timeout: 90_000,
        },
    );
    return JSON.parse(stdout) as EngineAnswer<T>;
}

/** The engine's `up` of one resource: check against the stored inputs, then diff against the stored outputs. */
async function plan(
    providerFile: string,
    stored: { inputs: Record<string, unknown>; outputs: CertificateOutputs },
    news: Record<string, unknown>,
) {
    const checked = await engine<Checked>(providerFile, "check", { olds: stored.inputs, news });
    expect(checked.result.failures ?? []).toEqual([]);
    const diff = await engine<pulumi.dynamic.DiffResult>(providerFile, "diff", {
        id: stored.outputs.certificateId,
        olds: stored.outputs,
        news: checked.result.inputs,
    });
    return { inputs: checked.result.inputs, diff: diff.result };
}

function expectNothingFromThisCheckout(answer: EngineAnswer<unknown>): void {
    expect(answer.tsLoaderRegistered).toBe(false);
    expect(answer.loaded.filter((file) => file.startsWith(path.join(projectDir, "components")))).toEqual([]);
    expect(answer.loaded).toContain(path.join(elsewhere, "packages", "certificate-provider", "dist", "lifecycle.js"));
}

describe("the serialized provider", () => {
    it("requires the implementation by package name and versioned entry point, and carries no path, library code or credential", () => {
        expect(serializedText).toContain(`require("${PACKAGE}/v1")`);
        expect(serializedText).not.toContain(projectDir);
        expect(serializedText).not.toMatch(/ts-node|__dirname|components\/certificate|node_modules/);
        expect(serializedText).not.toMatch(/@scaleway|acme-client|cloudflare"/);
        for (const value of Object.values(world.env)) {
            expect(serializedText).not.toContain(value);
        }
    });

    it("the other checkout has no dev dependency, no components/ sources, and the package's compiled entry point", () => {
        expect(existsSync(path.join(elsewhere, "node_modules", "vitest"))).toBe(false);
        expect(existsSync(path.join(elsewhere, "components", "certificate", "lifecycle.ts"))).toBe(false);
        expect(existsSync(path.join(elsewhere, "node_modules", PACKAGE, "dist", "v1.js"))).toBe(true);
    });

    it("says what to do in a checkout whose install did not build the package (npm ci --ignore-scripts)", async () => {
        const unbuilt = path.join(workDir, "unbuilt-checkout");
        makeCheckout(unbuilt, { legacyShim: false, built: false });
        const failure = await engine("provider.js", "check", { olds: {}, news: {} }, unbuilt).then(
            () => "no failure",
            (error: Error & { stderr?: string }) => error.stderr ?? "",
        );
        expect(failure).toMatch(
            new RegExp(
                `^certificate provider: cannot load @scw-private-lb/certificate-provider/v1 from ${unbuilt} \\(.+\\); install the project's dependencies there \\(npm ci builds the package\\) or run npm run build$`,
            ),
        );
    });

    it("is built by the install, also without dev dependencies: the root's prepare script, with the compiler a dependency", () => {
        const root = JSON.parse(readFileSync(path.join(projectDir, "package.json"), "utf8")) as {
            scripts: Record<string, string>;
            dependencies: Record<string, string>;
            workspaces: string[];
        };
        expect(root.scripts.prepare).toBe("npm run build");
        expect(root.scripts.build).toBe("tsc -p packages/certificate-provider");
        expect(Object.keys(root.dependencies)).toEqual(expect.arrayContaining(["typescript", PACKAGE]));
        expect(root.workspaces).toEqual(["packages/*"]);
    });

    it("issues, refreshes and deletes a certificate from a fresh node process in the other checkout", async () => {
        const lb = world.seedLoadBalancer();
        const checked = await engine<Checked>("provider.js", "check", {
            olds: {},
            news: world.inputs(lb, { binding: { mode: "frontend" } }),
        });
        const created = await engine<{ id: string; outs: CertificateOutputs }>("provider.js", "create", { inputs: checked.result.inputs });
        expectNothingFromThisCheckout(created);
        const { id, outs } = created.result;
        expect(id).toBe(outs.certificateId);
        expect(outs.bindingStatus).toBe("bound");
        expect((await engine("provider.js", "read", { id, props: outs })).result).toEqual({ id, props: outs });
        expect(world.certificatesOn(lb)).toEqual([id]);
        expect(world.frontendCertificates(lb)).toEqual([id]);
        expect(world.txtRecords()).toEqual([]);

        // Deletes run the closure stored in the old state, in a later process; in frontend mode they unbind first.
        expect((await engine("provider.js", "delete", { id, props: outs })).result).toEqual({ deleted: id });
        expect(world.certificatesOn(lb)).toEqual([]);
        expect(world.frontendCertificates(lb)).toEqual([]);
    });
});

describe("state written before the provider was packaged", () => {
    interface LegacyFixture {
        generatedFromCommit: string;
        world: { acmeDirectoryUrl: string; dnsServer: string; lbId: string };
        resource: { id: string; inputs: Record<string, unknown>; outputs: CertificateOutputs & { __provider: string } };
    }
    const fixture = JSON.parse(readFileSync(path.join(__dirname, "fixtures", "certificate-state-375cfe2.json"), "utf8")) as LegacyFixture;

    /** The fixture's certificate put on an LB of this run's world, and its state mapped onto this world's addresses. */
    async function restore(): Promise<{ lb: LoadBalancerSeed; stored: { inputs: Record<string, unknown>; outputs: CertificateOutputs } }> {
        const lb = world.seedLoadBalancer();
        const outputs = fixture.resource.outputs;
        const scaleway = createLoadBalancerCertificates({
            credentials: { accessKey: world.env.SCW_ACCESS_KEY, secretKey: world.env.SCW_SECRET_KEY, apiUrl: world.env.SCW_API_URL },
        });
        const certificateId = await scaleway.uploadCertificate(
            lb.lbId,
            "legacy",
            buildScalewayCertificateChain(outputs.privateKeyPem, outputs.certificatePem),
        );
        await scaleway.bindFrontend(lb.lbId, 443, certificateId);
        const here = { loadBalancerId: lb.lbId, acmeDirectoryUrl: world.pebble.directoryUrl, dnsResolvers: [world.pebble.dnsServer] };
        return {
            lb,
            stored: {
                inputs: { ...fixture.resource.inputs, ...here },
                outputs: { ...outputs, ...here, certificateId, certificateUuid: certificateId.split("/")[1] },
            },
        };
    }

    /** What the program sends after the change: the same settings as when the state was written. */
    function programInputs(lb: LoadBalancerSeed): Record<string, unknown> {
        const { accountKeyPem } = fixture.resource.inputs;
        return world.inputs(lb, { accountKeyPem, binding: { mode: "frontend" } });
    }

    it("is the closure that loads components/certificate/provider by path, as that commit wrote it", () => {
        expect(fixture.resource.outputs.__provider).toContain('loadCertificateModule(location, "provider")');
        expect(fixture.resource.outputs.__provider).toContain('relativeToProject: "components/certificate"');
    });

    it("is refreshed by its own closure, kept by the next up without re-issue, renewed, and its predecessor destroyed", async () => {
        const { lb, stored } = await restore();
        await writeFile(path.join(workDir, "legacy-provider.js"), fixture.resource.outputs.__provider);

        // pulumi refresh: the closure from the state, through the shim, into the package.
        const refreshed = await engine<{ id: string; props: CertificateOutputs }>("legacy-provider.js", "read", {
            id: stored.outputs.certificateId,
            props: stored.outputs,
        });
        expectNothingFromThisCheckout(refreshed);
        expect(refreshed.loaded).toContain(path.join(elsewhere, "components", "certificate", "provider.js"));
        // As written, plus what this state predates: it is an issued certificate.
        expect(refreshed.result).toEqual({ id: stored.outputs.certificateId, props: { ...stored.outputs, origin: "issued" } });

        // pulumi up with the new code: the same resource, nothing to do.
        const kept = await plan("provider.js", stored, programInputs(lb));
        expect(kept.diff).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });

        // Later, the renewal falls due: replaced create-before-delete, the predecessor deleted by its own closure.
        const due = await plan("provider-in-2030.js", stored, programInputs(lb));
        expect(due.diff).toEqual({ changes: true, replaces: ["renewalDueAt"], deleteBeforeReplace: false });
        const successor = await engine<{ id: string; outs: CertificateOutputs }>("provider-in-2030.js", "create", { inputs: due.inputs });
        expect(successor.result.outs.serialNumber).not.toBe(stored.outputs.serialNumber);
        expect(world.frontendCertificates(lb)).toEqual([successor.result.id]);
        const deleted = await engine("legacy-provider.js", "delete", { id: stored.outputs.certificateId, props: stored.outputs });
        expect(deleted.result).toEqual({ deleted: stored.outputs.certificateId });
        expect(world.certificatesOn(lb)).toEqual([successor.result.id]);
        expect(world.txtRecords()).toEqual([]);
    });

    it("is destroyed by its own closure", async () => {
        const { lb, stored } = await restore();
        await writeFile(path.join(workDir, "legacy-provider.js"), fixture.resource.outputs.__provider);
        await engine("legacy-provider.js", "delete", { id: stored.outputs.certificateId, props: stored.outputs });
        expect(world.certificatesOn(lb)).toEqual([]);
        expect(world.frontendCertificates(lb)).toEqual([]);
    });
});
