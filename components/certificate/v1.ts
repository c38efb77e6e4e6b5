/**
 * Entry point `@scw-private-lb/certificate-provider/v1`: what the serialized provider stored in every
 * certificate's state `require()`s. Its contract is frozen: `certificateLifecycle(options, config)` returns
 * the six methods the engine calls. State written today names this entry point forever, so a change of that
 * contract gets a new entry point (`v2`) next to this one, never an edit of it.
 */
export { certificateLifecycle } from "./lifecycle";
export type { CertificateLifecycle, LifecycleOptions } from "./lifecycle";
