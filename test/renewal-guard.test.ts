/**
 * The renewal guard on `pulumi preview --json` documents: a due renewal (certificate replaced, Service
 * annotation updated) may run without a reviewer; anything more fails, naming each offending step.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
    CERTIFICATE_IDS_ANNOTATION,
    checkRenewalPlan,
    parsePropertyPath,
    parseUrn,
    renderRenewalVerdict,
    runRenewalGuard,
    type PreviewStep,
} from "../scripts/renewalGuard";

const fixtures = join(__dirname, "fixtures", "preview");

interface Digest {
    steps: PreviewStep[];
    diagnostics?: { urn?: string; message: string; severity: string }[];
    changeSummary?: Record<string, number>;
}

function recorded(name: "renewal-due" | "nothing-due"): Digest {
    return JSON.parse(readFileSync(join(fixtures, `${name}.json`), "utf8")) as Digest;
}

const CERTIFICATE_URN =
    "urn:pulumi:prod::scw-private-lb::scw-private-lb:certificate:AcmeCertificate$pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate::test-certificate";
const SERVICE_URN =
    "urn:pulumi:prod::scw-private-lb::scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:kubernetes:PrivateService$kubernetes:core/v1:Service::test";
const LB_URN =
    "urn:pulumi:prod::scw-private-lb::scw-private-lb:loadbalancer:PrivateLoadBalancer$scaleway:loadbalancers/loadBalancer:LoadBalancer::private-lb-lb";

/** The recorded renewal with `edit` applied to its steps. */
function renewalWith(edit: (steps: PreviewStep[]) => PreviewStep[]): Digest {
    const digest = recorded("renewal-due");
    return { ...digest, steps: edit(digest.steps) };
}

function serviceStep(steps: PreviewStep[]): PreviewStep {
    const step = steps.find((candidate) => candidate.urn === SERVICE_URN);
    expect(step).toBeDefined();
    return step as PreviewStep;
}

describe("checkRenewalPlan on recorded previews", () => {
    it("lets a due renewal run: the certificate replaced and its Service annotation updated, nothing else", () => {
        const verdict = checkRenewalPlan(recorded("renewal-due"));
        expect(verdict.problems).toEqual([]);
        expect(verdict.ok).toBe(true);
        expect(verdict.changes.map((step) => [step.op, step.type, step.name])).toEqual([
            ["replace", "pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate", "test-certificate"],
            ["update", "kubernetes:core/v1:Service", "test"],
        ]);
        expect(verdict.targets).toEqual([CERTIFICATE_URN, SERVICE_URN]);
        expect(renderRenewalVerdict(verdict)).toBe(
            [
                "The renewal plan changes only certificates and their bindings:",
                '  ✓ replace pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate "test-certificate"',
                '  ✓ update kubernetes:core/v1:Service "test"',
            ].join("\n"),
        );
    });

    it("lets a plan with nothing due run, with no target", () => {
        const verdict = checkRenewalPlan(recorded("nothing-due"));
        expect(verdict).toEqual({ ok: true, changes: [], problems: [], targets: [] });
        expect(renderRenewalVerdict(verdict)).toBe("Nothing to renew: the plan changes nothing.");
    });

    it("accepts a certificate re-issued after a refresh found it gone, and the physical replacement steps", () => {
        const verdict = checkRenewalPlan(
            renewalWith((steps) => {
                const replace = steps.find((step) => step.urn === CERTIFICATE_URN) as PreviewStep;
                return [
                    ...steps.filter((step) => step.urn !== CERTIFICATE_URN),
                    { ...replace, op: "create-replacement" },
                    { op: "delete-replaced", urn: CERTIFICATE_URN },
                    { op: "create", urn: CERTIFICATE_URN.replace("test-certificate", "backoffice-certificate") },
                ];
            }),
        );
        expect(verdict.problems).toEqual([]);
        expect(verdict.targets).toHaveLength(3);
    });

    it("refuses a due certificate whose inputs also changed: a merged configuration change rides along with no reviewer", () => {
        const verdict = checkRenewalPlan(
            renewalWith((steps) =>
                steps.map((step) =>
                    step.urn === CERTIFICATE_URN && step.newState
                        ? { ...step, newState: { ...step.newState, inputs: { ...step.newState.inputs, email: "security@example.com" } } }
                        : step,
                ),
            ),
        );
        expect(verdict.problems).toEqual([
            'replace pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate "test-certificate": its inputs changed (email): a configuration change: deploy it through the reviewed path',
        ]);
        expect(verdict.targets).toEqual([]);
    });

    it("lets a certificate be rebound in place when none of its inputs changed, ignoring what the provider itself keeps in them", () => {
        const verdict = checkRenewalPlan(
            renewalWith((steps) =>
                steps
                    .filter((step) => step.urn !== SERVICE_URN)
                    .map((step) =>
                        step.urn === CERTIFICATE_URN && step.oldState && step.newState
                            ? {
                                  ...step,
                                  op: "update",
                                  replaceReasons: [],
                                  oldState: {
                                      ...step.oldState,
                                      inputs: {
                                          ...step.oldState.inputs,
                                          adoptCertificateId: "fr-par-1/7c1c3e00-1111-4222-8333-944455556666",
                                      },
                                  },
                              }
                            : step,
                    ),
            ),
        );
        expect(verdict.problems).toEqual([]);
        expect(verdict.targets).toEqual([CERTIFICATE_URN]);
    });

    it("refuses a Service update that changes more than the certificate annotation, naming the paths", () => {
        const verdict = checkRenewalPlan(
            renewalWith((steps) => {
                serviceStep(steps).detailedDiff = {
                    [`metadata.annotations["${CERTIFICATE_IDS_ANNOTATION}"]`]: { kind: "update" },
                    'metadata.labels["team"]': { kind: "add" },
                    "spec.ports[0].targetPort": { kind: "update" },
                };
                return steps;
            }),
        );
        expect(verdict.ok).toBe(false);
        expect(verdict.targets).toEqual([]);
        expect(verdict.problems).toEqual([
            `update kubernetes:core/v1:Service "test": changes metadata.labels["team"], spec.ports[0].targetPort: a renewal may change only the ${CERTIFICATE_IDS_ANNOTATION} annotation`,
        ]);
        expect(renderRenewalVerdict(verdict)).toMatch(
            /^The renewal plan holds 1 change a renewal may not make; nothing was changed:\n {2}✗ update kubernetes:core\/v1:Service/,
        );
    });

    it("refuses another annotation of the Service, even one of the CCM", () => {
        const verdict = checkRenewalPlan(
            renewalWith((steps) => {
                serviceStep(steps).detailedDiff = {
                    'metadata.annotations["service.beta.kubernetes.io/scw-loadbalancer-id"]': { kind: "update" },
                };
                return steps;
            }),
        );
        expect(verdict.ok).toBe(false);
        expect(verdict.problems[0]).toContain('changes metadata.annotations["service.beta.kubernetes.io/scw-loadbalancer-id"]');
    });

    it("refuses a Service update whose diff it cannot see", () => {
        const verdict = checkRenewalPlan(
            renewalWith((steps) => {
                serviceStep(steps).detailedDiff = null;
                return steps;
            }),
        );
        expect(verdict.ok).toBe(false);
        expect(verdict.problems).toEqual([
            'update kubernetes:core/v1:Service "test": the preview gives no detailed diff (changed: metadata), so it cannot be shown to touch only the certificate annotation',
        ]);
    });

    it("refuses any change to another resource, a deleted certificate and a replaced Service, listing all of them", () => {
        const verdict = checkRenewalPlan(
            renewalWith((steps) => [
                ...steps,
                { op: "update", urn: LB_URN, diffReasons: ["tags"], detailedDiff: { "tags[1]": { kind: "add" } } },
                { op: "delete", urn: CERTIFICATE_URN.replace("test-certificate", "old-certificate") },
                { op: "replace", urn: SERVICE_URN },
                { op: "update", urn: "urn:pulumi:prod::scw-private-lb::pulumi:providers:kubernetes::default_4_35_0::abc" },
            ]),
        );
        expect(verdict.ok).toBe(false);
        expect(verdict.problems).toEqual([
            'update scaleway:loadbalancers/loadBalancer:LoadBalancer "private-lb-lb": a renewal changes only certificates and the Service annotation that binds them',
            'delete pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate "old-certificate": a renewal never deletes a certificate',
            'replace kubernetes:core/v1:Service "test": a renewal changes only certificates and the Service annotation that binds them',
            'update pulumi:providers:kubernetes "default_4_35_0::abc": a renewal changes only certificates and the Service annotation that binds them',
        ]);
    });

    it("fails on a preview that reported an error", () => {
        const digest = recorded("nothing-due");
        const verdict = checkRenewalPlan({
            ...digest,
            diagnostics: [{ message: "error: invalid stack configuration:\n  - scw-private-lb:zone: ...\n", severity: "error" }],
        });
        expect(verdict.ok).toBe(false);
        expect(verdict.problems).toEqual(["the preview failed: error: invalid stack configuration:\n  - scw-private-lb:zone: ..."]);
    });

    it("refuses what is not a preview document", () => {
        expect(() => checkRenewalPlan({ steps: [{ op: "update" }] })).toThrow(/^not a pulumi preview --json document: steps\.0\.urn: /);
        expect(() => checkRenewalPlan("error: no stack named prod")).toThrow(/^not a pulumi preview --json document/);
    });
});

describe("checkRenewalPlan on previews recorded with the real CLI v3.248.0", () => {
    const real = (name: string): unknown => JSON.parse(readFileSync(join(fixtures, `real-${name}.json`), "utf8"));

    it("lets a plan with nothing to do run", () => {
        expect(checkRenewalPlan(real("nothing-due"))).toEqual({ ok: true, changes: [], problems: [], targets: [] });
    });

    it("lets the certificate's replacement run, targeted at the certificate only", () => {
        const verdict = checkRenewalPlan(real("certificate-replaced"));
        expect(verdict.problems).toEqual([]);
        expect(verdict.targets).toEqual([CERTIFICATE_URN]);
    });

    it("lets a certificate the LB reports in error be replaced, as a repair", () => {
        const digest = real("certificate-replaced") as Digest;
        const steps = digest.steps.map((step) => (step.urn === CERTIFICATE_URN ? { ...step, replaceReasons: ["certificateId"] } : step));
        expect(checkRenewalPlan({ ...digest, steps }).targets).toEqual([CERTIFICATE_URN]);
    });

    it("refuses a certificate replaced because an input changed, even when it is also due", () => {
        const digest = real("certificate-replaced") as Digest;
        const steps = digest.steps.map((step) =>
            step.urn === CERTIFICATE_URN ? { ...step, replaceReasons: ["domains", "renewalDueAt"] } : step,
        );
        const verdict = checkRenewalPlan({ ...digest, steps });
        expect(verdict.ok).toBe(false);
        expect(verdict.problems).toEqual([
            'replace pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate "test-certificate": replaced because domains changed: a configuration change: deploy it through the reviewed path',
        ]);
        expect(verdict.targets).toEqual([]);
    });

    it("refuses a certificate replacement whose reason it cannot see, and an update of its inputs", () => {
        const digest = real("certificate-replaced") as Digest;
        const steps = digest.steps.flatMap((step) =>
            step.urn === CERTIFICATE_URN
                ? [
                      { op: "create-replacement", urn: step.urn },
                      {
                          ...step,
                          op: "update",
                          urn: step.urn.replace("test-certificate", "backoffice-certificate"),
                          replaceReasons: [],
                          newState: {
                              ...step.newState,
                              inputs: { ...step.newState?.inputs, binding: { mode: "frontend", frontendPort: 8443 } },
                          },
                      },
                  ]
                : [step],
        );
        expect(checkRenewalPlan({ ...digest, steps }).problems).toEqual([
            'create-replacement pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate "test-certificate": the preview gives no replace reason, so it cannot be shown to be a renewal',
            'update pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate "backoffice-certificate": its inputs changed (binding): a configuration change: deploy it through the reviewed path',
        ]);
    });

    it("refuses the same plan when it also updates another resource", () => {
        const verdict = checkRenewalPlan(real("renewal-and-more"));
        expect(verdict.ok).toBe(false);
        expect(verdict.problems).toEqual([
            'update pulumi-nodejs:dynamic/recording:Other "dns-record": a renewal changes only certificates and the Service annotation that binds them',
        ]);
        expect(verdict.changes.filter((step) => step.refused === undefined).map((step) => step.urn)).toEqual([CERTIFICATE_URN]);
    });
});

describe("URNs and property paths", () => {
    it("takes the type and the name from a URN, parents and names with :: included", () => {
        expect(parseUrn(SERVICE_URN)).toEqual({ type: "kubernetes:core/v1:Service", name: "test" });
        expect(parseUrn("urn:pulumi:prod::p::pulumi:providers:kubernetes::default::1234")).toEqual({
            type: "pulumi:providers:kubernetes",
            name: "default::1234",
        });
    });

    it("reads the engine's property paths, quoted keys and indexes included", () => {
        expect(parsePropertyPath(`metadata.annotations["${CERTIFICATE_IDS_ANNOTATION}"]`)).toEqual([
            "metadata",
            "annotations",
            CERTIFICATE_IDS_ANNOTATION,
        ]);
        expect(parsePropertyPath("spec.ports[0].targetPort")).toEqual(["spec", "ports", "0", "targetPort"]);
        expect(parsePropertyPath('a["x\\"y"]')).toEqual(["a", 'x"y']);
        expect(parsePropertyPath("metadata.annotations")).toEqual(["metadata", "annotations"]);
        expect(parsePropertyPath(".oops")).toBeUndefined();
        expect(parsePropertyPath("a[")).toBeUndefined();
    });
});

describe("npm run renewal-guard", () => {
    let dir: string;
    let out: string;
    let err: string;
    const io = { out: (text: string) => (out += text), err: (text: string) => (err += text) };

    beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), "renewal-guard-"));
        out = "";
        err = "";
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("exits 0 and writes the targets of a due renewal", () => {
        const targets = join(dir, "targets.txt");
        expect(runRenewalGuard(["--plan", join(fixtures, "renewal-due.json"), "--targets", targets], io)).toBe(0);
        expect(out).toContain("The renewal plan changes only certificates and their bindings:");
        expect(readFileSync(targets, "utf8")).toBe(`${CERTIFICATE_URN}\n${SERVICE_URN}\n`);
    });

    it("writes an empty targets file when nothing is due", () => {
        const targets = join(dir, "targets.txt");
        expect(runRenewalGuard(["--plan", join(fixtures, "nothing-due.json"), "--targets", targets], io)).toBe(0);
        expect(readFileSync(targets, "utf8")).toBe("");
    });

    it("exits 1 on a plan that changes more, with the reasons on stderr and no targets", () => {
        const plan = join(dir, "plan.json");
        writeFileSync(plan, JSON.stringify(renewalWith((steps) => [...steps, { op: "replace", urn: LB_URN, replaceReasons: ["type"] }])));
        const targets = join(dir, "targets.txt");
        expect(runRenewalGuard(["--plan", plan, "--targets", targets], io)).toBe(1);
        expect(err).toContain('✗ replace scaleway:loadbalancers/loadBalancer:LoadBalancer "private-lb-lb"');
        expect(out).toBe("");
        expect(readFileSync(targets, "utf8")).toBe("");
    });

    it("exits 2 on a missing --plan, an unknown flag or a file that is not a preview", () => {
        expect(runRenewalGuard([], io)).toBe(2);
        expect(err).toContain("--plan is required");
        expect(runRenewalGuard(["--plan", "x", "--force"], io)).toBe(2);
        expect(err).toContain("Unknown option '--force'");
        const plan = join(dir, "plan.json");
        writeFileSync(plan, "error: could not find stack prod\n");
        expect(runRenewalGuard(["--plan", plan], io)).toBe(2);
        expect(err).toContain(`renewal-guard: ${plan}: `);
    });
});
