# median.awk - keeps, for every (server, scenario) measured several times,
# the median round: full-speed rounds ordered by deliveries per CPU-second,
# latency rounds by p99. Other lines pass through. Input and output are
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
	key = (mode == "full") ? field($0, "per_cpu") : field($0, "p99_ms")
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
		print line[g, idx[int((n[g] + 1) / 2)]]
	}
}
