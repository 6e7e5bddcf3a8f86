"""Which language a learner reads, and the course's own messages in it (gettext, domain `logitlab`).

The English text in the code is the message id; `logitlab/locale/zh_CN/LC_MESSAGES/logitlab.po` (compiled to
`logitlab.mo` by `make translate`) holds the Chinese. The language is chosen, first match wins:

1. `with i18n.language("zh_CN"):` (the grader, for a submission whose notebook metadata says `zh-CN`);
2. the environment variable `LOGITLAB_LANG` (`zh-CN`, `zh_CN` or `en`);
3. the working folder: a kernel started inside the Chinese edition (`zh-CN/...`; JupyterLab starts a kernel in
   its notebook's folder) answers in Chinese;
4. otherwise English. The system locale (`LANG`, `LANGUAGE`) is not used: the English edition stays English
   whatever the machine's language.

Texts kept as data (a task's mistakes and hints) are marked with `N_` where they are written and translated with
`_` where they are shown, Python's documented way to defer a translation.
"""

import contextlib
import contextvars
import gettext
import os
from pathlib import Path

DOMAIN = "logitlab"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGE_ENV = "LOGITLAB_LANG"
ENGLISH = "en"
CHINESE = "zh_CN"
# The Chinese edition's folder (zh-CN/notebooks, zh-CN/exercises, zh-CN/solutions), and its notebooks'
# metadata language tag (BCP 47, as JupyterLab writes it).
EDITION_FOLDER = "zh-CN"
LANGUAGE_TAGS = {ENGLISH: "en", CHINESE: "zh-CN"}

chosen = contextvars.ContextVar("logitlab_language", default=None)


def normalize(tag):
    """`zh-CN`, `zh_CN`, `zh`, `zh_CN.UTF-8` -> "zh_CN"; anything else -> "en"."""
    tag = (tag or "").split(".")[0].replace("-", "_").lower()
    return CHINESE if tag in ("zh", "zh_cn", "zh_hans", "zh_hans_cn") else ENGLISH


def in_edition(folder):
    """True when `folder` is inside the Chinese edition (a path component named zh-CN)."""
    return EDITION_FOLDER in Path(folder).parts


def current_language():
    """The language messages are shown in now (see the module's docstring for the order)."""
    if chosen.get():
        return chosen.get()
    if os.environ.get(LANGUAGE_ENV):
        return normalize(os.environ[LANGUAGE_ENV])
    try:
        return CHINESE if in_edition(os.getcwd()) else ENGLISH
    except OSError:  # the working folder was removed
        return ENGLISH


def translation(language=None):
    """The gettext translation of `language` (default: the current one); English when there is no catalog."""
    language = normalize(language) if language else current_language()
    if language == ENGLISH:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def _(message):
    """`message` in the current language (itself when it has no translation)."""
    return translation().gettext(message) if message else message


def N_(message):
    """Mark `message` for translation where it is written; `_` translates it where it is shown."""
    return message


@contextlib.contextmanager
def language(tag):
    """Within the block, messages are in `tag`'s language (`zh-CN`, `zh_CN`, `en`) whatever the folder."""
    token = chosen.set(normalize(tag))
    try:
        yield
    finally:
        chosen.reset(token)


def notebook_language(nb):
    """The language a notebook (a dict) says it is in: its metadata `language` tag, English by default."""
    return normalize(nb.get("metadata", {}).get("language", ENGLISH))
