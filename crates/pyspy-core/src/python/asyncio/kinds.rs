//! What an object in the target is, as far as the task walk cares: a Task or Future (of the C
//! accelerator or pure Python, subclasses included: their `tp_base` chain reaches the types the
//! asyncio modules name), a coroutine or generator, a callback of one of the shapes asyncio leaves
//! on futures, or a few builtins. Builtin types are known by `tp_name`; the answer is cached per
//! type, so classifying costs one read of the object's header once the types are known.

use rustc_hash::FxHashMap;

use crate::memory::{Memory, MemoryExt};
use crate::python::asyncio_layout::AsyncioLayout;
use crate::python::layout::Layout;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `_asyncio.Task` or a subclass: a `TaskObj`.
    CTask,
    /// `asyncio.tasks._PyTask` or a subclass: attributes in its instance dict.
    PyTask,
    /// `_asyncio.Future` or a subclass (`_GatheringFuture` among them).
    CFuture,
    /// `asyncio.futures._PyFuture` or a subclass.
    PyFuture,
    Coroutine,
    AsyncGenerator,
    /// The awaitable `__anext__()` returns: what `async for` awaits.
    AsyncGenAsend,
    Generator,
    Function,
    /// A bound method of a Python class (`PyMethodObject`).
    Method,
    /// A C function, bound when its `m_self` is set (3.10+ `Task.__wakeup`).
    BuiltinMethod,
    Partial,
    /// 3.8-3.9: the wakeup callback a C Task leaves on what it awaits.
    WakeupWrapper,
    TaskGroup,
    WeakRef,
    Cell,
    Str,
    Int,
    NoneValue,
    Other,
}

impl Kind {
    pub(crate) fn is_task(self) -> bool {
        matches!(self, Kind::CTask | Kind::PyTask)
    }

    /// Tasks are futures too.
    pub(crate) fn is_future(self) -> bool {
        matches!(self, Kind::CTask | Kind::PyTask | Kind::CFuture | Kind::PyFuture)
    }

    /// Implemented in C: its fields are at the table's offsets, not in an instance dict.
    pub(crate) fn is_c_future(self) -> bool {
        matches!(self, Kind::CTask | Kind::CFuture)
    }
}

/// The asyncio types the modules name; 0 where a module is not imported (or has no such type).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct KnownTypes {
    pub task: u64,
    pub future: u64,
    pub py_task: u64,
    pub py_future: u64,
}

/// No class hierarchy is this deep; a longer chain is garbage.
const MAX_BASES: usize = 32;
/// Types are few; past this many the cache starts again (a program creating classes endlessly).
const MAX_CACHED_TYPES: usize = 4096;

#[derive(Default)]
pub(crate) struct TypeKinds {
    known: KnownTypes,
    kinds: FxHashMap<u64, Kind>,
}

impl TypeKinds {
    /// Forgets what was classified against other known types (the modules were found since).
    pub(crate) fn set_known(&mut self, known: KnownTypes) {
        if self.known != known {
            self.known = known;
            self.kinds.clear();
        }
    }

    /// The kind of the object at `addr`; `Other` for NULL or an unreadable object.
    pub(crate) fn of(&mut self, memory: &dyn Memory, layout: &Layout, asyncio: &AsyncioLayout, addr: u64) -> Kind {
        if addr == 0 {
            return Kind::Other;
        }
        match memory.read_u64(addr.wrapping_add(u64::from(layout.object_type))) {
            Ok(type_addr) => self.of_type(memory, layout, asyncio, type_addr),
            Err(_) => Kind::Other,
        }
    }

    pub(crate) fn of_type(&mut self, memory: &dyn Memory, layout: &Layout, asyncio: &AsyncioLayout, type_addr: u64) -> Kind {
        if let Some(&kind) = self.kinds.get(&type_addr) {
            return kind;
        }
        let kind = self.classify(memory, layout, asyncio, type_addr);
        if self.kinds.len() >= MAX_CACHED_TYPES {
            self.kinds.clear();
        }
        self.kinds.insert(type_addr, kind);
        kind
    }

    fn classify(&self, memory: &dyn Memory, layout: &Layout, asyncio: &AsyncioLayout, type_addr: u64) -> Kind {
        let known = self.known;
        let mut current = type_addr;
        for _ in 0..MAX_BASES {
            if current == 0 {
                break;
            }
            let found = [(known.task, Kind::CTask), (known.future, Kind::CFuture), (known.py_task, Kind::PyTask)]
                .into_iter()
                .chain([(known.py_future, Kind::PyFuture)])
                .find(|&(known, _)| known != 0 && known == current);
            if let Some((_, kind)) = found {
                return kind;
            }
            // An unreadable base ends the chain: the type may still be a builtin known by name.
            let Ok(base) = memory.read_u64(current.wrapping_add(asyncio.type_base)) else { break };
            current = base;
        }
        match type_name(memory, layout, type_addr).as_deref() {
            Some("coroutine") => Kind::Coroutine,
            Some("async_generator") => Kind::AsyncGenerator,
            Some("async_generator_asend") => Kind::AsyncGenAsend,
            Some("generator") => Kind::Generator,
            Some("function") => Kind::Function,
            Some("method") => Kind::Method,
            Some("builtin_function_or_method") => Kind::BuiltinMethod,
            Some("functools.partial") => Kind::Partial,
            Some("TaskWakeupMethWrapper") => Kind::WakeupWrapper,
            Some("TaskGroup") => Kind::TaskGroup,
            // 3.8-3.11 name it "weakref", 3.12+ "weakref.ReferenceType".
            Some("weakref" | "weakref.ReferenceType") => Kind::WeakRef,
            Some("cell") => Kind::Cell,
            Some("str") => Kind::Str,
            Some("int") => Kind::Int,
            Some("NoneType") => Kind::NoneValue,
            _ => Kind::Other,
        }
    }
}

/// A type's `tp_name` (a C string; heap types keep theirs in a str's UTF-8 buffer, also NUL-ended).
pub(crate) fn type_name(memory: &dyn Memory, layout: &Layout, type_addr: u64) -> Option<String> {
    let name = memory.read_u64(type_addr.wrapping_add(u64::from(layout.type_name))).ok()?;
    let mut buf = [0u8; 96];
    // A name near the end of a mapping: read less rather than nothing.
    let read = [96, 32].into_iter().find(|&len| memory.read(name, &mut buf[..len]).is_ok())?;
    let end = buf[..read].iter().position(|&b| b == 0).unwrap_or(read);
    String::from_utf8(buf[..end].to_vec()).ok()
}
