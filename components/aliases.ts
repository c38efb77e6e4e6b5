/**
 * Aliases that keep resources of an older layout when a child's name or its parent's name changed, so
 * `pulumi up` renames them in state instead of replacing them.
 *
 * An alias is a URN: `urn:pulumi:<stack>::<project>::<parent type chain>$<type>::<name>`. Older versions
 * named children `<component name><suffix>`; given the component's own aliases (its old URNs, as URN
 * strings) and how the old child name was made from the old component name, `childAliases` gives the
 * child's old URNs: one under each old URN of the component, and one under the component as it is now.
 */
import * as pulumi from "@pulumi/pulumi";

/** The name part of a URN (after the last `::`). */
export function nameOfUrn(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/** The component's aliases that are URNs (strings or outputs of strings); alias objects are the engine's to resolve. */
function urnAliases(aliases: pulumi.ComponentResourceOptions["aliases"]): pulumi.Input<string>[] {
    return (aliases ?? []).filter((alias): alias is pulumi.Input<string> => typeof alias === "string" || pulumi.Output.isInstance(alias));
}

/**
 * Old URNs of a child created by `parent` (named `parentName`, with the options `parentOpts`).
 * `legacyName` makes the child's old name from a component name; `name` is the child's name now.
 */
export function childAliases(
    parent: pulumi.Resource,
    parentName: string,
    parentOpts: pulumi.ComponentResourceOptions | undefined,
    childType: string,
    name: string,
    legacyName: (componentName: string) => string,
): pulumi.Input<string>[] {
    const underOldParents = urnAliases(parentOpts?.aliases).map((parentUrn) =>
        pulumi.output(parentUrn).apply((urn) => pulumi.createUrn(legacyName(nameOfUrn(urn)), childType, urn)),
    );
    const oldName = legacyName(parentName);
    return oldName === name ? underOldParents : [pulumi.createUrn(oldName, childType, parent), ...underOldParents];
}
