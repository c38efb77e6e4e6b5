/**
 * CrossGuard policy pack of the private admin entrance. Run it with any stack of this project or of
 * a consumer: `pulumi preview --policy-pack policy` (the rules live in ./policies.ts).
 */
import { PolicyPack } from "@pulumi/policy";
import { ENTRANCE_POLICIES, toResourceValidationPolicy } from "./policies";

new PolicyPack("scw-private-lb", {
    description:
        "Private Scaleway LB entrance: private LBs, CCM annotations with certificates, unproxied private DNS, dns-01 ACME renewals.",
    policies: ENTRANCE_POLICIES.map(toResourceValidationPolicy),
});
