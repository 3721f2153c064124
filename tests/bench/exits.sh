#!/bin/bash
# exits.sh: make bench, exits per CPU mode: for each workload, the exits that reach the VMM (lbvm --verbose)
# and, in ring-0 mode, every exit, KVM's own included (the kvm_exit tracepoint, tests/vm/kvm-exits.sh); then the
# guest's getpid() against a native getpid() in the same place.
# usage: tests/bench/exits.sh LBVM BENCH_BUILD_DIR   (run.sh calls it after the table, with its programs and
#        bench.img in BENCH_BUILD_DIR). pvm is measured here when /dev/kvm is kvm-pvm; ring0 here on a VT-x/AMD-V
#        host, else inside tests/vm/tcg-kvm.sh (QEMU's emulator with kvm_amd: counts mean something there, times
#        do not). DOC: a Markdown file whose section between <!-- exits:begin --> and <!-- exits:end --> is rewritten.
#        The table is also in BENCH_BUILD_DIR/exits.md (raw: exits-pvm.txt, exits-ring0.txt; EXITS_REPORT_ONLY=1
#        rewrites the table from those without measuring again). Never fails: what cannot run says why; exits 0.
# internal: exits.sh --inner LBVM B MODE prints one line a workload; exits.sh --one LBVM B WL OUT ERR runs one.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WLS="hello seq loop read pipe getpid busy1 busy2"
declare -A WL_LABEL=(
	[hello]="static hello"
	[seq]="busybox \`sh -c 'seq 1 10000 \\| wc -l'\`"
	[loop]="1,000 × fork+exec (\`for i in \$(seq 1000); do /bin/true; done\`)"
	[read]="read a 256 MiB file from the image (1 MiB reads)"
	[pipe]="1 GiB through a pipe (\`dd if=/dev/zero bs=64k count=16384 \\| cat > /dev/null\`)"
	[getpid]="1,000,000 getpid() (\`progs/getpid.c\`)"
	[busy1]="one busy process, 2 s (\`progs/busy.c 2 1\`): no tick"
	[busy2]="two busy processes, 2 s (\`progs/busy.c 2 2\`): 10 ms ticks"
)

# one WL: run workload WL once with lbvm --verbose (the image's entry is busybox)
one() {
	local L=$1 B=$2 IMG=$2/bench.img
	case $3 in
	hello) "$L" run --verbose "$B/hello" ;;
	seq) "$L" run --verbose "$IMG" sh -c 'seq 1 10000 | wc -l' ;;
	loop) "$L" run --verbose "$IMG" sh -c 'for i in $(seq 1000); do /bin/true; done' ;;
	read) "$L" run --verbose --entry /bin/readfile "$IMG" /data/big ;;
	pipe) "$L" run --verbose "$IMG" sh -c 'dd if=/dev/zero bs=64k count=16384 2>/dev/null | cat > /dev/null' ;;
	getpid) "$L" run --verbose "$B/getpid" 1000000 ;;
	busy1) "$L" run --verbose "$B/busy" 2 1 ;;
	busy2) "$L" run --verbose "$B/busy" 2 2 ;;
	esac
}

if [ "${1:-}" = --one ]; then
	one "$2" "$3" "$4" >"$5" 2>"$6"
	exit
fi

# --inner LBVM B MODE: "WL STATUS VMM_TOTAL DOORBELL HALT TICK OTHER KVM_TOTAL REASONS" a workload
# (KVM_TOTAL and REASONS "-" without the tracepoint), then "getpid-native NS" and "getpid-lbvm NS".
if [ "${1:-}" = --inner ]; then
	L=$2 B=$3 MODE=$4 T=$(mktemp -d)
	trace=0 TR=/sys/kernel/tracing
	if [ "$MODE" = ring0 ] && [ "$(id -u)" = 0 ]; then
		[ -e $TR/events/kvm/kvm_exit/enable ] || mount -t tracefs nodev $TR 2>/dev/null  # as kvm-exits.sh does
		[ -e $TR/events/kvm/kvm_exit/enable ] && trace=1
	fi
	for wl in $WLS; do
		if [ $trace = 1 ]; then
			"$ROOT/tests/vm/kvm-exits.sh" bash "$HERE/exits.sh" --one "$L" "$B" "$wl" "$T/out" "$T/err" >"$T/kvm" 2>&1
		else
			bash "$HERE/exits.sh" --one "$L" "$B" "$wl" "$T/out" "$T/err"
		fi
		st=$?
		v=$(sed -n 's/^lbvm: exits: \([0-9]*\) (doorbell \([0-9]*\), halt \([0-9]*\), tick or signal \([0-9]*\), other \([0-9]*\)).*/\1 \2 \3 \4 \5/p' "$T/err")
		[ -n "$v" ] || v="- - - - -"
		k="- -"
		if [ $trace = 1 ]; then
			grep -q 'overflowed' "$T/kvm" && st=lost
			k="$(sed -n 's/^exits: \([0-9]*\) .*/\1/p' "$T/kvm") $(awk '$2 == "reason" { printf "%s%s=%s", n++ ? "," : "", $3, $1 }' "$T/kvm")"
		fi
		echo "$wl $st $v $k"
		[ "$wl" = getpid ] && echo "getpid-lbvm $(tail -n 1 "$T/out")"
	done
	echo "getpid-native $("$B/getpid" 1000000)"
	rm -rf "$T"
	exit 0
fi

[ $# -ge 2 ] || { echo "usage: tests/bench/exits.sh LBVM BENCH_BUILD_DIR" >&2; exit 2; }
LBVM=$(realpath "$1")
B=$(realpath "$2")
OUT=$B/exits.md
for f in hello getpid busy bench.img; do
	[ -e "$B/$f" ] || { echo "exits bench: no $B/$f (tests/bench/run.sh makes it); no exit figures" >&2; exit 0; }
done
echo "bench: exits per CPU mode (pvm natively, ring0 in QEMU's emulator where this host has no VT-x/AMD-V)" >&2
here_mode=$("$LBVM" run --verbose "$B/hello" 2>&1 >/dev/null | sed -n 's/^lbvm: CPU mode: \([a-z0-9]*\).*/\1/p')
declare -A RES WHY
[ "${EXITS_REPORT_ONLY:-0}" = 1 ] && here_mode=report-only
case $here_mode in
report-only) ;;
pvm|ring0) bash "$0" --inner "$LBVM" "$B" "$here_mode" >"$B/exits-$here_mode.txt" 2>"$B/exits-$here_mode.err" ;;
*) WHY[pvm]="lbvm does not run here (no /dev/kvm?)" ;;
esac
if [ "$here_mode" = pvm ]; then
	WHY[ring0]=""
	"$ROOT/tests/vm/tcg-kvm.sh" --timeout "${EXITS_TCG_TIMEOUT:-3600}" -- bash "$0" --inner "$LBVM" "$B" ring0 \
		>"$B/exits-ring0.txt" 2>"$B/exits-ring0.err" ||
		WHY[ring0]="tests/vm/tcg-kvm.sh failed (exit $?; see $B/exits-ring0.err)"
elif [ "$here_mode" = ring0 ]; then
	WHY[pvm]="needs a kvm-pvm host"
fi
for m in pvm ring0; do
	[ -s "$B/exits-$m.txt" ] || { WHY[$m]=${WHY[$m]:-"not measured"}; continue; }
	while read -r wl rest; do RES[$m,$wl]=$rest; done <"$B/exits-$m.txt"
done

# vmm M WL: "total (doorbell d, halt h, tick t)" or why not
vmm() {
	local st tot db ha ti ot
	[ -n "${RES[$1,$2]:-}" ] || { echo "${WHY[$1]:-not measured}"; return; }
	read -r st tot db ha ti ot _ <<<"${RES[$1,$2]}"
	[ "$st" = 0 ] || { echo "failed (status $st)"; return; }
	echo "**$tot** (doorbell $db, halt $ha, tick $ti, other $ot)"
}
# kvm M WL: "all (reasons, largest first)" from the tracepoint
kvm() {
	local st tot kt rs
	[ -n "${RES[$1,$2]:-}" ] || { echo "-"; return; }
	read -r st tot _ _ _ _ kt rs <<<"${RES[$1,$2]}"
	[ "$kt" = - ] && { echo "not counted (no kvm_exit tracepoint)"; return; }
	[ "$st" = lost ] && kt="≥ $kt (trace buffer overflowed)"
	echo "$kt: $(echo "$rs" | sed 's/,/, /g; s/=/ /g')"
}
reason() { echo "${RES[$1,$2]:-}" | awk -v r="$3" '{ n = split($8, a, ","); for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (kv[1] == r) v = kv[2] } } END { print v + 0 }'; }

{
	echo "<!-- generated by \`make bench\` (tests/bench/exits.sh); it rewrites everything between the exits markers -->"
	echo
	stamp=$(date -u -r "$B/exits-ring0.txt" '+%Y-%m-%d %H:%M UTC' 2>/dev/null || date -u '+%Y-%m-%d %H:%M UTC')
	echo "Measured $stamp, lbvm $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'). Each workload"
	echo "runs once. *Exits to the VMM* are the returns of \`KVM_RUN\` that lbvm's vCPU loop serves (\`lbvm run"
	echo "--verbose\`: doorbells of the I/O queue, halts waiting for completions, the VMM's preemption ticks, and"
	echo "other: the final exit hypercall). *All KVM exits* (ring0 only) also count what KVM handles itself, by"
	echo "reason, from the \`kvm_exit\` tracepoint (\`tests/vm/kvm-exits.sh\`); kvm-pvm fires no such tracepoint."
	echo "pvm ran natively on this machine (kvm-pvm), ring0 inside \`tests/vm/tcg-kvm.sh\`: Debian's kernel"
	echo "with kvm_amd under QEMU's emulator (AMD-V with nested paging, no AVIC), where counts are real and"
	echo "times are not."
	echo
	echo "| workload | pvm: exits to the VMM | ring0: exits to the VMM | ring0: all KVM exits, by reason |"
	echo "| --- | --- | --- | --- |"
	for wl in $WLS; do
		echo "| ${WL_LABEL[$wl]} | $(vmm pvm "$wl") | $(vmm ring0 "$wl") | $(kvm ring0 "$wl") |"
	done
	echo
	i1=$(reason ring0 busy1 interrupt) i2=$(reason ring0 busy2 interrupt)
	v2=$(echo "${RES[ring0,busy2]:-}" | awk '{ print $2 }')
	if [ -n "${RES[ring0,busy2]:-}" ] && [ -n "${RES[ring0,busy1]:-}" ]; then
		echo "- Ticks in ring0: two busy processes for 2 s (about 200 ticks of 10 ms) took ${v2:-?} exit(s) to the"
		echo "  VMM and $(reason ring0 busy2 msr) \`msr\` exits however many ticks: the local APIC's one-time set-up"
		echo "  (with the \`cpuid\` exits) and the timer's start, no EOI and no re-arm a tick (KVM's PV EOI is a"
		echo "  write to guest memory). What a tick does cost is the host timer interrupt that fires the APIC"
		echo "  timer, one \`interrupt\` exit inside KVM: $i2 against $i1 for one busy process, but most are the"
		echo "  host's own interrupts and vary from run to run, so the difference is a rough count. A tick that"
		echo "  falls due while the guest kernel runs (interrupts off) adds a \`vintr\` exit, KVM waiting for the"
		echo "  interrupt window (the pipe's 64 KiB copies are such a case)."
	fi
	gl=${RES[ring0,getpid-lbvm]:-} gn=${RES[ring0,getpid-native]:-}
	if [ -n "$gl" ] && [ -n "$gn" ]; then
		echo "- getpid() inside the emulator: $gl ns a call in lbvm's ring-0 guest (a \`syscall\` and \`sysretq\`"
		echo "  in the guest, no exit), $gn ns natively in the emulator's Linux (the same program without lbvm);"
		echo "  both are TCG times, good only side by side."
	fi
	gp=${RES[pvm,getpid-lbvm]:-} gpn=${RES[pvm,getpid-native]:-}
	[ -n "$gp" ] && [ -n "$gpn" ] && echo "- getpid() natively on this machine: $gp ns in lbvm's pvm guest, $gpn ns in Linux."
	c=$(reason ring0 loop cpuid)
	[ "$c" -gt 0 ] 2>/dev/null && echo "- \`cpuid\` exits in ring0 ($c in the fork+exec loop) come from the programs: every glibc or musl start-up, and busybox's, asks CPUID, which AMD-V always intercepts (there is no CPUID faulting on AMD); they are most of the ring-0 exits of anything that execs. \`npf\` exits are KVM filling its nested page table the first time the guest touches a 4 KiB page of its RAM or of the image (the 256 MiB read touches 65,536 image pages, one exit each, all inside KVM), and \`interrupt\` exits the host's own interrupts (its timer) while the guest runs. \`msr\` exits in the shell workloads are the tick's timer started when a fork makes two processes runnable, and stopped at the next tick."
} >"$OUT"
cat "$OUT" >&2
if [ -n "${DOC:-}" ]; then
	. "$HERE/report.sh"
	BEGIN_MARK='<!-- exits:begin -->' END_MARK='<!-- exits:end -->' report_splice "$DOC" "$OUT" && echo "bench: the exits table is in $DOC" >&2
fi
exit 0
