/**
 * `npm run check -- --stack <stack> [--renewal-workflow <file> | --renewal-schedule <cron>...]`: the stack file checked offline, without
 * Pebble, credentials or the Pulumi CLI. It hands the stack's config to the program the way `pulumi preview`
 * does (scripts/stackConfig.ts) and runs the program itself (index.ts) under Pulumi's mocks, so its messages
 * are the program's own; it also runs each certificate's `check`, as the engine does at preview. Then it
 * lists what the program declares (LBs, private networks, Services, DNS records, certificates), and, given
 * the renewal workflow, whether its schedule fits each certificate's lifetime (scripts/renewalCadence.ts).
 * Exit code: 0 valid, 1 the stack (or the schedule) has problems, 2 usage.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import type { MockCallArgs, MockResourceArgs } from "@pulumi/pulumi/runtime";
import { parse } from "yaml";
import { z } from "zod";
import { ConfigError } from "../components/config";
import { createCertificateProvider } from "../components/certificate/dynamicProvider";
import { checkRenewalCadence, cronProblem, hours, type CertificateKind } from "./renewalCadence";
import { CERTIFICATE_RESOURCE_TYPE } from "./renewalGuard";
import {
    availableStacks,
    loadStackConfig,
    projectRoot,
    pulumiConfigOf,
    StackFileError,
    stackFileLabel,
    UnknownStackError,
} from "./stackConfig";
import { renderTable } from "./table";

export const CHECK_USAGE = `usage: npm run check -- --stack <stack> [--renewal-workflow <file> | --renewal-schedule <cron>...]
  --stack <stack>             the stack file to check (Pulumi.<stack>.yaml)
  --renewal-workflow <file>   also check that this workflow's schedule renews the stack's certificates
                              in time (e.g. .github/workflows/renewal.yml)
  --renewal-schedule <cron>   the same for a schedule of your own (cron, a Kubernetes CronJob, GitLab CI),
                              in UTC, e.g. "17 */6 * * *"; repeat it for a schedule of several lines
Offline: no credentials, no Pebble, no Pulumi CLI. Lists what \`pulumi up\` would declare.
exit code: 0 valid, 1 problems found, 2 usage`;

/** What the mocks need of the project file (Pulumi.yaml). */
const projectFile = z.object({ name: z.string() });
/** Inputs of a resource or lookup, as the mocks get them (the SDK types them `any`). */
const mockInputs = z.record(z.string(), z.unknown());

/** What the engine sends for a value unknown during preview. */
const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const AT_DEPLOY = "(known at deploy)";

export interface DeclaredResource {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

function isUnknown(value: unknown): boolean {
    return value !== null && typeof value === "object" && (value as Record<string, unknown>).__pulumiUnknown === true;
}

/** A value for people: unknowns say so, lists are joined. */
function shown(value: unknown): string {
    if (value === undefined || value === null) {
        return "-";
    }
    if (isUnknown(value)) {
        return AT_DEPLOY;
    }
    if (Array.isArray(value)) {
        return value.map(shown).join(", ");
    }
    return typeof value === "string" ? value : JSON.stringify(value);
}

function field(inputs: Record<string, unknown>, ...path: string[]): unknown {
    return path.reduce<unknown>(
        (value, key) =>
            value !== null && typeof value === "object" && !isUnknown(value) ? (value as Record<string, unknown>)[key] : value,
        inputs,
    );
}

interface Section {
    title: string;
    type: string;
    headers: string[];
    row: (resource: DeclaredResource) => string[];
}

const SECTIONS: Section[] = [
    {
        title: "Load balancers",
        type: "scaleway:loadbalancers/loadBalancer:LoadBalancer",
        headers: ["NAME", "OFFER", "ZONE", "PUBLIC IP", "TAGS"],
        row: ({ inputs }) => [
            shown(inputs.name),
            shown(inputs.type),
            shown(inputs.zone),
            inputs.assignFlexibleIp === false ? "none" : shown(inputs.assignFlexibleIp),
            shown(inputs.tags),
        ],
    },
    {
        title: "Private network attachments",
        type: "scaleway:loadbalancers/privateNetwork:PrivateNetwork",
        headers: ["RESOURCE", "PRIVATE NETWORK", "LB"],
        row: ({ name, inputs }) => [name, shown(inputs.privateNetworkId), shown(inputs.lbId)],
    },
    {
        title: "Kubernetes Services",
        type: "kubernetes:core/v1:Service",
        headers: ["SERVICE", "TYPE", "PORTS (LB -> POD)", "ANNOTATIONS"],
        row: ({ inputs }) => {
            const ports = field(inputs, "spec", "ports");
            return [
                `${shown(field(inputs, "metadata", "namespace"))}/${shown(field(inputs, "metadata", "name"))}`,
                shown(field(inputs, "spec", "type")),
                Array.isArray(ports)
                    ? ports.map((port: Record<string, unknown>) => `${shown(port.port)}->${shown(port.targetPort)}`).join(", ")
                    : shown(ports),
                shown(
                    isUnknown(field(inputs, "metadata", "annotations"))
                        ? field(inputs, "metadata", "annotations")
                        : Object.keys((field(inputs, "metadata", "annotations") as object | undefined) ?? {}),
                ),
            ];
        },
    },
    {
        title: "DNS records",
        type: "cloudflare:index/dnsRecord:DnsRecord",
        headers: ["NAME", "TYPE", "CONTENT", "TTL", "PROXIED"],
        row: ({ inputs }) => [shown(inputs.name), shown(inputs.type), shown(inputs.content), shown(inputs.ttl), shown(inputs.proxied)],
    },
    {
        title: "Certificates",
        type: CERTIFICATE_RESOURCE_TYPE,
        headers: ["RESOURCE", "NAMES", "ACME DIRECTORY", "PROFILE", "KEY", "BINDING"],
        row: ({ name, inputs }) => [
            name,
            shown(inputs.domains),
            shown(inputs.acmeDirectoryUrl),
            inputs.profile === undefined ? "(CA default)" : shown(inputs.profile),
            shown(inputs.keyType),
            `${shown(field(inputs, "binding", "mode"))} :${shown(field(inputs, "binding", "frontendPort"))}`,
        ],
    },
];

/** The tables of what the program declared, and a count of everything else (components, keys, providers). */
export function renderDeclared(resources: readonly DeclaredResource[]): string {
    const listed = new Set(SECTIONS.map((section) => section.type));
    const parts = SECTIONS.map((section) => {
        const rows = resources.filter((resource) => resource.type === section.type).map(section.row);
        return `${section.title} (${rows.length})\n${rows.length > 0 ? renderTable(section.headers, rows) : "  none"}`;
    });
    const others = new Map<string, number>();
    resources
        .filter((resource) => !listed.has(resource.type))
        .forEach((resource) => others.set(resource.type, (others.get(resource.type) ?? 0) + 1));
    parts.push(`Also declared: ${[...others].map(([type, count]) => `${count} ${type}`).join(", ") || "nothing else"}`);
    return parts.join("\n\n");
}

/** Lookups answer with placeholders: nothing is asked of any API. */
function placeholderLookup(args: MockCallArgs): Record<string, unknown> {
    const inputs = mockInputs.parse(args.inputs);
    switch (args.token) {
        case "scaleway:network/getPrivateNetwork:getPrivateNetwork":
            return { id: `(private network "${shown(inputs.name)}", looked up at deploy)`, name: inputs.name };
        case "cloudflare:index/getZone:getZone": {
            const name = shown(field(inputs, "filter", "name"));
            return { id: `(zone ${name})`, zoneId: `(zone ${name})`, name };
        }
        default:
            return {};
    }
}

/** Runs the program under mocks for `stack`, as `pulumi preview` would; returns what it declared. */
export async function declaredResources(stack: string, root: string): Promise<DeclaredResource[]> {
    const resources: DeclaredResource[] = [];
    pulumi.runtime.setAllConfig(pulumiConfigOf(stack, root));
    await pulumi.runtime.setMocks(
        {
            newResource(args: MockResourceArgs) {
                const inputs = mockInputs.parse(args.inputs);
                resources.push({ type: args.type, name: args.name, inputs });
                return { id: undefined, state: inputs };
            },
            call: placeholderLookup,
        },
        projectFile.parse(parse(readFileSync(join(root, "Pulumi.yaml"), "utf8"))).name,
        stack,
        true,
    );
    // A component that refuses its arguments inside an `apply` fails asynchronously: catch that too.
    const failures: unknown[] = [];
    const onRejection = (reason: unknown) => failures.push(reason);
    process.on("unhandledRejection", onRejection);
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program runs as it loads, as the engine loads it: by path, inside this try
        require(join(projectRoot, "index"));
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- waitForRPCs is exported by the module but missing from its typings
        const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
        await settings.waitForRPCs();
    } finally {
        process.off("unhandledRejection", onRejection);
    }
    if (failures.length > 0) {
        throw failures[0];
    }
    return resources;
}

/** What each certificate's `check` refuses, with the engine's preview inputs (unknowns as its sentinel). */
export async function certificateCheckProblems(resources: readonly DeclaredResource[]): Promise<string[]> {
    const provider = createCertificateProvider();
    const problems: string[] = [];
    for (const certificate of resources.filter((resource) => resource.type === CERTIFICATE_RESOURCE_TYPE)) {
        const news = Object.fromEntries(
            Object.entries(certificate.inputs)
                .filter(([key]) => key !== "__provider")
                .map(([key, value]) => [key, isUnknown(value) ? UNKNOWN_SENTINEL : value]),
        );
        const result = await provider.check?.({}, news);
        for (const failure of result?.failures ?? []) {
            problems.push(`certificate ${certificate.name}: ${failure.property}: ${failure.reason}`);
        }
    }
    return problems;
}

/** The cron expressions of a workflow file's `on.schedule`. */
export function scheduleOf(workflowPath: string): string[] {
    const workflow = parse(readFileSync(workflowPath, "utf8")) as { on?: { schedule?: { cron: string }[] } } | null;
    return (workflow?.on?.schedule ?? []).map((entry) => entry.cron);
}

/** Each declared certificate as the cadence check sees it. */
export function certificateKinds(resources: readonly DeclaredResource[]): CertificateKind[] {
    return resources
        .filter((resource) => resource.type === CERTIFICATE_RESOURCE_TYPE)
        .map((resource) => ({
            holder: `certificate ${resource.name}`,
            profile: typeof resource.inputs.profile === "string" ? resource.inputs.profile : undefined,
            renewalMinDaysRemaining:
                typeof field(resource.inputs, "renewal", "minDaysRemaining") === "number"
                    ? (field(resource.inputs, "renewal", "minDaysRemaining") as number)
                    : undefined,
        }));
}

export interface CheckRunOptions {
    root?: string;
    now?: Date;
    out?: (text: string) => void;
    err?: (text: string) => void;
}

export async function runCheck(argv: readonly string[], options: CheckRunOptions = {}): Promise<number> {
    const out = options.out ?? ((text: string) => process.stdout.write(text));
    const err = options.err ?? ((text: string) => process.stderr.write(text));
    const root = options.root ?? projectRoot;
    let stack: string | undefined;
    let workflow: string | undefined;
    let schedule: string[] | undefined;
    try {
        const { values } = parseArgs({
            args: [...argv],
            options: {
                stack: { type: "string", short: "s" },
                "renewal-workflow": { type: "string" },
                "renewal-schedule": { type: "string", multiple: true },
                help: { type: "boolean", short: "h" },
            },
            strict: true,
        });
        if (values.help) {
            out(`${CHECK_USAGE}\n`);
            return 0;
        }
        stack = values.stack;
        workflow = values["renewal-workflow"];
        schedule = values["renewal-schedule"];
    } catch (error) {
        err(`check: ${(error as Error).message}\n${CHECK_USAGE}\n`);
        return 2;
    }
    if (!stack) {
        err(`check: --stack is required (stacks in this project: ${availableStacks(root).join(", ") || "none"})\n${CHECK_USAGE}\n`);
        return 2;
    }
    if (workflow !== undefined && schedule !== undefined) {
        err(`check: Only one of \`--renewal-workflow\` or \`--renewal-schedule\` can be provided.\n${CHECK_USAGE}\n`);
        return 2;
    }
    if (workflow !== undefined && !existsSync(workflow)) {
        err(`check: no workflow file ${workflow}\n`);
        return 2;
    }
    const badCron = (schedule ?? []).map(cronProblem).find((problem) => problem !== undefined);
    if (badCron !== undefined) {
        err(`check: --renewal-schedule ${badCron}\n`);
        return 2;
    }
    try {
        loadStackConfig(stack, root);
    } catch (error) {
        if (error instanceof UnknownStackError) {
            err(`check: ${error.message}\n`);
            return 2;
        }
        if (error instanceof ConfigError || error instanceof StackFileError) {
            err(`${stackFileLabel(stack)}: ${error.message}\n`);
            return 1;
        }
        throw error;
    }
    let resources: DeclaredResource[];
    try {
        resources = await declaredResources(stack, root);
    } catch (error) {
        err(`${stackFileLabel(stack)}: the program refuses it: ${(error as Error).message}\n`);
        return 1;
    }
    const problems = await certificateCheckProblems(resources);
    out(
        `Stack ${stack} (${stackFileLabel(stack)}): what \`pulumi up -s ${stack}\` would declare, offline (ids and addresses show as ${AT_DEPLOY})\n\n`,
    );
    out(`${renderDeclared(resources)}\n`);
    const cadence =
        workflow !== undefined
            ? { crons: scheduleOf(workflow), of: `The schedule of ${workflow}` }
            : schedule !== undefined
              ? { crons: schedule, of: `The schedule ${schedule.join(" + ")}` }
              : undefined;
    if (cadence !== undefined) {
        const verdict = checkRenewalCadence(cadence.crons, certificateKinds(resources), options.now ?? new Date());
        verdict.warnings.forEach((warning) => out(`! ${warning}\n`));
        problems.push(...verdict.problems);
        if (verdict.problems.length === 0) {
            out(`\n${cadence.of} renews every certificate in time (longest gap between runs: ${hours(verdict.longestGapMs)}).\n`);
        }
    }
    if (problems.length > 0) {
        err(
            `\n${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map((problem) => `  ✗ ${problem}`).join("\n")}\n`,
        );
        return 1;
    }
    out(`\nThe stack file is valid.\n`);
    return 0;
}

if (require.main === module) {
    void runCheck(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error: unknown) => {
            process.stderr.write(`check crashed: ${(error as Error).stack ?? String(error)}\n`);
            process.exit(2);
        },
    );
}
