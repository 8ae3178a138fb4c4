# Summary of a soak run (bench/soak.sh): input is qbench's RESULT line; the
# per-interval rows are read from the CSV named by -v csv=FILE.  Prints
# markdown.
function med(a, n,    i, j, t, b) { # median of a[1..n] (sorts a copy)
	if (n == 0) return 0
	for (i = 1; i <= n; i++) b[i] = a[i]
	for (i = 2; i <= n; i++) { t = b[i]; for (j = i - 1; j >= 1 && b[j] > t; j--) b[j + 1] = b[j]; b[j + 1] = t }
	return (n % 2) ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
}
function slope(x, y, from, to,    i, n, sx, sy, sxx, sxy) { # least squares, y per unit of x
	n = 0; sx = sy = sxx = sxy = 0
	for (i = from; i <= to; i++) { n++; sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; sxy += x[i] * y[i] }
	if (n < 2 || n * sxx - sx * sx == 0) return 0
	return (n * sxy - sx * sy) / (n * sxx - sx * sx)
}
function fmt(v) { # thousands separators
	v = sprintf("%d", v)
	while (v ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]([,]|$)/, ",&", v)
	gsub(/,,/, ",", v); sub(/,$/, "", v)
	return v
}
{
	for (i = 1; i <= NF; i++) { split($i, kv, "="); R[kv[1]] = kv[2] }
}
END {
	n = 0
	while ((getline line < csv) > 0) {
		if (line ~ /^t_s/) { split(line, H, ","); continue }
		n++
		k = split(line, f, ",")
		for (i = 1; i <= k; i++) C[H[i], n] = f[i]
		t[n] = f[1]; rss[n] = C["rss_kb", n]; p99[n] = C["lat_p99_ms", n]; p50[n] = C["lat_p50_ms", n]
		mx[n] = C["lat_max_ms", n]; snt[n] = C["sent_per_s", n]; dlv[n] = C["delivered_per_s", n]
		cpu[n] = C["cpu_pct", n]; la[n] = C["loadavg1", n]; hp[n] = C["hist_p99_ms", n]
		conn[n] = C["connections", n]; ch[n] = C["churn_cycles", n]
		lag[n] = C["netlog_last_seq", n] - C["netlog_durable_seq", n]
		anon[n] = C["rss_anon_kb", n]; rfile[n] = C["rss_file_kb", n]; lkb[n] = C["netlog_kb", n]
	}
	if (n == 0) { print "No interval rows (the run ended before the first interval)."; exit }
	# the last row may be a short interval (the drain): figures per second
	# come from the full ones
	full = n; if (n > 1 && t[n] - t[n - 1] < 0.9 * interval) full = n - 1
	rmax = 0; for (i = 1; i <= n; i++) if (rss[i] + 0 > rmax) rmax = rss[i] + 0
	mxmax = 0; for (i = 1; i <= n; i++) if (mx[i] + 0 > mxmax) mxmax = mx[i] + 0
	lagmax = 0; for (i = 1; i <= n; i++) if (lag[i] + 0 > lagmax) lagmax = lag[i] + 0
	cmin = cmax = conn[1]; for (i = 1; i <= n; i++) { if (conn[i] + 0 < cmin) cmin = conn[i]; if (conn[i] + 0 > cmax) cmax = conn[i] }
	for (i = 1; i <= full; i++) { P99[i] = p99[i]; P50[i] = p50[i]; S[i] = snt[i]; D[i] = dlv[i]; CP[i] = cpu[i]; L[i] = la[i]; HP[i] = hp[i]; CH[i] = ch[i] / interval }
	# RSS slope: all rows, and the second half (after warm-up)
	for (i = 1; i <= n; i++) { th[i] = t[i] / 3600; rm[i] = rss[i] / 1024 }
	s_all = slope(th, rm, 1, n); s_half = slope(th, rm, int(n / 2) + 1, n)
	lo = 1e18; for (i = 1; i <= full; i++) if (p99[i] + 0 < lo) lo = p99[i] + 0
	hi = 0; for (i = 1; i <= full; i++) if (p99[i] + 0 > hi) hi = p99[i] + 0
	lmin = 1e9; lmax = 0; for (i = 1; i <= full; i++) { if (la[i] + 0 < lmin) lmin = la[i] + 0; if (la[i] + 0 > lmax) lmax = la[i] + 0 }

	printf "Load for %s s (%.1f min), %d rows of %s s. Mix: %s idle clients; %s big groups × %s members (%s of them over WebSocket in all) ", R["secs"], R["secs"] / 60, n, interval, fmt(R["idle"]), substr(R["big"], 1, index(R["big"], "x") - 1), substr(R["big"], index(R["big"], "x") + 1), R["ws"]
	printf "and %s small groups × %s members with steady chat; churn (connect, register, join, chat, CHATHISTORY, quit) and CHATHISTORY requests from members; qunctl status every row and log search every few rows. %s steady clients up after %s s of set-up.\n\n", substr(R["small"], 1, index(R["small"], "x") - 1), substr(R["small"], index(R["small"], "x") + 1), fmt(R["steady"]), R["setup_s"]
	print "| figure | value |"
	print "|---|---:|"
	printf "| messages sent (steady groups) | %s (median %.1f/s) |\n", fmt(R["sent"]), med(S, full)
	printf "| deliveries expected / received / lost | %s / %s / %s (median %.0f/s) |\n", fmt(R["expected"]), fmt(R["delivered"]), fmt(R["lost"]), med(D, full)
	printf "| delivery latency over the run: p50 / p99 / p99.9 / max | %.2f / %.2f / %.2f / %.1f ms |\n", R["p50_ms"], R["p99_ms"], R["p999_ms"], R["max_ms"]
	printf "| p99 per row: min / median / max | %.2f / %.2f / %.2f ms |\n", lo, med(P99, full), hi
	if (C["steal_ms", 1] != "") {
		# what explains a bad row: the host taking the server's core, or
		# qund's loop working long without polling (cumulative in status)
		him = 1; for (i = 1; i <= full; i++) if (p99[i] + 0 > p99[him] + 0) him = i
		stot = 0; smax = 0; for (i = 1; i <= n; i++) { stot += C["steal_ms", i]; if (C["steal_ms", i] + 0 > smax) smax = C["steal_ms", i] + 0 }
		printf "| row with the highest p99 (t = %d s): steal on the server core / loop stalls in it | %s ms / %d |\n", t[him], C["steal_ms", him], C["loop_stalls", him] - (him > 1 ? C["loop_stalls", him - 1] : 0)
		printf "| steal on the server core (taken by the VM host): total / max per row | %s / %s ms |\n", fmt(stot), fmt(smax)
		for (bm = 1; bm < n && C["loop_busy_max_us", bm] + 0 < C["loop_busy_max_us", n] + 0; bm++) ;
		printf "| qund event loop: longest turn (first seen in the row at t) / turns over 100 ms (`qunctl status` loop.*) | %.1f ms (%s) / %s |\n", C["loop_busy_max_us", n] / 1000, (bm == 1 ? "by the first row: set-up included" : "t = " t[bm] " s"), C["loop_stalls", n]
	}
	printf "| p50 per row: median | %.2f ms |\n", med(P50, full)
	printf "| CHATHISTORY requests answered (members + churn) / p99 per row, median | %s / %.2f ms |\n", fmt(R["hist_answered"]), med(HP, full)
	printf "| churn cycles started / completed / failed (median per s) | %s / %s / %s (%.1f) |\n", fmt(R["churn_started"]), fmt(R["churn_ok"]), R["churn_fail"], med(CH, full)
	printf "| connections held (generator): min / max | %s / %s |\n", fmt(cmin), fmt(cmax)
	printf "| steady clients disconnected / registrations failed | %s / %s |\n", R["disconnects"], R["reg_failed"]
	printf "| error numerics / FAIL lines received | %s / %s |\n", R["err_numerics"], R["fail_lines"]
	printf "| qunctl calls ok / failed (log searches ok) | %s / %s (%s) |\n", R["ctl_ok"], R["ctl_fail"], R["searches_ok"]
	printf "| server CPU: total / median per row | %.0f s / %.0f %% of a core |\n", R["cpu_s"], med(CP, full)
	printf "| qund RSS: before clients / after set-up | %s / %s KiB |\n", fmt(R["rss_before_kb"]), fmt(R["rss_setup_kb"])
	printf "| qund RSS: first row / last row / max | %s / %s / %s KiB |\n", fmt(rss[1]), fmt(rss[n]), fmt(rmax)
	printf "| RSS slope, all rows / second half | %+.1f / %+.1f MiB per hour |\n", s_all, s_half
	if (anon[1] != "" && anon[1] >= 0) {
		for (i = 1; i <= n; i++) { am[i] = anon[i] / 1024; lm[i] = lkb[i] / 1024 }
		printf "| of which anonymous (heap, SQLite page caches): first / last row; slope | %s / %s KiB; %+.1f MiB per hour |\n", fmt(anon[1]), fmt(anon[n]), slope(th, am, 1, n)
		printf "| of which file-backed (binary, libraries, the log read through mmap): first / last row | %s / %s KiB |\n", fmt(rfile[1]), fmt(rfile[n])
		printf "| network log on disk (file + WAL): first / last row; slope | %s / %s KiB; %+.1f MiB per hour |\n", fmt(lkb[1]), fmt(lkb[n]), slope(th, lm, 1, n)
	}
	printf "| network log: last seq at the end / largest last−durable gap seen | %s / %s |\n", fmt(C["netlog_last_seq", n]), fmt(lagmax)
	printf "| load average (1 min) per row: min / median / max | %.2f / %.2f / %.2f |\n", lmin, med(L, full), lmax
	printf "| qund alive at the end; exit status after SIGTERM (seconds to stop) | %s; %s (%s s) |\n", alive, qund_rc, stop_s
	printf "| `qunctl verify` after the stop | %s — %s |\n", (verify_rc == 0 ? "passed" : "FAILED (status " verify_rc ")"), verify
	printf "| qund stderr lines flagged (warnings, errors, sanitizer reports) | %s |\n", bad
	print ""
	# a sample of the rows: about a dozen, evenly spaced, always the last
	step = int((n + 11) / 12); if (step < 1) step = 1
	print "| t (s) | sent/s | delivered/s | p50 ms | p99 ms | max ms | conns | RSS KiB | CPU % | log seq | hist p99 ms | load |"
	print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= n; i++) {
		if ((i - 1) % step != 0 && i != n) continue
		if (i == n && full < n) continue # the drain: rates over a fraction of a second
		printf "| %d | %.0f | %.0f | %.2f | %.2f | %.1f | %s | %s | %.0f | %s | %.1f | %.2f |\n", t[i], snt[i], dlv[i], p50[i], p99[i], mx[i], conn[i], fmt(rss[i]), cpu[i], fmt(C["netlog_last_seq", i]), hp[i], la[i]
	}
}
