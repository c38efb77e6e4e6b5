/**
 * Apps named like resources of the old layout (`private-lb`, `<app>-certificate`) would make two resources
 * claim one URN (one by its name, one by its alias to the old layout), which the engine refuses: the
 * program leaves such an alias out.
 */
import { beforeAll, expect, it } from "vitest";
import { fixtureStack, runProgram } from "./support/program";
import { MockWorld } from "./support/pulumiMocks";
import { claimedTwice } from "./support/upgrade";

let world: MockWorld;

beforeAll(async () => {
    ({ world } = await runProgram(fixtureStack("name-clash")));
});

it("claims no URN twice, even for apps named like the old layout's resources", () => {
    expect(world.byType("scw-private-lb:certificate:AcmeCertificate").map((certificate) => certificate.name)).toEqual([
        "web",
        "web-certificate",
        "private-lb",
    ]);
    expect(claimedTwice(world)).toEqual([]);
    // The alias is kept for the app whose old name no app of today holds.
    expect(world.one("scw-private-lb:certificate:AcmeCertificate", "web-certificate").aliases).toEqual([
        "urn:pulumi:name-clash::scw-private-lb::scw-private-lb:certificate:AcmeCertificate::web-certificate-certificate",
    ]);
});
