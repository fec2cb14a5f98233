#!/usr/bin/env python3
"""Plot precision-recall curves per claim type from `claimex eval --curves FILE` outputs.

usage: pr_curves.py OUT.png NAME=curves.json [NAME=curves.json ...]

One panel per claim type; one line per curves file (e.g. the corpus dev and test splits), with the
points labeled by threshold every 0.1 and the 0.5 point marked.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TYPES = ("stance", "proposal", "threat")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, sets = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
    fig, axes = plt.subplots(1, len(TYPES), figsize=(13, 4.4), sharey=True)
    for ax, kind in zip(axes, TYPES):
        for name, path in sets:
            points = json.load(open(path, encoding="utf-8"))
            rec = [p["per_type"][kind]["recall"] for p in points]
            prec = [p["per_type"][kind]["precision"] for p in points]
            (line,) = ax.plot(rec, prec, marker=".", label=name)
            for p, r, q in zip(points, rec, prec):
                t = p["threshold"]
                if abs(t * 10 - round(t * 10)) < 1e-6:
                    ax.annotate(f"{t:.1f}", (r, q), fontsize=7, xytext=(3, 3), textcoords="offset points")
                if abs(t - 0.5) < 1e-6:
                    ax.plot([r], [q], marker="o", markersize=9, fillstyle="none", color=line.get_color())
        ax.set_title(kind)
        ax.set_xlabel("recall")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("precision")
    axes[-1].legend(loc="lower left")
    fig.suptitle("claimex: precision-recall per claim type as the threshold rises (circle: 0.5)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
