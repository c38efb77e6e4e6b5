/**
 * `npm run status -- --stack <stack> [--json] [--skip-dns] [--expires-within <2d>] [--renewal-grace <12h>]`: what an operator runs
 * on Monday morning, and what the scheduled status workflow runs every day.
 * Asks the Scaleway API (SCW_* credentials; SCW_API_URL for another endpoint such as the sandbox) about the
 * stack's private LB and Cloudflare about its admin names, prints the certificates and the problems found,
 * and posts them to STATUS_WEBHOOK_URL when it is set.
 * Exit code: 0 healthy, 1 problems found, 2 the check could not run (usage, configuration, credentials, API).
 */
import { parseArgs } from "node:util";
import { Errors } from "@scaleway/sdk-client";
import { ConfigError, type StackConfig } from "../components/config";
import {
    CLOUDFLARE_API_TOKEN,
    resolveCloudflareCredentials,
    resolveScalewayCredentials,
    SCALEWAY_ACCESS_KEY,
    SCALEWAY_SECRET_KEY,
    type Environment,
} from "../components/certificate/credentials";
import { findStackFile, loadStackConfig, projectRoot, StackFileError, UnknownStackError } from "./stackConfig";
import {
    buildStatusReport,
    EXIT_USAGE,
    expectedLoadBalancersOf,
    exitCodeOf,
    renderStatus,
    webhookErrorMessageOf,
    webhookMessageOf,
    type StatusReport,
    type WebhookMessage,
} from "./statusReport";
import { observeDns, observeScaleway, STATUS_RETRY } from "./statusSources";
import { postWebhook, webhookUrlOf } from "./statusWebhook";
import type { RetryPolicy } from "../components/certificate/scaleway";

export const STATUS_USAGE = `usage: npm run status -- --stack <stack> [--json] [--skip-dns] [--expires-within <time>] [--renewal-grace <time>]
  --stack <stack>          the stack whose LBs to check: a name (Pulumi.<stack>.yaml) or a stack file's path
  --json                   print one JSON document instead of tables
  --skip-dns               do not check the Cloudflare A records (no CLOUDFLARE_API_TOKEN needed)
  --expires-within <time>  also a problem: a certificate in use that expires within this time (e.g. 2d, 36h)
  --renewal-grace <time>   a certificate past its renewal date is a problem only after this time (e.g. 12h:
                           twice the renewal schedule's gap, so a renewal run has had its chance)
environment: SCW_ACCESS_KEY, SCW_SECRET_KEY (required), SCW_API_URL (optional endpoint),
             CLOUDFLARE_API_TOKEN (unless --skip-dns), CLOUDFLARE_BASE_URL (optional endpoint),
             STATUS_WEBHOOK_URL (optional: posts the problems to a Slack, Mattermost or Teams incoming webhook)
             (status reads only these variables, never the stack's config or secrets)
exit code:   0 healthy, 1 problems found, 2 the check could not run`;

export interface StatusArgs {
    stack: string;
    json: boolean;
    skipDns: boolean;
    /** `--expires-within`, in milliseconds. */
    expiresWithinMs?: number;
    /** `--renewal-grace`, in milliseconds. */
    renewalGraceMs?: number;
}

/** `2d`, `36h`, `1.5d` -> milliseconds; undefined when the text is not such a time. */
export function parseTimeSpan(text: string): number | undefined {
    const match = /^(\d+(?:\.\d+)?)(d|h)$/.exec(text);
    return match ? Number(match[1]) * (match[2] === "d" ? 86_400_000 : 3_600_000) : undefined;
}

export type ParsedStatusArgs = { ok: true; args: StatusArgs } | { ok: false; help: boolean; message: string };

export function parseStatusArgs(argv: readonly string[]): ParsedStatusArgs {
    let values;
    try {
        ({ values } = parseArgs({
            args: [...argv],
            options: {
                stack: { type: "string", short: "s" },
                json: { type: "boolean", default: false },
                "skip-dns": { type: "boolean", default: false },
                "expires-within": { type: "string" },
                "renewal-grace": { type: "string" },
                help: { type: "boolean", short: "h", default: false },
            },
            strict: true,
        }));
    } catch (error) {
        return { ok: false, help: false, message: `${(error as Error).message}\n${STATUS_USAGE}` };
    }
    if (values.help) {
        return { ok: false, help: true, message: STATUS_USAGE };
    }
    if (!values.stack) {
        return { ok: false, help: false, message: `--stack is required\n${STATUS_USAGE}` };
    }
    const spans: { expiresWithinMs?: number; renewalGraceMs?: number } = {};
    for (const [flag, key] of [
        ["expires-within", "expiresWithinMs"],
        ["renewal-grace", "renewalGraceMs"],
    ] as const) {
        const value = values[flag];
        if (value !== undefined) {
            const span = parseTimeSpan(value);
            if (span === undefined) {
                return { ok: false, help: false, message: `--${flag} needs a time such as 2d or 36h, got "${value}"\n${STATUS_USAGE}` };
            }
            spans[key] = span;
        }
    }
    return { ok: true, args: { stack: values.stack, json: values.json, skipDns: values["skip-dns"], ...spans } };
}

export interface StatusRunOptions {
    env: Environment;
    /** Where Pulumi.yaml and the stack files are (default: this project). */
    root?: string;
    now?: Date;
    retry?: RetryPolicy;
    out?: (text: string) => void;
    err?: (text: string) => void;
}

class UsageError extends Error {}

/** Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND...) is in its cause. */
function describeFailure(error: unknown): string {
    if (error instanceof Errors.ScalewayError && (error.status === 401 || error.status === 403)) {
        return `the Scaleway API refused the credentials in SCW_ACCESS_KEY / SCW_SECRET_KEY (${error.message})`;
    }
    if (!(error instanceof Error)) {
        return String(error);
    }
    return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

/** Says which API (and which variable sets its endpoint) a failure came from. */
function fromApi<T>(api: string, endpoint: string, work: Promise<T>): Promise<T> {
    return work.catch((error: unknown) => {
        throw new Error(`${api} at ${endpoint}: ${describeFailure(error)}`);
    });
}

function loadConfig(stack: string, root: string): StackConfig {
    try {
        return loadStackConfig(stack, root);
    } catch (error) {
        if (error instanceof UnknownStackError || error instanceof ConfigError || error instanceof StackFileError) {
            throw new UsageError(error.message);
        }
        throw error;
    }
}

/**
 * Credentials from the environment only (status never reads the stack's config or secrets): says which
 * variables are missing, then lets `resolve` check their form.
 */
function credentialsOf<T>(
    env: Environment,
    what: string,
    variables: readonly { env: string }[],
    resolve: () => T,
    alternative?: string,
): T {
    const missing = variables.map((variable) => variable.env).filter((name) => !env[name]?.trim());
    if (missing.length > 0) {
        const names = missing.join(" and ");
        throw new UsageError(
            `${what} missing: set the environment variable${missing.length > 1 ? "s" : ""} ${names}${alternative ? `, ${alternative}` : ""}`,
        );
    }
    try {
        return resolve();
    } catch (error) {
        throw new UsageError((error as Error).message);
    }
}

export async function checkStatus(args: StatusArgs, options: StatusRunOptions): Promise<StatusReport> {
    const config = loadConfig(args.stack, options.root ?? projectRoot);
    const scaleway = credentialsOf(options.env, "Scaleway credentials", [SCALEWAY_ACCESS_KEY, SCALEWAY_SECRET_KEY], () =>
        resolveScalewayCredentials(options.env),
    );
    const cloudflare = args.skipDns
        ? undefined
        : credentialsOf(
              options.env,
              "Cloudflare API token",
              [CLOUDFLARE_API_TOKEN],
              () => resolveCloudflareCredentials(options.env),
              "or pass --skip-dns to check the LB without the Cloudflare A records",
          );
    const expected = expectedLoadBalancersOf(config);
    const names = expected.flatMap((lb) => lb.dnsNames);
    const [observed, lookups] = await Promise.all([
        fromApi(
            "Scaleway API",
            scaleway.apiUrl ?? "https://api.scaleway.com (set SCW_API_URL for another)",
            observeScaleway(config, expected, scaleway, options.retry ?? STATUS_RETRY),
        ),
        cloudflare
            ? fromApi(
                  "Cloudflare API",
                  cloudflare.baseUrl ?? "https://api.cloudflare.com/client/v4 (set CLOUDFLARE_BASE_URL for another)",
                  observeDns(config, names, cloudflare),
              )
            : Promise.resolve(undefined),
    ]);
    return buildStatusReport({
        // `--stack` takes a name or a stack file's path; the report names the stack.
        stack: findStackFile(args.stack, options.root ?? projectRoot).name,
        environment: config.environment,
        renewalMinDaysRemaining: config.renewalMinDaysRemaining,
        expected,
        expiresWithinMs: args.expiresWithinMs,
        renewalGraceMs: args.renewalGraceMs,
        networks: observed.networks,
        loadBalancers: observed.loadBalancers,
        dns: lookups ? { lookups } : undefined,
        now: options.now ?? new Date(),
    });
}

/** Runs the command; returns the exit code. */
export async function runStatus(argv: readonly string[], options: StatusRunOptions): Promise<number> {
    const out = options.out ?? ((text: string) => process.stdout.write(text));
    const err = options.err ?? ((text: string) => process.stderr.write(text));
    const parsed = parseStatusArgs(argv);
    if (!parsed.ok) {
        (parsed.help ? out : err)(`${parsed.message}\n`);
        return parsed.help ? 0 : EXIT_USAGE;
    }
    let webhook: URL | undefined;
    try {
        webhook = webhookUrlOf(options.env);
    } catch (error) {
        err(`status: ${(error as Error).message}\n`);
        return EXIT_USAGE;
    }
    /** Posts the notice when a webhook is set; a failed post is reported, it never hides the problems. */
    const notify = async (message: WebhookMessage) => {
        if (webhook) {
            await postWebhook(webhook, message).catch((error: unknown) => err(`status: ${(error as Error).message}\n`));
        }
    };
    try {
        const report = await checkStatus(parsed.args, options);
        out(parsed.args.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
        if (!report.healthy) {
            await notify(webhookMessageOf(report));
        }
        return exitCodeOf(report);
    } catch (error) {
        const message = error instanceof UsageError ? error.message : `the check could not run: ${describeFailure(error)}`;
        err(`status: ${message}\n`);
        if (parsed.args.json) {
            out(`${JSON.stringify({ error: message })}\n`);
        }
        await notify(webhookErrorMessageOf(parsed.args.stack, message));
        return EXIT_USAGE;
    }
}

if (require.main === module) {
    void runStatus(process.argv.slice(2), { env: process.env }).then((code) => {
        process.exitCode = code;
    });
}
