#!/bin/bash
# mounts.sh: make bench, host directories (--mount): 1 GiB sequential read and write, a 1 GiB copy, and
# 10,000 small files read with find | xargs cat, in the VM against the same busybox natively.
# usage: tests/bench/mounts.sh LBVM BENCH_BUILD_DIR [RUNS]   (called by run.sh)
set -u
LBVM=$(realpath "$1")
B=$(realpath "$2")
RUNS=${3:-5}
IMG=$B/bench.img
[ -f "$IMG" ] || IMG=$(dirname "$B")/images/busybox.img
if [ ! -f "$IMG" ]; then
	echo "mounts bench: no busybox image ($B/bench.img or build/images/busybox.img); run make run first"
	exit 0
fi
# A smoke run (RUNS=1, from the test suite) uses 16 MiB and 100 files: it checks the harness, not the figures.
MB=1024 NDIR=100
[ "$RUNS" -le 1 ] && MB=16 NDIR=10
M=$B/mounts-$MB
mkdir -p "$M/src" "$M/out"
[ -f "$M/src/big" ] && [ "$(stat -c %s "$M/src/big")" = $((MB << 20)) ] || head -c $((MB << 20)) /dev/urandom >"$M/src/big"
if [ ! -d "$M/src/small" ]; then
	for d in $(seq 1 $NDIR); do
		mkdir -p "$M/src/small/d$d"
		for f in $(seq 1 $NDIR); do head -c $(((d * f) % 4000 + 100)) /dev/urandom >"$M/src/small/d$d/f$f"; done
	done
fi
cat "$M/src/big" >/dev/null
find "$M/src/small" -type f -exec cat {} + >/dev/null

# secs CMD...: wall seconds of one run
secs() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }'
}
# median_of N CMD...: the median wall seconds of N runs (after one warm-up)
median_of() {
	local n=$1
	shift
	"$@" >/dev/null 2>&1
	for i in $(seq 1 "$n"); do secs "$@"; done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] " " a[1] " " a[NR] }'
}
rate() { awk -v s="$1" -v mb="$MB" 'BEGIN { printf "%.0f", mb / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "n/a" }'; }

echo
echo "host mounts (--mount), median of $RUNS runs after a warm-up, min-max in brackets; the file is in the host page cache"
read -r n_med n_min n_max <<<"$(median_of "$RUNS" /bin/busybox dd if="$M/src/big" of=/dev/null bs=1M)"
read -r l_med l_min l_max <<<"$(median_of "$RUNS" "$LBVM" run --mount "$M/src:/src" "$IMG" dd if=/src/big of=/dev/null bs=1M)"
echo "read $MB MiB (dd bs=1M): native $(rate "$n_med") MiB/s [$(rate "$n_max")-$(rate "$n_min")], lbvm $(rate "$l_med") MiB/s [$(rate "$l_max")-$(rate "$l_min")]: $(ratio "$n_med" "$l_med") native (target 0.7x)"
rx=$("$LBVM" run --verbose --mount "$M/src:/src" "$IMG" dd if=/src/big of=/dev/null bs=1M 2>&1 | sed -n 's/.*exits: \([0-9]*\) .*/\1/p')

wr_native() { rm -f "$M/out/w"; /bin/busybox dd if=/dev/zero of="$M/out/w" bs=1M count=$MB; }
wr_lbvm() { rm -f "$M/out/w"; "$LBVM" run --mount "$M/out:/out:rw" "$IMG" dd if=/dev/zero of=/out/w bs=1M count=$MB; }
read -r wn_med wn_min wn_max <<<"$(median_of "$RUNS" wr_native)"
read -r wl_med wl_min wl_max <<<"$(median_of "$RUNS" wr_lbvm)"
echo "write $MB MiB (dd bs=1M, page cache): native $(rate "$wn_med") MiB/s [$(rate "$wn_max")-$(rate "$wn_min")], lbvm $(rate "$wl_med") MiB/s [$(rate "$wl_max")-$(rate "$wl_min")]: $(ratio "$wn_med" "$wl_med") native (target 0.7x)"
rm -f "$M/out/w"
wx=$("$LBVM" run --verbose --mount "$M/out:/out:rw" "$IMG" dd if=/dev/zero of=/out/w bs=1M count=$MB 2>&1 | sed -n 's/.*exits: \([0-9]*\) .*/\1/p')
rm -f "$M/out/w"
cx=$("$LBVM" run --verbose --mount "$M/src:/src" --mount "$M/out:/out:rw" "$IMG" cp /src/big /out/big 2>&1 | sed -n 's/.*exits: \([0-9]*\) .*/\1/p')
rm -f "$M/out/big"
echo "guest exits for $MB MiB (all of them, VM start included): read $rx, write $wx, busybox cp between mounts $cx"

read -r sn_med sn_min sn_max <<<"$(median_of "$RUNS" /bin/busybox sh -c "find $M/src/small -type f | xargs cat > /dev/null")"
read -r sl_med sl_min sl_max <<<"$(median_of "$RUNS" "$LBVM" run --mount "$M/src:/src" "$IMG" sh -c 'find /src/small -type f | xargs cat > /dev/null')"
echo "$((NDIR * NDIR)) small files, find | xargs cat: native $(awk -v s="$sn_med" 'BEGIN { printf "%.0f", s * 1000 }') ms, lbvm $(awk -v s="$sl_med" 'BEGIN { printf "%.0f", s * 1000 }') ms [$(awk -v a="$sl_min" -v b="$sl_max" 'BEGIN { printf "%.0f-%.0f", a * 1000, b * 1000 }')]: $(ratio "$sl_med" "$sn_med") native time"
