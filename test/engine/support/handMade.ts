/**
 * What the manual procedure leaves on an LB: a certificate made outside the stack (here by a throwaway test
 * CA), uploaded with the Scaleway API and put on the 443 frontend by the CCM through the Service annotation.
 */
import { createLoadBalancerCertificates } from "../../../components/certificate/scaleway";
import { createTestChain, type Validity } from "../../../local/certificates";
import type { CertificateWorld, LoadBalancerSeed } from "../../certificate-provider-world";

/** Uploads a hand-made certificate for `dnsNames` to `lb` and binds it to the 443 frontend; its zoned id. */
export async function handMadeCertificate(
    world: CertificateWorld,
    lb: LoadBalancerSeed,
    dnsNames: string[],
    validity: Validity,
): Promise<string> {
    const chain = await createTestChain({ dnsNames, ...validity });
    const scaleway = createLoadBalancerCertificates({
        credentials: { accessKey: world.env.SCW_ACCESS_KEY, secretKey: world.env.SCW_SECRET_KEY, apiUrl: world.env.SCW_API_URL },
    });
    const certificateId = await scaleway.uploadCertificate(lb.lbId, "admin certbot", chain.scalewayBundlePem);
    world.scaleway.simulateCcmReconcile(lb.frontendId, [certificateId.split("/")[1]]);
    return certificateId;
}
