#!/bin/sh
# build-deb.sh - build the Debian packages pcp-pmda-llm and pcp-import-guidellm2pcp from this
# repository with Debian's own tools: the files of packaging/install-files installed by
# packaging/install.sh into debian/<package>/ (debhelper's layout), dependencies from
# dpkg-shlibdeps, control files from dpkg-gencontrol, the maintainer scripts of
# packaging/debian/, and dpkg-deb. Same content as the RPMs of packaging/pcp-pmda-llm.spec.
#
# usage: packaging/build-deb.sh [--bin-dir DIR] [--out DIR]
#   --bin-dir DIR   pmdallm, pcp-llm and guidellm2pcp from DIR (default target/release: cargo build --release)
#   --out DIR       where the .deb files go (default target/deb)
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
bindir=$repo/target/release
out=$repo/target/deb
while [ $# -gt 0 ]; do
    case "$1" in
        --bin-dir) bindir=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "usage: $0 [--bin-dir DIR] [--out DIR]" >&2; exit 2 ;;
    esac
done
for tool in dpkg-deb dpkg-shlibdeps dpkg-gencontrol; do
    command -v $tool >/dev/null || { echo "build-deb.sh: no $tool (apt-get install dpkg-dev)" >&2; exit 1; }
done
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n 1)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debian"
cp "$repo/packaging/debian/control" "$work/debian/control"
# dpkg-gencontrol takes the version from debian/changelog.
cat >"$work/debian/changelog" <<END
pcp-pmda-llm ($version-1) unstable; urgency=medium

  * Built from the repository by packaging/build-deb.sh.

 -- pcp-pmda-llm developers <pcp-pmda-llm@example.invalid>  $(date -R)
END
cd "$work"
for pkg in pcp-pmda-llm pcp-import-guidellm2pcp; do
    stage=debian/$pkg
    sh "$repo/packaging/install.sh" --destdir "$stage" --package "$pkg" --bin-dir "$bindir"
    bins=$(find "$stage" -type f -perm -100 -exec sh -c 'head -c 4 "$1" | grep -q ELF' sh {} \; -print)
    for b in $bins; do strip --strip-unneeded "$b"; done
    mkdir -p "$stage/DEBIAN"
    for script in postinst prerm postrm; do
        if [ -f "$repo/packaging/debian/$pkg.$script" ]; then
            install -m 755 "$repo/packaging/debian/$pkg.$script" "$stage/DEBIAN/$script"
        fi
    done
    rm -f debian/substvars
    dpkg-shlibdeps -Tdebian/substvars $(for b in $bins; do printf ' -e%s' "$b"; done)
    dpkg-gencontrol -p"$pkg" -P"$stage" -Tdebian/substvars
    dpkg-deb --root-owner-group -Zgzip --build "$stage" "$out" >/dev/null
done
ls "$out"/pcp-pmda-llm_"$version"-1_*.deb "$out"/pcp-import-guidellm2pcp_"$version"-1_*.deb
