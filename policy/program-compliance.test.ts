/**
 * The entrance program, run under the project's mocks with the three-app fixture stack (two LBs, one
 * shared), passes every rule of the pack: each registered resource is validated with the inputs the
 * engine would hand the pack (the certificate's after its provider's `check`). The mocked certificate
 * reports an LB certificate id, as the real one does once created, so each Service annotation carries
 * its `<port>:<id>` mapping.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { checkInputs } from "../components/certificate/validation";
import { fixtureStack, runProgram } from "../test/support/program";
import { MockWorld } from "../test/support/pulumiMocks";
import { ENTRANCE_POLICIES, RESOURCE_TYPES } from "./policies";

let world: MockWorld;

beforeAll(async () => {
    ({ world } = await runProgram(fixtureStack("three-apps")));
});

describe("the three-app fixture stack under the policy pack", () => {
    it("registers every kind of resource the pack is about", () => {
        const types = new Set(world.resources.map((resource) => resource.type));
        for (const type of [RESOURCE_TYPES.loadBalancer, RESOURCE_TYPES.service, RESOURCE_TYPES.dnsRecord, RESOURCE_TYPES.certificate]) {
            expect(types).toContain(type);
        }
        expect(
            world
                .byType(RESOURCE_TYPES.loadBalancer)
                .map((lb) => lb.inputs.name)
                .sort(),
        ).toEqual(["private-lb-prod-backoffice", "private-lb-prod-test"]);
    });

    it("maps each Service's TLS port to its certificate", () => {
        const mappings = world.byType(RESOURCE_TYPES.service).map((service) => {
            const annotations = (service.inputs.metadata as { annotations: Record<string, string> }).annotations;
            return annotations["service.beta.kubernetes.io/scw-loadbalancer-certificate-ids"];
        });
        expect(mappings.sort()).toEqual([
            expect.stringMatching(/^443:fr-par-1\/[0-9a-f-]{36}$/),
            expect.stringMatching(/^443:fr-par-1\/[0-9a-f-]{36}$/),
            expect.stringMatching(/^8443:fr-par-1\/[0-9a-f-]{36}$/),
        ]);
    });

    it("violates no rule", () => {
        const violations = world.resources.flatMap((resource) => {
            const props = resource.type === RESOURCE_TYPES.certificate ? checkInputs(resource.inputs).inputs : resource.inputs;
            return ENTRANCE_POLICIES.flatMap((policy) =>
                policy.validate(resource.type, props, {}).map((message) => `${policy.name} on ${resource.name}: ${message}`),
            );
        });
        expect(violations).toEqual([]);
    });
});
