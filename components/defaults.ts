/**
 * Every default of the entrance, stated once: the components, the stack schema (`config.ts`) and the
 * operator commands take them from here, and `Pulumi.yaml` declares the same values (a test holds them equal).
 * The certificate's own defaults live with its provider (`components/certificate/`, compiled alone into its
 * package) and are taken from there.
 */
import { DEFAULT_BINDING, DEFAULT_KEY_TYPE } from "./certificate/validation";

/** Scaleway zone of an LB. @default "fr-par-1" */
export const DEFAULT_ZONE = "fr-par-1";
/** LB offer: a private admin entrance needs no more than LB-S (200 Mbps). @default "LB-S" */
export const DEFAULT_LB_TYPE = "LB-S";
/** LB port that terminates TLS for an app. @default 443 */
export const DEFAULT_HTTPS_PORT = DEFAULT_BINDING.frontendPort;
/** Pod port behind the LB's TLS offload. @default 80 */
export const DEFAULT_TARGET_PORT = 80;
/** TTL in seconds of the A records. @default 300 */
export const DEFAULT_DNS_TTL = 300;
/** Cloudflare's API refuses TTLs below 60 seconds. */
export const MIN_DNS_TTL = 60;
/** ACME directory alias. @default "letsencrypt" */
export const DEFAULT_ACME_SERVER = "letsencrypt";
/** Key of each certificate. @default "ecdsa-p256" */
export const DEFAULT_CERTIFICATE_KEY_TYPE = DEFAULT_KEY_TYPE;

/** Kubernetes name of an app's Service. @default `<app>-lb-private` (the manual procedure's name, docs/manual-procedure.md) */
export function defaultServiceName(app: string): string {
    return `${app}-lb-private`;
}

/** Pod selector of an app's Service. @default `{ app: <app> }` */
export function defaultSelector(app: string): Record<string, string> {
    return { app };
}
