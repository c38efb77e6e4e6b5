/**
 * A local ACME CA: Pebble plus pebble-challtestsrv as its DNS, both on free loopback ports.
 *
 * Pebble's own HTTPS listener uses a throwaway CA generated per instance (`caCertPem`: what an
 * ACME client must trust to talk to `directoryUrl`). The certificates Pebble ISSUES chain to a
 * different, also per-run root, fetched with `issuerRootPem()`.
 */
import * as fs from "node:fs/promises";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { createTestCa, issueTestLeaf } from "./certificates";
import { createChalltestsrvClient, type ChalltestsrvClient } from "./challtestsrv";
import { freeTcpAndUdpPort, freeTcpPort, isAddressInUse, LOOPBACK } from "./ports";
import { launch, ProcessStartError, type ManagedProcess } from "./processes";

export const PEBBLE_INSTALL_HINT = "install it with `apt-get install -y pebble` (Debian package)";

export interface PebbleOptions {
    /** Lifetime of issued certificates (Pebble config `certificateValidityPeriod`); Pebble's default is 5 years. */
    certificateValidityPeriodSeconds?: number;
    /** Share of valid nonces Pebble rejects with badNonce, to exercise client retries (default 0). */
    nonceRejectPercent?: number;
    /** Pebble's `-strict` mode (upcoming ACME breaking changes). */
    strict?: boolean;
    /** Bound on each process's start (default 20 s). */
    readyTimeoutMs?: number;
}

export interface PebbleInstance {
    /** https://127.0.0.1:<port>/dir */
    directoryUrl: string;
    /** PEM file of the CA that signed Pebble's listener certificate. */
    caCertPath: string;
    caCertPem: string;
    /** https://127.0.0.1:<port> of Pebble's management interface (same trust as the directory). */
    managementUrl: string;
    /** The root that signs issued certificates (GET <managementUrl>/roots/0). */
    issuerRootPem(): Promise<string>;
    /** "127.0.0.1:<port>" of pebble-challtestsrv's DNS server (UDP and TCP). */
    dnsServer: string;
    challtestsrv: ChalltestsrvClient;
    pids: { pebble: number; challtestsrv: number };
    /** Both processes' logs, for failure messages. */
    logs(): string;
    /** Stops both processes and removes the temp dir. Idempotent. */
    stop(): Promise<void>;
}

const PORT_COLLISION_ATTEMPTS = 3;

/** Retries a launch whose port was taken between probing and binding. */
async function withFreshPorts<T>(start: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
        try {
            return await start();
        } catch (error) {
            const collided = error instanceof ProcessStartError && isAddressInUse(error.output);
            if (!collided || attempt >= PORT_COLLISION_ATTEMPTS) throw error;
        }
    }
}

function httpsGetText(url: string, caPem: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const request = https.get(url, { ca: caPem }, (response) => {
            let body = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => (body += chunk));
            response.on("end", () => {
                if (response.statusCode === 200) resolve(body);
                else reject(new Error(`GET ${url}: HTTP ${response.statusCode} ${body}`));
            });
        });
        request.on("error", reject);
    });
}

function startChalltestsrv(
    readyTimeoutMs: number | undefined,
): Promise<{ process: ManagedProcess; dnsPort: number; managementPort: number }> {
    return withFreshPorts(async () => {
        const dnsPort = await freeTcpAndUdpPort();
        const managementPort = await freeTcpPort();
        const started = await launch({
            name: "pebble-challtestsrv",
            command: "pebble-challtestsrv",
            installHint: PEBBLE_INSTALL_HINT,
            // Empty addresses disable the HTTP-01/TLS-ALPN-01 listeners: only DNS is needed.
            args: [
                "-dns01",
                `${LOOPBACK}:${dnsPort}`,
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-management",
                `${LOOPBACK}:${managementPort}`,
            ],
            ready: { logLine: /Starting management server/, tcpPorts: [dnsPort, managementPort] },
            readyTimeoutMs,
        });
        return { process: started, dnsPort, managementPort };
    });
}

function startPebbleServer(
    dir: string,
    dnsServer: string,
    options: PebbleOptions,
): Promise<{ process: ManagedProcess; listenPort: number; managementPort: number }> {
    return withFreshPorts(async () => {
        const listenPort = await freeTcpPort();
        const managementPort = await freeTcpPort();
        const config = {
            pebble: {
                listenAddress: `${LOOPBACK}:${listenPort}`,
                managementListenAddress: `${LOOPBACK}:${managementPort}`,
                certificate: path.join(dir, "listener.pem"),
                privateKey: path.join(dir, "listener.key"),
                // Outbound ports for HTTP-01/TLS-ALPN-01 validation, unused with DNS-01.
                httpPort: 5002,
                tlsPort: 5001,
                ocspResponderURL: "",
                externalAccountBindingRequired: false,
                ...(options.certificateValidityPeriodSeconds !== undefined
                    ? { certificateValidityPeriod: options.certificateValidityPeriodSeconds }
                    : {}),
            },
        };
        const configPath = path.join(dir, "pebble-config.json");
        await fs.writeFile(configPath, JSON.stringify(config, null, 2));
        const started = await launch({
            name: "pebble",
            command: "pebble",
            installHint: PEBBLE_INSTALL_HINT,
            args: ["-config", configPath, "-dnsserver", dnsServer, ...(options.strict ? ["-strict"] : [])],
            env: {
                PEBBLE_VA_NOSLEEP: "1",
                PEBBLE_AUTHZREUSE: "0",
                PEBBLE_WFE_NONCEREJECT: String(options.nonceRejectPercent ?? 0),
            },
            ready: { logLine: /ACME directory available at/, tcpPorts: [listenPort, managementPort] },
            readyTimeoutMs: options.readyTimeoutMs,
        });
        return { process: started, listenPort, managementPort };
    });
}

export async function startPebble(options: PebbleOptions = {}): Promise<PebbleInstance> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "local-pebble-"));
    const started: ManagedProcess[] = [];
    const cleanUp = async () => {
        await Promise.all(started.map((process) => process.stop()));
        await fs.rm(dir, { recursive: true, force: true });
    };
    try {
        const ca = await createTestCa({ commonName: "Local Pebble Listener CA" });
        const listener = await issueTestLeaf(ca, { dnsNames: ["localhost"], ipAddresses: [LOOPBACK, "::1"] });
        const caCertPath = path.join(dir, "listener-ca.pem");
        await fs.writeFile(caCertPath, ca.certificatePem);
        await fs.writeFile(path.join(dir, "listener.pem"), listener.certificatePem);
        await fs.writeFile(path.join(dir, "listener.key"), listener.privateKeyPem, { mode: 0o600 });

        const challtestsrv = await startChalltestsrv(options.readyTimeoutMs);
        started.push(challtestsrv.process);
        const dnsServer = `${LOOPBACK}:${challtestsrv.dnsPort}`;
        const pebble = await startPebbleServer(dir, dnsServer, options);
        started.push(pebble.process);

        const managementUrl = `https://${LOOPBACK}:${pebble.managementPort}`;
        let stopping: Promise<void> | undefined;
        return {
            directoryUrl: `https://${LOOPBACK}:${pebble.listenPort}/dir`,
            caCertPath,
            caCertPem: ca.certificatePem,
            managementUrl,
            issuerRootPem: () => httpsGetText(`${managementUrl}/roots/0`, ca.certificatePem),
            dnsServer,
            challtestsrv: createChalltestsrvClient(`http://${LOOPBACK}:${challtestsrv.managementPort}`),
            pids: { pebble: pebble.process.pid, challtestsrv: challtestsrv.process.pid },
            logs: () => `--- pebble ---\n${pebble.process.output()}\n--- pebble-challtestsrv ---\n${challtestsrv.process.output()}`,
            stop: () => (stopping ??= cleanUp()),
        };
    } catch (error) {
        await cleanUp();
        throw error;
    }
}
