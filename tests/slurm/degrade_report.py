"""Writes a copy of a measurement report as another node's: its hostname replaced and every rate
scaled by FACTOR (sample times divided by it, every rate summary multiplied), so a certificate made
from it reads as that node's device running FACTOR times as fast. Test input only.
usage: degrade_report.py IN OUT HOSTNAME FACTOR"""
import json
import sys

src, dst, host, factor = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
d = json.load(open(src))
d["host"]["hostname"] = host
RATES = ("median", "min", "max", "iqr", "q1", "q3", "mean", "stddev")
for r in d["results"]:
    for k in RATES:
        if isinstance(r.get(k), (int, float)):
            r[k] *= factor
    for k in RATES:
        if isinstance(r["rate_summary"].get(k), (int, float)):
            r["rate_summary"][k] *= factor
    for s in r.get("sample_values", []):
        s["seconds"] /= factor
    for k in ("fraction_of_theoretical",):
        if isinstance(r.get(k), (int, float)):
            r[k] *= factor
json.dump(d, open(dst, "w"), indent=1)
