// Kept for state written before the provider was packaged (up to commit 375cfe2): the closure stored in
// those certificates' state loads `<project>/components/certificate/provider` by path (this file, found
// before any `.ts`, so it registers no ts-node) and calls its `certificateLifecycle(options, config)`.
// It hands over to the packaged implementation. Do not move or rename this file: old state names it.
module.exports = require("@scw-private-lb/certificate-provider/v1");
