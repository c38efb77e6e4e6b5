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
        const shared = buildCcmAnnotations(
            { ...lb, httpsPort: 8443, certificateId: "fr-par-1/aba65e0d-7391-4685-b8c3-f86b88c2ade5" },
            [8443],
        );
        expect(shared["service.beta.kubernetes.io/scw-loadbalancer-certificate-ids"]).toBe(
            "8443:fr-par-1/aba65e0d-7391-4685-b8c3-f86b88c2ade5",
        );
    });

    it("passes documented settings through under their annotation names", () => {
        const annotations = buildCcmAnnotations(
            {
                ...lb,
                settings: {
                    healthCheckType: "http",
                    healthCheckHttpUri: "/healthz",
                    healthCheckHttpMethod: "GET",
                    healthCheckHttpCode: "200",
                    proxyProtocolV2: "443",
                    healthTransientCheckDelay: "0.5s",
                },
            },
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
        [
            { ...lb, loadBalancerId: "0d1b714f-2767-4937-a9e5-4399cfd45338" },
            'loadBalancerId: "0d1b714f-2767-4937-a9e5-4399cfd45338" must be <zone>/<uuid>',
        ],
        [{ ...lb, zone: "nl-ams-1" }, "zone: the LB id is in fr-par-1 but the zone annotation says nl-ams-1"],
        [{ ...lb, httpsPort: 80 }, "httpsPort: a certificate mapping on port 80 is refused"],
        [{ ...lb, certificateId: "my-cert" }, 'certificateId: "my-cert" must be an LB certificate id (<uuid> or <zone>/<uuid>)'],
        [
            { ...lb, settings: { timeoutClient: "ten minutes" } },
            'timeoutClient: "ten minutes" must be a Go duration such as 5s, 500ms, 10m or 1h30m',
        ],
        [{ ...lb, settings: { forwardPortAlgorithm: "random" } }, 'forwardPortAlgorithm: "random" must be one of roundrobin, leastconn'],
    ])("refuses %j", (args, message) => {
        expect(() => buildCcmAnnotations(args)).toThrow(message);
    });
});

describe("validatePassThroughSettings", () => {
    it("finds every problem at once, with what to fix", () => {
        expect(
            validatePassThroughSettings(
                { stickySessions: "cookie", healthCheckType: "https", proxyProtocolV1: "443,9000", healthCheckMaxRetries: "-1" },
                [443],
            ),
        ).toEqual([
            "proxyProtocolV1: port(s) 9000 are not ports of this Service (443)",
            'healthCheckMaxRetries: "-1" must be a whole number (0 or more)',
            'stickySessionsCookieName: required when stickySessions is "cookie"',
            'healthCheckHttpUri: required when healthCheckType uses "https"',
            'healthCheckHttpMethod: required when healthCheckType uses "https"',
            'healthCheckHttpCode: required when healthCheckType uses "https"',
        ]);
    });

    it("accepts per-port health checks and holds their ports to the Service's", () => {
        const perPort = {
            healthCheckType: "443:http;81:tcp",
            healthCheckHttpUri: "443:/healthz",
            healthCheckHttpMethod: "443:GET",
            healthCheckHttpCode: "443:200",
        };
        expect(validatePassThroughSettings(perPort, [443, 81])).toEqual([]);
        expect(validatePassThroughSettings({ ...perPort, healthCheckHttpUri: "8443:/healthz" }, [443, 81])).toEqual([
            "healthCheckHttpUri: port(s) 8443 are not ports of this Service (443, 81)",
        ]);
        expect(validatePassThroughSettings({ healthCheckType: "443:http;81:telnet" }, [443, 81])[0]).toBe(
            'healthCheckType: "443:http;81:telnet" must be one of tcp, http, https, mysql, pgsql, redis, ldap',
        );
        expect(validatePassThroughSettings({ healthCheckType: "htp" }, [443])[0]).toBe(
            'healthCheckType: "htp" must be one of tcp, http, https, mysql, pgsql, redis, ldap (or per port, as in 80:<value>;443,8443:<value>)',
        );
    });

    it("asks for the database user a mysql or pgsql check needs", () => {
        expect(validatePassThroughSettings({ healthCheckType: "3306:mysql;5432:pgsql" }, [3306, 5432])).toEqual([
            'healthCheckMysqlUser: required when healthCheckType uses "mysql"',
            'healthCheckPgsqlUser: required when healthCheckType uses "pgsql"',
        ]);
        expect(validatePassThroughSettings({ healthCheckType: "mysql", healthCheckMysqlUser: "monitor" }, [3306])).toEqual([]);
    });

    it("accepts the documented value forms", () => {
        expect(
            validatePassThroughSettings(
                { proxyProtocolV2: "*", protocolHttp: "true", timeoutTunnel: "1h30m", onMarkedDownAction: "shutdown_sessions" },
                [443],
            ),
        ).toEqual([]);
    });
});
