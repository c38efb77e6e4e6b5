/**
 * `npm run bench`: how long the certificate provider's `create` takes next to a bare acme-client DNS-01
 * issuance, in one process, against one local world (Pebble + challtestsrv, the local Cloudflare and
 * Scaleway APIs). A benchmark: it measures and prints, it asserts nothing.
 *
 * - Sequential: `--runs N` (default 10) of each, alternating, then both medians and their ratio.
 * - Load: `--load N` (default 20) certificates of two names each created at once on four LBs, and as
 *   many bare issuances at once, `--load-batches K` (default 3) times each, alternating which goes first;
 *   the medians of the wall times and their ratio.
 *
 * The bare issuance is acme-client's own `auto()` with the same account key, the TXT records written and
 * deleted with the same Cloudflare SDK, its challenge self-check skipped (the provider checks propagation
 * on the zone's name servers instead, which is part of what it is measured for) and its status polls
 * started at 20 ms instead of its 5 s default, so that the baseline is as fast as acme-client goes.
 */
import { generateKeyPairSync } from "node:crypto";
import * as https from "node:https";
import { parseArgs } from "node:util";
import * as acme from "acme-client";
import Cloudflare from "cloudflare";
import { certificateLifecycle } from "../components/certificate/lifecycle";
import { checkInputs } from "../components/certificate/validation";
import type { CertificateInputs } from "../components/certificate/types";
import { startCloudflareServer, type LocalCloudflareServer } from "../local/cloudflare-server";
import { startPebble, type PebbleInstance } from "../local/pebble";
import { stopAll } from "../local/processes";
import { startScalewayServer, type LocalScalewayServer } from "../local/scaleway-server";

const ZONES = ["example.com", "example.org"];
const LOAD_BALANCERS = 4;

interface World {
    pebble: PebbleInstance;
    cloudflare: LocalCloudflareServer;
    scaleway: LocalScalewayServer;
    lbIds: string[];
    accountKeyPem: string;
    env: Record<string, string>;
}

async function startWorld(): Promise<World> {
    const pebble = await startPebble();
    const cloudflare = await startCloudflareServer({ challtestsrvManagementUrl: pebble.challtestsrv.managementUrl });
    const scaleway = await startScalewayServer();
    ZONES.forEach((zone) => cloudflare.addZone(zone));
    const lbIds = Array.from({ length: LOAD_BALANCERS }, (_unused, index) => {
        const lb = scaleway.seedLoadBalancer({ name: `private-lb-bench-${index}` });
        return `${lb.zone}/${lb.id}`;
    });
    const accountKeyPem = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const env = { ...scaleway.env, ...cloudflare.env, ACME_CA_CERTIFICATES: pebble.caCertPath };
    return { pebble, cloudflare, scaleway, lbIds, accountKeyPem, env };
}

let serial = 0;
/** Two fresh names per issuance: no two issuances share an authorization or a TXT record. */
function freshNames(): string[] {
    serial += 1;
    return [`app${serial}.example.com`, `app${serial}.example.org`];
}

async function providerCreate(world: World, lbId: string): Promise<void> {
    const t0 = performance.now();
    const lifecycle = certificateLifecycle(
        { log: process.env.BENCH_TRACE ? (line) => console.error(`${Math.round(performance.now() - t0)} ${line}`) : () => undefined },
        undefined,
        world.env,
    );
    const { inputs, failures } = checkInputs({
        domains: freshNames(),
        loadBalancerId: lbId,
        acmeDirectoryUrl: world.pebble.directoryUrl,
        email: "ops@example.com",
        accountKeyPem: world.accountKeyPem,
        dnsResolvers: [world.pebble.dnsServer],
        cloudflareZones: ZONES,
    });
    if (failures.length > 0) {
        throw new Error(`bench inputs refused: ${JSON.stringify(failures)}`);
    }
    await lifecycle.create(inputs as CertificateInputs & Record<string, unknown>);
}

async function bareIssuance(world: World, cloudflare: Cloudflare, zoneIds: Map<string, string>): Promise<void> {
    const client = new acme.Client({
        directoryUrl: world.pebble.directoryUrl,
        accountKey: world.accountKeyPem,
        backoffMin: 20,
        backoffMax: 1_000,
        backoffAttempts: 30,
    });
    const [, csr] = await acme.crypto.createCsr({ altNames: freshNames() }, await acme.crypto.createPrivateEcdsaKey());
    const records = new Map<string, string>();
    await client.auto({
        csr,
        email: "ops@example.com",
        termsOfServiceAgreed: true,
        challengePriority: ["dns-01"],
        skipChallengeVerification: true,
        challengeCreateFn: async (authorization, _challenge, keyAuthorization) => {
            const name = `_acme-challenge.${authorization.identifier.value}`;
            const zone = ZONES.find((candidate) => name.endsWith(`.${candidate}`)) as string;
            const record = await cloudflare.dns.records.create({
                zone_id: zoneIds.get(zone) as string,
                type: "TXT",
                name,
                content: keyAuthorization,
                ttl: 60,
            });
            records.set(name, record.id);
        },
        challengeRemoveFn: async (authorization) => {
            const name = `_acme-challenge.${authorization.identifier.value}`;
            const zone = ZONES.find((candidate) => name.endsWith(`.${candidate}`)) as string;
            await cloudflare.dns.records.delete(records.get(name) as string, { zone_id: zoneIds.get(zone) as string });
        },
    });
}

async function timed(work: () => Promise<void>): Promise<number> {
    const started = performance.now();
    await work();
    return performance.now() - started;
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const ms = (value: number) => `${Math.round(value)} ms`;

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            runs: { type: "string", default: "10" },
            load: { type: "string", default: "20" },
            "load-batches": { type: "string", default: "3" },
        },
    });
    const runs = Number(values.runs);
    const load = Number(values.load);
    const loadBatches = Number(values["load-batches"]);
    if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(load) || load < 0 || !Number.isInteger(loadBatches) || loadBatches < 1) {
        throw new Error("usage: npm run bench -- [--runs N (>= 1)] [--load N (>= 0)] [--load-batches N (>= 1)]");
    }
    const world = await startWorld();
    try {
        // acme-client's shared transport, for the bare issuances only (the provider brings its own).
        acme.axios.defaults.httpsAgent = new https.Agent({ ca: world.pebble.caCertPem });
        const cloudflare = new Cloudflare({ apiToken: world.cloudflare.apiToken, baseURL: world.cloudflare.baseUrl, maxRetries: 0 });
        const zoneIds = new Map(
            await Promise.all(ZONES.map(async (zone) => [zone, (await cloudflare.zones.list({ name: zone })).result[0].id] as const)),
        );
        // Warm-up: the account exists, the modules are loaded, the connections are open.
        await providerCreate(world, world.lbIds[0]);
        await bareIssuance(world, cloudflare, zoneIds);

        const provider: number[] = [];
        const bare: number[] = [];
        for (let run = 0; run < runs; run++) {
            provider.push(await timed(() => providerCreate(world, world.lbIds[run % LOAD_BALANCERS])));
            bare.push(await timed(() => bareIssuance(world, cloudflare, zoneIds)));
        }
        console.log(`Sequential, ${runs} runs each, alternating (one certificate of two names each time):`);
        console.log(`  provider create (order, TXT, propagation, validation, upload, ready): median ${ms(median(provider))}`);
        console.log(`  bare acme-client DNS-01 issuance:                                     median ${ms(median(bare))}`);
        console.log(`  ratio provider / bare: ${(median(provider) / median(bare)).toFixed(2)}`);

        if (load > 0) {
            const providerBatch = () =>
                timed(async () => {
                    await Promise.all(
                        Array.from({ length: load }, (_unused, index) => providerCreate(world, world.lbIds[index % LOAD_BALANCERS])),
                    );
                });
            const bareBatch = () =>
                timed(async () => {
                    await Promise.all(Array.from({ length: load }, () => bareIssuance(world, cloudflare, zoneIds)));
                });
            // Batches alternate, and which side goes first alternates too: neither gets the warmer machine every time.
            const providerLoads: number[] = [];
            const bareLoads: number[] = [];
            for (let batch = 0; batch < loadBatches; batch++) {
                if (batch % 2 === 0) {
                    providerLoads.push(await providerBatch());
                    bareLoads.push(await bareBatch());
                } else {
                    bareLoads.push(await bareBatch());
                    providerLoads.push(await providerBatch());
                }
            }
            const providerLoad = median(providerLoads);
            const bareLoad = median(bareLoads);
            console.log(
                `Load: ${load} certificates of two names at once on ${LOAD_BALANCERS} LBs, ${loadBatches} batches each, alternating:`,
            );
            console.log(`  provider: median ${ms(providerLoad)} (${ms(providerLoad / load)} per certificate)`);
            console.log(`  bare:     median ${ms(bareLoad)} (${ms(bareLoad / load)} per certificate)`);
            console.log(`  ratio provider / bare: ${(providerLoad / bareLoad).toFixed(2)}`);
        }
    } finally {
        await Promise.all([world.cloudflare.stop(), world.scaleway.stop(), world.pebble.stop()]);
        await stopAll();
    }
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
});
