#!/bin/bash
# Installs the Debian 12 packages govwatch needs to build, run and test, when missing.
# Sourced by demo.sh, test.sh and package.sh; usable alone: scripts/deps.sh [build|test|package]
set -euo pipefail

GOVWATCH_BUILD_PACKAGES=(
        build-essential cmake pkg-config
        libcurl4-openssl-dev libjansson-dev libyaml-dev libsystemd-dev libsqlite3-dev
        libstemmer-dev libutf8proc-dev libpcre2-dev liblinear-dev
        python3 ca-certificates scdoc
)
# scripts/package.sh: dpkg-buildpackage with debhelper, and lintian
GOVWATCH_PACKAGE_PACKAGES=(
        debhelper dpkg-dev fakeroot lintian systemd
)
# clang and libclang-rt-14-dev: the libFuzzer targets of tests/fuzz (scripts/test.sh, fuzz.sh)
GOVWATCH_TEST_PACKAGES=(
        libcmocka-dev clang-format clang libclang-rt-14-dev sqlite3 openssl
        python3-aiosmtpd dbus dunst xvfb xauth python3-dbus python3-gi libnotify-bin
        apprise python3-prometheus-client python3-feedparser python3-rnc2rng python3-lxml
        systemd man-db bash-completion git "${GOVWATCH_PACKAGE_PACKAGES[@]}"
)

govwatch_install_missing() {
        local missing=()
        for p in "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
                        || missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        echo "govwatch: installing Debian packages: ${missing[*]}" >&2
        if [ "$(id -u)" -ne 0 ]; then
                echo "govwatch: run as root (or with sudo) to install them" >&2
                return 1
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        case "${1:-test}" in
        build) govwatch_install_missing "${GOVWATCH_BUILD_PACKAGES[@]}" ;;
        package) govwatch_install_missing "${GOVWATCH_BUILD_PACKAGES[@]}" "${GOVWATCH_PACKAGE_PACKAGES[@]}" ;;
        *) govwatch_install_missing "${GOVWATCH_BUILD_PACKAGES[@]}" "${GOVWATCH_TEST_PACKAGES[@]}" ;;
        esac
fi
