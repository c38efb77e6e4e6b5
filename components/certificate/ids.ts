/**
 * Scaleway identifiers, shared by the certificate provider and the program: zones (`fr-par-1`), UUIDs, and
 * zoned ids `<zone>/<uuid>` as the LB API, the Terraform-bridged provider and the CCM annotation use them.
 * Lives in `components/certificate/` because the provider's package is compiled from this folder alone.
 */
export const ZONE_PATTERN = /^[a-z]{2}-[a-z]{3}-[1-9]$/;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `fr-par-1/<uuid>` → `{zone, uuid}`; undefined when malformed. */
export function parseZonedId(id: string): { zone: string; uuid: string } | undefined {
    const parts = id.split("/");
    if (parts.length !== 2 || !ZONE_PATTERN.test(parts[0]) || !UUID_PATTERN.test(parts[1])) {
        return undefined;
    }
    return { zone: parts[0], uuid: parts[1] };
}
