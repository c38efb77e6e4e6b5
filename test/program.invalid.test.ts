import { expect, it } from "vitest";
import { installMocks } from "./support/pulumiMocks";
import { pulumiConfigOf } from "./support/program";

it("fails before declaring anything when the stack config is invalid, naming every bad key", async () => {
    const config: Record<string, string> = { ...pulumiConfigOf("prod"), "scw-private-lb:dnsTtl": "30", "scw-private-lb:zone": "paris" };
    delete config["scw-private-lb:acmeEmail"];
    const world = await installMocks({ stack: "prod", config });
    await expect(import("../index")).rejects.toThrow(
        [
            "invalid stack configuration:",
            "  - scw-private-lb:zone: must be a Scaleway zone such as fr-par-1, nl-ams-1 or pl-waw-1",
            "  - scw-private-lb:dnsTtl: must be at least 60 seconds (Cloudflare's minimum)",
            "  - scw-private-lb:acmeEmail: is required (must be an email address: the ACME account's contact (Let's Encrypt sends no expiry notices any more))",
        ].join("\n"),
    );
    expect(world.resources).toEqual([]);
});
