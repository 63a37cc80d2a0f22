#!/bin/sh
# Stages a Java function folder in ./build/function as `ember deploy` takes one: example/Caller.java and, in
# lib/, the AWS SDK for Java v2's Lambda client with url-connection-client, fetched from Maven Central
# (pom.xml). Skipped while the staged folder is newer than every source.
set -eu
cd "$(dirname "$0")"
if [ -d build/function ] && [ -z "$(find example pom.xml -newer build/function)" ]; then
    exit 0
fi
command -v mvn >/dev/null || { apt-get update && apt-get install -y maven; }
echo "java-sdk: fetching the AWS SDK for Java v2 with Maven" >&2
rm -rf build/function
mvn -q -B dependency:copy-dependencies -DoutputDirectory=build/function/lib -DincludeScope=runtime
cp -r example build/function/
touch build/function
