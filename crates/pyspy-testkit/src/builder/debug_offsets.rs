//! 3.13+: `_Py_DebugOffsets` planted at the start of the runtime, describing the same layout the
//! image is built with, so that the layout the walkers get from it (as PythonProcess::open does)
//! reads the image right until a patch says otherwise.

use pyspy_core::memory::at;
use pyspy_core::python::debug_offsets::COOKIE;
use pyspy_core::python::layout::Build;

use crate::builder::Builder;

impl Builder<'_> {
    /// 3.13+: `_Py_DebugOffsets` at the start of the runtime, describing this same layout.
    pub(crate) fn debug_offsets(&mut self, runtime: u64, build: Build) {
        let Some(p) = build.debug_offsets_positions() else { return };
        let l = *self.layout;
        self.memory.put(runtime, COOKIE);
        // PY_VERSION_HEX of 3.minor.2 final.
        self.memory.put_u64(at(runtime, p.version), 0x0300_02f0 | u64::from(l.minor) << 16);
        let fields = [
            (p.free_threaded, Some(u32::from(build.free_threaded))),
            (Some(p.runtime_interpreters_head), Some(l.runtime_interpreters_head)),
            (Some(p.interp_next), Some(l.interp_next)),
            (Some(p.interp_threads_head), Some(l.interp_threads_head)),
            (p.interp_imports_modules, Some(l.interp_modules)),
            (p.interp_gil_runtime_state, l.interp_gil_ptr),
            (p.interp_gil_runtime_state_locked, Some(l.gil_locked)),
            (p.interp_gil_runtime_state_holder, Some(l.gil_last_holder)),
            (Some(p.tstate_next), Some(l.tstate_next)),
            (Some(p.tstate_interp), Some(l.tstate_interp)),
            (Some(p.tstate_current_frame), Some(l.tstate_frame)),
            (Some(p.tstate_thread_id), Some(l.tstate_thread_id)),
            (Some(p.tstate_native_thread_id), l.tstate_native_thread_id),
            (p.tstate_datastack_chunk, l.tstate_datastack_chunk),
            (Some(p.frame_size), Some(l.frame_size)),
            (Some(p.frame_previous), Some(l.frame_back)),
            (Some(p.frame_executable), Some(l.frame_code)),
            (Some(p.frame_instr_ptr), Some(l.frame_instr)),
            (Some(p.frame_localsplus), Some(l.frame_localsplus)),
            (Some(p.frame_owner), l.frame_owner),
            (Some(p.code_size), Some(l.code_size)),
            (Some(p.code_filename), Some(l.code_filename)),
            (Some(p.code_name), Some(l.code_name)),
            (Some(p.code_qualname), l.code_qualname),
            (Some(p.code_linetable), Some(l.code_linetable)),
            (Some(p.code_firstlineno), Some(l.code_firstlineno)),
            (Some(p.code_argcount), Some(l.code_argcount)),
            (Some(p.code_localsplusnames), Some(l.code_varnames)),
            (Some(p.code_co_code_adaptive), l.code_code_adaptive),
            (Some(p.pyobject_ob_type), Some(l.object_type)),
            (Some(p.type_tp_name), Some(l.type_name)),
            (p.type_tp_flags, Some(l.type_flags)),
            (Some(p.tuple_ob_item), Some(l.tuple_items)),
            (p.tuple_ob_size, Some(l.tuple_size)),
            (Some(p.unicode_state), Some(l.unicode_state)),
            (Some(p.unicode_length), Some(l.unicode_length)),
            (Some(p.unicode_asciiobject_size), Some(l.unicode_ascii_size)),
            (p.long_lv_tag, Some(l.long_size_or_tag)),
            (p.long_ob_digit, Some(l.long_digits)),
            (p.float_ob_fval, Some(l.float_value)),
            (p.bytes_ob_size, Some(l.bytes_size)),
            (p.bytes_ob_sval, Some(l.bytes_data)),
            (p.dict_ma_keys, Some(l.dict_keys)),
            (p.dict_ma_values, Some(l.dict_values)),
            (p.type_tp_basicsize, Some(l.type_basicsize)),
            (p.type_tp_dictoffset, Some(l.type_dictoffset)),
            (p.heap_type_ht_cached_keys, Some(l.heap_type_cached_keys)),
            // The reader adds the GC state's place in the interpreter to the flag's place in it.
            (p.interp_gc, Some(0)),
            (p.gc_collecting, l.interp_gc_collecting),
            (p.list_ob_item, Some(l.list_items)),
            (p.set_used, Some(l.set_used)),
            (p.set_table, Some(l.set_table)),
            (p.set_mask, Some(l.set_mask)),
        ];
        for (position, value) in fields {
            if let (Some(position), Some(value)) = (position, value) {
                self.memory.put_u64(at(runtime, position), u64::from(value));
            }
        }
    }
}
