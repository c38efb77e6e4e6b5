#!/usr/bin/env bash
# Gives the engine tests a Pulumi CLI and prints the folder that holds it (stdout, one line).
#
# - A `pulumi` on PATH at least as new as the @pulumi/pulumi the project pins is used as it is.
# - Otherwise the CLI of exactly that version is built with Go from the Go module proxy, into a
#   cache outside the checkout, with the Node.js dynamic-provider and policy-pack launchers beside it, and
#   the Node.js language host when the proxy serves it. A second run finds it there and takes a moment.
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
    found=$(cli_version "$on_path" || true)   # a broken pulumi is ignored below, like an old one
    if [ -n "$found" ] && at_least "$found" "$version"; then
        dir=$(dirname "$(readlink -f "$on_path")")
        say "using $on_path (v$found, the project needs >= v$version)"
        echo "$dir"
        exit 0
    fi
    if [ -z "$found" ]; then
        say "ignoring $on_path: \`pulumi version\` gives no version (a broken install?)"
    else
        say "ignoring $on_path: v$found is older than v$version, the version of @pulumi/pulumi in package-lock.json"
    fi
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
staging=$(mktemp -d "$target/staging.XXXXXX")
trap 'rm -rf "$staging"' EXIT

# Builds main package $2 of module $1 at version $3 into $4. pkg/v3's own go.mod replaces sdk/v3 with ../sdk,
# so `go install <package>@<version>` refuses; a throwaway module that requires pkg/v3 and sdk/v3 at the same
# version (and module $1) builds it instead: the replaces of a dependency are ignored.
go_build_main() {
    local module_path=$1 package=$2 module_version=$3 output=$4 work
    work=$(mktemp -d "$staging/module.XXXXXX")
    {
        printf 'module scw-private-lb/pulumi-cli\n\ngo 1.22\n\nrequire (\n'
        printf '\tgithub.com/pulumi/pulumi/pkg/v3 v%s\n\tgithub.com/pulumi/pulumi/sdk/v3 v%s\n' "$version" "$version"
        [ "$module_path" = github.com/pulumi/pulumi/pkg/v3 ] || printf '\t%s %s\n' "$module_path" "$module_version"
        printf ')\n'
    } >"$work/go.mod"
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$package" >"$work/tools.go"
    # (errexit does not hold inside a function called from `||`: every step is chained instead.)
    cd "$work" &&
        say "resolving the modules of $package (go mod tidy)" &&
        go mod tidy >&2 &&
        say "compiling $package" &&
        # The flags of Pulumi's release builds (.goreleaser.yml), and the version stamp `pulumi version` prints.
        CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace \
            -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
            -o "$output" "$package" >&2
    local status=$?
    cd "$root" || return 1
    return "$status"
}

go_build_main github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "v$version" "$staging/pulumi" ||
    fail "the build of the Pulumi CLI v$version failed (see above)"

# The Node.js language host is its own module, without tags: only the commit of the CLI's tag can name it.
language_host=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
commit=$(cd "$staging" && go list -m -f '{{with .Origin}}{{.Hash}}{{end}}' "github.com/pulumi/pulumi/pkg/v3@v$version" 2>/dev/null | cut -c1-12)
if [ -n "$commit" ] && pseudo=$(cd "$staging" && go list -m -f '{{.Version}}' "$language_host@$commit" 2>/dev/null); then
    go_build_main "$language_host" "$language_host" "$pseudo" "$staging/pulumi-language-nodejs" ||
        fail "the build of the Node.js language host $pseudo failed (see above)"
else
    say "the Go module proxy does not serve the Node.js language host ($language_host@${commit:-?}): this CLI runs" \
        "Automation API inline programs only, and policy packs through scripts/pulumi-analyzer-policy-nodejs"
fi
mkdir -p "$bin"
for built_binary in "$staging"/pulumi*; do
    mv -f "$built_binary" "$bin/"
done
install_launchers
built=$(cli_version "$bin/pulumi")
[ "$built" = "$version" ] || fail "$bin/pulumi reports v$built, expected v$version"
say "built $bin/pulumi v$version in $(($(date +%s) - started)) s"
echo "$bin"
