//! 3.13+: the target describes its own layout in `_Py_DebugOffsets`, the first member of
//! `_PyRuntime`. We read it, check its cookie and version, pick the table of the build it says it
//! is (`free_threaded`: 3.13t moves most offsets), and let it override that table, so a patch
//! release that moves a field (as 3.14.x did) still reads right.

use crate::memory::{field_u64, Memory};
use crate::python::debug_offsets_positions::DebugOffsetsPositions;
use crate::python::layout::{Build, Layout};
use crate::python::locate;
use crate::python::version::Version;
use crate::{Error, ErrorKind, Result};

pub const COOKIE: &[u8; 8] = b"xdebugpy";

/// No struct we read is anywhere near this large; a bigger "offset" means we are not reading
/// a real `_Py_DebugOffsets` (wrong address, or a build we do not understand).
const MAX_SANE_OFFSET: u64 = 1 << 20;

/// The layout of the 3.13+ CPython whose `_PyRuntime` is at `runtime_addr`: from its own
/// `_Py_DebugOffsets`, over the table of the build it says it is (free-threaded or not).
pub fn read_layout(memory: &dyn Memory, runtime_addr: u64, version: &Version) -> Result<Layout> {
    // The struct is the same in both ABIs of a minor, and `free_threaded` sits at the same place
    // in every 3.13+ build: read it with whichever positions there are, then take the build's own.
    let (major, minor) = (version.major, version.minor);
    let any_build = [false, true].map(|free_threaded| Build { major, minor, free_threaded });
    let positions =
        any_build.iter().find_map(|b| b.debug_offsets_positions()).ok_or_else(|| locate::unsupported(&version.to_string()))?;
    let mut raw = vec![0u8; positions.struct_size as usize];
    memory.read(runtime_addr, &mut raw)?;
    check_cookie_and_version(&raw, positions, version)?;
    let free_threaded = positions.free_threaded.is_some_and(|pos| field_u64(&raw, pos) != 0);
    let build = Build { major, minor, free_threaded };
    let shown = format!("{version}{}", if free_threaded { " (free-threaded)" } else { "" });
    let (Some(positions), Some(table)) = (build.debug_offsets_positions(), build.layout()) else {
        return Err(locate::unsupported(&shown));
    };
    raw.resize(positions.struct_size as usize, 0);
    memory.read(runtime_addr, &mut raw)?;
    layout_from_debug_offsets(&raw, positions, version, table)
}

fn check_cookie_and_version(raw: &[u8], positions: &DebugOffsetsPositions, version: &Version) -> Result<()> {
    if raw.get(..8) != Some(&COOKIE[..]) {
        return Err(Error::new(
            ErrorKind::UnsupportedVersion,
            format!("Python {version} has no valid _Py_DebugOffsets (cookie missing): cannot read its layout"),
        ));
    }
    let hex = field_u64(raw, positions.version);
    let (major, minor) = ((hex >> 24) & 0xff, (hex >> 16) & 0xff);
    if major != u64::from(version.major) || minor != u64::from(version.minor) {
        return Err(Error::new(
            ErrorKind::UnsupportedVersion,
            format!("Python {version}'s _Py_DebugOffsets says version {major}.{minor}: refusing to guess its layout"),
        ));
    }
    Ok(())
}

/// The layout `raw` (a target's `_Py_DebugOffsets`) describes, over `table`, the one compiled for
/// its build: the target's offsets win, and the table gives what the struct does not describe.
/// The object header is the ABI itself (16 bytes, 32 free-threaded): where the target's differs
/// from the table's, the table's other offsets would be wrong, so that is refused.
pub fn layout_from_debug_offsets(
    raw: &[u8],
    positions: &DebugOffsetsPositions,
    version: &Version,
    table: &Layout,
) -> Result<Layout> {
    check_cookie_and_version(raw, positions, version)?;
    let free_threaded = positions.free_threaded.is_some_and(|pos| field_u64(raw, pos) != 0);
    let header = field_u64(raw, positions.pyobject_ob_type);
    if free_threaded != table.gil_enabled.is_some() || header != u64::from(table.object_type) {
        let build = |ft: bool| format!("{}.{}{}", version.major, version.minor, if ft { "t" } else { "" });
        return Err(Error::new(
            ErrorKind::UnsupportedVersion,
            format!(
                "Python {version}'s _Py_DebugOffsets describe a {} build (object type at {header}), not the {} table's: refusing to guess its layout",
                build(free_threaded),
                build(table.gil_enabled.is_some())
            ),
        ));
    }
    let fallback = table;
    let mut bad_field = None;
    let mut get = |name: &'static str, pos: u32| -> u32 {
        let value = field_u64(raw, pos);
        if value >= MAX_SANE_OFFSET {
            bad_field.get_or_insert(name);
            return 0;
        }
        value as u32
    };
    let mut l = *fallback;
    l.runtime_interpreters_head = get("runtime_state.interpreters_head", positions.runtime_interpreters_head);
    l.interp_next = get("interpreter_state.next", positions.interp_next);
    l.interp_threads_head = get("interpreter_state.threads_head", positions.interp_threads_head);
    if let Some(pos) = positions.interp_imports_modules {
        l.interp_modules = get("interpreter_state.imports_modules", pos);
    }
    l.tstate_next = get("thread_state.next", positions.tstate_next);
    l.tstate_interp = get("thread_state.interp", positions.tstate_interp);
    l.tstate_frame = get("thread_state.current_frame", positions.tstate_current_frame);
    l.cframe_current_frame = None;
    l.tstate_thread_id = get("thread_state.thread_id", positions.tstate_thread_id);
    l.tstate_native_thread_id = Some(get("thread_state.native_thread_id", positions.tstate_native_thread_id));
    if let Some(pos) = positions.tstate_datastack_chunk {
        l.tstate_datastack_chunk = Some(get("thread_state.datastack_chunk", pos));
    }
    l.frame_size = get("interpreter_frame.size", positions.frame_size);
    l.frame_back = get("interpreter_frame.previous", positions.frame_previous);
    l.frame_code = get("interpreter_frame.executable", positions.frame_executable);
    l.frame_instr = get("interpreter_frame.instr_ptr", positions.frame_instr_ptr);
    l.frame_localsplus = get("interpreter_frame.localsplus", positions.frame_localsplus);
    l.frame_owner = Some(get("interpreter_frame.owner", positions.frame_owner));
    l.code_size = get("code_object.size", positions.code_size);
    l.code_filename = get("code_object.filename", positions.code_filename);
    l.code_name = get("code_object.name", positions.code_name);
    l.code_qualname = Some(get("code_object.qualname", positions.code_qualname));
    l.code_linetable = get("code_object.linetable", positions.code_linetable);
    l.code_firstlineno = get("code_object.firstlineno", positions.code_firstlineno);
    l.code_argcount = get("code_object.argcount", positions.code_argcount);
    l.code_varnames = get("code_object.localsplusnames", positions.code_localsplusnames);
    l.code_code_adaptive = Some(get("code_object.co_code_adaptive", positions.code_co_code_adaptive));
    l.object_type = get("pyobject.ob_type", positions.pyobject_ob_type);
    l.type_name = get("type_object.tp_name", positions.type_tp_name);
    if let Some(pos) = positions.type_tp_flags {
        l.type_flags = get("type_object.tp_flags", pos);
    }
    l.tuple_items = get("tuple_object.ob_item", positions.tuple_ob_item);
    if let Some(pos) = positions.tuple_ob_size {
        l.tuple_size = get("tuple_object.ob_size", pos);
    }
    l.unicode_state = get("unicode_object.state", positions.unicode_state);
    l.unicode_length = get("unicode_object.length", positions.unicode_length);
    let ascii_size = get("unicode_object.asciiobject_size", positions.unicode_asciiobject_size);
    // PyCompactUnicodeObject is PyASCIIObject plus utf8_length and utf8 (3.12+): keep that distance.
    l.unicode_compact_size = ascii_size + (fallback.unicode_compact_size - fallback.unicode_ascii_size);
    l.unicode_ascii_size = ascii_size;
    let optional = [
        (positions.long_lv_tag, &mut l.long_size_or_tag, "long_object.lv_tag"),
        (positions.long_ob_digit, &mut l.long_digits, "long_object.ob_digit"),
        (positions.float_ob_fval, &mut l.float_value, "float_object.ob_fval"),
        (positions.bytes_ob_size, &mut l.bytes_size, "bytes_object.ob_size"),
        (positions.bytes_ob_sval, &mut l.bytes_data, "bytes_object.ob_sval"),
        (positions.dict_ma_keys, &mut l.dict_keys, "dict_object.ma_keys"),
        (positions.dict_ma_values, &mut l.dict_values, "dict_object.ma_values"),
        (positions.type_tp_basicsize, &mut l.type_basicsize, "type_object.tp_basicsize"),
        (positions.type_tp_dictoffset, &mut l.type_dictoffset, "type_object.tp_dictoffset"),
        (positions.heap_type_ht_cached_keys, &mut l.heap_type_cached_keys, "heap_type_object.ht_cached_keys"),
        (positions.list_ob_item, &mut l.list_items, "list_object.ob_item"),
        (positions.set_used, &mut l.set_used, "set_object.used"),
        (positions.set_table, &mut l.set_table, "set_object.table"),
        (positions.set_mask, &mut l.set_mask, "set_object.mask"),
    ];
    for (pos, slot, name) in optional {
        if let Some(pos) = pos {
            *slot = get(name, pos);
        }
    }
    if let (Some(gc), Some(collecting)) = (positions.interp_gc, positions.gc_collecting) {
        let (gc, collecting) = (get("interpreter_state.gc", gc), get("gc.collecting", collecting));
        l.interp_gc_collecting = Some(gc + collecting);
    }
    if let Some(name) = bad_field {
        return Err(Error::new(
            ErrorKind::UnsupportedVersion,
            format!("Python {version}'s _Py_DebugOffsets has an impossible value for {name}: cannot read its layout"),
        ));
    }
    Ok(l)
}
