/**
 * `status` as the scheduled watch runs it: the expiry threshold, the webhook notice (posted to a local
 * HTTP server the way a Slack, Mattermost or Teams incoming webhook receives it), and hints that name only
 * what `status` reads (the environment, never the stack config).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startApiServer, type ApiResponse } from "../local/api-server";
import { freeTcpPort } from "../local/ports";
import { startScalewayServer, type LoadBalancerSnapshot, type LocalScalewayServer } from "../local/scaleway-server";
import { parseTimeSpan, runStatus, STATUS_USAGE } from "../scripts/status";
import type { StatusReport } from "../scripts/statusReport";
import { opsFixtureRoot, type FixtureRoot } from "./support/opsFixtures";
import { DAY_MS, FAST_RETRY, uploadTestCertificate } from "./support/statusWorld";

const LB_NAME = "private-lb-watch-test";
const NETWORK = "8e2d4c6a-0b1f-4a3e-9c5d-7f6e8a9b0c1d";
const NAME = "test.watch.example.com";
/** The secret part of a webhook URL: it must never reach the output. */
const WEBHOOK_TOKEN = "T0000/B0000/s3cr3t-w3bh00k-t0k3n";

interface Received {
    path: string;
    contentType?: string;
    body: unknown;
}

interface WebhookServer {
    url: string;
    received: Received[];
    answer: ApiResponse;
    stop(): Promise<void>;
}

/** An incoming-webhook stand-in on the loopback interface, on a port the OS picks (the local API plumbing). */
async function startWebhookServer(): Promise<WebhookServer> {
    const received: Received[] = [];
    const state: { answer: ApiResponse } = { answer: { status: 200, body: { ok: true } } };
    const server = await startApiServer({
        routes: [
            {
                method: "POST",
                pattern: /^\/services\/.+$/,
                handle: (request) => {
                    received.push({ path: request.path, contentType: request.headers["content-type"], body: request.body });
                    return state.answer;
                },
            },
        ],
        intercept: () => undefined,
        notFound: (request) => ({ status: 404, body: { error: `no webhook at ${request.path}` } }),
        badJson: (_request, reason) => ({ status: 400, body: { error: reason } }),
    });
    return {
        url: `${server.url}/services/${WEBHOOK_TOKEN}`,
        received,
        get answer() {
            return state.answer;
        },
        set answer(value) {
            state.answer = value;
        },
        stop: server.stop,
    };
}

let fixture: FixtureRoot;
let scaleway: LocalScalewayServer;
let webhook: WebhookServer;

beforeEach(async () => {
    fixture = opsFixtureRoot();
    scaleway = await startScalewayServer();
    scaleway.setReadyAfter(0);
    webhook = await startWebhookServer();
});

afterEach(async () => {
    await Promise.all([scaleway.stop(), webhook.stop()]);
    fixture.remove();
});

interface Run {
    code: number;
    out: string;
    err: string;
}

async function status(argv: string[], env: Record<string, string> = { ...scaleway.env, STATUS_WEBHOOK_URL: webhook.url }): Promise<Run> {
    let out = "";
    let err = "";
    const code = await runStatus(argv, {
        env,
        root: fixture.root,
        retry: FAST_RETRY,
        out: (text) => (out += text),
        err: (text) => (err += text),
    });
    return { code, out, err };
}

/** The fixture stack's LB with one bound certificate of the given validity. */
async function boundCertificate(validity: { daysAgo: number; daysLeft: number }): Promise<LoadBalancerSnapshot> {
    const lb = scaleway.seedLoadBalancer({ name: LB_NAME, zone: "fr-par-1", privateNetworks: [{ id: NETWORK, ip: "172.16.12.5/22" }] });
    const certificateId = await uploadTestCertificate(scaleway, lb, NAME, validity, "watch cert");
    scaleway.seedFrontend({ lbId: lb.id, name: "frontend-443", inboundPort: 443, certificateIds: [certificateId] });
    return lb;
}

function expectNoToken(run: Run): void {
    expect(run.out + run.err).not.toContain(WEBHOOK_TOKEN);
    expect(run.out + run.err).not.toContain("s3cr3t");
}

describe("the webhook notice", () => {
    it("posts { text } as JSON when there are problems, one line per problem, and the job still exits 1", async () => {
        const lb = await boundCertificate({ daysAgo: 1, daysLeft: 89 });
        await uploadTestCertificate(scaleway, lb, NAME, { daysAgo: 1, daysLeft: 89 }, "left-over");
        const run = await status(["--stack", "watch", "--skip-dns", "--json"]);
        expect(run.err).toBe("");
        expect(run.code).toBe(1);
        expect((JSON.parse(run.out) as StatusReport).healthy).toBe(false);
        expect(webhook.received).toHaveLength(1);
        const [post] = webhook.received;
        expect(post).toMatchObject({ path: `/services/${WEBHOOK_TOKEN}`, contentType: "application/json" });
        expect(Object.keys(post.body as object)).toEqual(["text"]);
        const lines = (post.body as { text: string }).text.split("\n");
        expect(lines[0]).toMatch(
            /^scw-private-lb status: stack watch \(environment watch, LB private-lb-watch-test\) has 1 problem, checked \d{4}-\d\d-\d\d \d\d:\d\dZ$/,
        );
        expect(lines.slice(1)).toEqual([expect.stringMatching(/^- \[certificate-unused\] certificate left-over is used by no frontend/)]);
        expectNoToken(run);
    });

    it("posts nothing when everything is healthy", async () => {
        await boundCertificate({ daysAgo: 1, daysLeft: 89 });
        const run = await status(["--stack", "watch", "--skip-dns"]);
        expect(run.code).toBe(0);
        expect(webhook.received).toEqual([]);
    });

    it("posts that the check could not run (exit 2)", async () => {
        const closed = await freeTcpPort();
        const run = await status(["--stack", "watch", "--skip-dns"], {
            ...scaleway.env,
            SCW_API_URL: `http://127.0.0.1:${closed}`,
            STATUS_WEBHOOK_URL: webhook.url,
        });
        expect(run.code).toBe(2);
        expect(webhook.received).toHaveLength(1);
        expect((webhook.received[0].body as { text: string }).text).toMatch(
            new RegExp(
                `^scw-private-lb status: the check of stack watch could not run: the check could not run: Scaleway API at http://127\\.0\\.0\\.1:${closed}: `,
            ),
        );
    });

    it("reports a webhook that fails without quoting its URL, and keeps the exit code of the problems", async () => {
        const lb = await boundCertificate({ daysAgo: 1, daysLeft: 89 });
        await uploadTestCertificate(scaleway, lb, NAME, { daysAgo: 1, daysLeft: 89 }, "left-over");
        webhook.answer = { status: 404, body: { error: "no_service" } };
        const run = await status(["--stack", "watch", "--skip-dns"]);
        expect(run.code).toBe(1);
        expect(run.out).toContain("[certificate-unused]");
        expect(run.err).toMatch(
            /^status: the webhook in STATUS_WEBHOOK_URL \(127\.0\.0\.1:\d+\) answered HTTP 404: \{"error":"no_service"\}\n$/,
        );
        expectNoToken(run);
    });

    it("refuses a webhook URL that is not https before checking anything (exit 2)", async () => {
        const run = await status(["--stack", "watch", "--skip-dns"], {
            ...scaleway.env,
            STATUS_WEBHOOK_URL: `http://hooks.example.com/services/${WEBHOOK_TOKEN}`,
        });
        expect(run.code).toBe(2);
        expect(run.err).toBe("status: STATUS_WEBHOOK_URL must be an https:// URL (the webhook's token travels in it), got a http: URL\n");
        expect(scaleway.calls).toHaveLength(0);
        const notUrl = await status(["--stack", "watch", "--skip-dns"], {
            ...scaleway.env,
            STATUS_WEBHOOK_URL: "hooks.slack.com/services/x",
        });
        expect(notUrl.err).toContain("STATUS_WEBHOOK_URL is not a URL");
        expectNoToken(run);
    });
});

describe("--expires-within", () => {
    it("fails a certificate in use that expires within the threshold, before its renewal date says so", async () => {
        // A 7-day certificate with 1.5 days left: past its renewal date too, the expiry is what matters.
        await boundCertificate({ daysAgo: 5.5, daysLeft: 1.5 });
        const run = await status(["--stack", "watch", "--skip-dns", "--expires-within", "2d"]);
        expect(run.code).toBe(1);
        expect(run.out).toMatch(
            /\[certificate-expiring\] certificate watch cert on frontend-443 \(:443\) expires on \S+ \S+, in 36 h \(threshold 2 days\): run pulumi up, and check that the renewal runs/,
        );
        const without = await status(["--stack", "watch", "--skip-dns", "--json"]);
        expect(without.code).toBe(1);
        expect((JSON.parse(without.out) as StatusReport).loadBalancers[0].problems.map((problem) => problem.kind)).toEqual([
            "renewal-overdue",
        ]);
    });

    it("leaves a certificate alone when it expires after the threshold", async () => {
        await boundCertificate({ daysAgo: 1, daysLeft: 89 });
        expect((await status(["--stack", "watch", "--skip-dns", "--expires-within", "36h"])).code).toBe(0);
    });

    it("refuses a threshold it cannot read", async () => {
        const run = await status(["--stack", "watch", "--expires-within", "2w"]);
        expect(run.code).toBe(2);
        expect(run.err).toContain('--expires-within needs a time such as 2d or 36h, got "2w"');
        expect(parseTimeSpan("1.5d")).toBe(1.5 * DAY_MS);
        expect(parseTimeSpan("36h")).toBe(36 * 3_600_000);
        expect(parseTimeSpan("d")).toBeUndefined();
    });
});

describe("--renewal-grace", () => {
    it("waits that long past the renewal date before a due certificate is a problem", async () => {
        // A 90-day certificate falls due with a third of its lifetime left: 6 hours ago here.
        await boundCertificate({ daysAgo: 60.25, daysLeft: 29.75 });
        const kinds = async (args: string[]) => {
            const run = await status(["--stack", "watch", "--skip-dns", "--json", ...args]);
            return {
                code: run.code,
                kinds: (JSON.parse(run.out) as StatusReport).loadBalancers[0].problems.map((problem) => problem.kind),
            };
        };
        expect(await kinds([])).toEqual({ code: 1, kinds: ["renewal-overdue"] });
        expect(await kinds(["--renewal-grace", "3h"])).toEqual({ code: 1, kinds: ["renewal-overdue"] });
        expect(await kinds(["--renewal-grace", "12h"])).toEqual({ code: 0, kinds: [] });
    });

    it("refuses a grace it cannot read", async () => {
        const run = await status(["--stack", "watch", "--renewal-grace", "soon"]);
        expect(run.code).toBe(2);
        expect(run.err).toContain('--renewal-grace needs a time such as 2d or 36h, got "soon"');
    });
});

describe("hints that match what status reads", () => {
    it("names only the missing environment variables, never the stack config status does not read", async () => {
        const none = await status(["--stack", "watch", "--skip-dns"], {});
        expect(none.code).toBe(2);
        expect(none.err).toBe("status: Scaleway credentials missing: set the environment variables SCW_ACCESS_KEY and SCW_SECRET_KEY\n");
        const secretOnly = await status(["--stack", "watch", "--skip-dns"], { SCW_ACCESS_KEY: scaleway.env.SCW_ACCESS_KEY });
        expect(secretOnly.err).toBe("status: Scaleway credentials missing: set the environment variable SCW_SECRET_KEY\n");
        for (const run of [none, secretOnly]) {
            expect(run.err).not.toMatch(/scaleway:secretKey|pulumi config/);
        }
    });

    it("offers --skip-dns when the Cloudflare token is missing, in one sentence", async () => {
        const run = await status(["--stack", "watch"], scaleway.env);
        expect(run.code).toBe(2);
        expect(run.err).toBe(
            "status: Cloudflare API token missing: set the environment variable CLOUDFLARE_API_TOKEN, or pass --skip-dns to check the LB without the Cloudflare A records\n",
        );
    });

    it("says in its usage that it reads the environment only, and names the webhook variable", () => {
        expect(STATUS_USAGE).toContain("status reads only these variables, never the stack's config or secrets");
        expect(STATUS_USAGE).toContain("STATUS_WEBHOOK_URL");
        expect(STATUS_USAGE).toContain("--expires-within <time>");
    });
});
