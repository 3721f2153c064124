#!/bin/bash
# smoke.sh: make check's test of the bench harness: one run of each cell, heavy peers left out, then the table's shape.
# usage: tests/bench/smoke.sh LBVM BUILD_DIR
# It checks the harness, not the figures: every workload x sandbox row is there with its columns,
# native and lbvm have numbers, a peer that is not installed says so, and the bench markers of a
# copy of docs/benchmarks.md are rewritten without touching the rest. Nothing goes to docs/.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
LBVM=$1
S=$2
rm -rf "$S"
mkdir -p "$S"
T=$S PFX="bench smoke: "
. "$HERE/../lib.sh"
kvm_note

# The doc copy: the real one's text with its markers, so the splice is tested on what make bench edits.
DOC=$S/benchmarks-copy.md
cp "$HERE/../../docs/benchmarks.md" "$DOC"
outside() { awk '/<!-- bench:begin -->/ { skip = 1 } !skip { print } /<!-- bench:end -->/ { skip = 0 }' "$1"; }
outside "$DOC" >"$S/outside.before"
doc_sum=$(md5sum <"$HERE/../../docs/benchmarks.md")

# crun, runsc and QEMU under names that are not installed: their cells must say so, and the
# smoke run stays quick. bwrap runs if it is installed.
start=$(date +%s%N)
RUNS=1 WARMUP=0 READ_MB=16 ROUNDS=2000 MOUNTS_HOOK=0 EXITS_HOOK=0 DEBIAN_HOOK=0 QEMU_TCG=0 DOC=$DOC CHART=$S/coldstart.png \
	CRUN=lbvm-smoke-no-crun RUNSC=lbvm-smoke-no-runsc QEMU=lbvm-smoke-no-qemu \
	timeout 300 "$HERE/run.sh" "$LBVM_BIN" "$S" >"$S/run.log" 2>&1
st=$?
secs=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
if [ "$st" = 0 ]; then ok "run.sh exits 0 (${secs}s)"; else bad "run.sh exits $st (want 0)" "$(tail -n 20 "$S/run.log")"; fi

MD=$S/benchmarks.md
[ -s "$MD" ] || bad "no table in $MD" "$(tail -n 20 "$S/run.log")"
# Escaped pipes inside cells (the pipe workload's label) would split the columns: hide them first.
cells() { sed 's/\\|/¦/g' "$MD" | grep '^| ' | grep -v -e '^| workload |' -e '^| ---'; }

header='| workload | sandbox | median | min–max | sd | vs native | vs lbvm | peak RSS |'
grep -qxF "$header" "$MD" && ok "the header has the 8 columns" || bad "header missing or changed" "want: $header"

WLS=("static hello, cold start (ms)" "busybox sh -c 'echo a ¦ wc -c' (ms)" "getpid(), 1,000,000 calls (ns/call)"
	"read a 16 MiB file (MB/s)" "1,000 × fork+exec of /bin/true (ms)" "futex ping-pong, 2 threads (ns/round trip)"
	"epoll echo over a socketpair, 2 threads (ns/round trip)")
SBS=("native" "bwrap --unshare-all" "crun (OCI bundle)" "gVisor runsc (OCI bundle)" "QEMU -M microvm + KVM" "lbvm")
n=$(cells | wc -l)
want_rows=$((${#WLS[@]} * ${#SBS[@]}))
[ "$n" = "$want_rows" ] && ok "$n rows: ${#WLS[@]} workloads x ${#SBS[@]} sandboxes" || bad "$n rows in the table (want $want_rows)"
for w in "${WLS[@]}"; do
	for s in "${SBS[@]}"; do
		# lbvm's figures need KVM; without it the row is a skip (the harness's cell says why)
		[ "$s" = lbvm ] && ! vm_check "row '$w' / 'lbvm' has a figure" && continue
		r=$(cells | awk -F' [|] ' -v w="| $w" -v s="$s" '$1 == w && $2 == s')
		if [ "$(printf '%s\n' "$r" | grep -c .)" != 1 ]; then
			bad "row '$w' / '$s' missing or repeated"
			continue
		fi
		cols=$(printf '%s\n' "$r" | awk -F'|' '{ print NF - 2 }')
		med=$(printf '%s\n' "$r" | awk -F' [|] ' '{ print $3 }')
		num=0
		[[ "$med" =~ ^[0-9]+(\.[0-9]+)?$ ]] && num=1
		case $s in
		native) want=num ;;
		lbvm) want=num ;;
		crun | gVisor* | QEMU*) want=notinst ;;
		*) want=any ;;
		esac
		if [ "$cols" != 8 ]; then
			bad "row '$w' / '$s' has $cols columns (want 8)" "$r"
		elif [ "$want" = num ] && [ "$num" != 1 ]; then
			bad "row '$w' / '$s' has no figure" "$r" "$(tail -n 5 "$S/run.log")"
		elif [ "$want" = notinst ] && ! [[ "$med" == "not installed"* ]]; then
			bad "row '$w' / '$s' should say the peer is not installed" "$r"
		elif [ "$num" = 0 ] && [ -z "${med// /}" ]; then
			bad "row '$w' / '$s' has neither a figure nor a reason" "$r"
		else
			pass=$((pass + 1))
		fi
	done
done
echo "# bench smoke: each row's columns and figure or reason checked (a count each)"

# Ratios: native is 1.00x native, lbvm 1.00x lbvm.
name="native is 1.00x native and lbvm 1.00x lbvm"
if vm_check "$name"; then
	cells | awk -F' [|] ' '$2 == "native" && $6 != "1.00x" { bad = 1 } $2 == "lbvm" && $7 != "1.00x" { bad = 1 } END { exit bad }' &&
		ok "$name" || bad "$name" "the ratio columns are off:" "$(cells | grep -e '| native |' -e '| lbvm |')"
fi

# The doc copy: the section replaced, the rest untouched, the markers still there once each.
outside "$DOC" >"$S/outside.after"
if cmp -s "$S/outside.before" "$S/outside.after" && [ "$(grep -c '<!-- bench:begin -->' "$DOC")" = 1 ] &&
	[ "$(grep -c '<!-- bench:end -->' "$DOC")" = 1 ] && grep -qF "$header" "$DOC"; then
	ok "the doc's bench section is rewritten, the rest kept"
else
	bad "splicing into a copy of docs/benchmarks.md went wrong" "$(diff "$S/outside.before" "$S/outside.after" | head -n 10)"
fi
[ "$(md5sum <"$HERE/../../docs/benchmarks.md")" = "$doc_sum" ] && ok "docs/benchmarks.md itself is untouched" ||
	bad "the smoke run changed docs/benchmarks.md; it must write only to $S"

summary "bench smoke"
