import { expect, it } from "vitest";
import { installMocks } from "./support/pulumiMocks";
import { fixtureStack, pulumiConfigOf } from "./support/program";

it("fails before declaring anything when the stack config is invalid, naming every bad key", async () => {
    const config: Record<string, string> = {
        ...pulumiConfigOf(fixtureStack("three-apps")),
        "scw-private-lb:dnsTtl": "30",
        "scw-private-lb:zone": "fr-par-4",
        "scw-privat-lb:lbType": "LB-GP-M",
    };
    delete config["scw-private-lb:acmeEmail"];
    const world = await installMocks({ stack: "three-apps", config });
    await expect(import("../index")).rejects.toThrow(
        [
            "invalid stack configuration:",
            `  - scw-privat-lb:lbType: "scw-privat-lb" is not this project's namespace, so the key would be ignored: write scw-private-lb:lbType`,
            `  - scw-private-lb:zone: "fr-par-4" is not a zone of Scaleway's LB service: use one of fr-par-1, fr-par-2, nl-ams-1, nl-ams-2, nl-ams-3, pl-waw-1, pl-waw-2, pl-waw-3`,
            "  - scw-private-lb:dnsTtl: must be at least 60 seconds (Cloudflare's minimum)",
            "  - scw-private-lb:acmeEmail: is required: give the contact email of the ACME account",
        ].join("\n"),
    );
    expect(world.resources).toEqual([]);
});
