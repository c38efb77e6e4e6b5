#!/usr/bin/env bash
# Gives the engine tests a Pulumi CLI and prints the folder that holds it (stdout, one line).
#
# - A `pulumi` on PATH at least as new as the @pulumi/pulumi the project pins is used as it is.
# - Otherwise the CLI of exactly that version is built with Go from the Go module proxy, into a
#   cache outside the checkout, with the Node.js dynamic-provider and policy-pack launchers beside it.
#   A second run finds it there and takes a moment.
# Nothing of Pulumi's source lands in the repository: the build uses a throwaway Go module in the cache.
#
# Usage: bash scripts/pulumi-cli.sh            # prints e.g. /root/.cache/scw-private-lb/pulumi-v3.248.0/bin
# Environment: SCW_PRIVATE_LB_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/scw-private-lb),
#              PULUMI_CLI_IGNORE_PATH=1 to build even when a `pulumi` is on PATH.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "pulumi-cli: $*" >&2; }
fail() { say "error: $*"; exit 1; }

command -v node >/dev/null || fail "node is not on PATH (Node.js 20 is a prerequisite of this project)"

# The version the project pins: the lockfile's resolved @pulumi/pulumi, else package.json's range without ^/~.
version=$(node -e '
const fs = require("node:fs");
const path = require("node:path");
const root = process.argv[1];
let version;
try {
    version = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")).packages["node_modules/@pulumi/pulumi"].version;
} catch {
    version = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];
}
process.stdout.write(String(version ?? "").replace(/^[\^~=v]+/, ""));
' "$root")
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "cannot read the @pulumi/pulumi version from package-lock.json or package.json (got \"$version\")"

# "v3.248.0" or "3.248.0-dev..." -> "3.248.0"
cli_version() { PULUMI_SKIP_UPDATE_CHECK=true "$1" version 2>/dev/null | head -n 1 | sed -E 's/^v//; s/[-+].*$//'; }
# True when $1 >= $2 (dotted numbers).
at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }

if [ "${PULUMI_CLI_IGNORE_PATH:-}" != "1" ] && on_path=$(command -v pulumi); then
    found=$(cli_version "$on_path")
    if [ -n "$found" ] && at_least "$found" "$version"; then
        dir=$(dirname "$(readlink -f "$on_path")")
        say "using $on_path (v$found, the project needs >= v$version)"
        echo "$dir"
        exit 0
    fi
    say "ignoring $on_path: v${found:-?} is older than v$version, the version of @pulumi/pulumi in package-lock.json"
fi

cache=${SCW_PRIVATE_LB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scw-private-lb}
target="$cache/pulumi-v$version"
bin="$target/bin"
launcher_source="$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"

# Beside the CLI, where the engine looks for plugins: the dynamic-provider launcher, which ships with the npm
# package, and our policy-pack launcher (the CLI's fallback when it has no Node.js language host).
install_launchers() {
    [ -f "$launcher_source" ] || fail "$launcher_source is missing: run \`npm ci\` first"
    local source
    for source in "$launcher_source" "$root/scripts/pulumi-analyzer-policy-nodejs"; do
        if ! cmp -s "$source" "$bin/$(basename "$source")"; then
            install -m 0755 "$source" "$bin/$(basename "$source")"
        fi
    done
}

if [ -x "$bin/pulumi" ] && [ "$(cli_version "$bin/pulumi")" = "$version" ]; then
    install_launchers
    say "using the cached build $bin/pulumi (v$version)"
    echo "$bin"
    exit 0
fi

command -v go >/dev/null || fail "no Pulumi CLI >= v$version on PATH and no Go toolchain to build one: install the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/) or Go (https://go.dev/doc/install)"

say "building the Pulumi CLI v$version with $(go version | cut -d' ' -f3) from the Go module proxy into $target (this takes minutes the first time)"
started=$(date +%s)
mkdir -p "$target"
module=$(mktemp -d "$target/module.XXXXXX")
trap 'rm -rf "$module"' EXIT
# pkg/v3's own go.mod replaces sdk/v3 with ../sdk, so `go install pkg/v3/...@version` refuses; a module that
# requires both at the same version builds the main package (the replaces of a dependency are ignored).
cat >"$module/go.mod" <<EOF
module scw-private-lb/pulumi-cli

go 1.22

require (
	github.com/pulumi/pulumi/pkg/v3 v$version
	github.com/pulumi/pulumi/sdk/v3 v$version
)
EOF
cat >"$module/tools.go" <<'EOF'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
EOF
(
    cd "$module"
    say "resolving the modules (go mod tidy)"
    go mod tidy >&2
    say "compiling github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
    # The flags of Pulumi's release builds (.goreleaser.yml), and the version stamp `pulumi version` prints.
    CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace \
        -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
        -o "$module/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
) || fail "the build of the Pulumi CLI v$version failed (see above)"
mkdir -p "$bin"
mv -f "$module/pulumi" "$bin/pulumi"
install_launchers
built=$(cli_version "$bin/pulumi")
[ "$built" = "$version" ] || fail "$bin/pulumi reports v$built, expected v$version"
say "built $bin/pulumi v$version in $(($(date +%s) - started)) s"
echo "$bin"
