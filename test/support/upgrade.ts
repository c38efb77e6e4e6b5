/**
 * What an upgrade of a stack does to its state, under the mocks: for each URN the state holds, the
 * resources that now claim it (as their URN or an alias), and the resources that claim none (created).
 */
import { join } from "node:path";
import { FIXTURES, runProgram } from "./program";
import { MockWorld, RegisteredResource } from "./pulumiMocks";

/** The resource type of a URN, with or without its `urn:pulumi:<stack>::<project>::` prefix. */
export const typeOf = (urn: string) => urn.split("::").at(-2)?.split("$").pop();

/** For each old URN, the resources that now claim it (by URN or alias); and the resources that claim none. */
function upgradeOf(world: MockWorld, prefix: string, oldUrns: string[]) {
    const claims = (resource: RegisteredResource) => [resource.urn, ...resource.aliases];
    const claimedBy = Object.fromEntries(
        oldUrns.map((old) => [
            old,
            world.resources
                .filter((resource) => claims(resource).includes(`${prefix}${old}`))
                .map((resource) => resource.urn.slice(prefix.length)),
        ]),
    );
    const created = world.resources
        .filter((resource) => !oldUrns.some((old) => claims(resource).includes(`${prefix}${old}`)))
        .map((resource) => resource.urn);
    return { claimedBy, created };
}

/** Runs the upgraded form of a stack of test/fixtures/legacy/ and compares it with the URNs its state held. */
export async function upgrade(legacyStack: string, oldUrns: string[]) {
    const { world } = await runProgram(join(FIXTURES, "legacy", `Pulumi.${legacyStack}.yaml`));
    return { world, ...upgradeOf(world, `urn:pulumi:${legacyStack}::scw-private-lb::`, oldUrns) };
}

/** URNs that two resources would claim (as their URN or an alias): the engine refuses such a program. */
export function claimedTwice(world: MockWorld): string[] {
    const claims = world.resources.flatMap((resource) => [
        ...new Set([resource.urn, ...resource.aliases.filter((alias) => alias.startsWith("urn:"))]),
    ]);
    return claims.filter((urn, index) => claims.indexOf(urn) !== index);
}
