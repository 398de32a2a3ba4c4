#!/usr/bin/env python3
"""One-screen summary of a CUDA measurement report (chipgauge measure --out REPORT.json), for
scripts/gpu-check.sh: tensor rates per precision with the fraction of peak (at the NVML SM clock
when every sample has it, else the clock probe's; the letter after the clock says which), vector
FMA, DRAM, the L2 sweep, shared memory, copies, cuBLASLt with the chosen algorithm, and every
result that is not ok.
    scripts/gpu-summary.py REPORT.json
"""
import json
import re
import statistics
import sys


def rate(r):
    """The median rate in T (compute) or G (bytes) units, as text."""
    v = r.get("median") or 0.0
    return f"{v / 1e12:.1f}T" if r["metric"] == "ops_per_s" else f"{v / 1e9:.0f}G"


def clock(r):
    """MHz the peak used: N = NVML during the work, P = clock probe."""
    nvml = [s.get("sm_clock_nvml_mhz") for s in r.get("sample_values", [])]
    if nvml and all(c is not None for c in nvml) and "NVML" in (r.get("theoretical_basis") or ""):
        return f"{statistics.median(nvml):.0f}N"
    c = r.get("clock_mhz")
    return f"{c['median']:.0f}P" if isinstance(c, dict) else "?"


def figure(r, with_clock=False):
    if r["status"] != "ok":
        return f"{r['status'].upper()}"
    f = r.get("fraction_of_theoretical")
    text = rate(r) + (f" {100 * f:.0f}%" if f is not None else "")
    return text + (f" @{clock(r)}" if with_clock and f is not None else "")


def main(path):
    with open(path) as f:
        report = json.load(f)
    out = []
    for dev in report["devices"]:
        props = dev["properties"]
        props = dict(props) if isinstance(props, list) else props
        out.append(f"{dev['id']} {dev['name']}: cc {props.get('compute_capability', '?')}, {dev.get('units')} SMs, "
                   f"max {props.get('max_sm_clock_mhz', '?')} MHz, driver {props.get('driver_version', '?')}, "
                   f"CUDA runtime {props.get('cuda_runtime', '?')}")
        res = {r["benchmark"]: r for r in report["results"] if r["device"] == dev["id"]}

        def pick(names, with_clock=False):
            return " | ".join(f"{n} {figure(res[n], with_clock)}" for n in names if n in res)

        out.append("tensor (T ops/s, % of peak @ MHz: N = NVML clock during the work, P = probe):")
        for p in ("fp16", "bf16", "tf32", "fp8", "int8", "fp64"):
            names = [n for n in res if re.fullmatch(rf"(mma|wgmma)_{p}(_\w+)?", n)]
            parts = []
            for n in names:
                short = n.replace(f"_{p}", "")
                parts.append(f"{short} {figure(res[n], with_clock=(n == names[0]))}")
            skipped = [n for n in names if res[n]["status"] == "skipped"]
            if parts:
                out.append(f"  {p:5} " + " | ".join(parts) + (" (skipped: see below)" if skipped else ""))
        out.append("  vector: " + pick(["fma_fp64", "fma_fp32", "fma_fp16x2", "mad_int32"]))
        out.append("DRAM (G bytes/s): " + pick(["dram_read", "dram_write", "dram_copy", "dram_triad"]))
        basis = res.get("dram_read", {}).get("theoretical_basis") or "none"
        out.append("  peak: " + basis.split("; clock:")[0])
        out.append("L2 read: " + pick(sorted((n for n in res if n.startswith("l2_read_")), key=lambda n: int(re.sub(r"\D", "", n)))))
        out.append("smem read: " + pick([n for n in res if n.startswith("smem_read_")]))
        out.append("copies: " + pick([n for n in res if n.startswith(("pcie_", "p2p_"))]))
        out.append("cuBLASLt (T ops/s, % of the tensor peak; algorithm):")
        for n, r in res.items():
            if not n.startswith("gemm_"):
                continue
            m = re.search(r"algorithm: heuristic index (\d+) of (\d+).*?, id (\S+), tile (\S+), stages (\S+), split-K (\S+); "
                          r"workspace (\d+) bytes", r.get("description", ""))
            algo = (f"index {m[1]}/{m[2]} id {m[3]} tile {m[4]} stages {m[5]} splitK {m[6]} ws {int(m[7]) >> 20} MiB"
                    if m else "-")
            out.append(f"  {n:15} {figure(r, with_clock=True):22} {algo}")
        bad = [r for r in res.values() if r["status"] != "ok"]
        out.append(f"not ok: {len(bad)} of {len(res)}")
        for r in bad[:12]:
            out.append(f"  {r['benchmark']}: {r['status']}: {(r.get('reason') or r['verification'].get('detail') or '')[:110]}")
        if len(bad) > 12:
            out.append(f"  ... {len(bad) - 12} more in the report")
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: scripts/gpu-summary.py REPORT.json")
    main(sys.argv[1])
