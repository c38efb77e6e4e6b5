import { describe, expect, it } from "vitest";
import { annotationKey, buildCcmAnnotations, validatePassThroughSettings } from "../components/annotations";

const lb = { loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338", zone: "fr-par-1", httpsPort: 443 };

describe("buildCcmAnnotations", () => {
    it("builds the annotations of an externally managed private LB", () => {
        expect(buildCcmAnnotations(lb)).toEqual({
            "service.beta.kubernetes.io/scw-loadbalancer-externally-managed": "true",
            "service.beta.kubernetes.io/scw-loadbalancer-id": "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
            "service.beta.kubernetes.io/scw-loadbalancer-zone": "fr-par-1",
            "service.beta.kubernetes.io/scw-loadbalancer-private": "true",
        });
    });

    it("always scopes the certificate to the TLS port, never a bare id", () => {
        const annotations = buildCcmAnnotations({ ...lb, certificateId: "aba65e0d-7391-4685-b8c3-f86b88c2ade5" });
        expect(annotations["service.beta.kubernetes.io/scw-loadbalancer-certificate-ids"]).toBe("443:aba65e0d-7391-4685-b8c3-f86b88c2ade5");
        const shared = buildCcmAnnotations({ ...lb, httpsPort: 8443, certificateId: "fr-par-1/aba65e0d-7391-4685-b8c3-f86b88c2ade5" }, [8443]);
        expect(shared["service.beta.kubernetes.io/scw-loadbalancer-certificate-ids"]).toBe("8443:fr-par-1/aba65e0d-7391-4685-b8c3-f86b88c2ade5");
    });

    it("passes documented settings through under their annotation names", () => {
        const annotations = buildCcmAnnotations(
            { ...lb, settings: { healthCheckType: "http", healthCheckHttpUri: "/healthz", healthCheckHttpMethod: "GET", healthCheckHttpCode: "200", proxyProtocolV2: "443", healthTransientCheckDelay: "0.5s" } },
            [443, 81],
        );
        expect(annotations).toMatchObject({
            "service.beta.kubernetes.io/scw-loadbalancer-health-check-type": "http",
            "service.beta.kubernetes.io/scw-loadbalancer-health-check-http-uri": "/healthz",
            "service.beta.kubernetes.io/scw-loadbalancer-health-check-http-method": "GET",
            "service.beta.kubernetes.io/scw-loadbalancer-health-check-http-code": "200",
            "service.beta.kubernetes.io/scw-loadbalancer-proxy-protocol-v2": "443",
            "service.beta.kubernetes.io/scw-loadbalancer-health-transient-check-delay": "0.5s",
        });
        expect(annotationKey("timeoutClient")).toBe("service.beta.kubernetes.io/scw-loadbalancer-timeout-client");
        expect(annotationKey("proxyProtocolV1")).toBe("service.beta.kubernetes.io/scw-loadbalancer-proxy-protocol-v1");
    });

    it.each([
        [{ ...lb, loadBalancerId: "0d1b714f-2767-4937-a9e5-4399cfd45338" }, 'loadBalancerId: "0d1b714f-2767-4937-a9e5-4399cfd45338" must be <zone>/<uuid>'],
        [{ ...lb, zone: "nl-ams-1" }, "zone: the LB id is in fr-par-1 but the zone annotation says nl-ams-1"],
        [{ ...lb, httpsPort: 80 }, "httpsPort: a certificate mapping on port 80 is refused"],
        [{ ...lb, certificateId: "my-cert" }, 'certificateId: "my-cert" must be an LB certificate id (<uuid> or <zone>/<uuid>)'],
        [{ ...lb, settings: { timeoutClient: "ten minutes" } }, 'timeoutClient: "ten minutes" must be a Go duration such as 5s, 500ms, 10m or 1h30m'],
        [{ ...lb, settings: { forwardPortAlgorithm: "random" } }, 'forwardPortAlgorithm: "random" must be one of roundrobin, leastconn'],
    ])("refuses %j", (args, message) => {
        expect(() => buildCcmAnnotations(args)).toThrow(message);
    });
});

describe("validatePassThroughSettings", () => {
    it("finds every problem at once, with what to fix", () => {
        expect(
            validatePassThroughSettings({ stickySessions: "cookie", healthCheckType: "https", proxyProtocolV1: "443,9000", healthCheckMaxRetries: "-1" }, [443]),
        ).toEqual([
            "proxyProtocolV1: port(s) 9000 are not ports of this Service (443)",
            'healthCheckMaxRetries: "-1" must be a whole number (0 or more)',
            'stickySessionsCookieName: required when stickySessions is "cookie"',
            'healthCheckHttpUri: required when healthCheckType is "https"',
            'healthCheckHttpMethod: required when healthCheckType is "https"',
            'healthCheckHttpCode: required when healthCheckType is "https"',
        ]);
    });

    it("accepts the documented value forms", () => {
        expect(validatePassThroughSettings({ proxyProtocolV2: "*", protocolHttp: "true", timeoutTunnel: "1h30m", onMarkedDownAction: "shutdown_sessions" }, [443])).toEqual([]);
    });
});
