/**
 * The renewal guard: the scheduled renewal run applies a plan without a reviewer, so it first proves that
 * the plan changes nothing but certificates and what binds them. It reads the document
 * `pulumi preview --json` prints (pkg/display/json.go in pulumi/pulumi: `steps[]` with `op`, `urn`,
 * `detailedDiff`, ...; docs/pulumi.md) and allows only:
 *  - the certificate resources (`pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate`): created (re-issued
 *    after a refresh found it gone), rebound in place, or replaced create-before-delete because it fell due
 *    or the LB reports it in error (`replaceReasons`); a certificate in `frontend` binding mode rebinds its
 *    frontend itself, inside these steps. A certificate replaced or updated because an input changed (its
 *    names, its LB, its key type, its binding...) is a configuration change and is refused;
 *  - a Kubernetes Service update whose only changed property is the certificate-ids annotation (the CCM
 *    then moves the frontend to the new certificate);
 *  - steps that change nothing (`same`, `read`, `refresh`).
 * Anything else (a deleted certificate, an LB, a record, another Service field, a provider upgrade) fails
 * the run before `pulumi up`, listing each offending step.
 *
 * `npm run renewal-guard -- --plan <preview.json> [--targets <file>]`: exit 0 when the plan may run (the
 * URNs to pass to `pulumi up --target` are written to the targets file, one a line; none when nothing is
 * due), 1 when it may not, 2 when the plan cannot be read.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { ANNOTATION_PREFIX } from "../components/annotations";
import { DYNAMIC_MODULE, DYNAMIC_TYPE } from "../components/certificate";
import { PROVIDER_MANAGED_INPUTS, RENEWAL_REPLACE_REASONS, sameValue } from "../components/certificate/decisions";

export const CERTIFICATE_RESOURCE_TYPE = `pulumi-nodejs:dynamic/${DYNAMIC_MODULE}:${DYNAMIC_TYPE}`;
export const SERVICE_RESOURCE_TYPE = "kubernetes:core/v1:Service";
export const CERTIFICATE_IDS_ANNOTATION = `${ANNOTATION_PREFIX}scw-loadbalancer-certificate-ids`;

/** Steps that change nothing in the infrastructure. */
const NO_CHANGE_OPS = new Set(["same", "read", "refresh"]);
/** What a certificate's renewal (or its repair after a refresh) may do to it. */
const CERTIFICATE_OPS = new Set(["create", "update", "replace", "create-replacement", "delete-replaced"]);

const previewStep = z
    .object({
        op: z.string(),
        urn: z.string().startsWith("urn:pulumi:"),
        detailedDiff: z.record(z.string(), z.object({ kind: z.string() }).passthrough()).nullish(),
        diffReasons: z.array(z.string()).nullish(),
        replaceReasons: z.array(z.string()).nullish(),
        oldState: z
            .object({ inputs: z.record(z.string(), z.unknown()).nullish() })
            .passthrough()
            .nullish(),
        newState: z
            .object({ inputs: z.record(z.string(), z.unknown()).nullish() })
            .passthrough()
            .nullish(),
    })
    .passthrough();
const previewDigest = z
    .object({
        steps: z.array(previewStep).default([]),
        diagnostics: z
            .array(z.object({ urn: z.string().optional(), message: z.string().optional(), severity: z.string().optional() }).passthrough())
            .default([]),
        changeSummary: z.record(z.string(), z.number()).optional(),
    })
    .passthrough();

export type PreviewStep = z.infer<typeof previewStep>;

export interface PlannedStep {
    op: string;
    urn: string;
    type: string;
    name: string;
    /** Why the step is refused; absent when it is allowed. */
    refused?: string;
}

export interface RenewalPlanVerdict {
    /** The plan may run without a reviewer. */
    ok: boolean;
    /** Every step that changes something, allowed or not. */
    changes: PlannedStep[];
    /** Why the plan may not run: refused steps and preview errors. */
    problems: string[];
    /** URNs for `pulumi up --target`: the allowed changes (empty when nothing is due, or when refused). */
    targets: string[];
}

/** `urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>` -> its type and name. */
export function parseUrn(urn: string): { type: string; name: string } {
    const parts = urn.split("::");
    const qualifiedType = parts[2] ?? "";
    return { type: qualifiedType.slice(qualifiedType.lastIndexOf("$") + 1), name: parts.slice(3).join("::") };
}

/**
 * A property path as the engine prints it in `detailedDiff`: `metadata.annotations["a.b/c"]`, `ports[0]`.
 * Returns its keys, or undefined when the text is not such a path.
 */
export function parsePropertyPath(path: string): string[] | undefined {
    const keys: string[] = [];
    let rest = path;
    while (rest.length > 0) {
        const match = /^(?:\.?([A-Za-z_$][\w$-]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\])/.exec(rest);
        if (!match || (keys.length === 0 && rest.startsWith("."))) {
            return undefined;
        }
        keys.push(match[1] ?? (match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : match[3]));
        rest = rest.slice(match[0].length);
    }
    return keys;
}

function isCertificateAnnotation(path: string): boolean {
    const keys = parsePropertyPath(path);
    return (
        keys !== undefined &&
        keys.length === 3 &&
        keys[0] === "metadata" &&
        keys[1] === "annotations" &&
        keys[2] === CERTIFICATE_IDS_ANNOTATION
    );
}

const REVIEWED_PATH = "a configuration change: deploy it through the reviewed path";
/** The serialized provider code, and the inputs the provider manages itself: not configuration. */
const NOT_CONFIGURATION = new Set<string>(["__provider", ...PROVIDER_MANAGED_INPUTS]);

/**
 * The inputs a certificate step changes, from the old and new states the preview prints (the engine gives
 * no diff keys for a dynamic resource's update); undefined when the preview lacks one of the states.
 */
function changedInputs(step: PreviewStep): string[] | undefined {
    const olds = step.oldState?.inputs;
    const news = step.newState?.inputs;
    if (!olds || !news) {
        return undefined;
    }
    const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((key) => !NOT_CONFIGURATION.has(key));
    return keys.filter((key) => !sameValue(olds[key], news[key])).sort();
}

/** Why a certificate step may not run in a renewal, or undefined when it may. */
function certificateRefusal(step: PreviewStep): string | undefined {
    if (!CERTIFICATE_OPS.has(step.op)) {
        return `a renewal never ${step.op === "delete" ? "deletes a certificate" : `runs "${step.op}" on a certificate`}`;
    }
    if (step.op === "create" || step.op === "delete-replaced") {
        return undefined; // re-issued after a refresh found it gone; the predecessor of an allowed replacement
    }
    if (step.op !== "update") {
        const reasons = step.replaceReasons ?? [];
        const inputReasons = reasons.filter((reason) => !(RENEWAL_REPLACE_REASONS as readonly string[]).includes(reason));
        if (reasons.length === 0) {
            return "the preview gives no replace reason, so it cannot be shown to be a renewal";
        }
        if (inputReasons.length > 0) {
            return `replaced because ${inputReasons.join(", ")} changed: ${REVIEWED_PATH}`;
        }
    }
    const changed = changedInputs(step);
    if (changed === undefined) {
        return "the preview gives no old and new inputs, so it cannot be shown that no input changed";
    }
    return changed.length === 0 ? undefined : `its inputs changed (${changed.join(", ")}): ${REVIEWED_PATH}`;
}

/** Why `step` may not run in a renewal, or undefined when it may. */
function refusal(step: PreviewStep, type: string): string | undefined {
    if (type === CERTIFICATE_RESOURCE_TYPE) {
        return certificateRefusal(step);
    }
    if (type === SERVICE_RESOURCE_TYPE && step.op === "update") {
        const paths = Object.keys(step.detailedDiff ?? {});
        if (paths.length === 0) {
            return `the preview gives no detailed diff (changed: ${(step.diffReasons ?? []).join(", ") || "unknown"}), so it cannot be shown to touch only the certificate annotation`;
        }
        const others = paths.filter((path) => !isCertificateAnnotation(path));
        return others.length === 0
            ? undefined
            : `changes ${others.join(", ")}: a renewal may change only the ${CERTIFICATE_IDS_ANNOTATION} annotation`;
    }
    return "a renewal changes only certificates and the Service annotation that binds them";
}

/** Judges a `pulumi preview --json` document; throws when it is not one. */
export function checkRenewalPlan(previewJson: unknown): RenewalPlanVerdict {
    const parsed = previewDigest.safeParse(previewJson);
    if (!parsed.success) {
        throw new Error(
            `not a pulumi preview --json document: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ")}`,
        );
    }
    const digest = parsed.data;
    const changes = digest.steps
        .filter((step) => !NO_CHANGE_OPS.has(step.op))
        .map((step): PlannedStep => {
            const { type, name } = parseUrn(step.urn);
            const refused = refusal(step, type);
            return { op: step.op, urn: step.urn, type, name, ...(refused !== undefined ? { refused } : {}) };
        });
    const errors = digest.diagnostics
        .filter((diagnostic) => diagnostic.severity === "error")
        .map((diagnostic) => `the preview failed: ${(diagnostic.message ?? "").trim()}`);
    const problems = [
        ...errors,
        ...changes.filter((step) => step.refused !== undefined).map((step) => `${step.op} ${step.type} "${step.name}": ${step.refused}`),
    ];
    const ok = problems.length === 0;
    return { ok, changes, problems, targets: ok ? [...new Set(changes.map((step) => step.urn))] : [] };
}

/** What the renewal run prints. */
export function renderRenewalVerdict(verdict: RenewalPlanVerdict): string {
    if (!verdict.ok) {
        return [
            `The renewal plan holds ${verdict.problems.length} change${verdict.problems.length === 1 ? "" : "s"} a renewal may not make; nothing was changed:`,
            ...verdict.problems.map((problem) => `  ✗ ${problem}`),
            "Deploy these through a reviewed `pulumi up` (a merge to main), then the renewal can run again.",
        ].join("\n");
    }
    if (verdict.changes.length === 0) {
        return "Nothing to renew: the plan changes nothing.";
    }
    return [
        "The renewal plan changes only certificates and their bindings:",
        ...verdict.changes.map((step) => `  ✓ ${step.op} ${step.type} "${step.name}"`),
    ].join("\n");
}

export const RENEWAL_GUARD_USAGE = `usage: npm run renewal-guard -- --plan <preview.json> [--targets <file>]
  --plan <file>     the output of \`pulumi preview --json\`
  --targets <file>  write the URNs \`pulumi up --target\` may change, one a line (empty when nothing is due)
exit code: 0 the plan may run, 1 it changes more than certificates, 2 the plan cannot be read`;

export function runRenewalGuard(argv: readonly string[], io: { out: (text: string) => void; err: (text: string) => void }): number {
    let plan: string | undefined;
    let targetsFile: string | undefined;
    try {
        const { values } = parseArgs({
            args: [...argv],
            options: { plan: { type: "string" }, targets: { type: "string" }, help: { type: "boolean", short: "h" } },
            strict: true,
        });
        if (values.help) {
            io.out(`${RENEWAL_GUARD_USAGE}\n`);
            return 0;
        }
        plan = values.plan;
        targetsFile = values.targets;
    } catch (error) {
        io.err(`renewal-guard: ${(error as Error).message}\n${RENEWAL_GUARD_USAGE}\n`);
        return 2;
    }
    if (plan === undefined) {
        io.err(`renewal-guard: --plan is required\n${RENEWAL_GUARD_USAGE}\n`);
        return 2;
    }
    let verdict: RenewalPlanVerdict;
    try {
        verdict = checkRenewalPlan(JSON.parse(readFileSync(plan, "utf8")) as unknown);
    } catch (error) {
        io.err(`renewal-guard: ${plan}: ${(error as Error).message}\n`);
        return 2;
    }
    (verdict.ok ? io.out : io.err)(`${renderRenewalVerdict(verdict)}\n`);
    if (targetsFile !== undefined) {
        writeFileSync(targetsFile, verdict.targets.map((urn) => `${urn}\n`).join(""));
    }
    return verdict.ok ? 0 : 1;
}

if (require.main === module) {
    process.exitCode = runRenewalGuard(process.argv.slice(2), {
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
    });
}
