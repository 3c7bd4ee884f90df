"""What a member's input is read as, whatever the channel.

Copy and paste brings invisible characters along: a soft hyphen from a web page
("Tem\\u00adplin"), zero-width spaces, a byte-order mark, direction marks (Unicode's
format characters). They split words the member sees as one, so "Templin" would not be
found and a name would look empty. Control characters other than line breaks and tabs, and
lone surrogates (which cannot be stored as UTF-8), are dropped too. The zero-width joiner
stays: it holds emoji sequences together.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata


def without_invisibles(text: str) -> str:
    return _invisible().sub("", text)


@functools.cache
def _invisible() -> re.Pattern[str]:
    # Built on first use: looking up every code point's category takes about 60 ms.
    formats = "".join(
        re.escape(chr(code))
        for code in range(sys.maxunicode + 1)
        if code != 0x200D and unicodedata.category(chr(code)) == "Cf"
    )
    return re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{formats}]")
