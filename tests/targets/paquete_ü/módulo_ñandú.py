"""Non-ASCII identifiers: Latin-1 (one byte per char), CJK (two bytes) in names; the emoji file (four bytes) holds the innermost frame."""
import importlib.util
import os

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("emoji_mod", os.path.join(_here, "archivo_🐍.py"))
_emoji = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_emoji)


def función_ñandú(park):
    _emoji.calls(park)


def 関数(park):
    _emoji.calls(park)
