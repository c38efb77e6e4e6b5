/**
 * The GitHub workflows, parsed: triggers, jobs and their order, permissions, the Pulumi commands each
 * path can run, the renewal and status schedules (and that the renewal schedule fits the shortest
 * certificate lifetime), and that every credential is a `${{ secrets.* }}` expression, never a value.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkRenewalCadence, longestGapMs } from "../scripts/renewalCadence";

const root = join(__dirname, "..");
const workflowsDir = join(root, ".github", "workflows");

type Permissions = Record<string, string> | string;

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, unknown>;
}

interface Job {
    name?: string;
    if?: string;
    needs?: string | string[];
    "runs-on"?: string;
    container?: string;
    environment?: string;
    permissions?: Permissions;
    strategy?: { "fail-fast"?: boolean; matrix: Record<string, unknown[]> & { include?: Record<string, string>[] } };
    concurrency?: { group: string; "cancel-in-progress": boolean };
    uses?: string;
    with?: Record<string, unknown>;
    secrets?: string | Record<string, string>;
    env?: Record<string, unknown>;
    steps?: Step[];
}

interface Workflow {
    on: Record<string, unknown>;
    permissions?: Permissions;
    env?: Record<string, unknown>;
    jobs: Record<string, Job>;
}

function load(file: string): { text: string; workflow: Workflow } {
    const text = readFileSync(join(workflowsDir, file), "utf8");
    return { text, workflow: parse(text) as Workflow };
}

const main = load("pulumi.yml");
const up = load("pulumi-up.yml");
const renewal = load("renewal.yml");
const status = load("status.yml");
const workflows = { "pulumi.yml": main, "pulumi-up.yml": up, "renewal.yml": renewal, "status.yml": status };
const rootPackage = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    engines: { node: string };
};

const SECRET_EXPRESSION = /^\$\{\{ secrets\.([A-Z0-9_]+) \}\}$/;
const CREDENTIAL_NAME = /KEY|SECRET|TOKEN|PASSPHRASE|PASSWORD|CREDENTIAL|KUBE_?CONFIG|WEBHOOK/i;

function stepsUsing(job: Job, action: string): Step[] {
    return (job.steps ?? []).filter((step) => step.uses?.split("@")[0] === action);
}

function pulumiStep(job: Job): Step & { with: Record<string, unknown>; env: Record<string, unknown> } {
    const steps = stepsUsing(job, "pulumi/actions");
    expect(steps).toHaveLength(1);
    const [step] = steps;
    return { ...step, with: step.with ?? {}, env: step.env ?? {} };
}

/** Every key/value map a workflow can put credentials in: workflow, job and step `env`, and step/job `with`. */
function credentialCarriers(workflow: Workflow): Array<[string, Record<string, unknown>]> {
    const carriers: Array<[string, Record<string, unknown>]> = [["env", workflow.env ?? {}]];
    for (const [jobName, job] of Object.entries(workflow.jobs)) {
        carriers.push([`${jobName}.env`, job.env ?? {}], [`${jobName}.with`, job.with ?? {}]);
        (job.steps ?? []).forEach((step, index) =>
            carriers.push([`${jobName}.steps[${index}].env`, step.env ?? {}], [`${jobName}.steps[${index}].with`, step.with ?? {}]),
        );
    }
    return carriers;
}

function strings(value: unknown): string[] {
    if (typeof value === "string") {
        return [value];
    }
    if (Array.isArray(value)) {
        return value.flatMap(strings);
    }
    if (value !== null && typeof value === "object") {
        return Object.entries(value).flatMap(([key, entry]) => [key, ...strings(entry)]);
    }
    return [];
}

function crons(workflow: Workflow): string[] {
    return ((workflow.on.schedule ?? []) as { cron: string }[]).map((entry) => entry.cron);
}

describe("triggers", () => {
    it("previews pull requests to main, deploys pushes to main and on demand, never on a schedule", () => {
        expect(main.workflow.on).toEqual({
            pull_request: { branches: ["main"] },
            push: { branches: ["main"] },
            workflow_dispatch: {},
        });
        expect(Object.keys(up.workflow.on)).toEqual(["workflow_call"]);
    });

    it("renews and watches on schedules of their own, and on demand", () => {
        const cron: unknown = expect.stringMatching(/^(\S+\s+){4}\S+$/);
        for (const { workflow } of [renewal, status]) {
            expect(workflow.on).toEqual({ schedule: [{ cron }], workflow_dispatch: {} });
        }
    });
});

describe("jobs", () => {
    const jobs = main.workflow.jobs;

    it("tests first, then previews or deploys staging, then prod", () => {
        expect(Object.keys(jobs)).toEqual(["test", "preview", "up-staging", "up-prod"]);
        expect(jobs.preview.needs).toBe("test");
        expect(jobs["up-staging"].needs).toBe("test");
        expect(jobs["up-prod"].needs).toBe("up-staging");
    });

    it("runs npm ci then npm test on Node 20 with Pebble installed", () => {
        const runs = (jobs.test.steps ?? []).map((step) => step.run).filter((run): run is string => run !== undefined);
        expect(runs.indexOf("npm ci")).toBeGreaterThanOrEqual(0);
        expect(runs.indexOf("npm test")).toBeGreaterThan(runs.indexOf("npm ci"));
        expect(runs.some((run) => /apt-get install .*\bpebble\b/.test(run))).toBe(true);
        expect(jobs.test.container).toMatch(/bookworm/);
    });

    it("sets up Node 20 with the npm cache and installs with npm ci wherever it runs code", () => {
        expect(rootPackage.engines.node).toMatch(/^>=20\./);
        const codeJobs = [jobs.test, jobs.preview, up.workflow.jobs.up, renewal.workflow.jobs.renew, status.workflow.jobs.status];
        for (const job of codeJobs) {
            expect(stepsUsing(job, "actions/checkout")).toHaveLength(1);
            expect(stepsUsing(job, "actions/setup-node").map((step) => step.with)).toEqual([{ "node-version": 20, cache: "npm" }]);
            expect((job.steps ?? []).some((step) => step.run === "npm ci")).toBe(true);
        }
    });

    it("previews staging and prod on pull requests only, with the diff and a PR comment, never anything else", () => {
        expect(jobs.preview.if).toBe("github.event_name == 'pull_request'");
        expect(jobs.preview.strategy).toEqual({ "fail-fast": false, matrix: { stack: ["staging", "prod"] } });
        const step = pulumiStep(jobs.preview);
        expect(step.with).toMatchObject({ command: "preview", "stack-name": "${{ matrix.stack }}", diff: true, "comment-on-pr": true });
    });

    it("deploys only from main and never on pull requests: staging in its environment, prod in production", () => {
        for (const name of ["up-staging", "up-prod"]) {
            expect(jobs[name].if).toBe("github.event_name != 'pull_request' && github.ref == 'refs/heads/main'");
            expect(jobs[name].uses).toBe("./.github/workflows/pulumi-up.yml");
            expect(jobs[name].secrets).toBe("inherit");
        }
        expect(jobs["up-staging"].with).toEqual({ stack: "staging", environment: "staging" });
        expect(jobs["up-prod"].with).toEqual({ stack: "prod", environment: "production" });
    });

    it("runs `pulumi up` of the given stack inside the given environment", () => {
        const call = up.workflow.on.workflow_call as { inputs: Record<string, { required: boolean; type: string }> };
        expect(call.inputs).toMatchObject({ stack: { required: true, type: "string" }, environment: { required: true, type: "string" } });
        const job = up.workflow.jobs.up;
        expect(job.environment).toBe("${{ inputs.environment }}");
        expect(pulumiStep(job).with).toMatchObject({ command: "up", "stack-name": "${{ inputs.stack }}", refresh: true, diff: true });
    });

    it("targets stacks that exist as stack files", () => {
        const stacks = [
            ...(jobs.preview.strategy?.matrix.stack ?? []),
            jobs["up-staging"].with?.stack,
            jobs["up-prod"].with?.stack,
            ...(renewal.workflow.jobs.renew.strategy?.matrix.include ?? []).map((entry) => entry.stack),
            ...(status.workflow.jobs.status.strategy?.matrix.stack ?? []),
        ];
        expect(stacks).toHaveLength(8);
        for (const stack of stacks) {
            expect(existsSync(join(root, `Pulumi.${String(stack)}.yaml`))).toBe(true);
        }
    });
});

describe("the Pulumi action", () => {
    const pulumiJobs = [main.workflow.jobs.preview, up.workflow.jobs.up];

    it("is the current major, with the CLI of the SDK in package.json, the policy pack and the S3 backend from a variable", () => {
        for (const job of pulumiJobs) {
            const step = pulumiStep(job);
            expect(step.uses).toBe("pulumi/actions@v7");
            expect(step.with["pulumi-version"]).toBe(rootPackage.dependencies["@pulumi/pulumi"]);
            expect(step.with["cloud-url"]).toBe("${{ vars.PULUMI_BACKEND_URL }}");
            expect(step.with.policyPacks).toBe("${{ github.workspace }}/policy");
            expect(step.with).not.toHaveProperty("github-token");
        }
        expect(existsSync(join(root, "policy", "PulumiPolicy.yaml"))).toBe(true);
    });

    it("previews with read-only credentials and deploys with the environment's", () => {
        const expected = (prefix: string) => ({
            PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
            AWS_ACCESS_KEY_ID: `\${{ secrets.${prefix}AWS_ACCESS_KEY_ID }}`,
            AWS_SECRET_ACCESS_KEY: `\${{ secrets.${prefix}AWS_SECRET_ACCESS_KEY }}`,
            SCW_ACCESS_KEY: `\${{ secrets.${prefix}SCW_ACCESS_KEY }}`,
            SCW_SECRET_KEY: `\${{ secrets.${prefix}SCW_SECRET_KEY }}`,
            CLOUDFLARE_API_TOKEN: `\${{ secrets.${prefix}CLOUDFLARE_API_TOKEN }}`,
        });
        expect(pulumiStep(main.workflow.jobs.preview).env).toEqual(expected("PREVIEW_"));
        expect(pulumiStep(up.workflow.jobs.up).env).toEqual(expected(""));
        const kubeconfigSecrets = (job: Job) =>
            (job.steps ?? []).flatMap((step) => (step.env?.KUBE_CONFIG === undefined ? [] : [step.env.KUBE_CONFIG]));
        expect(kubeconfigSecrets(main.workflow.jobs.preview)).toEqual(["${{ secrets.PREVIEW_KUBE_CONFIG }}"]);
        expect(kubeconfigSecrets(up.workflow.jobs.up)).toEqual(["${{ secrets.KUBE_CONFIG }}"]);
    });
});

describe("permissions and concurrency", () => {
    it("grants contents: read at the top of every workflow", () => {
        for (const { workflow } of Object.values(workflows)) {
            expect(workflow.permissions).toEqual({ contents: "read" });
        }
    });

    it("grants pull-requests: write to the commenting preview job and no write anywhere else", () => {
        const grants: string[] = [];
        for (const [file, { workflow }] of Object.entries(workflows)) {
            const scopes: Array<[string, Permissions | undefined]> = [
                ["(workflow)", workflow.permissions],
                ...Object.entries(workflow.jobs).map(([name, job]): [string, Permissions | undefined] => [name, job.permissions]),
            ];
            for (const [scope, permissions] of scopes) {
                if (typeof permissions === "string") {
                    grants.push(`${file} ${scope}: ${permissions}`);
                } else {
                    Object.entries(permissions ?? {})
                        .filter(([, level]) => level !== "read" && level !== "none")
                        .forEach(([permission, level]) => grants.push(`${file} ${scope}: ${permission}: ${level}`));
                }
            }
        }
        expect(grants).toEqual(["pulumi.yml preview: pull-requests: write"]);
        expect(pulumiStep(main.workflow.jobs.preview).with["comment-on-pr"]).toBe(true);
        expect(pulumiStep(up.workflow.jobs.up).with).not.toHaveProperty("comment-on-pr");
    });

    it("never overlaps two `up`s of a stack, and lets a new push replace a stale preview", () => {
        expect(up.workflow.jobs.up.concurrency).toEqual({ group: "pulumi-up-${{ inputs.stack }}", "cancel-in-progress": false });
        expect(main.workflow.jobs.preview.concurrency).toEqual({
            group: "preview-${{ github.event.pull_request.number }}-${{ matrix.stack }}",
            "cancel-in-progress": true,
        });
    });
});

describe("no secret is inlined", () => {
    it("passes every credential-named variable or input as a ${{ secrets.* }} expression", () => {
        const offenders: string[] = [];
        let credentials = 0;
        for (const [file, { workflow }] of Object.entries(workflows)) {
            for (const [where, values] of credentialCarriers(workflow)) {
                for (const [key, value] of Object.entries(values).filter(([name]) => CREDENTIAL_NAME.test(name))) {
                    credentials += 1;
                    if (typeof value !== "string" || !SECRET_EXPRESSION.test(value)) {
                        offenders.push(`${file} ${where}.${key}`);
                    }
                }
            }
        }
        expect(offenders).toEqual([]);
        // 7 in the preview job, 7 in the up job, 13 in the renewal job (kubeconfig, then 6 per Pulumi step), 4 in the status job
        expect(credentials).toBe(31);
    });

    it("never expands an expression inside a shell script (secrets reach scripts through env only)", () => {
        const scripts = Object.values(workflows).flatMap(({ workflow }) =>
            Object.values(workflow.jobs).flatMap((job) => (job.steps ?? []).flatMap((step) => (step.run ? [step.run] : []))),
        );
        expect(scripts.length).toBeGreaterThan(0);
        expect(scripts.filter((script) => script.includes("${{"))).toEqual([]);
    });

    it("holds nothing that looks like a Scaleway key, a UUID, an AWS key, a PEM block or a token, comments included", () => {
        const looksSecret = [
            /SCW[A-Z0-9]{17}/,
            /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i,
            /\bAKIA[0-9A-Z]{16}\b/,
            /-----BEGIN /,
            /[A-Za-z0-9_-]{40,}/,
        ];
        for (const { text, workflow } of Object.values(workflows)) {
            for (const pattern of looksSecret) {
                expect(text).not.toMatch(pattern);
                expect(strings(workflow).filter((value) => pattern.test(value))).toEqual([]);
            }
        }
    });
});

/** The shell scripts of a job's steps, in order, with the step's name. */
function scriptsOf(job: Job): { name: string; run: string; env: Record<string, unknown> }[] {
    return (job.steps ?? []).flatMap((step) =>
        step.run === undefined ? [] : [{ name: step.name ?? step.run, run: step.run, env: step.env ?? {} }],
    );
}

function indexOfScript(job: Job, pattern: RegExp): number {
    const index = scriptsOf(job).findIndex((script) => pattern.test(script.run));
    expect(index, `a step running ${pattern}`).toBeGreaterThanOrEqual(0);
    return index;
}

describe("renewal: on a schedule, with nobody in the loop, bounded to certificates", () => {
    const job = renewal.workflow.jobs.renew;
    const SCHEDULE_FROM = new Date("2026-12-01T00:00:00Z");

    it("runs per stack in an environment of its own for prod (no reviewer), staging in staging, from main only", () => {
        expect(job.if).toBe("github.ref == 'refs/heads/main'");
        expect(job.environment).toBe("${{ matrix.environment }}");
        expect(job.strategy).toEqual({
            "fail-fast": false,
            matrix: {
                include: [
                    { stack: "staging", environment: "staging" },
                    { stack: "prod", environment: "production-renewal" },
                ],
            },
        });
        // The approval gate of `production` stays on every other change to prod.
        expect(job.strategy?.matrix.include?.map((entry) => entry.environment)).not.toContain("production");
        expect(main.workflow.jobs["up-prod"].with?.environment).toBe("production");
    });

    it("never overlaps a deployment of the same stack", () => {
        expect(job.concurrency).toEqual({ group: "pulumi-up-${{ matrix.stack }}", "cancel-in-progress": false });
        expect(up.workflow.jobs.up.concurrency?.group.replace("inputs.stack", "matrix.stack")).toBe(job.concurrency?.group);
    });

    it("checks the stack and the schedule, refreshes, previews as JSON, runs the guard, and only then updates the guard's targets", () => {
        const scripts = scriptsOf(job);
        const check = indexOfScript(job, /^npm run check -- --stack "\$STACK" --renewal-workflow \.github\/workflows\/renewal\.yml$/);
        const guardStep = indexOfScript(
            job,
            /npm run --silent renewal-guard -- --plan "\$RUNNER_TEMP\/plan\.json" --targets "\$RUNNER_TEMP\/targets\.txt"/,
        );
        const upStep = indexOfScript(job, /pulumi up /);
        expect(check).toBeLessThan(guardStep);
        expect(guardStep).toBeLessThan(upStep);

        const guardLines = scripts[guardStep].run.trim().split("\n");
        expect(guardLines).toEqual([
            'pulumi login "$PULUMI_BACKEND_URL"',
            'pulumi refresh --stack "$STACK" --yes --skip-preview --non-interactive',
            'pulumi preview --stack "$STACK" --json --non-interactive --policy-pack policy > "$RUNNER_TEMP/plan.json"',
            'npm run --silent renewal-guard -- --plan "$RUNNER_TEMP/plan.json" --targets "$RUNNER_TEMP/targets.txt"',
        ]);
        // The update: nothing when nothing is due, else exactly the targets the guard allowed.
        const upScript = scripts[upStep].run;
        expect(upScript).toContain('if [ ! -s "$RUNNER_TEMP/targets.txt" ]; then echo "Nothing to renew."; exit 0; fi');
        expect(upScript).toContain('while IFS= read -r urn; do targets+=(--target "$urn"); done < "$RUNNER_TEMP/targets.txt"');
        expect(upScript).toMatch(
            /pulumi up --stack "\$STACK" --yes --skip-preview --non-interactive --policy-pack policy "\$\{targets\[@\]\}"$/m,
        );
        // No other step of the job changes anything.
        const pulumiCommands = scripts.flatMap((script) =>
            script.run
                .split("\n")
                .filter((line) => /^\s*pulumi /.test(line))
                .map((line) => line.trim().split(" ")[1]),
        );
        expect(pulumiCommands).toEqual(["login", "refresh", "preview", "up"]);
    });

    it("installs the CLI of the SDK's version without running a command through the action", () => {
        const steps = stepsUsing(job, "pulumi/actions");
        expect(steps.map((step) => [step.uses, step.with])).toEqual([
            ["pulumi/actions@v7", { "pulumi-version": rootPackage.dependencies["@pulumi/pulumi"] }],
        ]);
    });

    it("passes the environment's read-write credentials to the Pulumi steps only", () => {
        const pulumiEnv = {
            PULUMI_BACKEND_URL: "${{ vars.PULUMI_BACKEND_URL }}",
            PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
            AWS_ACCESS_KEY_ID: "${{ secrets.AWS_ACCESS_KEY_ID }}",
            AWS_SECRET_ACCESS_KEY: "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
            SCW_ACCESS_KEY: "${{ secrets.SCW_ACCESS_KEY }}",
            SCW_SECRET_KEY: "${{ secrets.SCW_SECRET_KEY }}",
            CLOUDFLARE_API_TOKEN: "${{ secrets.CLOUDFLARE_API_TOKEN }}",
        };
        const withPulumi = scriptsOf(job).filter((script) => /pulumi /.test(script.run));
        expect(withPulumi.map((script) => script.env)).toEqual([pulumiEnv, pulumiEnv]);
        expect(
            scriptsOf(job).filter(
                (script) => !/pulumi /.test(script.run) && Object.keys(script.env).some((name) => name !== "KUBE_CONFIG"),
            ),
        ).toEqual([]);
        expect(job.env).toEqual({ STACK: "${{ matrix.stack }}" });
    });

    it("runs at least daily and at least four times per renewal window of the shortest profile (shortlived)", () => {
        const schedule = crons(renewal.workflow);
        expect(longestGapMs(schedule, SCHEDULE_FROM)).toBeLessThanOrEqual(86_400_000);
        const verdict = checkRenewalCadence(
            schedule,
            [
                { holder: "a shortlived stack", profile: "shortlived" },
                { holder: "a classic stack" },
                { holder: "a tlsserver stack", profile: "tlsserver" },
            ],
            SCHEDULE_FROM,
        );
        expect(verdict).toEqual({ problems: [], warnings: [], longestGapMs: 6 * 3_600_000 });
    });

    it("would fail the old weekly schedule, and a daily one for shortlived certificates", () => {
        const weekly = checkRenewalCadence(["23 5 * * 1"], [{ holder: "stack prod", renewalMinDaysRemaining: 30 }], SCHEDULE_FROM);
        expect(weekly.problems).toEqual([
            "the renewal schedule (23 5 * * 1) leaves up to 7 days between runs: run it at least daily",
            "stack prod: classic certificates (45 days) renew within their last 15 days, but the schedule runs only 2.1 times in that window (longest gap 7 days): run it at least every 90 h",
        ]);
        const daily = checkRenewalCadence(["0 4 * * *"], [{ holder: "stack staging", profile: "shortlived" }], SCHEDULE_FROM);
        expect(daily.problems).toEqual([
            "stack staging: shortlived certificates (160 h) renew within their last 53.3 h, but the schedule runs only 2.2 times in that window (longest gap 24 h): run it at least every 13.3 h",
        ]);
        expect(checkRenewalCadence([], [], SCHEDULE_FROM).problems).toEqual([
            "the renewal workflow has no schedule: certificates renew only when `pulumi up` runs",
        ]);
        expect(checkRenewalCadence(["0 */12 * * *"], [{ holder: "stack qa", profile: "weekly" }], SCHEDULE_FROM).warnings).toEqual([
            'stack qa: the lifetime of ACME profile "weekly" is unknown, so the schedule cannot be judged for it (known: classic, tlsserver, shortlived)',
        ]);
    });
});

describe("status: watched every day with read-only credentials", () => {
    const job = status.workflow.jobs.status;

    it("runs at least daily for every stack, in no environment (no write credentials)", () => {
        expect(longestGapMs(crons(status.workflow), new Date("2026-12-01T00:00:00Z"))).toBeLessThanOrEqual(86_400_000);
        expect(job.strategy).toEqual({ "fail-fast": false, matrix: { stack: ["staging", "prod"] } });
        expect(job.environment).toBeUndefined();
        expect(job.if).toBeUndefined();
    });

    it("runs npm run status as JSON with an expiry threshold, so a problem fails the job", () => {
        const [script] = scriptsOf(job).filter((candidate) => candidate.run.includes("status"));
        expect(script.run).toBe('npm run --silent status -- --stack "$STACK" --json --expires-within 2d --renewal-grace 12h');
        expect(script.env).toEqual({
            STACK: "${{ matrix.stack }}",
            SCW_ACCESS_KEY: "${{ secrets.PREVIEW_SCW_ACCESS_KEY }}",
            SCW_SECRET_KEY: "${{ secrets.PREVIEW_SCW_SECRET_KEY }}",
            CLOUDFLARE_API_TOKEN: "${{ secrets.PREVIEW_CLOUDFLARE_API_TOKEN }}",
            STATUS_WEBHOOK_URL: "${{ secrets.STATUS_WEBHOOK_URL }}",
        });
        expect(stepsUsing(job, "pulumi/actions")).toEqual([]);
    });
});
