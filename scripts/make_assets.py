"""Draw the README's example pictures into assets/ from the lesson models (run after changing the renderer).

    .venv/bin/python scripts/make_assets.py
"""

from pathlib import Path

import fapi_lab as lab

lab.quiet()

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    pictures = {
        "ticket_model.svg": lab.graph(lab.patterns.ticket_model(), show_params=True),
        "nested_autoencoder_expanded.svg": lab.graph(lab.patterns.nested_autoencoder()[-1], depth=None),
        "toy_resnet.svg": lab.graph(lab.patterns.toy_resnet()),
        "siamese_lstm.svg": lab.graph(lab.patterns.siamese_lstm()),
    }
    for name, view in pictures.items():
        (ASSETS / name).write_text(view.to_svg())
        print("wrote", ASSETS / name)


if __name__ == "__main__":
    main()
