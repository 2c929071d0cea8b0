#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Install the default mapguardd.conf into the config dir only when none is there: the file in /etc
# belongs to the administrator once installed, and `meson install` (whose install_data always
# overwrites) must not clobber their edits on an upgrade. Honours DESTDIR.
# Usage: install-default-config.sh SOURCE CONFDIR
set -eu

if [ $# -ne 2 ]; then
        echo "usage: $0 SOURCE CONFDIR" >&2
        exit 2
fi
src=$1
dest="${DESTDIR:-}$2/mapguardd.conf"

if [ -e "$dest" ] || [ -L "$dest" ]; then
        [ -n "${MESON_INSTALL_QUIET:-}" ] || echo "Keeping existing $dest"
        exit 0
fi
[ -n "${MESON_INSTALL_QUIET:-}" ] || echo "Installing $src to $dest"
install -d -m 0755 "$(dirname "$dest")"
install -m 0644 "$src" "$dest"
