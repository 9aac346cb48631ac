"""Make fapi_lab/_data/digits.npz: the offline stand-in for MNIST and CIFAR-10.

Where the data come from: the 1,797 handwritten digits that scikit-learn ships
(``sklearn.datasets.load_digits``), 8×8 images with values 0–16 and labels 0–9. They are scikit-learn's copy
of the *test* part of the UCI "Optical Recognition of Handwritten Digits" data set ("optdigits", E. Alpaydin
and C. Kaynak, 1998, https://archive.ics.uci.edu/dataset/80, licensed CC BY 4.0 by the UCI repository),
distributed inside scikit-learn under scikit-learn's BSD-3-Clause licence.

The file holds them raw (``images`` uint8 (1797, 8, 8), ``labels`` uint8 (1797,)), compressed: about 45 KB,
so fapi_lab needs no scikit-learn at run time. ``tests/test_datasets.py`` checks it still equals
scikit-learn's copy. Run (needs the test extra, which installs scikit-learn):

    .venv/bin/python scripts/make_digits_asset.py [--out PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parents[1] / "fapi_lab" / "_data" / "digits.npz"


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as uint8, checked to be whole numbers 0..16 so nothing is lost."""
    digits = load_digits()
    images = np.asarray(digits.images)
    if images.shape != (1797, 8, 8) or images.min() < 0 or images.max() > 16 or not np.all(images == images.round()):
        raise SystemExit(f"unexpected digits from scikit-learn: shape {images.shape}, {images.min()}..{images.max()}")
    return images.astype(np.uint8), np.asarray(digits.target).astype(np.uint8)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default: {OUT})")
    out: Path = parser.parse_args(argv).out
    images, labels = digits_arrays()
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, images=images, labels=labels)
    print(f"wrote {out} ({out.stat().st_size:,} bytes): images {images.shape} 0..{images.max()}, "
          f"labels {labels.shape} {sorted(set(labels.tolist()))}")


if __name__ == "__main__":
    main()
