"""The language of every student-facing text: gettext message catalogues, chosen by ``lab.language``.

Code marks a text for translation with ``_("...")`` (translated when called), ``N_("...")`` (a constant defined
at import time: marked for extraction, translated where it is used with ``_(CONSTANT)``) or
``ngettext(singular, plural, n)``. Placeholders are named and filled after translation::

    _("Layer {name} has no weights.").format(name=layer.name)

so a translator can move them. The catalogues are ``fapi_lab/locale/<lang>/LC_MESSAGES/fapi_lab.po``, kept
with Babel (``bash scripts/i18n extract|update|compile``); a wheel carries the compiled ``.mo`` files, and a
checkout without them compiles the ``.po`` in memory on first use. English is the source text: no catalogue.

The language is looked up at every call, so ``lab.language("zh")`` changes the next message at once, with no
re-import. The default comes from ``FAPI_LAB_LANG``; then from the folder the kernel runs in (a notebook in
``notebooks/zh/`` or ``…/zh/exercises/`` speaks Chinese); then from the system locale; then English.
"""

from __future__ import annotations

import gettext
import io
import locale
import os
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["DOMAIN", "LANGUAGES", "LOCALE_DIR", "N_", "_", "current", "language", "ngettext", "speaking",
           "translations"]

DOMAIN = "fapi_lab"
LANGUAGES = ("en", "zh", "es")
NAMES = {"en": "English", "zh": "中文", "es": "español"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_ALIASES = {"zh": "zh", "zh_cn": "zh", "zh_hans": "zh", "zh_sg": "zh", "chinese": "zh", "中文": "zh",
            "es": "es", "spanish": "es", "español": "es", "espanol": "es",
            "en": "en", "english": "en", "c": "en", "posix": "en"}

_chosen: list[str] = []  # the language set by lab.language(), if any
_cache: dict[str, gettext.NullTranslations] = {}


def _normalize(value: str) -> str | None:
    """'zh_CN.UTF-8', 'zh-Hans', 'es_MX', 'Spanish' -> 'zh' / 'es'; None when not one of ours."""
    text = value.strip().lower().replace("-", "_").split(".")[0].split("@")[0]
    if text in _ALIASES:
        return _ALIASES[text]
    base = text.split("_")[0]
    return base if base in LANGUAGES else None


def _from_folder(cwd: Path) -> str | None:
    for part in (cwd.name, cwd.parent.name):
        if part in ("zh", "es"):
            return part
    return None


def _default() -> str:
    env = os.environ.get("FAPI_LAB_LANG", "").strip()
    if env:
        lang = _normalize(env)
        if lang:
            return lang
        warnings.warn(f"FAPI_LAB_LANG={env!r} is not a language fapi_lab speaks; using English. "
                      f"Set it to one of {', '.join(LANGUAGES)}.", stacklevel=3)
        return "en"
    try:
        folder = _from_folder(Path.cwd())
    except OSError:
        folder = None
    if folder:
        return folder
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        for item in value.split(":"):
            if item:
                return _normalize(item) or "en"
    try:
        system = locale.getlocale()[0] or ""
    except ValueError:
        system = ""
    return _normalize(system) or "en"


_REFRESH = 1.0  # seconds: how long a worked-out default holds before the settings are read again
_memo: list[object] = [float("-inf"), "en"]  # when the default was last worked out, and what it was


def current() -> str:
    """The language texts are in now: 'en', 'zh' or 'es'.

    Every message asks, so the default (environment, folder, locale: slow to read) is read again only after
    ``_REFRESH`` seconds; ``lab.language()`` reads it at once."""
    if _chosen:
        return _chosen[0]
    now = time.monotonic()
    if now - float(_memo[0]) > _REFRESH:  # type: ignore[arg-type]
        _memo[:] = [now, _default()]
    return str(_memo[1])


def _compile_po(po: Path) -> gettext.GNUTranslations:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang`` (English: none), read once: the compiled ``.mo`` when it is up to date, else
    the ``.po`` compiled in memory."""
    if lang in _cache:
        return _cache[lang]
    found: gettext.NullTranslations = gettext.NullTranslations()
    if lang != "en":
        folder = LOCALE_DIR / lang / "LC_MESSAGES"
        mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
        if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as handle:
                found = gettext.GNUTranslations(handle)
        elif po.exists():
            found = _compile_po(po)
        else:
            warnings.warn(f"fapi_lab has no {NAMES[lang]} catalogue in {folder}; texts stay in English. "
                          f"Reinstall fapi_lab.", stacklevel=3)
    _cache[lang] = found
    return found


def language(lang: str | None = None) -> str:
    """Switch every fapi_lab text (explanations, checks, hints, widgets, CLI) to ``lang``: "en", "zh" or "es".

    Returns the language now in use; ``lab.language()`` with no argument only tells it. The next message is in
    the new language; nothing needs re-importing or re-running."""
    if lang is None:
        _memo[0] = float("-inf")  # read the settings now
        return current()
    if not isinstance(lang, str) or _normalize(lang) is None:
        raise ValueError(f"lab.language({lang!r}): fapi_lab speaks {', '.join(repr(x) for x in LANGUAGES)} "
                         f"(English, Chinese, Spanish). Write for example lab.language(\"zh\").")
    _chosen[:] = [_normalize(lang)]  # type: ignore[list-item]
    return _chosen[0]


@contextmanager
def speaking(lang: str) -> Iterator[str]:
    """Texts in ``lang`` inside the ``with`` block (a page of the course website in its language); the choice made
    before, or the default, comes back after it."""
    before = list(_chosen)
    try:
        yield language(lang)
    finally:
        _chosen[:] = before
        _memo[0] = float("-inf")


def _(message: str) -> str:
    """``message`` in the current language (itself when untranslated)."""
    lang = current()
    return message if lang == "en" else translations(lang).gettext(message)


def N_(message: str) -> str:
    """Mark a constant for translation without translating it now: translate it where it is used."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language's plural rules."""
    lang = current()
    if lang == "en":
        return singular if n == 1 else plural
    return translations(lang).ngettext(singular, plural, n)
