# lib.sh: the bench harness's helpers: run one cell (a workload under a sandbox) and keep its figures.
# Sourced by run.sh, which sets B, RUNNER, MATRIX and the WL_* tables before calling these.

# stats: numbers on stdin -> "median min max sd n" (sd: sample standard deviation)
stats() {
	sort -g | awk '
	{ v[n++] = $1; s += $1; q += $1 * $1 }
	END {
		if (n == 0) exit 1
		med = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
		var = n > 1 ? (q - s * s / n) / (n - 1) : 0
		if (var < 0) var = 0
		printf "%s %s %s %s %d\n", med, v[0], v[n - 1], sqrt(var), n
	}'
}

# oneline TEXT: one line fit for a table cell (no pipes, no newlines, at most 300 chars)
oneline() {
	printf '%s' "$1" | tr '\n\t\r' '   ' | sed -e 's/|/\//g' -e 's/  */ /g' -e 's/^ //' -e 's/ $//' | cut -c1-300
}

# record WL SB STATUS MEDIAN MIN MAX SD RSS NOTE: one row of the matrix (STATUS ok or na)
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$(oneline "$9")" >>"$MATRIX"
}

# why_failed ERRFILE STATUS: the reason a run failed, from the last lines the command printed on stderr
why_failed() {
	local last
	last=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 2 | tr '\n' ' ')
	case $2 in
	timeout) echo "timed out after ${CELL_TIMEOUT}s${last:+: $last}" ;;
	*) echo "exit status $2${last:+: $last}" ;;
	esac
}

# cell WL SB: run workload WL under sandbox SB with the command in ARGV (after PREFIX, outside the
# timing), and record its figure: wall ms for timed workloads, or what the program prints.
# EXPECT is the exit status of a good run (QEMU's debug-exit turns 0 into 1).
cell() {
	local wl=$1 sb=$2 expect=${EXPECT:-0}
	local base=$B/cells/$wl-$sb
	local runs=${WL_RUNS[$wl]}
	rm -f "$base".runs "$base".out "$base".err
	"${PREFIX[@]}" "$RUNNER" -n "$runs" -w "$WARMUP" -t "$CELL_TIMEOUT" -x "$expect" -o "$base.out" -- \
		"${ARGV[@]}" >"$base.runs" 2>"$base.err"
	local rc=$? bad
	bad=$(awk -v x="$expect" '$3 != x { print $3; exit }' "$base.runs")
	if [ -n "$bad" ] || [ "$rc" != 0 ] || [ "$(wc -l <"$base.runs")" -lt "$runs" ]; then
		[ -n "$bad" ] || bad="$rc (runner)"
		record "$wl" "$sb" na - - - - - "$(why_failed "$base.err" "$bad")"
		echo "bench: $wl under $sb failed; its output is in $base.err" >&2
		return
	fi
	local fig rss
	if [ "${WL_KIND[$wl]}" = time ]; then
		fig=$(awk '{ print $1 }' "$base.runs" | stats)
	else
		# the program prints one figure a run (warm-ups too); keep the measured runs' figures
		fig=$(tr -d '\r' <"$base.out" | sed -n "${WL_PATTERN[$wl]}" | tail -n "$runs" | stats)
		if [ "$(echo "$fig" | awk '{ print $5 }')" != "$runs" ]; then
			record "$wl" "$sb" na - - - - - "the program's figure is missing from its output (see $base.out)"
			return
		fi
	fi
	rss=$(awk '{ print $2 }' "$base.runs" | stats | awk '{ print $1 }')
	local med min max sd n
	read -r med min max sd n <<<"$fig"
	record "$wl" "$sb" ok "$med" "$min" "$max" "$sd" "$rss" ""
}

# fmt NUMBER: a figure with about three significant digits
fmt() {
	awk -v v="$1" 'BEGIN {
		if (v == "" || v == "-") { print "-"; exit }
		a = v < 0 ? -v : v
		if (a >= 100) printf "%.0f\n", v; else if (a >= 10) printf "%.1f\n", v; else if (a >= 1) printf "%.2f\n", v; else printf "%.3f\n", v
	}'
}
