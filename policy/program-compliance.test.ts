/**
 * The entrance program's own prod stack, run under the project's mocks, passes every rule of the
 * pack: each registered resource is validated with the inputs the engine would hand the pack (the
 * certificate's after its provider's `check`). The mocked certificate reports an LB certificate id,
 * as the real one does once created, so the Service annotation carries its `<port>:<id>` mapping.
 */
import * as pulumi from "@pulumi/pulumi";
import type { MockResourceArgs, Mocks } from "@pulumi/pulumi/runtime";
import { beforeAll, describe, expect, it } from "vitest";
import { checkInputs } from "../components/certificate/validation";
import { pulumiConfigOf } from "../test/support/program";
import { allRegistered, fakeUuid, installMocks, MockWorld } from "../test/support/pulumiMocks";
import { ENTRANCE_POLICIES, RESOURCE_TYPES } from "./policies";

let world: MockWorld;

beforeAll(async () => {
    world = await installMocks({ stack: "prod", config: pulumiConfigOf("prod") });
    const monitor = pulumi.runtime.getMonitor() as unknown as { mocks: Mocks };
    const projectMocks = monitor.mocks;
    monitor.mocks = {
        call: (args) => projectMocks.call(args),
        async newResource(args: MockResourceArgs) {
            const result = await projectMocks.newResource(args);
            if (args.type !== RESOURCE_TYPES.certificate) {
                return result;
            }
            return { ...result, state: { ...result.state, certificateId: `${String(args.inputs.zone)}/${fakeUuid(args.name)}` } };
        },
    };
    await import("../index");
    await allRegistered();
});

describe("the prod stack under the policy pack", () => {
    it("registers every kind of resource the pack is about", () => {
        const types = new Set(world.resources.map((resource) => resource.type));
        for (const type of [RESOURCE_TYPES.loadBalancer, RESOURCE_TYPES.service, RESOURCE_TYPES.dnsRecord, RESOURCE_TYPES.certificate]) {
            expect(types).toContain(type);
        }
    });

    it("maps each Service's TLS port to its certificate", () => {
        const mappings = world.byType(RESOURCE_TYPES.service).map((service) => {
            const annotations = (service.inputs.metadata as { annotations: Record<string, string> }).annotations;
            return annotations["service.beta.kubernetes.io/scw-loadbalancer-certificate-ids"];
        });
        expect(mappings.sort()).toEqual([expect.stringMatching(/^443:fr-par-1\/[0-9a-f-]{36}$/), expect.stringMatching(/^8443:fr-par-1\/[0-9a-f-]{36}$/)]);
    });

    it("violates no rule", () => {
        const violations = world.resources.flatMap((resource) => {
            const props = resource.type === RESOURCE_TYPES.certificate ? checkInputs(resource.inputs).inputs : resource.inputs;
            return ENTRANCE_POLICIES.flatMap((policy) => policy.validate(resource.type, props, {}).map((message) => `${policy.name} on ${resource.name}: ${message}`));
        });
        expect(violations).toEqual([]);
    });
});
