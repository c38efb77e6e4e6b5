/**
 * A CA that offers ACME Renewal Information (RFC 9773), in front of Pebble 2.4.0, which has none: its
 * directory is Pebble's own plus `renewalInfo`, and every other URL in it still points at Pebble, so orders
 * and their signed requests go to Pebble unchanged. Each `GET <renewalInfo>/<certID>` is recorded and answered
 * with the suggested window the test sets. It listens on HTTPS with a leaf of a test CA of its own; the PEM
 * file `caCertificatesPath` trusts both it and Pebble's listener (for ACME_CA_CERTIFICATES).
 */
import * as fs from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createTestCa, issueTestLeaf } from "../../../local/certificates";
import type { PebbleInstance } from "../../../local/pebble";
import { LOOPBACK } from "../../../local/ports";

export interface SuggestedWindow {
    start: Date;
    end: Date;
}

export interface RenewalInfoServer {
    /** https://127.0.0.1:<port>/dir: Pebble's directory plus `renewalInfo`. */
    directoryUrl: string;
    /** PEM file with this server's CA and Pebble's listener CA. */
    caCertificatesPath: string;
    /** Every certID asked about, in order. */
    readonly asked: readonly string[];
    /** The window every later answer suggests. */
    suggest(window: SuggestedWindow): void;
    stop(): Promise<void>;
}

function getPebbleDirectory(pebble: PebbleInstance): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
        https
            .get(pebble.directoryUrl, { ca: pebble.caCertPem }, (response) => {
                let body = "";
                response.setEncoding("utf8");
                response.on("data", (chunk: string) => (body += chunk));
                response.on("end", () =>
                    response.statusCode === 200
                        ? resolve(JSON.parse(body) as Record<string, unknown>)
                        : reject(new Error(`GET ${pebble.directoryUrl}: HTTP ${response.statusCode} ${body}`)),
                );
            })
            .on("error", reject);
    });
}

function answer(response: http.ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export async function startRenewalInfoServer(pebble: PebbleInstance, window: SuggestedWindow): Promise<RenewalInfoServer> {
    const ca = await createTestCa({ commonName: "Local Renewal Information CA" });
    const leaf = await issueTestLeaf(ca, { ipAddresses: [LOOPBACK] });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "renewal-info-"));
    const caCertificatesPath = path.join(dir, "ca.pem");
    await fs.writeFile(caCertificatesPath, `${pebble.caCertPem}\n${ca.certificatePem}`);

    const pebbleDirectory = await getPebbleDirectory(pebble);
    const asked: string[] = [];
    let suggested = window;
    const server = https.createServer({ key: leaf.privateKeyPem, cert: leaf.certificatePem }, (request, response) => {
        const url = request.url ?? "";
        const certId = /^\/renewal-info\/([^/]+)$/.exec(url)?.[1];
        if (request.method === "GET" && url === "/dir") {
            answer(response, 200, { ...pebbleDirectory, renewalInfo: `https://${request.headers.host}/renewal-info` });
        } else if (request.method === "GET" && certId !== undefined) {
            asked.push(certId);
            answer(response, 200, { suggestedWindow: { start: suggested.start.toISOString(), end: suggested.end.toISOString() } });
        } else {
            answer(response, 404, { type: "urn:ietf:params:acme:error:malformed", detail: `no ${request.method} ${url} here` });
        }
    });
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    const origin = `https://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
    return {
        directoryUrl: `${origin}/dir`,
        caCertificatesPath,
        asked,
        suggest(next) {
            suggested = next;
        },
        async stop() {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
            await fs.rm(dir, { recursive: true, force: true });
        },
    };
}
