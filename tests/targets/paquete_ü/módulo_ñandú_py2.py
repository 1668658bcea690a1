# -*- coding: utf-8 -*-
"""Python 2's twin of módulo_ñandú.py. Python 2 allows no identifier outside ASCII, so the two
functions are written with ASCII names and their code objects then renamed: a Python 2 code
object's name is a byte string, here the UTF-8 of the same names."""
import imp
import os
import types

_here = os.path.dirname(os.path.abspath(__file__))
_emoji = imp.load_source("emoji_mod", os.path.join(_here, "archivo_🐍.py"))


def _renamed(function, name):
    c = function.__code__
    function.__code__ = types.CodeType(
        c.co_argcount, c.co_nlocals, c.co_stacksize, c.co_flags, c.co_code, c.co_consts, c.co_names,
        c.co_varnames, c.co_filename, name, c.co_firstlineno, c.co_lnotab, c.co_freevars, c.co_cellvars,
    )
    function.__name__ = name
    return function


def latin(park):
    _emoji.calls(park)


def kanji(park):
    _emoji.calls(park)


globals()["función_ñandú"] = _renamed(latin, "función_ñandú")
globals()["関数"] = _renamed(kanji, "関数")
