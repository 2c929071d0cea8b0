#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian package in a booted systemd: tools/deb builds it from this tree (lintian clean) and once
# more with a higher version; dpkg installs it into a container that has no mapguard yet. Installing
# enables and starts mapguardd, puts the sysctl drop-in in place (the container's /proc/sys is
# read-only: the install must not fail on it), updates the journal catalog and loads the bus policy.
# The upgrade restarts the daemon, keeps a conffile the administrator changed and does not announce a
# warning again. Remove stops the daemon; purge leaves no file of the package's list, nothing in
# /etc/mapguard, /run/mapguard or the textfile export.
# The builds take the machine's cores for about a minute each, so this test builds the packages in
# $MAPGUARD_BUILD_ROOT/test-deb/ (kept for inspection).
source "$(dirname "$0")/lib.sh"

WARNING_ID=aeb43dafad1340dcb3525f43354f9f77
DEST=(org.mapguard1 /org/mapguard1 org.mapguard1.Manager)

if ! why=$(e2e_requirements); then
        tap_skip_all "$why"
fi
if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null || ! command -v lintian >/dev/null ||
        ! (cd "$MAPGUARD_SOURCE_ROOT" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
        tap_skip_all "the packaging tools or the Build-Depends are missing (tools/deb, or tools/test, installs them)"
fi
VERSION=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
        "$MAPGUARD_BUILD_ROOT/meson-info/intro-projectinfo.json") || e2e_bail "cannot read the project version"
NEW_VERSION=$VERSION+test1
DEBS=$MAPGUARD_BUILD_ROOT/test-deb

e2e_boot --no-install
tap_plan 33

# Installing on the host's kernel would change its vm.max_map_count: only where the container cannot.
if e2e_run test -w /proc/sys/vm/max_map_count; then
        tap_skip_all "/proc/sys is writable in the container: installing would change the host's vm.max_map_count"
fi
# The host may be a Docker image whose policy-rc.d forbids starting services; this container is a
# booted machine (the whiteout stays in the overlay's upper layer).
e2e_run rm -f /usr/sbin/policy-rc.d

rm -rf "$DEBS"
tap_ok "tools/deb builds version $VERSION, lintian without errors or warnings" \
        "$MAPGUARD_SOURCE_ROOT/tools/deb" --output "$DEBS/old" || e2e_bail "tools/deb failed"
printf '%s\n' "$TAP_OUTPUT" | grep -E '^(==> (bpf|done)|[EWIPX]: )' | _e2e_diag
tap_ok "tools/deb --version $NEW_VERSION builds the upgrade" \
        "$MAPGUARD_SOURCE_ROOT/tools/deb" --version "$NEW_VERSION" --output "$DEBS/new" --no-lintian ||
        e2e_bail "tools/deb --version failed"
mkdir -p "$E2E_ROOT/var/tmp/debs"
cp "$DEBS"/old/mapguard_*.deb "$DEBS"/new/mapguard_*.deb "$E2E_ROOT/var/tmp/debs/"
OLD_DEB=/var/tmp/debs/$(basename "$DEBS"/old/mapguard_*.deb)
NEW_DEB=/var/tmp/debs/$(basename "$DEBS"/new/mapguard_*.deb)

# The package's paths that the container does not have yet: after the purge none may be left.
NEW_PATHS=$(dpkg-deb --fsys-tarfile "$DEBS"/old/mapguard_*.deb | tar -t | sed 's|^\./|/|; s|/$||' | grep -v '^$' |
        while read -r p; do e2e_run test -e "$p" || echo "$p"; done)

main_pid() {
        e2e_run systemctl show -p MainPID --value mapguardd.service
}
warnings() {
        e2e_run journalctl -u grow.service -o export MESSAGE_ID=$WARNING_ID | grep -c '^MAPGUARD_PID='
}
has_warning() {
        [ "$(warnings)" -ge 1 ]
}

# -- install --
tap_ok "dpkg -i installs $VERSION" e2e_run dpkg -i "$OLD_DEB" </dev/null
tap_is "the package is installed" "$(e2e_run dpkg-query -W -f='${Status} ${Version}' mapguard)" \
        "install ok installed $VERSION"
tap_is "mapguardd is enabled" "$(e2e_run systemctl is-enabled mapguardd.service)" enabled
tap_ok "mapguardd is active" e2e_wait_for "mapguardd active" 30 e2e_run systemctl is-active mapguardd.service
tap_ok "the sysctl drop-in is in place" \
        e2e_run grep -qx 'vm.max_map_count = 1048576' /usr/lib/sysctl.d/10-mapguard.conf
tap_ok "mapguardctl status works" e2e_run mapguardctl status
tap_ok "the bus policy is in effect: uid 65534 reads a property" \
        e2e_run setpriv --reuid=65534 --regid=65534 --clear-groups busctl get-property "${DEST[@]}" Version
tap_ok "the journal catalog was updated (systemd's trigger)" \
        e2e_run sh -c "journalctl --list-catalog | grep -qi $WARNING_ID"
tap_ok "/etc/mapguard/mapguardd.conf is a conffile" \
        e2e_run sh -c "dpkg-query -W -f='\${Conffiles}' mapguard | grep -q '^ /etc/mapguard/mapguardd.conf '"

# -- upgrade --
# The administrator edits the conffile and adds a drop-in that puts a growing unit at warning.
e2e_run sh -c 'echo "# changed by the administrator" >> /etc/mapguard/mapguardd.conf'
e2e_write_file /etc/mapguard/mapguardd.conf.d/50-e2e.conf "[Watch]
Units=
Units=grow*.service
[Thresholds]
WarningPercent=50
CriticalPercent=90
[Scan]
IntervalSec=1"
e2e_run systemctl reload mapguardd.service
# 60 % of the live limit (the host's: /proc/sys is read-only here) is past the warning at 50 %.
GROW=$(( $(e2e_run cat /proc/sys/vm/max_map_count) * 6 / 10 ))
e2e_run systemd-run --unit=grow.service --property=Type=exec /usr/local/bin/vmagrow "$GROW" >/dev/null
tap_ok "a unit at $GROW maps gets its warning" e2e_wait_for "warning entry" 30 has_warning
OLD_PID=$(main_pid)

tap_ok "dpkg -i upgrades to $NEW_VERSION" e2e_run dpkg -i "$NEW_DEB" </dev/null
tap_is "the running daemon is the new version" "$(e2e_run busctl get-property "${DEST[@]}" Version)" \
        "s \"$NEW_VERSION\""
NEW_PID=$(main_pid)
tap_ok "the upgrade restarted mapguardd (MainPID $OLD_PID, now $NEW_PID)" \
        test -n "$NEW_PID" -a "$NEW_PID" != 0 -a "$NEW_PID" != "$OLD_PID"
tap_is "mapguardd is still enabled" "$(e2e_run systemctl is-enabled mapguardd.service)" enabled
tap_ok "the administrator's change to the conffile is kept" \
        e2e_run grep -qx '# changed by the administrator' /etc/mapguard/mapguardd.conf
tap_ok "no .dpkg-new or .dpkg-dist beside it" \
        e2e_run sh -c '! ls /etc/mapguard/mapguardd.conf.dpkg-* 2>/dev/null'
e2e_run busctl call "${DEST[@]}" Rescan
tap_ok "after the restart the unit is at warning again" e2e_run sh -c \
        "busctl call ${DEST[*]} ListUnits | grep -q '\"grow.service\" \"/org/mapguard1/unit/grow_2eservice\" \"warning\"'"
tap_is "and its warning is not announced a second time" "$(warnings)" 1

# -- remove --
FILES=$(e2e_run dpkg -L mapguard)
e2e_run systemctl stop grow.service
tap_ok "dpkg -r removes it" e2e_run dpkg -r mapguard </dev/null
tap_is "mapguardd is stopped" "$(e2e_run systemctl is-active mapguardd.service)" inactive
tap_ok "no mapguardd process is left" e2e_run sh -c '! pgrep -x mapguardd'
tap_is "only the conffiles are left" "$(e2e_run dpkg-query -W -f='${Status}' mapguard)" "deinstall ok config-files"
tap_ok "the conffile stays until the purge" e2e_run test -f /etc/mapguard/mapguardd.conf

# -- purge --
# What the daemon and the administrator leave beside the package's files.
e2e_write_file /var/lib/prometheus/node-exporter/mapguard.prom "mapguard_memory_map_areas_limit 65530"
e2e_write_file /run/mapguard/state "# left over"
e2e_write_file /etc/sysctl.d/90-mapguard-tuned.conf "vm.max_map_count = 2097152"
tap_ok "dpkg -P purges it" e2e_run dpkg -P mapguard </dev/null
tap_ok "dpkg forgot the package" e2e_run sh -c '! dpkg-query -W mapguard 2>/dev/null'
left=
for p in $FILES; do
        # Directories shared with other packages (/usr/share/man/man8, ...) stay; new ones must go.
        if printf '%s\n' "$NEW_PATHS" | grep -qxF "$p" && e2e_run test -e "$p"; then
                left+=" $p"
        fi
done
tap_is "no file or directory of the package's list is left" "${left# }" ""
tap_ok "/etc/mapguard is gone, the administrator's drop-in with it" e2e_run test ! -e /etc/mapguard
tap_ok "/run/mapguard is gone" e2e_run test ! -e /run/mapguard
tap_ok "the textfile export is gone" e2e_run test ! -e /var/lib/prometheus/node-exporter/mapguard.prom
tap_ok "tune --apply's sysctl.d file is gone" e2e_run test ! -e /etc/sysctl.d/90-mapguard-tuned.conf
tap_ok "no enablement symlink or deb-systemd-helper state is left" e2e_run sh -c \
        '! ls -d /etc/systemd/system/*/mapguardd.service /etc/systemd/system/dbus-org.mapguard1.service \
              /var/lib/systemd/deb-systemd-helper-enabled/*mapguardd* \
              /var/lib/systemd/deb-systemd-helper-enabled/*/mapguardd.service 2>/dev/null'

tap_done
