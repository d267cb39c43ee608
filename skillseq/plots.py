"""Small PNG plots for the dataset card (matplotlib, headless)."""

from __future__ import annotations

import io


def length_histograms(stats: dict) -> bytes:
    """One bar chart per config of its length histogram (log2 buckets of characters), as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [s for s in stats.values() if s.length_hist]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 2.6), squeeze=False)
    for ax, s in zip(axes[0], shown, strict=True):
        buckets = sorted(s.length_hist)
        ax.bar([2**b for b in buckets], [s.length_hist[b] for b in buckets], width=[2**b * 0.8 for b in buckets])
        ax.set_xscale("log", base=2)
        ax.set_title(s.name, fontsize=9)
        ax.set_xlabel("characters", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("rows", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    # A fixed creation date keeps reruns byte-identical.
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
