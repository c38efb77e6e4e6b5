/**
 * The CLI's own check of the stack files against the config schema `Pulumi.yaml` declares. It runs before
 * any program, so a program that declares nothing is enough: the project folder is a copy of the
 * repository's `Pulumi.yaml` and stack files. The stack files' contents are the user's: this only asks the
 * real CLI whether it accepts them; the refused stack is a fixture written here.
 */
import { copyFile } from "node:fs/promises";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pulumiConfigOf } from "../../scripts/stackConfig";
import { changes, type Engine, linkNodeModules, REPOSITORY, startEngine, writeText } from "./support/engine";

const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"];

let engine: Engine;
let project: string;

beforeAll(async () => {
    engine = await startEngine();
    project = path.join(engine.root, "project");
    await linkNodeModules(project);
    await Promise.all(PROJECT_FILES.map((file) => copyFile(path.join(REPOSITORY, file), path.join(project, file))));
});

afterAll(async () => {
    await engine?.remove();
});

/** The stack `stackName` with the project's Pulumi.yaml and the stack file in the project folder. */
function projectStack(stackName: string, program = () => Promise.resolve({})) {
    return engine.stack({ projectName: "scw-private-lb", stackName, program, workDir: project, ownProjectFile: true });
}

/** A preview of `stackName`. */
async function previewStack(stackName: string) {
    return (await projectStack(stackName)).preview();
}

describe("Pulumi.yaml's config schema, checked by the CLI", () => {
    it.each(["staging", "prod"])("9. accepts Pulumi.yaml with Pulumi.%s.yaml", async (stackName) => {
        const preview = await previewStack(stackName);
        expect(changes(preview.changeSummary)).toEqual({ create: 1 });
    });

    it("9. refuses a stack file whose project key has the wrong type, with the CLI's message", async () => {
        await writeText(
            path.join(project, "Pulumi.wrong-type.yaml"),
            [
                "config:",
                "  scw-private-lb:environment: staging",
                "  scw-private-lb:domain: test",
                "  scw-private-lb:acmeEmail: platform-team@example.com",
                "  scw-private-lb:dnsTtl: five minutes",
                "",
            ].join("\n"),
        );
        const refused = await previewStack("wrong-type").then(
            () => "accepted",
            (error: Error) => error.message,
        );
        expect(refused).toContain(
            "error: validating stack config: Stack 'wrong-type' with configuration key 'dnsTtl' must be of type 'integer'",
        );
    });

    it("gives the program a key the stack file writes without a namespace as the project's, as the project's own commands read it", async () => {
        const file = path.join(project, "Pulumi.bare-key.yaml");
        await writeText(
            file,
            [
                "config:",
                "  scw-private-lb:environment: staging",
                "  scw-private-lb:acmeEmail: platform-team@example.com",
                "  dnsTtl: 120",
                "",
            ].join("\n"),
        );
        const stack = await projectStack("bare-key", () => Promise.resolve({ dnsTtl: new pulumi.Config("scw-private-lb").get("dnsTtl") }));
        const up = await stack.up();
        expect(up.outputs.dnsTtl).toEqual({ value: "120", secret: false });
        expect(pulumiConfigOf(file)["scw-private-lb:dnsTtl"]).toBe("120");
    });
});
