#!/bin/sh
# Python web libraries that run behind Lambda's HTTP events, from PyPI into ./build/site (pinned, pure Python):
# Mangum (an ASGI adapter; the app is Starlette) and AWS Lambda Powertools' event handler. The tests zip
# build/site with each function, as `pip install -t` + zip deploys them. Skipped once installed.
set -eu
cd "$(dirname "$0")"
PINS="mangum==0.22.0 aws-lambda-powertools==3.37.0 starlette==1.10.0"
if [ -f build/pins ] && [ "$(cat build/pins)" = "$PINS" ]; then
    exit 0
fi
PYTHON="${PYTHON:-$(pwd)/../../../../.venv/bin/python}"
rm -rf build
# shellcheck disable=SC2086
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile --target build/site $PINS
echo "$PINS" > build/pins
