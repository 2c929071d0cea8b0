#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The version comes from one place: meson.build's project(version : ...). debian/changelog's newest
# entry must say the same, or the package would claim another version than `mapguardctl --version`
# and the Version property. (debian/rules refuses to build then, too.) Prints TAP.
# Usage: test-version.sh MESON_VERSION SOURCE_ROOT
set -u

if [ $# -ne 2 ]; then
        echo "usage: $0 MESON_VERSION SOURCE_ROOT" >&2
        exit 2
fi
meson_version=$1
changelog=$2/debian/changelog

echo "1..1"
if [ ! -r "$changelog" ]; then
        echo "ok 1 - debian/changelog agrees with meson.build # SKIP no $changelog"
        exit 0
fi
# The first line of the newest entry: "mapguard (VERSION) DISTRIBUTION; urgency=..."
deb_version=$(sed -n '1s/^[a-z0-9][a-z0-9+.-]* (\([^)]*\)).*/\1/p' "$changelog")
if [ -n "$deb_version" ] && [ "$deb_version" = "$meson_version" ]; then
        echo "ok 1 - debian/changelog agrees with meson.build ($meson_version)"
        exit 0
fi
echo "not ok 1 - debian/changelog agrees with meson.build"
echo "# meson.build:      '$meson_version'"
echo "# debian/changelog: '$deb_version' (first line: $(head -n 1 "$changelog"))"
echo "# Change both: meson.build's project(version : ...) and a new debian/changelog entry."
exit 1
