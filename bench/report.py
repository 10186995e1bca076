#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/report.py RESULTS.jsonl OUTDIR

Turns the raw measurements of bench/run (one JSON object per line) into
OUTDIR/results.json (everything, grouped) and OUTDIR/results.md (tables),
and prints the summary table. Ratios are computed per repetition (the
contestants of one repetition ran side by side) and reported as the median
and the range over the repetitions. Goals are reported as met or missed;
nothing here fails on slowness."""

import json
import statistics
import sys


def load(path):
    recs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    recs.append(json.loads(line))
                except ValueError as e:
                    recs.append({"kind": "unparsed", "line": line, "error": str(e)})
    return recs


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    xs = [x for x in xs if x is not None]
    return (min(xs), max(xs)) if xs else (None, None)


def fmt(x, nd=0):
    if x is None:
        return "–"
    if isinstance(x, float) and nd == 0 and abs(x) < 10:
        nd = 2
    return f"{x:,.{nd}f}"


def ratio_cell(xs, nd=2):
    m = med(xs)
    lo, hi = spread(xs)
    if m is None:
        return "–"
    if len([x for x in xs if x is not None]) == 1:
        return f"{m:.{nd}f}"
    return f"{m:.{nd}f} ({lo:.{nd}f}–{hi:.{nd}f})"


def goal_cell(value, goal, le=True):
    if value is None or goal is None:
        return "–"
    ok = value <= goal if le else value >= goal
    return "met" if ok else "missed"


def table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def main():
    recs = load(sys.argv[1])
    outdir = sys.argv[2]
    by = {}
    for r in recs:
        by.setdefault(r.get("kind", "?"), []).append(r)
    machine = (by.get("machine") or [{}])[0]
    res = {"machine": machine, "raw": recs}
    md = []
    summary = []
    bringup_rows = []

    md.append("# sriovd benchmark results\n")
    md.append(f"- machine: {machine.get('nproc')} CPUs, {machine.get('cpu')}, {machine.get('mem_kib', 0) // 1024} MiB, "
              f"Linux {machine.get('kernel')}, {machine.get('os')}")
    md.append(f"- date: {machine.get('date')}; load average at start {machine.get('loadavg_start')}, "
              f"at end {next((w.get('loadavg_end') for w in by.get('wall', []) if w.get('workload') == 'total'), '?')}")
    md.append(f"- {machine.get('sriovd')} ({machine.get('git')}){'; BUILT WITH SANITIZERS' if machine.get('sanitizers') else ''}; "
              f"driverctl {machine.get('driverctl') or '–'}, dpdk {machine.get('dpdk') or '–'}, pciutils {machine.get('pciutils') or '–'}")
    md.append(f"- repetitions: {machine.get('reps')}{' (quick run)' if machine.get('quick') else ''}; "
              f"latency model (ms): `{machine.get('latency_model')}`")
    md.append("")

    # ---- calibration ----
    cal = by.get("calib", [])
    if cal:
        md.append("## What one access costs here\n")
        rows = []
        for c in cal:
            r = c.get("result", {})
            rows.append([c.get("where"), f"`{r.get('file', '?')}`", fmt(r.get("stat_us"), 1), fmt(r.get("read_us"), 1),
                         fmt(r.get("spawn_ms"), 2)])
        md.append(table(["where", "file", "stat() µs", "open+read+close µs", "fork+exec+wait ms"], rows))
        md.append("\nOn the simulator the kernel caches the names of the tree and the attributes of its directories "
                  "and links (tests/sim/README.md, \"FUSE details\"): whatever the path, a stat() is one FUSE round "
                  "trip (the file's attributes) and an open+read+close four (attributes, OPEN, READ, RELEASE). The unit cost "
                  "of anything that reads sysfs is still that much higher than on a kernel. The accounting table "
                  "below says how many accesses each contestant makes.\n")
        res["calibration"] = cal

    # ---- bring-up ----
    br = [r for r in by.get("bringup", []) if "rep" in r]
    if br or by.get("bringup"):
        limit = (by.get("bringup_limit") or [{}])[0]
        lim = limit.get("computed_ms")
        reps = sorted({r["rep"] for r in br})
        contestants = []
        for r in by.get("bringup", []):
            if r["contestant"] not in contestants:
                contestants.append(r["contestant"])
        per = {c: {r["rep"]: r for r in br if r["contestant"] == c} for c in contestants}

        def t(c, rep):
            r = per.get(c, {}).get(rep)
            return r["ms"] if r and r.get("ok") and r.get("ms") is not None else None

        md.append(f"## 1. Bring-up: {limit.get('pfs')} PFs × {limit.get('vfs_per_pf')} VFs to vfio-pci\n")
        rows = []
        for c in contestants:
            skipped = next((r.get("skipped") for r in by.get("bringup", []) if r["contestant"] == c and "skipped" in r), None)
            if skipped:
                rows.append([c, "skipped", "", "", skipped])
                continue
            times = [t(c, rep) for rep in reps]
            oks = sum(1 for rep in reps if per[c].get(rep, {}).get("ok"))
            bad = [per[c][rep].get("detail") for rep in reps if rep in per[c] and not per[c][rep].get("ok")]
            lo, hi = spread(times)
            rows.append([c, fmt(med(times)), f"{fmt(lo)}–{fmt(hi)}", f"{oks}/{len(reps)}", "; ".join(bad[:1])])
        rows.append(["computed limit", fmt(lim), "", "", limit.get("formula", "")])
        bringup_rows = rows
        md.append(table(["contestant", "median ms", "range ms", "correct", "note"], rows))
        md.append("")
        ratios = []

        def rr(a, b=None, const=None):
            out = []
            for rep in reps:
                x = t(a, rep)
                y = const if const is not None else t(b, rep)
                out.append(x / y if x is not None and y else None)
            return out

        spec = [("sriovd / driverctl", rr("sriovd", "driverctl"), 0.15),
                ("sriovd / dpdk-devbind.py", rr("sriovd", "dpdk"), 0.1),
                ("sriovd / computed limit", rr("sriovd", const=lim), 1.3),
                ("sriovd / shell loop, one per PF (measured limit)", rr("sriovd", "shell-par"), 1.0),
                ("sriovd / shell loop, serial", rr("sriovd", "shell"), None),
                ("shell loop one per PF / computed limit", rr("shell-par", const=lim), None)]
        rows = []
        for name, xs, goal in spec:
            rows.append([name, ratio_cell(xs), f"≤ {goal}" if goal else "", goal_cell(med(xs), goal) if goal else ""])
            ratios.append({"ratio": name, "per_rep": xs, "median": med(xs), "goal": goal})
        md.append(table(["ratio (per repetition)", "median (min–max)", "goal", ""], rows))
        md.append("")
        dr = by.get("bringup_daemon")
        if dr:
            md.append(f"sriovd re-read device families {dr[0].get('rereads_last_rep')} times during its last bring-up "
                      "(uevents of the VFs it created, coalesced).\n")
        res["bringup"] = {"limit": limit, "runs": br, "ratios": ratios}
        summary += [[f"bring-up {name}", ratio_cell(xs), f"≤ {goal}", goal_cell(med(xs), goal)]
                    for name, xs, goal in spec if goal]

    acc = [a for a in by.get("account", []) if "contestant" in a]
    if acc:
        md.append(f"### What each contestant does (strace, {acc[0]['vfs']} VFs of one PF, untimed)\n")
        rows = [[a["contestant"], a["sysfs_path_syscalls"], fmt(a["sysfs_path_syscalls"] / a["vfs"], 1),
                 a.get("fd_relative", "–"), a["execs"], fmt(a["execs"] / a["vfs"], 1)] for a in acc]
        md.append(table(["contestant", "sysfs path syscalls", "per VF", "of them via an open device directory",
                         "programs run", "per VF"], rows))
        md.append("\nA path syscall is an open/stat/readlink/access/opendir of a name under /sys, or under "
                  "/proc/self/fd/N/ (sriovd's device scopes: a name relative to an open device directory, one "
                  "path component instead of six to twelve). dpdk-devbind.py's count grows with every PCI "
                  "function of the host (it runs `lspci -Dvmmnnk` and reads every device).\n")
        res["account"] = acc

    # ---- listing ----
    ls = by.get("listing", [])
    if ls:
        md.append("## 2. Listing 2048 VFs\n")
        rows = []
        for r in ls:
            rows.append([r["rep"], fmt(r["lspci_ms"]), fmt(r["list_json_ms"]), fmt(r["list_all_json_ms"]),
                         f"{r['list_json_ms'] / r['lspci_ms']:.3f}" if r.get("lspci_ms") else "–"])
        md.append(table(["rep", "lspci -D ms", "sriovctl list --json ms", "… --kind all ms", "list / lspci"], rows))
        lj = med([r["list_json_ms"] for r in ls])
        la = med([r["list_all_json_ms"] for r in ls])
        ratio = [r["list_json_ms"] / r["lspci_ms"] for r in ls if r.get("lspci_ms")]
        calls = {c.get("method", "ListDevices"): c.get("result", {}) for c in by.get("listing_call", [])}
        call = calls.get("DescribeDevices") or calls.get("ListDevices") or {}
        size = (by.get("listing_size") or [{}])[0]
        md.append("")
        md.append("The D-Bus calls alone (sriovd-bench, no process start-up), p50: " +
                  ", ".join(f"{m}(\"sriov\") {fmt(c.get('lat_us', {}).get('p50', 0) / 1000, 1)} ms"
                            for m, c in calls.items()) +
                  f" (list --json makes DescribeDevices, the text table ListDevices); the JSON is "
                  f"{size.get('json_bytes')} bytes, lspci prints {size.get('lspci_lines')} lines.\n")
        res["listing"] = {"runs": ls, "call": call, "calls": calls, "size": size}
        summary.append(["sriovctl list --json (ms)", fmt(lj), "≤ 50", goal_cell(lj, 50)])
        summary.append(["sriovctl list --json --kind all (ms)", fmt(la), "≤ 50", goal_cell(la, 50)])
        summary.append(["sriovctl list --json / lspci -D", ratio_cell(ratio, 3), "≤ 1", goal_cell(med(ratio), 1)])

    st = by.get("startup", [])
    if st:
        md.append("### Start-up (sriovd started to READY=1, State=running)\n")
        md.append(table(["VFs", "PCI functions", "ms"], [[s["vfs"], s["functions"], fmt(s["ms"])] for s in st]))
        md.append("")
        res["startup"] = st
        s2048 = med([s["ms"] for s in st if s["vfs"] == 2048])
        if s2048 is not None:
            summary.append(["start-up with 2048 VFs (ms)", fmt(s2048), "", ""])

    fa = by.get("fairness", [])
    if fa:
        md.append("## 6. Fairness: root's latency under unprivileged floods (8 clients as nobody, 2048 VFs)\n")
        rows = []
        idle = {}
        for f in fa:
            g, b = f.get("get", {}).get("lat_us", {}), f.get("bind", {}).get("lat_us", {})
            if f["flood"] == "idle":
                idle = {"get": g.get("p99"), "bind": b.get("p99")}
            rows.append([f["flood"], fmt(g.get("p50")), fmt(g.get("p99")), fmt(g.get("max")),
                         fmt(b.get("p50")), fmt(b.get("p99")), fmt(b.get("max"))])
        md.append(table(["flood", "GetDevice p50 µs", "p99 µs", "max µs", "Bind+Restore p50 µs", "p99 µs", "max µs"], rows))
        md.append("")
        for f in by.get("fairness_flood", []):
            md.append(f"- {f['flood']}: {f['result']}; sriovd RSS after it {f['rss_kib']} KiB")
        md.append("")
        res["fairness"] = {"runs": fa, "floods": by.get("fairness_flood", [])}
        for f in fa:
            if f["flood"] == "idle" or not idle.get("get") or not idle.get("bind"):
                continue
            g, b = f.get("get", {}).get("lat_us", {}), f.get("bind", {}).get("lat_us", {})
            for what, lat, base in (("GetDevice", g, idle["get"]), ("Bind+Restore", b, idle["bind"])):
                if lat.get("p99") is None:
                    continue
                ratio = lat["p99"] / base if base else None
                summary.append([f"root {what} p99 under the {f['flood']} flood / idle", ratio_cell([ratio], 2) if ratio else "",
                                "≤ 3", goal_cell(ratio, 3) if ratio else ""])
                summary.append([f"root {what} slowest under the {f['flood']} flood (ms)", fmt(lat.get("max", 0) / 1000, 1),
                                "≤ 1000", goal_cell(lat.get("max", 0) / 1000, 1000)])
    sk = by.get("soak_sample", [])
    if sk:
        md.append("## 6b. Soak: every flood at once while root assigns and releases\n")
        md.append(table(["t (s)", "RSS KiB", "fds"], [[s["t"], s["rss_kib"], s["fds"]] for s in sk]))
        md.append("")
        for a in by.get("soak_assign", []):
            md.append(f"- root's Assign+Release cycles during the soak: {a['result']}")
        md.append("")
        res["soak"] = {"samples": sk, "assign": by.get("soak_assign", [])}

    rb = by.get("startup_reboot", [])
    if rb:
        md.append("### Start-up after a reboot (2048 VFs made again, assignments set up again, to READY=1)\n")
        md.append(table(["VFs made by", "assignments", "ready at READY=1", "ms"],
                        [[r["vfs_by"], r["assignments"], r["ready"], fmt(r["ms"])] for r in rb]))
        md.append("")
        res["startup_reboot"] = rb
        for how in ("configuration", "records"):
            m = med([r["ms"] for r in rb if r["vfs_by"] == how])
            if m is not None:
                summary.append([f"start-up after a reboot, VFs by the {how}, "
                                f"{rb[0]['assignments']} assignments (ms)", fmt(m), "", ""])

    # ---- daemon cost ----
    if by.get("rss") or by.get("idle") or by.get("storm"):
        md.append("## 3. Daemon cost with 2048 VFs\n")
        rows = [[r["when"], fmt(r["kib"]), fmt(r["kib"] / 1024, 2), goal_cell(r["kib"] / 1024, 8)] for r in by.get("rss", [])]
        md.append(table(["RSS when", "KiB", "MiB", "≤ 8 MiB"], rows))
        md.append("")
        for i in by.get("idle", []):
            rate = i["switches"] / i["seconds"]
            md.append(f"- idle: {i['switches']} context switches of its {i['threads']} thread(s) in {i['seconds']} s "
                      f"= {rate:.2f} wake-ups/s (goal 0: {goal_cell(rate, 0)}), {i['cpu_ms']} ms CPU")
            summary.append(["idle wake-ups/s with 2048 VFs", f"{rate:.2f}", "0", goal_cell(rate, 0)])
        for s in by.get("storm", []):
            md.append(f"- uevent storm: {s['vfs']} VFs created behind its back ({s['uevents']} uevents, "
                      f"{fmt(s['kernel_ms'])} ms of kernel work): sriovd saw them all after {fmt(s['absorbed_ms'])} ms"
                      f"{'' if s['complete'] else ' (NOT all seen)'}, using {s['cpu_ms']} ms CPU, {s['rereads']} re-reads")
            summary.append(["uevent storm: CPU ms / re-reads", f"{s['cpu_ms']} / {s['rereads']}", "", ""])
        rss_max = max((r["kib"] for r in by.get("rss", [])), default=None)
        if rss_max is not None:
            summary.append(["RSS, largest seen (MiB)", f"{rss_max / 1024:.2f}", "≤ 8", goal_cell(rss_max / 1024, 8)])
        md.append("")
        res["daemon"] = {"rss": by.get("rss", []), "idle": by.get("idle", []), "storm": by.get("storm", [])}

    # ---- D-Bus ----
    dr = by.get("dbus_read", [])
    asg = by.get("assign", [])
    if dr or asg:
        md.append("## 4. D-Bus\n")
        rows = []
        for d in dr:
            r = d.get("result", {})
            lat = r.get("lat_us", {})
            rows.append([d["method"], d["clients"], fmt(r.get("rate"), 1), fmt(lat.get("p50")), fmt(lat.get("p99")),
                         r.get("errors", r.get("error", ""))])
        if rows:
            md.append(table(["call (2048 VFs)", "clients", "calls/s", "p50 µs", "p99 µs", "errors"], rows))
            md.append("")
        rows = []
        for a in asg:
            r = a.get("result", {})
            lat = r.get("lat_us", {})
            # a cycle's kernel writes are serial; clients on different VFs
            # run at once, as many as the lane's workers (4)
            ceiling = min(a["clients"], 4) * 1000.0 / a["kernel_ms_per_cycle"] if a.get("kernel_ms_per_cycle") else None
            ratio = r.get("rate") / ceiling if ceiling and r.get("rate") is not None else None
            model = a["latency"] == "model"
            rows.append([a["latency"], a["clients"], fmt(r.get("rate"), 1), fmt(lat.get("p50", 0) / 1000, 1),
                         fmt(lat.get("p99", 0) / 1000, 1), a["kernel_ms_per_cycle"],
                         fmt(ceiling, 1) if ceiling else "–", fmt(ratio, 2) if ratio is not None else "–",
                         "≥ 0.5" if model else "", goal_cell(ratio, 0.5, le=False) if model and ratio is not None else "",
                         r.get("errors", r.get("error", ""))])
            if model and ratio is not None:
                summary.append([f"Assign+Release, {a['clients']} client(s) / cycle limit ({fmt(ceiling, 1)}/s)",
                                f"{fmt(ratio, 2)} ({fmt(r.get('rate'), 1)}/s)", "≥ 0.5", goal_cell(ratio, 0.5, le=False)])
        if rows:
            md.append(table(["latency", "clients", "cycles/s", "p50 ms", "p99 ms", "kernel ms/cycle",
                             "cycle limit /s", "/ limit", "goal", "", "errors"], rows))
            md.append("\nThe cycle limit: a cycle's kernel work (unbind + probe, twice) one write after another; "
                      "clients on different VFs of the pool at once, up to the PF lane's 4 workers.\n")
        for sc in by.get("assign_syscalls", []):
            per = sc["syscalls"] / sc["cycles"] if sc.get("cycles") else None
            md.append(f"- syscalls per Assign+Release cycle (strace -f -c on the daemon, 1 client, latency model): "
                      f"{fmt(per)} ({sc['syscalls']} in {sc['cycles']} cycles); most: {sc.get('top', '')}\n")
            summary.append(["syscalls per Assign+Release cycle", fmt(per), "reported", ""])
        res["dbus"] = {"reads": dr, "assign": asg, "syscalls": by.get("assign_syscalls", [])}

    # ---- real kernel (bench/vm/run) ----
    vsk = by.get("vm_skipped", [])
    for v in vsk:
        md.append(f"## 5. Real kernel (VM)\n\nNot run: {v.get('reason')}\n")
    for setup in by.get("vm_setup", []):
        k = setup["kernel"]
        vr = [r for r in by.get("vm", []) if r["kernel"] == k]
        reps = sorted({r["rep"] for r in vr})
        cs = setup.get("contestants", [])
        md.append(f"## 5. Real kernel: {k} ({setup.get('release')}), enable + bind + restore + disable of "
                  f"{setup.get('vfs')} igb VFs (QEMU TCG guest)\n")
        names = {"shell": "shell loop (serial)", "sriovd": "sriovd (config, sriovctl reload)",
                 "verbs": "sriovd (sriovctl verbs, one call per step)", "driverctl": "driverctl", "dpdk": "dpdk-devbind.py"}

        def vt(c, rep):
            r = next((x for x in vr if x["contestant"] == c and x["rep"] == rep), None)
            return r.get("ms") if r and r.get("ok") else None

        rows = []
        for c in cs:
            runs = [x for x in vr if x["contestant"] == c]
            steps = {}
            for x in runs:
                if x.get("ok"):
                    for st, ms in x.get("steps_ms", {}).items():
                        steps.setdefault(st, []).append(ms)
            times = [vt(c, rep) for rep in reps]
            lo, hi = spread(times)
            bad = [x.get("detail") for x in runs if not x.get("ok")]
            rows.append([names.get(c, c), fmt(med(times)), f"{fmt(lo)}–{fmt(hi)}",
                         " / ".join(fmt(med(steps.get(st, []))) for st in ("enable", "bind", "restore", "disable")),
                         f"{sum(1 for x in runs if x.get('ok'))}/{len(runs)}", "; ".join(bad[:1])])
        for c, why in setup.get("skipped", {}).items():
            rows.append([names.get(c, c), "skipped", "", "", "", why])
        md.append(table(["contestant", "median ms", "range ms", "enable / bind / restore / disable ms", "correct", "note"], rows))
        md.append("")

        def vr_ratio(a, b):
            out = []
            for rep in reps:
                x, y = vt(a, rep), vt(b, rep)
                out.append(x / y if x is not None and y else None)
            return out

        # the per-step physical limit: the bare sysfs writes, each step's
        # fastest repetition of the shell loop in this guest, summed
        def step_min(c, st):
            xs = [x["steps_ms"][st] for x in vr if x["contestant"] == c and x.get("ok") and st in x.get("steps_ms", {})]
            return min(xs) if xs else None
        mins = [step_min("shell", st) for st in ("enable", "bind", "restore", "disable")]
        phys = sum(mins) if all(m is not None for m in mins) else None
        if phys:
            md.append(f"Per-step physical limit (the shell loop's fastest repetition of each step, summed): "
                      f"{' + '.join(fmt(m) for m in mins)} = {fmt(phys)} ms\n")
        cli = setup.get("cli_floor_ms")
        if cli is not None:
            less = [(vt("sriovd", rep) - 4 * cli) / vt("shell", rep) if vt("sriovd", rep) and vt("shell", rep) else None
                    for rep in reps]
            md.append(f"One sriovctl call (`sriovctl status`: a process, its D-Bus connection, one round trip; the "
                      f"fastest of 5 per repetition): {fmt(cli)} ms. sriovd (config) less its four calls / shell loop: "
                      f"{ratio_cell(less)}\n")
        spec = [("sriovd (config) / shell loop", vr_ratio("sriovd", "shell"), 1.0),
                ("sriovd (config) / per-step physical limit", [vt("sriovd", rep) / phys if phys and vt("sriovd", rep) else None
                                                               for rep in reps], 1.3),
                ("sriovd (verbs) / shell loop", vr_ratio("verbs", "shell"), None),
                ("sriovd (config) / driverctl", vr_ratio("sriovd", "driverctl"), None),
                ("sriovd (config) / dpdk-devbind.py", vr_ratio("sriovd", "dpdk"), None),
                ("driverctl / shell loop", vr_ratio("driverctl", "shell"), None),
                ("dpdk-devbind.py / shell loop", vr_ratio("dpdk", "shell"), None)]
        rows = []
        for name, xs, goal in spec:
            if med(xs) is None:
                continue
            rows.append([name, ratio_cell(xs), f"≤ {goal}" if goal else "", goal_cell(med(xs), goal) if goal else ""])
        md.append(table(["ratio (per repetition)", "median (min–max)", "goal", ""], rows))
        md.append("")
        res.setdefault("vm", []).append({"setup": setup, "runs": vr,
                                         "ratios": [{"ratio": n, "per_rep": xs, "median": med(xs), "goal": g}
                                                    for n, xs, g in spec]})
        summary.append([f"VM {k}: sriovd / shell loop", ratio_cell(spec[0][1]), "≤ 1.0", goal_cell(med(spec[0][1]), 1.0)])
        if phys:
            summary.append([f"VM {k}: sriovd / per-step physical limit", ratio_cell(spec[1][1]), "≤ 1.3",
                            goal_cell(med(spec[1][1]), 1.3)])

    # ---- 6. observability ----
    ob = by.get("observe", [])
    if ob:
        md.append("## 7. Observability with 2048 VFs\n")
        rows = []
        for what in dict.fromkeys(r["what"] for r in ob):
            xs = [r["ms"] for r in ob if r["what"] == what]
            lo, hi = spread(xs)
            rss = max(r["client_maxrss_kib"] for r in ob if r["what"] == what)
            rows.append([f"`{what}`", fmt(med(xs), 1), f"{fmt(lo, 1)}–{fmt(hi, 1)}", f"{rss / 1024:.1f}"])
        md.append(table(["call", "ms (median)", "min–max", "client peak RSS MiB"], rows))
        size = (by.get("observe_size") or [{}])[0]
        md.append(f"\nThe exposition: {size.get('metrics_bytes')} bytes, {size.get('metrics_lines')} lines; "
                  f"stats --json {size.get('stats_json_bytes')} bytes.")
        idle = (by.get("observe_idle") or [{}])[0]
        if idle:
            rate = idle["switches"] / idle["seconds"]
            md.append(f"Idle with the link subscription: {idle['switches']} context switches in {idle['seconds']} s "
                      f"({idle['cpu_ms']} ms CPU).")
            summary.append(["idle wake-ups/s with the link subscription", f"{rate:.2f}", "0", goal_cell(rate, 0)])
        n = (by.get("observe_notification") or [{}])[0]
        if n:
            md.append(f"A VF setting changed by hand: sriovd had read its PF again {n['reread_ms']} ms later.")
        for what in ("sriovctl metrics", "sriovctl stats --json (2048 VFs)"):
            xs = [r["ms"] for r in ob if r["what"] == what]
            if xs:
                summary.append([f"`{what}` (ms)", fmt(med(xs), 1), "", ""])
        md.append("")

    wall = by.get("wall", [])
    if wall:
        md.append("## Wall time of the suite\n")
        md.append(table(["part", "s"], [[w["workload"], w["seconds"]] for w in wall]))
        md.append("")
        res["wall"] = wall

    if summary:
        md.insert(6, "## Summary against the goals\n\n" + table(["measure", "value (median, min–max)", "goal", ""], summary) + "\n")
    with open(f"{outdir}/results.md", "w") as f:
        f.write("\n".join(md) + "\n")
    with open(f"{outdir}/results.json", "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")

    # the console: the summary and the bring-up table
    w = max((len(r[0]) for r in summary), default=10)
    print()
    for r in summary:
        print(f"{r[0]:<{w}}  {r[1]:>24}  {r[2]:>6}  {r[3]}")
    if bringup_rows:
        print()
        for r in bringup_rows:
            print(f"bring-up {r[0]:<15} {r[1]:>10} ms  ({r[2]} ms, {r[3]} correct) {r[4]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
