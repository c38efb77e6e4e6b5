/**
 * What the consumer reads from the entrance stack, as a StackReference mock returns it: shaped like the
 * outputs of the entrance's three-app fixture stack (test/fixtures/Pulumi.three-apps.yaml at the
 * repository root: test and backoffice on LBs of their own, grafana on test's LB on 8443).
 * entrance-contract.test.ts checks that shape against the entrance program itself.
 */
export const ENTRANCE_STACK = "organization/scw-private-lb/three-apps";

const testLb = {
    owner: "test",
    id: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
    uuid: "0d1b714f-2767-4937-a9e5-4399cfd45338",
    name: "private-lb-prod-test",
    zone: "fr-par-1",
    privateIps: { prod: "172.16.8.4", monitoring: "172.16.20.7" },
};

export const ENTRANCE_OUTPUTS = {
    environment: "prod",
    loadBalancers: {
        test: testLb,
        backoffice: {
            owner: "backoffice",
            id: "fr-par-1/5f0c3a9e-7b2d-4e1f-9a8b-6c5d4e3f2a1b",
            uuid: "5f0c3a9e-7b2d-4e1f-9a8b-6c5d4e3f2a1b",
            name: "private-lb-prod-backoffice",
            zone: "fr-par-1",
            privateIps: { prod: "172.16.8.9" },
        },
        grafana: testLb,
    },
    fqdns: {
        test: ["test.prod.example.net", "test.monitoring.example.net"],
        backoffice: ["backoffice.prod.example.net"],
        grafana: ["grafana.prod.example.net", "grafana.monitoring.example.net"],
    },
    httpsPorts: { test: 443, backoffice: 443, grafana: 8443 },
    lbPorts: { test: [443, 81], backoffice: [443], grafana: [8443] },
};
