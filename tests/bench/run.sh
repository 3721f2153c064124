#!/bin/bash
# run.sh: make bench: lbvm against a native run and bubblewrap, printed as a table with ratios.
# usage: tests/bench/run.sh LBVM BENCH_BUILD_DIR [RUNS]
set -u
LBVM=$(realpath "$1")
B=$2
RUNS=${3:-30}
OUT=$B/results.md
mkdir -p "$B"
for p in hello getpid readfile; do
	musl-gcc -static -O2 -o "$B/$p" "tests/bench/progs/$p.c" || exit 1
done
HELLO=$(realpath "$B/hello")
GETPID=$(realpath "$B/getpid")

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "bench: /dev/kvm is not usable here; nothing to measure" >&2
	exit 0
fi

# median_ms NAME CMD...: hyperfine median and min-max in ms, over $RUNS runs after warm-up
median_ms() {
	local name=$1; shift
	local csv=$B/$name.csv
	if ! hyperfine -N --warmup 3 --runs "$RUNS" --export-csv "$csv" --style none "$*" >/dev/null 2>"$B/$name.err"; then
		echo "n/a"
		return
	fi
	awk -F, 'NR==2 { printf "%.3f %.3f %.3f %.3f\n", $4*1000, $7*1000, $8*1000, $3*1000 }' "$csv"
}

echo "lbvm bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
echo "each figure: median of $RUNS runs after 3 warm-up runs (hyperfine), min-max in brackets"
echo

read -r n_med n_min n_max n_sd <<<"$(median_ms native "$HELLO")"
read -r l_med l_min l_max l_sd <<<"$(median_ms lbvm "$LBVM run $HELLO")"
if command -v bwrap >/dev/null; then
	read -r b_med b_min b_max b_sd <<<"$(median_ms bwrap "bwrap --unshare-all --ro-bind / / $HELLO")"
	read -r p_med p_min p_max p_sd <<<"$(median_ms bwrap-plain "bwrap --ro-bind / / $HELLO")"
else
	b_med="n/a" p_med="n/a"
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2fx", a / b; else print "n/a" }'; }

printf '%-28s %10s %22s %12s %12s\n' "static hello, cold start" "median ms" "min-max ms" "vs native" "vs lbvm"
printf '%-28s %10s %22s %12s %12s\n' "native" "$n_med" "$n_min-$n_max" "1.00x" "$(ratio "$n_med" "$l_med")"
printf '%-28s %10s %22s %12s %12s\n' "bwrap --unshare-all" "$b_med" "${b_min:-}-${b_max:-}" "$(ratio "$b_med" "$n_med")" "$(ratio "$b_med" "$l_med")"
printf '%-28s %10s %22s %12s %12s\n' "bwrap (no namespaces)" "$p_med" "${p_min:-}-${p_max:-}" "$(ratio "$p_med" "$n_med")" "$(ratio "$p_med" "$l_med")"
printf '%-28s %10s %22s %12s %12s\n' "lbvm run" "$l_med" "$l_min-$l_max" "$(ratio "$l_med" "$n_med")" "1.00x"
echo "noise: standard deviation native $n_sd ms, bwrap ${b_sd:-n/a} ms, lbvm $l_sd ms"
echo

# Where lbvm's cold start goes: its own --verbose timings, median over the runs.
for i in $(seq 1 "$RUNS"); do
	"$LBVM" run --verbose "$HELLO" 2>&1 >/dev/null | grep -E 'timing:|peak RSS'
done >"$B/phases.txt"
awk '
/timing:/ {
	for (i = 1; i <= NF; i++) {
		if ($i == "creation") c[n] = $(i+1)
		if ($i == "entry") e[n] = $(i+1)
		if ($i == "load") l[n] = $(i+1)
		if ($i == "run") r[n] = $(i+1)
		if ($i == "drain") d[n] = $(i+1)
	}
	n++
}
/peak RSS/ { for (i = 1; i <= NF; i++) if ($i == "RSS") rss[m++] = $(i+1) }
function med(a, k,   i, j, t) {
	for (i = 0; i < k; i++) for (j = i + 1; j < k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int(k / 2)]
}
END {
	printf "where lbvm cold start goes (median ms): VM creation and boot setup %s, first KVM_RUN to kernel C %s, kernel init + ELF load %s, program run %s, output drain at exit %s\n", med(c, n), med(e, n), med(l, n), med(r, n), med(d, n)
	if (m) printf "lbvm peak RSS: %s KiB (median)\n", med(rss, m)
}' "$B/phases.txt"
echo "the rest of the lbvm median is process start (exec) and exit; the VM teardown runs after lbvm has exited, in a reaper process"
echo

nat=$("$GETPID" 2000000)
gst=$("$LBVM" run "$GETPID" 2000000)
echo "getpid(): native $nat ns, lbvm guest $gst ns ($(ratio "$gst" "$nat") native; kvm-pvm floor ~500 ns, target <= 600 ns)"

# --- app images: reading a 256 MiB file from the image, and cold start of busybox.img true ---
TREE=$B/tree
if [ ! -f "$B/bench.img" ]; then
	rm -rf "$TREE"
	images/mktree-busybox.sh "$TREE" >/dev/null && mkdir -p "$TREE/data" &&
		head -c $((256 << 20)) /dev/urandom >"$TREE/data/big" && cp "$B/readfile" "$TREE/bin/readfile" &&
		"$LBVM" pack "$TREE" -o "$B/bench.img" --entry /bin/busybox >/dev/null || { echo "bench: cannot pack the bench image"; exit 0; }
fi
echo
"$TREE/bin/readfile" "$TREE/data/big" >/dev/null   # warm the host page cache
lb_r=$("$LBVM" run --entry /bin/readfile "$B/bench.img" /data/big | sed 's/.*: \([0-9]*\) MB\/s.*/\1/')
for i in 1 2 3 4 5; do
	"$LBVM" run --entry /bin/readfile "$B/bench.img" /data/big | sed 's/.*: \([0-9]*\) MB\/s.*/\1/'
done | sort -n >"$B/read.txt"
lb_r2=$(sed -n 3p "$B/read.txt")
for i in 1 2 3 4 5; do "$TREE/bin/readfile" "$TREE/data/big" | sed 's/.*: \([0-9]*\) MB\/s.*/\1/'; done | sort -n >"$B/read-native.txt"
nat_r=$(sed -n 3p "$B/read-native.txt")
echo "read 256 MiB from the image in the VM (1 MiB reads): $lb_r MB/s on the first run after pack, median of 5 runs after that $lb_r2 MB/s [$(head -1 "$B/read.txt")-$(tail -1 "$B/read.txt")]"
echo "  natively from the page cache: median $nat_r MB/s [$(head -1 "$B/read-native.txt")-$(tail -1 "$B/read-native.txt")]; lbvm is $(ratio "$lb_r2" "$nat_r") native (target 0.9x)"
read -r bn_med bn_min bn_max bn_sd <<<"$(median_ms bb-native "/bin/busybox true")"
read -r bi_med bi_min bi_max bi_sd <<<"$(median_ms bb-image "$LBVM run $B/bench.img true")"
echo "busybox true, cold start: native $bn_med ms, lbvm run busybox.img true $bi_med ms [$bi_min-$bi_max] ($(ratio "$bi_med" "$bn_med") native)"

# --- processes: a fork+exec loop and pipe throughput, in the VM against the same busybox natively ---
loop='for i in $(seq 1000); do /bin/true; done'
read -r fn_med fn_min fn_max fn_sd <<<"$(RUNS=5 median_ms loop-native "/bin/busybox sh -c '$loop'")"
t0=$(date +%s%N); "$LBVM" run "$B/bench.img" sh -c "$loop"; t1=$(date +%s%N)
fl=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
echo "1000 x fork+exec of /bin/true from busybox sh: native $fn_med ms, lbvm $fl ms ($(ratio "$fl" "$fn_med") native; target 1.5x)"
pipe='dd if=/dev/zero bs=64k count=16384 2>/dev/null | cat > /dev/null'
t0=$(date +%s%N); /bin/busybox sh -c "$pipe"; t1=$(date +%s%N)
pn=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", 1024 / ((b - a) / 1e9) }')
t0=$(date +%s%N); "$LBVM" run "$B/bench.img" sh -c "$pipe"; t1=$(date +%s%N)
pl=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", 1024 / ((b - a) / 1e9) }')
echo "pipe, dd bs=64k count=16384 | cat (1 GiB): native $pn MiB/s, lbvm $pl MiB/s ($(ratio "$pl" "$pn") native)"
