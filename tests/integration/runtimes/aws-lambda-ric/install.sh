#!/bin/sh
# Installs AWS's Node.js Runtime Interface Client (aws-lambda-ric, pinned by package-lock.json) into
# ./node_modules for the behaviour suite and bench/runtimes.py. Its install scripts build a native addon
# (static curl + aws-lambda-cpp, then node-gyp), so this needs a C/C++ toolchain, cmake and autotools;
# as root it installs them with apt. Done once: skipped while the addon is newer than the lock file.
set -eu
cd "$(dirname "$0")"
PACKAGE=node_modules/aws-lambda-ric
ADDON=$PACKAGE/dist/rapid-client.node

if [ -f "$ADDON" ] && [ "$ADDON" -nt package-lock.json ]; then
    exit 0
fi
command -v npm >/dev/null || { echo "npm is missing (it comes with Node.js 20, which the Node runtime tests need)" >&2; exit 1; }
for tool in make g++ cmake autoreconf automake libtoolize python3; do
    command -v "$tool" >/dev/null || missing=1
done
if [ -n "${missing:-}" ]; then
    apt-get update && apt-get install -y make g++ cmake autoconf automake libtool python3
fi

# node-gyp compiles against the headers of the node that runs it, not ones it would download
prefix=$(dirname "$(dirname "$(node -p process.execPath)")")
if [ -f "$prefix/include/node/node_api.h" ]; then
    export npm_config_nodedir="$prefix"
fi
echo "aws-lambda-ric: npm ci (builds its native addon, about 2 minutes)" >&2
npm ci --no-audit --no-fund --loglevel=error

if [ ! -f "$ADDON" ]; then
    echo "aws-lambda-ric: npm ci did not build $ADDON (were its install scripts skipped?)" >&2
    exit 1
fi
touch "$ADDON"
# Its postinstall means to delete the ~150 MB of extracted build sources, but its glob (`[^gz]`) only
# works in bash, not in Debian's /bin/sh: delete them here.
rm -rf "$PACKAGE"/deps/aws-lambda-cpp-*/ "$PACKAGE"/deps/curl-*/
