#!/bin/bash
# The Debian package of govwatch, from this checkout, in one command (as root it installs the
# build dependencies it lacks first):
#
#   scripts/package.sh [-o DIR] [--source]
#
# Builds with dpkg-buildpackage (debhelper, dh + cmake) in a temporary copy of the tracked and
# new files, so that neither the tree nor its parent directory gets build output; checks the
# result with lintian (any error fails); leaves the .deb, .changes and .buildinfo (and with
# --source the source package) in DIR, build-deb/ by default. Install with
#   apt install ./build-deb/govwatch_VERSION_ARCH.deb
# The test suite is not run in the package build (DEB_BUILD_OPTIONS=nocheck): it runs from
# scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
out=$src/build-deb
build_source=0

while [ $# -gt 0 ]; do
        case $1 in
        -o | --output)
                out=$(realpath -m "$2")
                shift 2
                ;;
        --source)
                build_source=1
                shift
                ;;
        -h | --help)
                sed -n '2,14s/^# \{0,1\}//p' "$0"
                exit 0
                ;;
        *)
                echo "package.sh: unknown argument '$1'; see --help" >&2
                exit 2
                ;;
        esac
done

. scripts/deps.sh
govwatch_install_missing "${GOVWATCH_BUILD_PACKAGES[@]}" "${GOVWATCH_PACKAGE_PACKAGES[@]}"

version=$(dpkg-parsechangelog -S Version)
work=$(mktemp -d "${TMPDIR:-/tmp}/govwatch-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/govwatch-$version
mkdir "$tree"

# The files git knows and the new ones it does not ignore (a build tree never comes along); from
# a tarball without .git, everything but build directories.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$src" ls-files -z --cached --others --exclude-standard |
                while IFS= read -r -d '' f; do
                        [ -e "$f" ] && printf '%s\0' "$f"
                done | tar --null -T - -cf - | tar -xf - -C "$tree"
else
        tar --exclude='./build*' --exclude='./obj-*' -cf - . | tar -xf - -C "$tree"
fi

mode=-b
[ "$build_source" = 1 ] && mode=
echo "govwatch: building the package $version in $tree" >&2
(
        cd "$tree"
        DEB_BUILD_OPTIONS="nocheck parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
                dpkg-buildpackage -us -uc $mode
)

changes=$(ls "$work"/govwatch_"$version"_*.changes)
echo "govwatch: lintian $(basename "$changes")" >&2
if ! lintian --fail-on error --display-info "$changes"; then
        echo "govwatch: lintian found errors in the package" >&2
        exit 1
fi

mkdir -p "$out"
find "$work" -maxdepth 1 -type f -exec cp -t "$out" {} +
(cd "$work" && find . -maxdepth 1 -type f -printf "$out/%f\n") >&2
echo "govwatch: install with: apt install $out/$(basename "$(ls "$work"/govwatch_"$version"_*.deb)")" >&2
