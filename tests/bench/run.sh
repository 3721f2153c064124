#!/bin/bash
# run.sh: make bench: five workloads under native, bubblewrap, crun, gVisor, QEMU microvm and lbvm, then lbvm's own figures.
# usage: tests/bench/run.sh LBVM BENCH_BUILD_DIR [RUNS]
# Environment (all optional):
#   RUNS (10), COLD_RUNS (30; RUNS when RUNS < 10), WARMUP (3): runs per figure and warm-up runs
#   READ_MB (256): size of the file the read workload reads
#   ROUNDS (20000): round trips of the futex ping-pong and the epoll echo
#   PEERS: the sandboxes to run (default all: native bwrap crun runsc qemu lbvm); the others get a cell saying so
#   DOC: a Markdown file whose section between <!-- bench:begin --> and <!-- bench:end --> is rewritten
#   CHART: where to write the cold-start PNG ($B/bench-coldstart.png by default)
#   BWRAP, CRUN, RUNSC, QEMU: the peers' commands; QEMU_TCG=0 skips the TCG note
#   MOUNTS_HOOK=0: do not run tests/bench/mounts.sh at the end (the smoke test's setting)
#   EXITS_HOOK=0: do not run tests/bench/exits.sh at the end (exits per CPU mode; ring0 under QEMU's emulator)
#   DEBIAN_HOOK=0: do not run tests/bench/debian.sh at the end (python3, gcc and git from the Debian image)
# Benchmarks never fail the build: whatever cannot run gets a cell that says why, and this exits 0
# (except for a usage error). The table is in $B/benchmarks.md, the raw rows in $B/matrix.tsv.
set -u
[ $# -ge 2 ] || { echo "usage: tests/bench/run.sh LBVM BENCH_BUILD_DIR [RUNS]" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
LBVM=$(realpath "$1")
mkdir -p "$2" || exit 0
B=$(realpath "$2")
RUNS=${RUNS:-${3:-10}}
if [ "$RUNS" -lt 10 ]; then COLD_RUNS=${COLD_RUNS:-$RUNS}; else COLD_RUNS=${COLD_RUNS:-30}; fi
WARMUP=${WARMUP:-3}
READ_MB=${READ_MB:-256}
ROUNDS=${ROUNDS:-20000}
CELL_TIMEOUT=${CELL_TIMEOUT:-180}
MATRIX=$B/matrix.tsv
T=$B/tree
IMG=$B/bench.img
mkdir -p "$B/cells"

. "$HERE/lib.sh"
. "$HERE/sandboxes.sh"
. "$HERE/qemu.sh"
. "$HERE/report.sh"

WORKLOADS="hello pipe getpid read loop futex epoll"
declare -A WL_LABEL=(
	[hello]="static hello, cold start (ms)"
	[pipe]="busybox sh -c 'echo a | wc -c' (ms)"
	[getpid]="getpid(), 1,000,000 calls (ns/call)"
	[read]="read a $READ_MB MiB file (MB/s)"
	[loop]="1,000 × fork+exec of /bin/true (ms)"
	[futex]="futex ping-pong, 2 threads (ns/round trip)"
	[epoll]="epoll echo over a socketpair, 2 threads (ns/round trip)"
)
declare -A WL_KIND=([hello]=time [pipe]=time [getpid]=figure [read]=figure [loop]=time [futex]=figure [epoll]=figure)
declare -A WL_BETTER=([hello]=lower [pipe]=lower [getpid]=lower [read]=higher [loop]=lower [futex]=lower [epoll]=lower)
declare -A WL_RUNS=([hello]=$COLD_RUNS [pipe]=$COLD_RUNS [getpid]=$RUNS [read]=$RUNS [loop]=$RUNS [futex]=$RUNS [epoll]=$RUNS)
declare -A WL_PATTERN=(
	[getpid]='s/^\([0-9][0-9.]*\)$/\1/p'
	[futex]='s/^\([0-9][0-9.]*\)$/\1/p'
	[epoll]='s/^\([0-9][0-9.]*\)$/\1/p'
	[read]='s/.* bytes in .*: \([0-9][0-9.]*\) MB\/s.*/\1/p'
)
WL_DESC="the static hello (\`tests/bench/progs/hello.c\`, one write and exit);
busybox \`sh -c 'echo a | wc -c'\` (fork, exec, pipe); \`tests/bench/progs/getpid.c\` timing one million
\`getpid()\` calls and printing ns per call; \`tests/bench/progs/readfile.c\` reading a $READ_MB MiB file with 1 MiB
reads from the page cache (for lbvm from the image) and printing MB/s; busybox \`sh -c 'for i in \$(seq 1000);
do /bin/true; done'\`; \`tests/bench/progs/futex.c\`, two threads handing a turn back and forth $ROUNDS times
through one futex word (FUTEX_WAIT and FUTEX_WAKE, private) and printing ns per round trip;
\`tests/bench/progs/epoll.c\`, a thread echoing bytes over an AF_UNIX socketpair to the main thread $ROUNDS times,
both sides waiting in \`epoll_wait\`, printing ns per round trip. The programs are musl static binaries, busybox
is Debian's busybox-static."

# --- the programs and the tree every sandbox runs ---
for p in hello getpid readfile vminit runner busy futex epoll; do
	musl-gcc -static -O2 -Wall -Werror -o "$B/$p.new" "$HERE/progs/$p.c" ||
		{ echo "bench: cannot build tests/bench/progs/$p.c with musl-gcc (apt-get install musl-tools); no figures" >&2; exit 0; }
	cmp -s "$B/$p.new" "$B/$p" && rm "$B/$p.new" || mv "$B/$p.new" "$B/$p"
done
RUNNER=$B/runner

changed=0
if [ ! -x "$T/bin/busybox" ]; then
	rm -rf "$T"
	"$HERE/../../images/mktree-busybox.sh" "$T" >/dev/null ||
		{ echo "bench: cannot build the busybox tree in $T (see the message above); no figures" >&2; exit 0; }
	changed=1
fi
mkdir -p "$T/data"
if [ "$(stat -c %s "$T/data/big" 2>/dev/null)" != $((READ_MB << 20)) ]; then
	head -c $((READ_MB << 20)) /dev/urandom >"$T/data/big" || { echo "bench: cannot write $T/data/big; no figures" >&2; exit 0; }
	changed=1
fi
for p in hello getpid readfile futex epoll; do
	cmp -s "$B/$p" "$T/bin/$p" || { cp "$B/$p" "$T/bin/$p"; changed=1; }
done
packed=0
if [ "$changed" = 1 ] || [ ! -s "$IMG" ]; then
	if "$LBVM" pack "$T" -o "$IMG" --entry /bin/busybox >/dev/null; then
		packed=1
	else
		echo "bench: lbvm pack $T failed (see above); lbvm's image workloads will say so" >&2
		rm -f "$IMG"
	fi
fi

# --- the machine ---
DATE_UTC=$(date -u '+%Y-%m-%d %H:%M UTC')
kvm_kind="none"
if [ -e /sys/module/kvm_pvm ]; then kvm_kind="kvm-pvm (no VT-x/AMD-V)"
elif [ -e /sys/module/kvm_intel ]; then kvm_kind="kvm_intel"
elif [ -e /sys/module/kvm_amd ]; then kvm_kind="kvm_amd"; fi
MACHINE="Debian $(cat /etc/debian_version 2>/dev/null), Linux $(uname -r), $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, /dev/kvm: $kvm_kind"
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
echo "lbvm bench: $DATE_UTC, $MACHINE"
echo "each figure: median of $RUNS runs ($COLD_RUNS for cold starts) after $WARMUP warm-up runs; the table follows when all cells are done"

# --- the matrix: every workload under every sandbox ---
: >"$MATRIX"
for sb in $SANDBOXES; do
	echo "bench: setting up $sb" >&2
	sb_prepare "$sb"
	[ -n "${SB_REASON[$sb]:-}" ] && echo "bench: $sb: ${SB_REASON[$sb]}" >&2
done
[ -s "$IMG" ] || SB_REASON[lbvm]=${SB_REASON[lbvm]:-"the bench image could not be packed"}
for wl in $WORKLOADS; do
	for sb in $SANDBOXES; do
		if [ -n "${SB_REASON[$sb]:-}" ]; then
			record "$wl" "$sb" na - - - - - "${SB_REASON[$sb]}"
			continue
		fi
		echo "bench: $wl under $sb" >&2
		sb_argv "$sb" "$wl"
		cell "$wl" "$sb"
	done
done
if [ -z "${PEERS:-}" ] || [[ " $PEERS " == *" qemu "* ]]; then
	echo "bench: QEMU under TCG (a note)" >&2
	qemu_tcg_note
fi

# --- lbvm's own figures: where its cold start goes, the first image read, busybox true, pipe throughput ---
# measure NAME CMD...: "median min max sd n" of wall ms over COLD_RUNS runs, or nothing on failure
measure() {
	local name=$1
	shift
	"$RUNNER" -n "${MRUNS:-$COLD_RUNS}" -w "$WARMUP" -t "$CELL_TIMEOUT" -- "$@" >"$B/cells/$name.runs" 2>"$B/cells/$name.err" ||
		return
	awk '$3 != 0 { exit 1 }' "$B/cells/$name.runs" || { echo "bench: $name failed; see $B/cells/$name.err" >&2; return; }
	awk '{ print $1 }' "$B/cells/$name.runs" | stats
}
: >"$B/lbvm-notes.md"
if [ -z "${SB_REASON[lbvm]:-}" ]; then
	for i in $(seq 1 "$COLD_RUNS"); do
		"$LBVM" run --verbose "$T/bin/hello" 2>&1 >/dev/null | grep -E 'timing:|peak RSS'
	done >"$B/phases.txt"
	awk '
	BEGIN { n = 0 }
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
	function med(a, k,   i, j, t) {
		for (i = 0; i < k; i++) for (j = i + 1; j < k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int(k / 2)]
	}
	END {
		if (n) printf "- Where lbvm'\''s cold start of the hello goes (median ms of %d runs of `lbvm run --verbose`): VM creation and boot setup %s, first KVM_RUN to the kernel'\''s C code %s, kernel init and ELF load %s, program run %s, output drain at exit %s; the rest is exec of lbvm and its exit (VM teardown runs after the exit, in a reaper process).\n", n, med(c, n), med(e, n), med(l, n), med(r, n), med(d, n)
	}' "$B/phases.txt" >>"$B/lbvm-notes.md"

	# The first read with the image out of the page cache (what the first run after `lbvm pack` sees).
	if [ -s "$IMG" ]; then
		dd if="$IMG" iflag=nocache count=0 status=none 2>/dev/null
		first=$("$LBVM" run --entry /bin/readfile "$IMG" /data/big 2>/dev/null | sed -n 's/.*: \([0-9]*\) MB\/s.*/\1/p')
		echo "- Reading the $READ_MB MiB file with the image just dropped from the host's page cache (as after \`lbvm pack\`): ${first:-failed} MB/s (one run; the table's figure is with the image cached)." >>"$B/lbvm-notes.md"
	fi

	bn=$(measure bb-native "$T/bin/busybox" true)
	bi=$(measure bb-image "$LBVM" run "$IMG" true)
	if [ -n "$bn" ] && [ -n "$bi" ]; then
		read -r bn_med _ <<<"$bn"
		read -r bi_med bi_min bi_max _ <<<"$bi"
		echo "- \`busybox true\` cold start: natively $(fmt "$bn_med") ms, \`lbvm run bench.img true\` $(fmt "$bi_med") ms [$(fmt "$bi_min")–$(fmt "$bi_max")] ($(ratio "$bi_med" "$bn_med") native), median of $COLD_RUNS runs." >>"$B/lbvm-notes.md"
	fi

	pipe='dd if=/dev/zero bs=64k count=16384 2>/dev/null | cat > /dev/null'
	pn=$(MRUNS=$RUNS measure pipe-native env "PATH=$T/bin" "$T/bin/busybox" sh -c "$pipe")
	pl=$(MRUNS=$RUNS measure pipe-lbvm "$LBVM" run "$IMG" sh -c "$pipe")
	if [ -n "$pn" ] && [ -n "$pl" ]; then
		read -r pn_med _ <<<"$pn"
		read -r pl_med _ <<<"$pl"
		pn_r=$(awk -v t="$pn_med" 'BEGIN { printf "%.0f", 1024 / (t / 1000) }')
		pl_r=$(awk -v t="$pl_med" 'BEGIN { printf "%.0f", 1024 / (t / 1000) }')
		echo "- Pipe throughput, busybox \`dd if=/dev/zero bs=64k count=16384 | cat > /dev/null\` (1 GiB, including the sandbox's start): natively $pn_r MiB/s, in lbvm $pl_r MiB/s ($(ratio "$pl_r" "$pn_r") native), median of $RUNS runs." >>"$B/lbvm-notes.md"
	fi
	sed 's/^- /  /' "$B/lbvm-notes.md" >&2
fi
LOAD_END=$(cut -d' ' -f1 /proc/loadavg)

# --- the report ---
CHART=${CHART:-$B/bench-coldstart.png}
link=""
if report_chart "$CHART"; then
	if [ -n "${DOC:-}" ]; then
		link=$(realpath --relative-to="$(dirname "$(realpath "$DOC")")" "$CHART")
	else
		link=$CHART
	fi
else
	echo "bench: no chart: $CHART_ERR" >&2
fi
report_markdown "$B/benchmarks.md" "$link"
report_console
if [ -n "${DOC:-}" ]; then
	if [ -w "$DOC" ]; then
		report_splice "$DOC" "$B/benchmarks.md" && echo "bench: the table is in $DOC${link:+, the chart in $CHART}"
	else
		echo "bench: $DOC is not writable; the table is in $B/benchmarks.md" >&2
	fi
else
	echo "bench: the table is in $B/benchmarks.md"
fi

# Exits per CPU mode: pvm here, ring0 where this host has it or inside QEMU's emulator (it rewrites its own section of DOC).
if [ "${EXITS_HOOK:-1}" = 1 ]; then
	bash "$HERE/exits.sh" "$LBVM" "$B" || echo "bench: tests/bench/exits.sh failed (see above); the rest of the figures stand" >&2
fi

# Issue 12: python3, gcc and git from the Debian image, natively (chroot), under bwrap and in lbvm, with the
# futex and epoll rows above, against the issue's targets (it rewrites its own section of DOC).
if [ "${DEBIAN_HOOK:-1}" = 1 ]; then
	RUNS=$RUNS COLD_RUNS=$COLD_RUNS WARMUP=$WARMUP CELL_TIMEOUT=$CELL_TIMEOUT bash "$HERE/debian.sh" "$LBVM" "$B" ||
		echo "bench: tests/bench/debian.sh failed (see above); the rest of the figures stand" >&2
fi

# Host-mount benchmarks, when that part of the harness is there.
if [ -f "$HERE/mounts.sh" ] && [ "${MOUNTS_HOOK:-1}" = 1 ]; then
	bash "$HERE/mounts.sh" "$LBVM" "$B" || echo "bench: tests/bench/mounts.sh failed (see above); the rest of the figures stand" >&2
fi
exit 0
