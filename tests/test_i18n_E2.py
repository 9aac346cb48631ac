"""The doctor, the data loaders, the model builders' argument errors and the CLI speak the language chosen with
``lab.language``, and switching changes the next message at once (no re-import, no re-load)."""

from collections.abc import Iterator

import pytest

import fapi_lab as lab
from fapi_lab import _cli, datasets, patterns
from fapi_lab._doctor import Check, DoctorReport


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    lab.language("en")


def test_doctor_report_follows_the_language() -> None:
    report = DoctorReport([Check("Python", True, "3.11"), Check("MNIST cache", False, "x", required=False, fix="y")])
    lab.language("zh")
    text = str(report)
    assert "所需的一切都已就绪" in text and "修改方法：y" in text and "正常" in text
    lab.language("es")
    assert "todo lo necesario está disponible" in str(report) and "cómo arreglarlo: y" in str(report)
    assert "comprobación" in report._repr_html_()
    lab.language("en")
    assert str(report).endswith("fapi_lab doctor: everything required is here")


def test_data_line_is_in_the_language_of_the_moment_it_is_read(capsys: pytest.CaptureFixture[str]) -> None:
    lab.language("es")
    datasets.mnist("standin")
    printed = capsys.readouterr().out
    assert printed.startswith("mnist: sustituto sin conexión, 1,438 de entrenamiento / 359 de prueba")
    lab.language("zh")  # the same load, read again: now in Chinese, numbers unchanged
    assert datasets.last_source("mnist").startswith("mnist：离线替代数据")
    assert "1,438" in datasets.last_source("mnist")
    lab.language("en")
    assert datasets.last_source("mnist") == printed.strip().replace(
        "sustituto sin conexión, 1,438 de entrenamiento / 359 de prueba, dígitos manuscritos de scikit-learn como "
        "imágenes de 28×28 (elegido con", "offline stand-in, 1,438 train / 359 test scikit-learn handwritten digits "
        "as 28×28 images (chosen with")


def test_bad_arguments_and_the_cli_help_are_translated() -> None:
    lab.language("zh")
    with pytest.raises(ValueError, match="由 3 个正整数组成的元组"):
        patterns.inception_module(input_shape=(1, 2))
    with pytest.raises(ValueError, match="timeout 必须是 >= 0 的秒数"):
        datasets.mnist(timeout=-1)
    assert "检查课程所需的一切是否都已安装" in _cli._parser().format_help()
    lab.language("es")
    words = " ".join(_cli._parser().format_help().split())  # argparse wraps the help text
    assert "comprueba que todo lo que necesitan las lecciones está instalado" in words
    with pytest.raises(ValueError, match="timeout debe ser un número de segundos"):
        datasets.mnist(timeout=-1)
