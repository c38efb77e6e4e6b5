/**
 * What the `status` tests share: a retry policy fast enough for a test, and a real certificate chain of a
 * chosen validity uploaded to a local LB through the provider's own Scaleway client.
 */
import type { RetryPolicy } from "../../components/certificate/retry";
import { createLoadBalancerCertificates } from "../../components/certificate/scaleway";
import { createTestChain } from "../../local/certificates";
import type { LoadBalancerSnapshot, LocalScalewayServer } from "../../local/scaleway-server";

export const DAY_MS = 86_400_000;
export const FAST_RETRY: RetryPolicy = { attempts: 2, baseDelayMs: 10, maxDelayMs: 20, retryAfterCapMs: 50 };

export interface Validity {
    daysAgo: number;
    daysLeft: number;
}

/** Uploads a chain for `dnsName` valid from `daysAgo` to `daysLeft` around now; returns the bare certificate UUID. */
export async function uploadTestCertificate(
    server: LocalScalewayServer,
    lb: LoadBalancerSnapshot,
    dnsName: string,
    validity: Validity,
    name: string,
): Promise<string> {
    const now = Date.now();
    const chain = await createTestChain({
        dnsNames: [dnsName],
        notBefore: new Date(now - validity.daysAgo * DAY_MS),
        notAfter: new Date(now + validity.daysLeft * DAY_MS),
    });
    const certificates = createLoadBalancerCertificates({
        credentials: { accessKey: server.credentials.accessKey, secretKey: server.credentials.secretKey, apiUrl: server.url },
    });
    const zonedId = await certificates.uploadCertificate(`${lb.zone}/${lb.id}`, name, chain.scalewayBundlePem);
    return zonedId.slice(zonedId.indexOf("/") + 1);
}
