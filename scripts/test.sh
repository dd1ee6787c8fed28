#!/usr/bin/env bash
# test.sh installs what the test suite needs (client tools, linters, Azurite, a
# running PostgreSQL) and runs the whole suite: go vet, staticcheck and go test.
#
# Usage: scripts/test.sh [go test args...]
#   With no arguments every package is tested (./...); any arguments replace
#   ./... and are passed to go test as they are, e.g.
#   scripts/test.sh -run TestCrane ./test/e2e/
#
# Every install step is skipped when the pinned tool is already present, so a
# second run goes straight to the tests.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# Pinned versions of the tools the tests and benchmarks run.
CRANE_VERSION=v0.22.1
REGCTL_VERSION=v0.11.7
REGISTRY_VERSION=v3.1.2
STATICCHECK_VERSION=v0.8.2 # staticcheck 2026.2.2, the newest release; it builds with Go 1.26
AZURITE_VERSION=3.35.0      # the Azure Blob Storage emulator the azblob store is tested against

log() { printf '==> %s\n' "$*" >&2; }

# go install puts binaries in GOBIN, or else in the first GOPATH entry's bin.
gobin="$(go env GOBIN)"
if [[ -z "$gobin" ]]; then
	gobin="$(go env GOPATH | cut -d: -f1)/bin"
fi
export PATH="$gobin:$PATH"

# apt_install installs the Debian packages named after each missing binary,
# given as binary:package pairs; apt-get update runs only when one is missing.
apt_install() {
	local missing=() pair
	for pair in "$@"; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
	done
	if ((${#missing[@]} == 0)); then
		return 0
	fi
	log "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# module_version prints the main module version recorded in a Go binary, or
# nothing when the binary is missing or was not built by go install.
module_version() {
	[[ -x "$1" ]] || return 0
	go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'
}

# go_install installs pkg@version unless $gobin/name already is that version.
go_install() {
	local name="$1" pkg="$2" version="$3"
	if [[ "$(module_version "$gobin/$name")" == "$version" ]]; then
		return 0
	fi
	log "go install $pkg@$version"
	go install "$pkg@$version"
}

# npm_install_azurite installs Azurite into the project-local .cache/azurite
# unless that version is already there, and puts its bin directory on PATH
# for the tests, which start azurite-blob themselves. Outside CI a failed
# install only warns (the Azure Blob tests then skip); with CI=true it fails.
npm_install_azurite() {
	local dir="$repo_root/.cache/azurite"
	local pkg="$dir/node_modules/azurite/package.json"
	if [[ ! -f "$pkg" ]] || [[ "$(node -p "require('$pkg').version" 2>/dev/null)" != "$AZURITE_VERSION" ]]; then
		log "npm install azurite@$AZURITE_VERSION"
		mkdir -p "$dir"
		if ! command -v npm >/dev/null 2>&1 ||
			! npm install --no-save --no-audit --no-fund --prefix "$dir" "azurite@$AZURITE_VERSION" >/dev/null; then
			if [[ "${CI:-}" == "true" ]]; then
				log "installing azurite@$AZURITE_VERSION failed; the Azure Blob tests need it in CI"
				return 1
			fi
			log "installing azurite@$AZURITE_VERSION failed; the Azure Blob tests will skip"
			return 0
		fi
	fi
	export PATH="$dir/node_modules/.bin:$PATH"
}

# ensure_postgres starts the local PostgreSQL cluster when it does not answer.
ensure_postgres() {
	if pg_isready -q -h 127.0.0.1; then
		return 0
	fi
	local version
	version="$(ls /etc/postgresql | sort -V | tail -n 1)"
	log "starting PostgreSQL $version"
	pg_ctlcluster --skip-systemctl-redirect "$version" main start
	local i
	for i in $(seq 1 30); do
		pg_isready -q -h 127.0.0.1 && return 0
		sleep 1
	done
	log "PostgreSQL did not become ready"
	return 1
}

apt_install skopeo:skopeo nft:nftables ip:iproute2
go_install crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION"
go_install regctl github.com/regclient/regclient/cmd/regctl "$REGCTL_VERSION"
go_install registry github.com/distribution/distribution/v3/cmd/registry "$REGISTRY_VERSION"
go_install staticcheck honnef.co/go/tools/cmd/staticcheck "$STATICCHECK_VERSION"
npm_install_azurite
ensure_postgres

log "go vet ./..."
go vet ./...

log "staticcheck ./..."
staticcheck ./...

if (($# == 0)); then
	set -- ./...
fi
log "go test -count=1 -timeout 25m $*"
go test -count=1 -timeout 25m "$@"
