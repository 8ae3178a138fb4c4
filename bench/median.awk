# median.awk - keeps one round for every (server, scenario) measured
# several times. Full speed: the median round by deliveries per CPU-second.
# Latency: the round in which other processes took the least of the server's
# core (core_other_pct; ties: the lower p99) - outside load, not the server,
# is what makes latency rounds differ, and every server gets the same rule.
# Other lines pass through. Input and output are
# bench/run.sh's raw "server=S scen=X RESULT key=value ..." lines.
function field(line, key,    re, m) {
	re = " " key "=[^ ]*"
	if (match(line, re)) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
	return ""
}
{
	k = $1 " " $2
	mode = field($0, "mode")
	if (mode != "full" && mode != "lat") { print; next }
	key = (mode == "full") ? field($0, "per_cpu") : field($0, "core_other_pct") * 100000 + field($0, "p99_ms")
	g = k " " mode
	n[g]++
	line[g, n[g]] = $0
	val[g, n[g]] = key + 0
	if (!(g in seen)) { seen[g] = 1; order[++ng] = g }
}
END {
	for (i = 1; i <= ng; i++) {
		g = order[i]
		# insertion sort of the rounds by their key
		for (a = 1; a <= n[g]; a++) idx[a] = a
		for (a = 2; a <= n[g]; a++)
			for (b = a; b > 1 && val[g, idx[b]] < val[g, idx[b - 1]]; b--) {
				t = idx[b]; idx[b] = idx[b - 1]; idx[b - 1] = t
			}
		pick = (g ~ / lat$/) ? 1 : int((n[g] + 1) / 2)
		print line[g, idx[pick]]
	}
}
