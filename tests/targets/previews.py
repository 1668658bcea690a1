"""The preview `dump --locals` must show of a value, made by the target itself (Python 3 only:
parked_threads.py imports it on 3)."""

import reprlib


class Preview(reprlib.Repr):
    """pyspy-ts's preview of a value, with reprlib's machinery: by type, nested to `maxlevel`, the
    first items of containers and the count of the rest (`...+N`), str and bytes cut, big ints by
    their size, other objects by class and address. Only exact built-in types go by value."""

    HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE
    MAX_CHARS = 120

    def __init__(self):
        super().__init__()
        self.maxlevel = 3
        self.maxtuple = self.maxlist = self.maxset = self.maxfrozenset = 6
        self.maxdict = 4
        self.maxstring = 80  # on its own; 40 inside a container
        self.maxlong = 40

    def repr(self, x):
        s = self.repr1(x, self.maxlevel)
        return s if len(s) <= self.MAX_CHARS else s[: self.MAX_CHARS - 3] + "..."

    def repr1(self, x, level):
        t = type(x)
        handler = {
            tuple: self.repr_tuple, list: self.repr_list, set: self.repr_set, frozenset: self.repr_frozenset,
            dict: self.repr_dict, str: self.repr_text, bytes: self.repr_text, int: self.repr_int,
        }.get(t)
        if t in (type(None), bool, float):
            return repr(x)
        if handler is None:
            # The type's tp_name: a class's own name; a built-in type's, with its module outside builtins.
            name = t.__name__ if t.__flags__ & self.HEAP_TYPE or t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"
            return f"<{name} object at {id(x):#x}>"
        return handler(x, level)

    def items(self, items, count, level, most):
        shown = [] if level <= 0 else [self.repr1(i, level - 1) for i in items[:most]]
        if count > len(shown):
            shown.append(f"...+{count - len(shown)}")
        return ", ".join(shown)

    def repr_tuple(self, x, level):
        if len(x) == 1 and level > 0:
            return f"({self.repr1(x[0], level - 1)},)"
        return f"({self.items(list(x), len(x), level, self.maxtuple)})"

    def repr_list(self, x, level):
        return f"[{self.items(x, len(x), level, self.maxlist)}]"

    def repr_set(self, x, level):
        return f"{{{self.items(list(x), len(x), level, self.maxset)}}}" if x else "set()"

    def repr_frozenset(self, x, level):
        return f"frozenset({{{self.items(list(x), len(x), level, self.maxfrozenset)}}})" if x else "frozenset()"

    def repr_dict(self, x, level):
        pairs = [] if level <= 0 else [f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}" for k, v in list(x.items())[: self.maxdict]]
        if len(x) > len(pairs):
            pairs.append(f"...+{len(x) - len(pairs)}")
        return "{" + ", ".join(pairs) + "}"

    def repr_text(self, x, level):
        limit = self.maxstring if level == self.maxlevel else self.maxstring // 2
        s = repr(x)
        return s if len(s) <= limit else s[: limit - 3] + "..."

    def repr_int(self, x, level):
        if x.bit_length() <= 200 and len(str(abs(x))) <= self.maxlong:
            return str(x)
        return f"{'-' if x < 0 else ''}<int of {abs(x).bit_length()} bits>"
