/**
 * The live test, when its credentials and targets are missing, says which variables it needs instead of
 * passing silently: run as a user would run it, in a child vitest, with those variables unset.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify, stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../scripts/stackConfig";

const NEEDED = ["SCW_ACCESS_KEY", "SCW_SECRET_KEY", "CLOUDFLARE_API_TOKEN", "LIVE_LOAD_BALANCER_ID", "LIVE_DOMAIN"];

describe("the live test without its variables", () => {
    it("is skipped and names every missing variable, on stderr and in its title", async () => {
        const env = Object.fromEntries(
            Object.entries(process.env).filter(([name]) => !NEEDED.includes(name) && !name.startsWith("VITEST")),
        );
        const { stdout, stderr } = await promisify(execFile)(
            process.execPath,
            [join(projectRoot, "node_modules", "vitest", "vitest.mjs"), "run", "test/live.test.ts", "--reporter=verbose", "--color=false"],
            { cwd: projectRoot, env: { ...env, SCW_ACCESS_KEY: "" } },
        );
        const plain = (text: string) => stripVTControlCharacters(text);
        const reason = `skipped: set ${NEEDED.join(", ")} to run it (see the header of test/live.test.ts)`;
        expect(plain(stderr + stdout)).toContain(`live test ${reason}\n`);
        expect(plain(stdout)).toContain(`live: Let's Encrypt staging + Cloudflare + Scaleway (${reason})`);
        expect(plain(stdout)).toMatch(/Tests\s+1 skipped/);
    }, 60_000);
});
