#!/bin/sh
# Fetches AWS's Java libraries from Maven Central (aws-lambda-java-core, -events, the runtime interface client
# and its aws-lambda-java-serialization; pom.xml) into ./build/lib and compiles the handlers in example/
# against them into ./build/classes. Skipped while the classes are newer than every source.
set -eu
cd "$(dirname "$0")"
if [ -d build/classes ] && [ -z "$(find example pom.xml -newer build/classes)" ]; then
    exit 0
fi
command -v mvn >/dev/null || { apt-get update && apt-get install -y maven; }
echo "java-aws: fetching AWS's Java libraries with Maven" >&2
rm -rf build/lib build/classes
mvn -q -B dependency:copy-dependencies -DoutputDirectory=build/lib -DincludeScope=runtime
javac --release 17 -nowarn -cp "build/lib/*" -d build/classes example/*.java
