/**
 * `npm start`: the certificate lifecycle on this machine, with no cloud account and no internet.
 * Starts Pebble + pebble-challtestsrv and the local Scaleway LB / Cloudflare DNS APIs (loopback, free
 * ports), seeds what `pulumi up` and the CCM would have created for a real stack file, then drives the
 * certificate provider the way the engine does: check + create, a second pass that changes nothing, and a
 * renewal (the provider's clock moved past the renewal date) that binds the new certificate and deletes
 * the old one. Leaves nothing running; Ctrl-C stops everything.
 */
import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import Cloudflare from "cloudflare";
import { z } from "zod";
import { appPlans, ConfigError, type AppConfig, type StackConfig } from "../components/config";
import { createCertificateProvider } from "../components/certificate/dynamicProvider";
import type { CertificateOutputs } from "../components/certificate/types";
import { startCloudflareServer, type LocalCloudflareServer } from "../local/cloudflare-server";
import { PEBBLE_INSTALL_HINT, startPebble, type PebbleInstance } from "../local/pebble";
import { MissingBinaryError, requireBinary, stopAll } from "../local/processes";
import { startScalewayServer, type FrontendSnapshot, type LoadBalancerSnapshot, type LocalScalewayServer } from "../local/scaleway-server";
import {
    certificateInputsFor,
    formatDuration,
    keptSandboxLines,
    localCaWarnings,
    parseSandboxArgs,
    renderSandboxSummary,
    renewalClock,
    SANDBOX_CERTIFICATE_LIFETIME_SECONDS,
    seedPlanOf,
    type EndpointSummary,
    type LocalAcme,
} from "./sandboxPlan";
import { findStackFile, loadStackConfig, StackFileError, stackFileLabel, UnknownStackError } from "./stackConfig";
import { shortTime } from "./table";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

type Output = (line: string) => void;

class Progress {
    constructor(private readonly out: Output) {}

    /** Announces the step, runs it, and reports how long it took (or how it failed). */
    async step<T>(title: string, work: () => T | Promise<T>, detail?: (result: T) => string): Promise<T> {
        this.out(`… ${title}`);
        const started = performance.now();
        try {
            const result = await work();
            const elapsed = formatDuration(performance.now() - started);
            this.out(`✓ ${title}${detail ? `: ${detail(result)}` : ""} (${elapsed})`);
            return result;
        } catch (error) {
            this.out(`✗ ${title} failed after ${formatDuration(performance.now() - started)}`);
            throw error;
        }
    }
}

/** Everything the sandbox started, so a failure or Ctrl-C can stop all of it. */
class SandboxWorld {
    pebbleStart?: Promise<PebbleInstance>;
    scaleway?: LocalScalewayServer;
    cloudflare?: LocalCloudflareServer;
    private stopping?: Promise<string>;

    /** Stops everything (idempotent); says what was stopped and removed. */
    stop(): Promise<string> {
        this.stopping ??= (async () => {
            await Promise.all([this.scaleway?.stop(), this.cloudflare?.stop()]);
            // A Pebble still starting fails once its processes are gone, and removes its directory itself.
            await stopAll();
            const pebble = await this.pebbleStart?.catch(() => undefined);
            await pebble?.stop();
            const stopped = ["the local Scaleway and Cloudflare APIs"];
            if (pebble) {
                const tempDir = dirname(pebble.caCertPath);
                stopped.unshift(`pebble (pid ${pebble.pids.pebble}), pebble-challtestsrv (pid ${pebble.pids.challtestsrv})`);
                stopped.push(existsSync(tempDir) ? `but ${tempDir} is still there` : `removed ${tempDir}`);
            }
            return `Stopped ${stopped.join(", ")}.`;
        })();
        return this.stopping;
    }
}

interface Endpoint {
    app: AppConfig;
    lb: LoadBalancerSnapshot;
    frontend: FrontendSnapshot;
    raw: Record<string, unknown>;
    /** Inputs as `check` returned them: what the engine stores and hands to the next `check`. */
    inputs: Record<string, unknown>;
    outs: CertificateOutputs;
    replaced: string;
    calls: { scaleway: number; cloudflare: number };
}

function required<T>(method: T | undefined, name: string): T {
    if (!method) {
        throw new Error(`the certificate provider has no ${name} method`);
    }
    return method;
}

/** The inputs `check` returns (the provider interface types them `any`). */
const checkedInputs = z.record(z.string(), z.unknown());

async function checked(
    provider: pulumi.dynamic.ResourceProvider,
    olds: Record<string, unknown>,
    raw: Record<string, unknown>,
): Promise<Record<string, unknown>> {
    const result = await required(provider.check, "check")(olds, raw);
    const failures = result.failures ?? [];
    if (failures.length > 0) {
        throw new Error(`check refused the inputs: ${failures.map((failure) => `${failure.property}: ${failure.reason}`).join("; ")}`);
    }
    return checkedInputs.parse(result.inputs);
}

async function seedARecords(
    cloudflare: LocalCloudflareServer,
    zoneIds: Map<string, string>,
    config: StackConfig,
    records: ReturnType<typeof seedPlanOf>["aRecords"],
): Promise<void> {
    const client = new Cloudflare({ apiToken: cloudflare.apiToken, baseURL: cloudflare.baseUrl });
    for (const record of records) {
        await client.dns.records.create({
            zone_id: zoneIds.get(record.zone) as string,
            type: "A",
            name: record.fqdn,
            content: record.ip,
            ttl: config.dnsTtl,
            proxied: false,
        });
    }
}

async function runLifecycle(config: StackConfig, world: SandboxWorld, progress: Progress, out: Output): Promise<void> {
    const pebble = await progress.step(
        "Start Pebble (local ACME CA) and pebble-challtestsrv (its DNS)",
        () => (world.pebbleStart = startPebble({ certificateValidityPeriodSeconds: SANDBOX_CERTIFICATE_LIFETIME_SECONDS })),
        (started) =>
            `directory ${started.directoryUrl}, DNS ${started.dnsServer}, pids ${started.pids.pebble} and ${started.pids.challtestsrv}`,
    );
    const scaleway = await progress.step(
        "Start the local Scaleway LB API",
        async () => (world.scaleway = await startScalewayServer({ defaultZone: config.zone })),
        (started) => started.url,
    );
    const cloudflare = await progress.step(
        "Start the local Cloudflare DNS API",
        async () => (world.cloudflare = await startCloudflareServer({ challtestsrvManagementUrl: pebble.challtestsrv.managementUrl })),
        (started) => started.baseUrl,
    );
    // The provider reads its endpoints and credentials from the environment, as in a real `pulumi up`.
    Object.assign(process.env, scaleway.env, cloudflare.env, { ACME_CA_CERTIFICATES: pebble.caCertPath });

    const plan = seedPlanOf(config);
    // Each app's LB and CCM frontend, by app name.
    const seededFor = new Map<string, { lb: LoadBalancerSnapshot; frontend: FrontendSnapshot }>();
    for (const lbSeed of plan.loadBalancers) {
        await progress.step(
            `Seed the LB ${lbSeed.name} with its private networks and a CCM-like TLS frontend per app`,
            () => {
                const seeded = scaleway.seedLoadBalancer({
                    name: lbSeed.name,
                    zone: lbSeed.zone,
                    privateNetworks: lbSeed.networks.map((network) => ({
                        id: network.privateNetworkId,
                        name: network.name,
                        ip: `${network.ip}/22`,
                    })),
                });
                for (const frontend of lbSeed.frontends) {
                    seededFor.set(frontend.app, {
                        lb: seeded,
                        frontend: scaleway.seedFrontend({ lbId: seeded.id, name: frontend.name, inboundPort: frontend.port }),
                    });
                }
                return seeded;
            },
            (seeded) =>
                `${seeded.zone}/${seeded.id}; ${lbSeed.networks.map((network) => `${network.environment} ${network.ip}`).join(", ")}; ` +
                `frontends ${lbSeed.frontends.map((frontend) => `:${frontend.port}`).join(", ")}`,
        );
    }
    await progress.step(
        "Seed the Cloudflare zones and the A records",
        async () => {
            const zoneIds = new Map(
                plan.zones.map((zone) => [zone.name, cloudflare.addZone(zone.name, zone.id ? { id: zone.id } : undefined).id]),
            );
            await seedARecords(cloudflare, zoneIds, config, plan.aRecords);
        },
        () => plan.aRecords.map((record) => `${record.fqdn} -> ${record.ip}`).join(", "),
    );

    const acme: LocalAcme = {
        directoryUrl: pebble.directoryUrl,
        accountKeyPem: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        dnsResolver: pebble.dnsServer,
    };
    out(`  (the stack's ACME server ${config.acmeServer} is replaced by Pebble; everything else comes from Pulumi.<stack>.yaml)`);
    localCaWarnings(config).forEach((warning) => out(warning));
    let clock = new Date();
    const provider = createCertificateProvider({ now: () => clock });

    /** Runs `work` and adds the API calls it made to the endpoint's counters. */
    const counted = async <T>(endpoint: Pick<Endpoint, "calls">, work: () => Promise<T>): Promise<T> => {
        const before = { scaleway: scaleway.calls.length, cloudflare: cloudflare.calls.length };
        try {
            return await work();
        } finally {
            endpoint.calls.scaleway += scaleway.calls.length - before.scaleway;
            endpoint.calls.cloudflare += cloudflare.calls.length - before.cloudflare;
        }
    };
    const ccmBinds = (endpoint: Endpoint) =>
        progress.step(
            `${endpoint.app.name}: the CCM binds ${endpoint.outs.certificateId} (Service annotation ${endpoint.app.httpsPort}:<id>)`,
            () => {
                scaleway.simulateCcmReconcile(endpoint.frontend.id, [endpoint.outs.certificateUuid]);
            },
        );

    out("Pass 1: pulumi up creates the certificates");
    const endpoints: Endpoint[] = [];
    for (const appPlan of appPlans(config)) {
        const app = appPlan.app;
        const { lb, frontend } = seededFor.get(app.name) as { lb: LoadBalancerSnapshot; frontend: FrontendSnapshot };
        const calls = { scaleway: 0, cloudflare: 0 };
        const raw = certificateInputsFor(config, appPlan, `${lb.zone}/${lb.id}`, acme);
        const inputs = await counted({ calls }, () => progress.step(`${app.name}: check`, () => checked(provider, {}, raw)));
        const created = await counted({ calls }, () =>
            progress.step(
                `${app.name}: create (ACME order at Pebble, DNS-01 TXT on Cloudflare, upload to the LB)`,
                () => provider.create(inputs),
                (result) => `${result.id}, not after ${shortTime((result.outs as CertificateOutputs).notAfter)}`,
            ),
        );
        const endpoint: Endpoint = { app, lb, frontend, raw, inputs, outs: created.outs as CertificateOutputs, replaced: "-", calls };
        await ccmBinds(endpoint);
        endpoints.push(endpoint);
    }

    out("Pass 2: pulumi up again changes nothing");
    for (const endpoint of endpoints) {
        await counted(endpoint, () =>
            progress.step(
                `${endpoint.app.name}: check + diff`,
                async () => {
                    const inputs = await checked(provider, endpoint.inputs, endpoint.raw);
                    const result = await required(provider.diff, "diff")(endpoint.outs.certificateId, endpoint.outs, inputs);
                    if (result.changes) {
                        throw new Error(
                            `the second pass wants changes (${(result.replaces ?? []).join(", ") || "update"}): it must be a no-op`,
                        );
                    }
                },
                () => "no changes",
            ),
        );
    }

    clock = renewalClock(endpoints.map((endpoint) => endpoint.outs.renewalDueAt));
    out(
        `Pass 3: the provider's clock moves to ${shortTime(clock.toISOString())}, past every renewal date; pulumi up renews (Pebble still issues at today's date)`,
    );
    for (const endpoint of endpoints) {
        const predecessor = endpoint.outs;
        await counted(endpoint, async () => {
            const inputs = await progress.step(
                `${endpoint.app.name}: check + diff`,
                async () => {
                    const next = await checked(provider, endpoint.inputs, endpoint.raw);
                    const result = await required(provider.diff, "diff")(predecessor.certificateId, predecessor, next);
                    if (!result.changes || (result.replaces ?? []).length === 0) {
                        throw new Error(
                            `the certificate is past its renewal date (${predecessor.renewalDueAt}) but diff does not replace it`,
                        );
                    }
                    return { next, replaces: result.replaces ?? [] };
                },
                (result) => `replace (${result.replaces.join(", ")})`,
            );
            const created = await progress.step(
                `${endpoint.app.name}: create the successor`,
                () => provider.create(inputs.next),
                (result) => `${result.id}, not after ${shortTime((result.outs as CertificateOutputs).notAfter)}`,
            );
            Object.assign(endpoint, { inputs: inputs.next, outs: created.outs as CertificateOutputs, replaced: predecessor.certificateId });
            await ccmBinds(endpoint);
            await progress.step(`${endpoint.app.name}: delete the predecessor ${predecessor.certificateId}`, () =>
                required(provider.delete, "delete")(predecessor.certificateId, predecessor),
            );
        });
    }

    const summaries = endpoints.map((endpoint): EndpointSummary => {
        const boundTo = scaleway.state
            .frontends(endpoint.lb.id)
            .filter((frontend) => frontend.certificateIds.includes(endpoint.outs.certificateUuid))
            .map((frontend) => `${frontend.name} (:${frontend.inboundPort})`);
        return {
            app: endpoint.app.name,
            domains: endpoint.outs.domains,
            certificateId: endpoint.outs.certificateId,
            notAfter: endpoint.outs.notAfter,
            renewalDueAt: endpoint.outs.renewalDueAt,
            boundTo,
            replaced: endpoint.replaced,
            scalewayCalls: endpoint.calls.scaleway,
            cloudflareCalls: endpoint.calls.cloudflare,
        };
    });
    out("");
    out(renderSandboxSummary(summaries));
    const lbIds = [...new Set(endpoints.map((endpoint) => endpoint.lb.id))];
    const left = lbIds.reduce((count, id) => count + scaleway.state.certificates(id).length, 0);
    const txt = cloudflare.records().filter((record) => record.type === "TXT").length;
    const holders = lbIds.length === 1 ? "The LB holds" : `The ${lbIds.length} LBs hold`;
    out(
        `${holders} ${left} certificate${left === 1 ? "" : "s"} for ${endpoints.length} endpoint${endpoints.length === 1 ? "" : "s"}; ${txt} ACME TXT record${txt === 1 ? "" : "s"} left on Cloudflare.`,
    );
}

function usageProblem(error: unknown): string | undefined {
    if (
        error instanceof UnknownStackError ||
        error instanceof StackFileError ||
        error instanceof ConfigError ||
        error instanceof MissingBinaryError
    ) {
        return error.message;
    }
    return undefined;
}

export interface SandboxRunOptions {
    /** Where Pulumi.yaml and the stack files are (default: this project). */
    root?: string;
    out?: Output;
    /** Where usage errors and failures go (stderr by default, as for `status`). */
    err?: Output;
    /** Registers the Ctrl-C handler; returns its removal. The CLI passes process signals, tests may omit it. */
    onInterrupt?: (handler: () => void) => () => void;
}

/** Runs the sandbox; returns the exit code. */
export async function runSandbox(argv: readonly string[], options: SandboxRunOptions = {}): Promise<number> {
    const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
    const err = options.err ?? ((line: string) => process.stderr.write(`${line}\n`));
    const parsed = parseSandboxArgs(argv);
    if (!parsed.ok) {
        (parsed.help ? out : err)(parsed.message);
        return parsed.help ? EXIT_OK : EXIT_USAGE;
    }
    let config: StackConfig;
    try {
        config = loadStackConfig(parsed.stack, options.root);
        requireBinary("pebble", PEBBLE_INSTALL_HINT);
        requireBinary("pebble-challtestsrv", PEBBLE_INSTALL_HINT);
    } catch (error) {
        const problem = usageProblem(error);
        if (problem === undefined) {
            throw error;
        }
        err(`sandbox: ${problem}`);
        return EXIT_USAGE;
    }

    const world = new SandboxWorld();
    const started = performance.now();
    let interrupted = false;
    let settleInterruption: (code: number) => void = () => undefined;
    const interruption = new Promise<number>((resolve) => (settleInterruption = resolve));
    const removeInterruptHandler = options.onInterrupt?.(() => {
        interrupted = true;
        out("Interrupted: stopping everything…");
        void world.stop().then((stopped) => {
            out(stopped);
            settleInterruption(EXIT_INTERRUPTED);
        });
    });
    // `--stack` takes a name or a stack file's path.
    const stackFile = findStackFile(parsed.stack, options.root);
    out(
        `Sandbox for stack ${stackFile.name} (${stackFileLabel(parsed.stack)}): environment ${config.environment}, ${config.apps.length} app(s), all on 127.0.0.1`,
    );
    const run = (async () => {
        try {
            await runLifecycle(config, world, new Progress(out), out);
            if (parsed.keep && !interrupted) {
                out("");
                keptSandboxLines(parsed.stack, { ...world.scaleway?.env, ...world.cloudflare?.env }).forEach((line) => out(line));
                return await interruption;
            }
            return EXIT_OK;
        } catch (error) {
            if (!interrupted) {
                err(`sandbox: ${(error as Error).message}`);
            }
            return EXIT_FAILED;
        }
    })();
    const code = await Promise.race([run.then(async (result) => (interrupted ? interruption : result)), interruption]);
    removeInterruptHandler?.();
    if (code !== EXIT_INTERRUPTED) {
        out(await world.stop());
        out(`${code === EXIT_OK ? "Done" : "Failed"} in ${formatDuration(performance.now() - started)}.`);
    }
    return code;
}

if (require.main === module) {
    const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
    void runSandbox(process.argv.slice(2), {
        onInterrupt: (handler) => {
            for (const signal of signals) {
                process.once(signal, handler);
            }
            return () => signals.forEach((signal) => process.removeListener(signal, handler));
        },
    }).then(
        (code) => process.exit(code),
        (error: unknown) => {
            process.stderr.write(`sandbox crashed: ${(error as Error).stack ?? String(error)}\n`);
            void stopAll().finally(() => process.exit(EXIT_FAILED));
        },
    );
}
