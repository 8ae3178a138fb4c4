# Turns bench/run.sh's result lines ("server=S scen=C RESULT mode=M k=v ...")
# into one markdown table: one row per figure, one column per server.
# Variables: status = " qund=ok ngircd=missing ...", idle = "1000 10000 19500".

function fmt_int(x,    s, neg, out) {
	if (x == "") return ""
	x = sprintf("%.0f", x)
	neg = (x < 0); if (neg) x = -x
	s = x ""; out = ""
	while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
	return (neg ? "-" : "") s out
}
function fmt_si(x) {
	if (x == "") return ""
	if (x >= 1e6) return sprintf("%.2f M", x / 1e6)
	if (x >= 1e3) return sprintf("%.0f k", x / 1e3)
	return sprintf("%.0f", x)
}
function has(s, c, m) { return ((s SUBSEP c SUBSEP m) in seen) }
function v(s, c, m, k) { return val[s, c, m, k] }
# cell text for server s, or why there is none
function missing(s, c, m) {
	if (st[s] != "ok") return st[s] == "" ? "skipped" : st[s]
	if (has(s, c, "none")) return "—" # not measured for this server (run.sh says why)
	if (has(s, c, "crash")) return "crashed"
	if (!has(s, c, m)) return "failed"
	return ""
}
function row(label, c, m, what,    i, s, cell, line) {
	line = "| " label " |"
	for (i = 1; i <= ns; i++) {
		s = srv[i]
		cell = missing(s, c, m)
		if (cell == "") cell = render(s, c, m, what)
		line = line " " cell " |"
	}
	print line
}
function render(s, c, m, what,    x, n, j, cm, p2, y) {
	if (what == "kib") {
		x = sprintf("%.2f", v(s, c, m, "bytes_per_client") / 1024)
		if (v(s, c, m, "registered") + 0 < v(s, c, m, "clients") + 0)
			x = x " (" fmt_int(v(s, c, m, "registered")) " held)"
		return x
	}
	if (what == "regs") return fmt_int(v(s, c, m, "reg_per_s"))
	if (what == "rate") {
		if (v(s, c, m, "delivered") + 0 == 0) return "0 (stalled)"
		return fmt_si(v(s, c, m, "rate"))
	}
	if (what == "percpu") return fmt_si(v(s, c, m, "per_cpu"))
	if (what == "lost") return fmt_int(v(s, c, m, "lost")) " / " fmt_int(v(s, c, m, "disconnects"))
	if (what == "lat")
		return sprintf("%.2f / %.2f / %.1f", v(s, c, m, "p50_ms"), v(s, c, m, "p99_ms"), v(s, c, m, "max_ms"))
	if (what == "latlost")
		return fmt_int(v(s, c, m, "lost")) " of " fmt_int(v(s, c, m, "expected"))
	if (what == "cpupct") return sprintf("%.0f %%", v(s, c, m, "cpu_pct"))
	if (what == "other") {
		x = ""
		n = split("big100 full,big1000 full,small full,lat1000 lat,latsmall lat", cm, ",")
		for (j = 1; j <= n; j++) {
			split(cm[j], p2, " ")
			y = val[s, p2[1], p2[2], "core_other_pct"]
			x = x (j > 1 ? " / " : "") (y == "" || y < 0 ? "?" : y)
		}
		return x
	}
	return "?"
}
BEGIN {
	ns = split("qund qund-relaxed qund-off ngircd inspircd hybrid ergo floor", srv, " ")
	n = split(status, parts, " ")
	for (i = 1; i <= n; i++) { split(parts[i], kv, "="); st[kv[1]] = kv[2] }
}
{
	s = ""; c = ""; m = ""
	for (i = 1; i <= NF; i++) {
		eq = index($i, "=")
		if (!eq) continue
		k = substr($i, 1, eq - 1); x = substr($i, eq + 1)
		if (k == "server") s = x
		else if (k == "scen") c = x
		else if (k == "mode") m = x
		else if (s != "" && c != "" && m != "") val[s, c, m, k] = x
	}
	if (s != "" && c != "" && m != "") seen[s, c, m] = 1
}
END {
	print "| figure | qund (strict log) | qund (relaxed log) | qund (log off) | ngircd | InspIRCd | ircd-hybrid | Ergo | bare relay (bench/floor.c) |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	k = split(idle, sizes, " ")
	for (i = 1; i <= k; i++) {
		row("idle " fmt_int(sizes[i]) " clients: server KiB per client", "idle" sizes[i], "idle", "kib")
		row("idle " fmt_int(sizes[i]) " clients: registrations/s", "idle" sizes[i], "idle", "regs")
	}
	row("1 channel × 100, 10 senders: deliveries/s", "big100", "full", "rate")
	row("1 channel × 100, 10 senders: deliveries per CPU-s", "big100", "full", "percpu")
	row("1 channel × 100: lost / disconnected", "big100", "full", "lost")
	row("1 channel × 1,000, 10 senders: deliveries/s", "big1000", "full", "rate")
	row("1 channel × 1,000, 10 senders: deliveries per CPU-s", "big1000", "full", "percpu")
	row("1 channel × 1,000: lost / disconnected", "big1000", "full", "lost")
	row("1,000 channels × 5, 1 sender each: deliveries/s", "small", "full", "rate")
	row("1,000 channels × 5: deliveries per CPU-s", "small", "full", "percpu")
	row("1,000 channels × 5: lost / disconnected", "small", "full", "lost")
	row("latency, 50 k deliveries/s into 1 × 1,000: p50 / p99 / max ms", "lat1000", "lat", "lat")
	row("latency, 1 × 1,000: server CPU", "lat1000", "lat", "cpupct")
	row("latency, 1 × 1,000: lost", "lat1000", "lat", "latlost")
	row("latency, 1,000 msg/s over 1,000 × 5: p50 / p99 / max ms", "latsmall", "lat", "lat")
	row("latency, 1,000 × 5: server CPU", "latsmall", "lat", "cpupct")
	row("latency, 1,000 × 5: lost", "latsmall", "lat", "latlost")
	row("% of the server core taken by other processes (1×100 / 1×1,000 / 1,000×5 / latency 1×1,000 / latency 1,000×5)", "big100", "full", "other")
}
