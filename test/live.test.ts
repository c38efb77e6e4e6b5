/**
 * Live test against the real services: Let's Encrypt staging, Cloudflare and a Scaleway private LB.
 * It runs only when every credential and target below is set (never in CI without them):
 *
 *   SCW_ACCESS_KEY, SCW_SECRET_KEY        Scaleway API key allowed to manage the LB's certificates
 *   CLOUDFLARE_API_TOKEN                  token with Zone:Read and Zone:DNS:Edit on LIVE_DOMAIN's zone
 *   LIVE_LOAD_BALANCER_ID                 zoned id `<zone>/<uuid>` of a private LB kept for this test
 *   LIVE_DOMAIN                           a name in a Cloudflare zone of that token, e.g. live-test.example.com
 *   LIVE_ACME_EMAIL                       contact of the ACME account (optional)
 *   LIVE_ACME_DIRECTORY                   another ACME directory than Let's Encrypt staging (optional)
 *
 * It issues a certificate for LIVE_DOMAIN from Let's Encrypt *staging*, uploads it to the LB in
 * annotation mode (no frontend is touched), reads it back, deletes it, and checks that neither a TXT
 * record nor an LB certificate is left.
 */
import { generateKeyPairSync } from "node:crypto";
import Cloudflare from "cloudflare";
import { describe, expect, it } from "vitest";
import { createCertificateProvider } from "../components/certificate/dynamicProvider";
import { CertificateOutputs } from "../components/certificate/types";

const REQUIRED = ["SCW_ACCESS_KEY", "SCW_SECRET_KEY", "CLOUDFLARE_API_TOKEN", "LIVE_LOAD_BALANCER_ID", "LIVE_DOMAIN"] as const;
const missing = REQUIRED.filter((name) => !process.env[name]);
const live = missing.length === 0;
/** Said when the test is skipped, in the suite's title and on stderr, so a reader knows what to set. */
const SKIP_REASON = `skipped: set ${missing.join(", ")} to run it (see the header of test/live.test.ts)`;
if (!live) {
    process.stderr.write(`live test ${SKIP_REASON}\n`);
}

async function challengeRecordsLeft(domain: string): Promise<number> {
    const cloudflare = new Cloudflare({ apiToken: process.env.CLOUDFLARE_API_TOKEN });
    const labels = domain.split(".");
    for (let i = 0; i < labels.length - 1; i++) {
        const zones = await cloudflare.zones.list({ name: labels.slice(i).join(".") });
        if (zones.result.length > 0) {
            const records = await cloudflare.dns.records.list({
                zone_id: zones.result[0].id,
                type: "TXT",
                name: { exact: `_acme-challenge.${domain}` },
            });
            return records.result.length;
        }
    }
    throw new Error(`no Cloudflare zone holds ${domain}`);
}

describe.skipIf(!live)(`live: Let's Encrypt staging + Cloudflare + Scaleway${live ? "" : ` (${SKIP_REASON})`}`, () => {
    it(
        "issues, uploads, reads back and deletes a certificate, leaving nothing behind",
        async () => {
            const provider = createCertificateProvider();
            const domain = (process.env.LIVE_DOMAIN as string).toLowerCase();
            const news = {
                domains: [domain],
                loadBalancerId: process.env.LIVE_LOAD_BALANCER_ID,
                acmeDirectoryUrl: process.env.LIVE_ACME_DIRECTORY ?? "https://acme-staging-v02.api.letsencrypt.org/directory",
                email: process.env.LIVE_ACME_EMAIL ?? `admin@${domain.split(".").slice(-2).join(".")}`,
                accountKeyPem: generateKeyPairSync("ec", { namedCurve: "P-256" })
                    .privateKey.export({ type: "pkcs8", format: "pem" })
                    .toString(),
            };
            const checked = await provider.check!({}, news);
            expect(checked.failures ?? []).toEqual([]);
            const created = await provider.create(checked.inputs);
            const outs = created.outs as CertificateOutputs;
            try {
                expect(outs.domains).toEqual([domain]);
                expect(outs.certificateId).toMatch(/^[a-z]{2}-[a-z]{3}-[1-9]\/[0-9a-f-]{36}$/);
                expect(Date.parse(outs.renewalDueAt)).toBeLessThan(Date.parse(outs.notAfter));
                const read = await provider.read!(created.id, outs);
                expect(read.id).toBe(created.id);
                expect(await challengeRecordsLeft(domain)).toBe(0);
            } finally {
                await provider.delete!(created.id, outs);
            }
            const gone = await provider.read!(created.id, outs);
            expect(gone.id ?? "").toBe("");
        },
        15 * 60_000,
    );
});
