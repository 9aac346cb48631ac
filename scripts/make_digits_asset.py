"""Make fapi_lab/_data/digits.npz: the offline stand-in for MNIST and CIFAR-10.

The data are the 1,797 handwritten digits that scikit-learn ships (``sklearn.datasets.load_digits``): 8×8
images with values 0–16 and labels 0–9, scikit-learn's copy of the test part of the UCI "Optical Recognition
of Handwritten Digits" data set (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0), distributed with scikit-learn
(BSD-3-Clause). Stored raw (uint8) and compressed, about 45 KB, so fapi_lab needs no scikit-learn at run time.
tests/test_datasets.py checks the file still equals scikit-learn's copy.

    .venv/bin/python scripts/make_digits_asset.py
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parents[1] / "fapi_lab" / "_data" / "digits.npz"


def main() -> None:
    digits = load_digits()
    images = digits.images.astype(np.uint8)  # values 0..16
    labels = digits.target.astype(np.uint8)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, images=images, labels=labels)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes): {images.shape} images, labels {sorted(set(labels))}")


if __name__ == "__main__":
    main()
