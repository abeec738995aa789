#!/bin/sh
# install.sh - install (or list, or uninstall) the files of packaging/install-files in PCP's
# places, as the packages do. Used by scripts/quickstart.sh, deploy/install-pmda, the RPM spec
# and packaging/build-deb.sh, so all of them install the same files.
#
# usage: packaging/install.sh [--destdir DIR] [--package NAME] [--bin-dir DIR] [--from DIR]
#                             [--list | --rpm-files | --uninstall]
#   --destdir DIR   install under DIR (a package's staging root) instead of /
#   --package NAME  only that package's files (pcp-pmda-llm or pcp-import-guidellm2pcp)
#   --bin-dir DIR   take pmdallm and guidellm2pcp from DIR instead of target/release
#   --from DIR      the repository (default: this script's repository)
#   --list          print "package mode destination" lines, install nothing
#   --rpm-files     print an RPM %files list of --package's files
#   --uninstall     remove the files (and then-empty directories) instead
set -eu
prog=install.sh
repo=$(cd "$(dirname "$0")/.." && pwd)
destdir=
package=
bindir=
action=install
while [ $# -gt 0 ]; do
    case "$1" in
        --destdir) destdir=$2; shift 2 ;;
        --package) package=$2; shift 2 ;;
        --bin-dir) bindir=$2; shift 2 ;;
        --from) repo=$2; shift 2 ;;
        --list) action=list; shift ;;
        --rpm-files) action=rpm; shift ;;
        --uninstall) action=uninstall; shift ;;
        *) echo "usage: $0 [--destdir DIR] [--package NAME] [--bin-dir DIR] [--from DIR] [--list|--rpm-files|--uninstall]" >&2; exit 2 ;;
    esac
done
list=$repo/packaging/install-files
[ -f /etc/pcp.env ] || { echo "$prog: PCP is not installed (no /etc/pcp.env)" >&2; exit 1; }
set +u; . /etc/pcp.env; set -u

# Expands the $PCP_* variables of one destination, refusing anything else.
expand() {
    case "$1" in
        *[!A-Za-z0-9_./$+-]*) echo "$prog: $list:$2: bad destination '$1'" >&2; exit 1 ;;
    esac
    for v in $(echo "$1" | grep -o '\$[A-Z_]*'); do
        name=${v#\$}
        case "$name" in PCP_*) ;; *) echo "$prog: $list:$2: only \$PCP_* variables: $v" >&2; exit 1 ;; esac
        eval "val=\${$name:-}"
        [ -n "$val" ] || { echo "$prog: $list:$2: $v is not set by /etc/pcp.env" >&2; exit 1; }
    done
    eval "echo \"$1\""
}

n=0
dirs=
entries=$(mktemp)
trap 'rm -f "$entries"' EXIT
while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    case "$line" in ''|'#'*) continue ;; esac
    set -- $line
    [ $# -eq 4 ] || { echo "$prog: $list:$n: want 4 fields (package mode source destination)" >&2; exit 1; }
    pkg=$1 mode=$2 src=$3
    dest=$(expand "$4" $n)
    [ -z "$package" ] || [ "$package" = "$pkg" ] || continue
    case "$mode" in dir|644|755) ;; *) echo "$prog: $list:$n: mode '$mode' (want dir, 644 or 755)" >&2; exit 1 ;; esac
    if [ -n "$bindir" ]; then
        case "$src" in target/release/*) src=$bindir/${src#target/release/} ;; esac
    fi
    case "$src" in /*|-) ;; *) src=$repo/$src ;; esac
    echo "$pkg $mode $src $dest" >>"$entries"
done <"$list"
[ -s "$entries" ] || { echo "$prog: no files for package '$package' in $list" >&2; exit 1; }

case "$action" in
list)
    while read -r pkg mode src dest; do echo "$pkg $mode $dest"; done <"$entries"
    ;;
rpm)
    while read -r pkg mode src dest; do
        # rpmbuild's brp-compress gzips man pages on some releases: the glob takes either form.
        case "$mode:$dest" in
            dir:*) echo "%dir $dest" ;;
            */man/man[1-9]/*) echo "$dest*" ;;
            *) echo "$dest" ;;
        esac
    done <"$entries"
    ;;
install)
    # Check every source first, so that a missing build installs nothing.
    while read -r pkg mode src dest; do
        [ "$mode" = dir ] || [ -f "$src" ] || {
            case "$src" in
                */pmdallm|*/guidellm2pcp) echo "$prog: $src not found: run cargo build --release --locked first" >&2 ;;
                *) echo "$prog: $src not found" >&2 ;;
            esac
            exit 1
        }
    done <"$entries"
    while read -r pkg mode src dest; do
        if [ "$mode" = dir ]; then
            install -d -m 755 "$destdir$dest"
        else
            install -d -m 755 "$(dirname "$destdir$dest")"
            # Through a new name and a rename, so a running pmdallm's binary is never rewritten.
            install -m "$mode" "$src" "$destdir$dest.new"
            mv -f "$destdir$dest.new" "$destdir$dest"
        fi
    done <"$entries"
    ;;
uninstall)
    while read -r pkg mode src dest; do
        [ "$mode" = dir ] || rm -f "$destdir$dest"
    done <"$entries"
    while read -r pkg mode src dest; do
        [ "$mode" != dir ] || [ ! -d "$destdir$dest" ] || rmdir "$destdir$dest" 2>/dev/null || true
    done <"$entries"
    ;;
esac
