#!/bin/sh
# Builds the Go functions on AWS's libraries into ./build: `behaviour` (aws-lambda-go's lambda.Start and
# events, for the behaviour suite) and `caller` (aws-sdk-go-v2's Lambda client, for nested invokes), both
# provided.al2023 bootstraps. Modules come from the Go module proxy (pinned by go.sum); skipped while both
# binaries are newer than every source.
set -eu
cd "$(dirname "$0")"
if [ -f build/behaviour ] && [ -f build/caller ] && [ -z "$(find behaviour caller go.mod go.sum -newer build/caller)" ]; then
    exit 0
fi
command -v go >/dev/null || { echo "go is missing: make test installs it" >&2; exit 1; }
echo "go-aws: building aws-lambda-go and aws-sdk-go-v2 functions (about a minute the first time)" >&2
export CGO_ENABLED=0 GOFLAGS=-mod=mod
go build -trimpath -o build/behaviour ./behaviour
go build -trimpath -o build/caller ./caller
