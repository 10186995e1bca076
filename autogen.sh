#!/bin/sh
# Regenerate the build system. Generated files are never committed.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
