//! 3.14+ publishes where its asyncio structs keep what an outside reader needs, in a section of
//! the binary that holds `_asyncio` (`.AsyncioDebug`: `_Py_AsyncioModuleDebugOffsets`), as it
//! publishes `_Py_DebugOffsets` for the interpreter. These offsets win over the generated table:
//! a debug build's interpreter state, for one, is larger than the release headers say.

use object::{Object, ObjectSection};

use crate::process::{MappedFile, ProcessSource};
use crate::python::asyncio_layout::AsyncioLayout;
use crate::{Error, Result};

/// `_Py_AsyncioModuleDebugOffsets`: task {size, task_name, task_awaited_by, task_is_task,
/// task_awaited_by_is_set, task_coro, task_node}, interpreter state {size, asyncio_tasks_head},
/// thread state {size, asyncio_running_loop, asyncio_running_task, asyncio_tasks_head}.
const WORDS: usize = 13;

/// The section's words, from the module file that holds `_asyncio` (a shared object, or the
/// executable or libpython when it is built in); None when no mapped file has one (before 3.14,
/// or `_asyncio` not loaded yet).
pub fn published_offsets(source: &dyn ProcessSource) -> Result<Option<Vec<u64>>> {
    let maps = source.maps()?;
    let mut paths: Vec<String> = Vec::new();
    let file_name = |path: &str| path.rsplit('/').next().unwrap_or(path).to_string();
    for rank in 0..2 {
        for path in maps.iter().filter_map(|m| m.path.as_deref()) {
            let name = file_name(path);
            let wanted = if rank == 0 { name.starts_with("_asyncio") } else { name.starts_with("libpython") };
            if wanted && name.contains(".so") && !paths.iter().any(|p| p == path) {
                paths.push(path.to_string());
            }
        }
    }
    paths.push(source.executable()?);
    for path in paths {
        let words = match source.read_mapped_file(&path) {
            Ok(MappedFile::Bytes(bytes)) => section_words(bytes.as_slice()),
            Ok(MappedFile::File(file)) => section_words(&object::ReadCache::new(file)),
            Err(_) => continue,
        };
        if let Some(words) = words {
            return Ok(Some(words));
        }
    }
    Ok(None)
}

fn section_words<'data>(data: impl object::ReadRef<'data>) -> Option<Vec<u64>> {
    let elf = object::File::parse(data).ok()?;
    let section = elf.sections().find(|s| s.name().is_ok_and(|n| n.trim_start_matches('.') == "AsyncioDebug"))?;
    let bytes = section.data().ok()?;
    Some(bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect())
}

/// Puts the published offsets into `layout`.
pub(crate) fn apply(layout: &mut AsyncioLayout, words: &[u64]) -> Result<()> {
    if words.len() < WORDS || layout.task_node.is_none() {
        return Err(Error::read_failed(format!("the AsyncioDebug section has {} words, not {WORDS}", words.len())));
    }
    let [task_size, name, awaited_by, is_task, awaited_by_is_set, coro, node, _interp_size, interp_head, _tstate_size, running_loop, running_task, tstate_head] =
        <[u64; WORDS]>::try_from(&words[..WORDS]).unwrap();
    if task_size != layout.task_size || coro != layout.task_coro {
        return Err(Error::read_failed(format!(
            "this build's asyncio Task is not 3.{}'s (size {task_size}, coroutine at {coro}; expected {} and {})",
            layout.minor, layout.task_size, layout.task_coro
        )));
    }
    layout.task_name = name;
    layout.future_awaited_by = Some(awaited_by);
    layout.future_is_task = Some(is_task);
    layout.future_awaited_by_is_set = Some(awaited_by_is_set);
    layout.task_node = Some(node);
    layout.interp_asyncio_tasks_head = Some(interp_head);
    layout.tstate_asyncio_running_loop = Some(running_loop);
    layout.tstate_asyncio_running_task = Some(running_task);
    layout.tstate_asyncio_tasks_head = Some(tstate_head);
    Ok(())
}
