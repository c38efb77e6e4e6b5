/**
 * The Scaleway CCM, as far as the 443 frontend goes: the Service annotation names the newest certificate of
 * the stack, and the CCM puts it on the frontend shortly after. Here: the newest ready certificate on the LB,
 * checked every 200 ms. Its changes go straight into the local server's state (no API call is recorded).
 */
import type { CertificateWorld, LoadBalancerSeed } from "../../certificate-provider-world";

export interface SimulatedCcm {
    stop(): void;
}

export function startSimulatedCcm(world: CertificateWorld, lb: LoadBalancerSeed): SimulatedCcm {
    const timer = setInterval(() => {
        const ready = world.scaleway.state.certificates(lb.lbUuid).filter((certificate) => certificate.status === "ready");
        const newest = ready.at(-1);
        const bound = world.scaleway.state.frontends(lb.lbUuid).find((frontend) => frontend.id === lb.frontendId)?.certificateIds ?? [];
        if (newest && (bound.length !== 1 || bound[0] !== newest.id)) {
            world.scaleway.simulateCcmReconcile(lb.frontendId, [newest.id]);
        }
    }, 200);
    return { stop: () => clearInterval(timer) };
}
