//! Plants a `Program` as CPython would lay it out with one build's offsets: the runtime (led by
//! `_Py_DebugOffsets` on 3.13+: debug_offsets.rs; 2.7 and 3.6: the `interp_head` word and
//! `_PyThreadState_Current`), an interpreter, thread states, frames with their local slots, code
//! objects, strs, bytes, tuples, ints, floats and cells, and the `threading` module's `_active`
//! dict for thread names (thread_names.rs).

mod asyncio;
mod debug_offsets;
mod thread_names;
mod values;

pub use asyncio::PlantedTasks;

use std::collections::BTreeMap;

use pyspy_core::memory::at;
use pyspy_core::python::layout::{FrameModel, Layout, LineTable, LongModel};

use crate::memory::{PlantedMemory, PAGE};
use crate::program::{CodeSpec, Program, FIRST_TID, INSTRUCTIONS, VALUES};
use crate::values::PlantedValue;
use pyspy_core::python::asyncio_layouts::asyncio_layout;

/// The walker scans this much of a pthread struct when the TID is not at glibc's offset.
const PTHREAD_SCANNED: u32 = 2048;

/// 3.12-3.13 FRAME_OWNED_BY_CSTACK; 3.14 adds FRAME_OWNED_BY_INTERPRETER after it.
const FRAME_OWNED_BY_CSTACK: u8 = 3;

/// Where images sit: the address range of a typical x86_64 heap.
pub const HEAP_BASE: u64 = 0x7f3a_0000_0000;
/// Images at the top of the address space get this much mapping, up to the last byte: any
/// unchecked `addr + offset` overflows there.
pub const TOP_MAPPING: u64 = 256 << 10;

/// Addresses of what was planted, for the walk and the read-back check.
pub struct Planted {
    /// `_PyRuntime`; 2.7 and 3.6: the `interp_head` word.
    pub runtime: u64,
    /// 2.7 and 3.6: `_PyThreadState_Current`, the GIL holder's thread state.
    pub tstate_current: Option<u64>,
    pub tids: Vec<u32>,
    pub tstates: Vec<u64>,
    pub innermost_frames: Vec<u64>,
    pub code_addrs: Vec<u64>,
    /// What `ThreadNames::read` must find: `threading.get_ident()` -> name.
    pub thread_names: BTreeMap<u64, String>,
    /// Where the program's asyncio tasks are, when it has some.
    pub tasks: Option<PlantedTasks>,
    /// Where each of `VALUES` is.
    pub values: Vec<PlantedValue>,
}

pub(crate) struct Builder<'a> {
    pub(crate) memory: PlantedMemory,
    pub(crate) layout: &'a Layout,
    types: Vec<(&'static str, u64)>,
    /// Modules besides sys and threading, for `sys.modules`.
    modules: Vec<(&'static str, u64)>,
}

pub fn build(program: &Program, at_the_top: bool) -> (PlantedMemory, Planted) {
    let layout = program.build.layout().expect("a build in layouts::BUILDS");
    let base = if at_the_top { 0u64.wrapping_sub(TOP_MAPPING) } else { HEAP_BASE };
    let memory =
        PlantedMemory { base, bytes: Vec::with_capacity(64 << 10), mapped_len: 0, holes: Vec::new(), planted: Vec::new() };
    let mut builder = Builder { memory, layout, types: Vec::new(), modules: Vec::new() };
    let planted = builder.program(program);
    let mut memory = builder.memory;
    // Room past the last struct, so that reads running off its end still find mapped memory.
    memory.mapped_len = if at_the_top { TOP_MAPPING } else { (memory.bytes.len() as u64 + PAGE).next_multiple_of(PAGE) };
    assert!(memory.bytes.len() as u64 <= memory.mapped_len, "image outgrew its mapping");
    (memory, planted)
}

impl Builder<'_> {
    pub(crate) fn alloc(&mut self, size: u32) -> u64 {
        let addr = self.memory.base + self.memory.bytes.len() as u64;
        // 16-aligned like pymalloc, so that words stay aligned.
        self.memory.bytes.resize(self.memory.bytes.len() + (size as usize).div_ceil(16) * 16, 0);
        self.memory.planted.push(addr);
        addr
    }

    pub(crate) fn put_i64(&mut self, addr: u64, value: i64) {
        self.memory.put(addr, &value.to_le_bytes());
    }

    pub(crate) fn type_object(&mut self, name: &'static str) -> u64 {
        if let Some(&(_, addr)) = self.types.iter().find(|(n, _)| *n == name) {
            return addr;
        }
        let l = self.layout;
        // Room for `tp_base` too, which `--async` follows (0: no base).
        let type_base = asyncio_layout(l.minor).map_or(0, |a| a.type_base as u32);
        let type_addr = self.alloc(l.type_name.max(l.type_flags).max(type_base) + 8);
        let name_addr = self.alloc(name.len() as u32 + 1);
        self.memory.put(name_addr, name.as_bytes());
        self.memory.put_u64(at(type_addr, l.type_name), name_addr);
        self.types.push((name, type_addr));
        type_addr
    }

    pub(crate) fn object(&mut self, type_name: &'static str, size: u32) -> u64 {
        let type_addr = self.type_object(type_name);
        let addr = self.alloc(size.max(self.layout.object_type + 8));
        self.memory.put_u64(at(addr, self.layout.object_type), type_addr);
        addr
    }

    /// A `str`: in 2.7 a byte string (UTF-8, as Python 2 source writes it), else a compact PEP 393
    /// string of the narrowest kind, as CPython makes them.
    pub(crate) fn str(&mut self, text: &str) -> u64 {
        let l = self.layout;
        if l.str_is_bytes == Some(true) {
            return self.bytes(text.as_bytes());
        }
        let chars: Vec<u32> = text.chars().map(u32::from).collect();
        let (kind, ascii) = match chars.iter().copied().max().unwrap_or(0) {
            0..=0x7f => (1, true),
            0x80..=0xff => (1, false),
            0x100..=0xffff => (2, false),
            _ => (4, false),
        };
        let data_offset = if ascii { l.unicode_ascii_size } else { l.unicode_compact_size };
        let addr = self.object("str", data_offset + (chars.len() as u32 + 1) * kind);
        self.put_i64(at(addr, l.unicode_length), chars.len() as i64);
        // state bits: interned, kind:3, compact:1, ascii:1, where the layout says.
        let (kind_shift, compact_shift, ascii_shift) =
            (l.unicode_kind_shift.unwrap_or(2), l.unicode_compact_shift.unwrap_or(5), l.unicode_ascii_shift.unwrap_or(6));
        let state: u32 = (kind << kind_shift) | (1 << compact_shift) | (u32::from(ascii) << ascii_shift);
        self.memory.put(at(addr, l.unicode_state), &state.to_le_bytes());
        for (i, c) in chars.iter().enumerate() {
            self.memory.put(at(addr, data_offset) + i as u64 * u64::from(kind), &c.to_le_bytes()[..kind as usize]);
        }
        addr
    }

    /// Text: 2.7's `unicode` (UCS units behind a pointer), a `str` anywhere else.
    pub(crate) fn text(&mut self, text: &str) -> u64 {
        let l = self.layout;
        let Some(pointer) = l.unicode_str_pointer else { return self.str(text) };
        let unit = l.unicode_char_size.unwrap_or(4);
        let units: Vec<u16> = text.encode_utf16().collect();
        let chars: Vec<u32> = text.chars().map(u32::from).collect();
        let length = if unit == 2 { units.len() } else { chars.len() };
        let data = self.alloc((length as u32 + 1) * unit);
        for i in 0..length {
            let bytes = if unit == 2 { u32::from(units[i]).to_le_bytes() } else { chars[i].to_le_bytes() };
            self.memory.put(data + i as u64 * u64::from(unit), &bytes[..unit as usize]);
        }
        let addr = self.object("unicode", pointer + 8);
        self.put_i64(at(addr, l.unicode_length), length as i64);
        self.memory.put_u64(at(addr, pointer), data);
        addr
    }

    /// A `bytes`; in 2.7 the same object is its `str`.
    pub(crate) fn bytes(&mut self, data: &[u8]) -> u64 {
        let l = self.layout;
        let type_name = if l.str_is_bytes == Some(true) { "str" } else { "bytes" };
        let addr = self.object(type_name, l.bytes_data + data.len() as u32 + 1);
        self.put_i64(at(addr, l.bytes_size), data.len() as i64);
        self.memory.put(at(addr, l.bytes_data), data);
        addr
    }

    pub(crate) fn tuple(&mut self, items: &[u64]) -> u64 {
        let l = self.layout;
        let addr = self.object("tuple", l.tuple_items + items.len() as u32 * 8);
        self.put_i64(at(addr, l.tuple_size), items.len() as i64);
        for (i, &item) in items.iter().enumerate() {
            self.memory.put_u64(at(addr, l.tuple_items) + i as u64 * 8, item);
        }
        addr
    }

    /// An int (or bool), in as many 30-bit digits as it takes (three at most), signed as the minor
    /// stores it; 2.7's `int` and `bool` hold a C long instead (its `long` has the digits).
    pub(crate) fn long(&mut self, type_name: &'static str, value: i64) -> u64 {
        let l = self.layout;
        if let (Some(value_at), true) = (l.int_value, type_name != "long") {
            let addr = self.object(type_name, value_at + 8);
            self.put_i64(at(addr, value_at), value);
            return addr;
        }
        let addr = self.object(type_name, l.long_digits + 12);
        let magnitude = value.unsigned_abs();
        let ndigits = (0..3).take_while(|i| magnitude >> (30 * i) != 0).count();
        for i in 0..ndigits {
            let digit = (magnitude >> (30 * i)) as u32 & 0x3fff_ffff;
            self.memory.put(at(addr, l.long_digits) + 4 * i as u64, &digit.to_le_bytes());
        }
        let head = match l.long_model {
            LongModel::SignedSize if value < 0 => -(ndigits as i64),
            LongModel::SignedSize => ndigits as i64,
            // lv_tag: ndigits << 3 | sign (0 positive, 1 zero, 2 negative).
            LongModel::Tagged => (ndigits as i64) << 3 | [2, 1, 0][(value.signum() + 1) as usize],
        };
        self.put_i64(at(addr, l.long_size_or_tag), head);
        addr
    }

    fn code(&mut self, spec: &CodeSpec) -> u64 {
        let l = self.layout;
        let instructions_len = 2 * INSTRUCTIONS;
        let size = l.code_size.max(l.code_code_adaptive.map_or(0, |o| o + instructions_len));
        let addr = self.object("code", size);
        let name = self.str(spec.name);
        let filename = self.str(spec.filename);
        let line_table = self.bytes(&spec.line_table);
        let varnames: Vec<u64> = spec.varnames.iter().map(|v| self.str(v)).collect();
        let varnames = self.tuple(&varnames);
        self.memory.put_u64(at(addr, l.code_name), name);
        self.memory.put_u64(at(addr, l.code_filename), filename);
        self.memory.put_u64(at(addr, l.code_linetable), line_table);
        self.memory.put_u64(at(addr, l.code_varnames), varnames);
        self.memory.put(at(addr, l.code_firstlineno), &(spec.first_line as i32).to_le_bytes());
        self.memory.put(at(addr, l.code_argcount), &(spec.argcount as i32).to_le_bytes());
        self.memory.put(at(addr, l.code_nlocals), &(spec.varnames.len() as i32).to_le_bytes());
        if let Some(offset) = l.code_qualname {
            let qualname = self.str(spec.qualname);
            self.memory.put_u64(at(addr, offset), qualname);
        }
        if let Some(offset) = l.code_code {
            let co_code = self.bytes(&vec![0u8; instructions_len as usize]);
            self.memory.put_u64(at(addr, offset), co_code);
        }
        addr
    }

    fn instructions_addr(&self, code: u64) -> u64 {
        match (self.layout.code_code_adaptive, self.layout.code_code) {
            (Some(inline), _) => at(code, inline),
            (None, Some(co_code)) => at(self.memory.get_u64(at(code, co_code)), self.layout.bytes_data),
            (None, None) => 0,
        }
    }

    /// `instruction` None: a frame that has not started (f_lasti -1). `locals`: slot values.
    fn frame(&mut self, code: u64, instruction: Option<u32>, back: u64, owner: u8, locals: &[u64], tag: bool) -> u64 {
        let l = self.layout;
        let size =
            [l.frame_size, l.frame_back + 8, l.frame_code + 8, l.frame_instr + 8, l.frame_localsplus + 8 * locals.len() as u32];
        let addr = self.alloc(size.into_iter().max().unwrap());
        // 3.14+ f_executable and the local slots are _PyStackRefs: a deferred reference has tag bit 0.
        let tag = u64::from(l.minor >= 14 && tag);
        self.memory.put_u64(at(addr, l.frame_code), code | tag);
        self.memory.put_u64(at(addr, l.frame_back), back);
        match l.frame_model {
            FrameModel::FrameObject => {
                let lasti = match instruction {
                    None => -1,
                    // 3.10 counts f_lasti in code units, earlier minors in bytes.
                    Some(i) if l.line_table == LineTable::Linetable310 => i as i32,
                    Some(i) => 2 * i as i32,
                };
                self.memory.put(at(addr, l.frame_instr), &lasti.to_le_bytes());
            }
            FrameModel::InterpreterFrame => {
                let pointer = self.instructions_addr(code) + 2 * u64::from(instruction.unwrap_or(0));
                self.memory.put_u64(at(addr, l.frame_instr), pointer);
            }
        }
        if let Some(offset) = l.frame_owner {
            self.memory.put(at(addr, offset), &[owner]);
        }
        for (i, &value) in locals.iter().enumerate() {
            self.memory.put_u64(at(addr, l.frame_localsplus) + 8 * i as u64, value | tag);
        }
        addr
    }

    fn program(&mut self, program: &Program) -> Planted {
        let l = self.layout;
        let code_addrs: Vec<u64> = program.codes.iter().map(|c| self.code(c)).collect();
        let planted_values: Vec<PlantedValue> = VALUES.iter().map(|v| self.value(v)).collect();
        let values: Vec<u64> = planted_values.iter().map(|v| v.addr).collect();
        let debug_offsets_size = program.build.debug_offsets_positions().map_or(0, |p| p.struct_size);
        let runtime_size = [Some(l.runtime_interpreters_head), l.runtime_tstate_current].into_iter().flatten().max().unwrap() + 8;
        let runtime = self.alloc(runtime_size.max(debug_offsets_size));
        self.debug_offsets(runtime, program.build);
        let interp_size =
            [l.interp_next, l.interp_threads_head, l.interp_gil_ptr.unwrap_or(0), l.interp_modules].into_iter().max().unwrap()
                + 8;
        let (async_tstate_size, async_interp_size) = asyncio::state_sizes(l.minor);
        let interp = self.alloc(interp_size.max(async_interp_size));
        self.memory.put_u64(at(runtime, l.runtime_interpreters_head), interp);

        let tstate_size =
            [l.tstate_next, l.tstate_interp, l.tstate_frame, l.tstate_thread_id, l.tstate_native_thread_id.unwrap_or(0)]
                .into_iter()
                .max()
                .unwrap()
                + 8;
        let tstate_size = tstate_size.max(async_tstate_size);
        // 2.7 and 3.6 keep the GIL holder in a global of its own.
        let tstate_current = l.tstate_current_symbol.map(|_| self.alloc(8));
        let mut planted = Planted {
            runtime,
            tstate_current,
            tids: Vec::new(),
            tstates: Vec::new(),
            innermost_frames: Vec::new(),
            code_addrs,
            thread_names: BTreeMap::new(),
            tasks: None,
            values: planted_values,
        };
        for (i, thread) in program.threads.iter().enumerate() {
            let tstate = self.alloc(tstate_size);
            let tid = FIRST_TID + i as u32;
            // Outermost first, so each frame knows the one it returns to.
            let mut back = 0;
            for (depth, frame) in thread.frames.iter().enumerate().rev() {
                let code = planted.code_addrs[frame.code];
                let locals: Vec<u64> = frame.locals.iter().map(|&v| values[v]).collect();
                back = self.frame(code, frame.instruction, back, 0, &locals, depth % 2 == 0);
                // 3.12+ put a C-stack shim frame at each entry into the interpreter.
                if l.minor >= 12 && depth == thread.frames.len() / 2 {
                    let owner = FRAME_OWNED_BY_CSTACK + u8::from(l.minor >= 14 && depth % 2 == 1);
                    back = self.frame(code, Some(0), back, owner, &[], false);
                }
            }
            let innermost = back;
            let frame_field = match l.cframe_current_frame {
                // 3.11-3.12: the thread state points at a _PyCFrame that points at the frame.
                Some(current_frame) if innermost != 0 => {
                    let cframe = self.alloc(current_frame + 8);
                    self.memory.put_u64(at(cframe, current_frame), innermost);
                    cframe
                }
                _ => innermost,
            };
            self.memory.put_u64(at(tstate, l.tstate_frame), frame_field);
            self.memory.put_u64(at(tstate, l.tstate_interp), interp);
            match l.tstate_native_thread_id {
                Some(offset) => {
                    self.memory.put_u64(at(tstate, l.tstate_thread_id), 0x7f00_dead_0000 + i as u64 * 0x1000);
                    self.memory.put_u64(at(tstate, offset), u64::from(tid));
                }
                None => {
                    // Before 3.11 the TID is found inside glibc's struct pthread.
                    let pthread = self.alloc(PTHREAD_SCANNED);
                    self.memory.put(pthread + thread.pthread_tid_offset, &tid.to_le_bytes());
                    self.memory.put_u64(at(tstate, l.tstate_thread_id), pthread);
                }
            }
            if let Some(&previous) = planted.tstates.last() {
                self.memory.put_u64(at(previous, l.tstate_next), tstate);
            }
            planted.tstates.push(tstate);
            planted.innermost_frames.push(innermost);
            planted.tids.push(tid);
        }
        self.memory.put_u64(at(interp, l.interp_threads_head), planted.tstates[0]);
        // The first thread holds the GIL.
        if let Some(offset) = l.runtime_tstate_current {
            self.memory.put_u64(at(runtime, offset), planted.tstates[0]);
        }
        if let Some(global) = tstate_current {
            self.memory.put_u64(global, planted.tstates[0]);
        }
        if let Some(offset) = l.interp_gil_ptr {
            let gil = self.alloc(l.gil_locked.max(l.gil_last_holder).max(l.gil_enabled.unwrap_or(0)) + 8);
            // A free-threaded GIL that is off keeps a stale `locked` and `last_holder`: they say
            // the first thread holds it, and only `enabled` says it does not.
            if let Some(enabled) = l.gil_enabled {
                let value = if program.gil_enabled { i32::MAX } else { 0 };
                self.memory.put(at(gil, enabled), &value.to_le_bytes());
            }
            self.memory.put(at(gil, l.gil_locked), &1i32.to_le_bytes());
            self.memory.put_u64(at(gil, l.gil_last_holder), planted.tstates[0]);
            self.memory.put_u64(at(interp, offset), gil);
        }
        if let Some(spec) = &program.tasks {
            let (tasks, module) = self.asyncio(spec, &planted.code_addrs, planted.tstates[0], interp);
            self.modules.push(("_asyncio", module));
            planted.tasks = Some(tasks);
        }
        let python_thread_ids: Vec<u64> =
            planted.tstates.iter().map(|&t| self.memory.get_u64(at(t, l.tstate_thread_id))).collect();
        planted.thread_names = self.threading_module(interp, &program.threads, &python_thread_ids);
        planted
    }
}
