/**
 * What the consumer reads from the entrance stack, as a StackReference mock returns it: shaped like
 * the outputs of the entrance's prod stack (Pulumi.prod.yaml at the repository root).
 * entrance-contract.test.ts checks that shape against the entrance program itself.
 */
export const ENTRANCE_STACK = "organization/scw-private-lb/prod";

export const ENTRANCE_OUTPUTS = {
    environment: "prod",
    zone: "fr-par-1",
    loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
    loadBalancerUuid: "0d1b714f-2767-4937-a9e5-4399cfd45338",
    loadBalancerName: "private-lb-prod-test",
    privateIps: { prod: "172.16.8.4", monitoring: "172.16.20.7" },
    fqdns: {
        test: ["test.prod.example.com", "test.monitoring.example.com"],
        backoffice: ["backoffice.prod.example.com", "backoffice.monitoring.example.com"],
    },
    httpsPorts: { test: 443, backoffice: 8443 },
    lbPorts: { test: [443, 81], backoffice: [8443] },
};
