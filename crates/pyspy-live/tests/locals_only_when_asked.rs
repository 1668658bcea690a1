//! `--locals` is only what the user asked for: local variables are read by `dump` when its
//! `locals` option is set, and by nothing else — never by a record, whatever its options.
//!
//! Checked on the sources (see `no_code_runs_in_the_target.rs` for why a scan suits a "never"):
//! the code that finds and decodes locals is one function, `read_locals` in python/locals.rs, over
//! the `python::objects` module; what locates them in a frame is the layout's `frame_localsplus`
//! and the code object's `varnames_addr`. None of these may be named elsewhere, but for the one
//! call in the read pipeline (python/stacks.rs), behind its `options.locals`; and only dump.rs may
//! ask the pipeline for locals. The sampler shares the pipeline with dump; the walk copies frame
//! memory in whole blocks, so the raw slots of locals can be among the bytes copied, but nothing
//! follows or decodes them unless asked.
//!
//! `--async` looks at two things near locals, never at a value: the slot at the top of a suspended
//! coroutine's value stack (what it awaits; `iframe_localsplus`, only in asyncio/coroutines.rs),
//! and, for `dump --async` alone, which tasks a coroutine's slots refer to (`slot_references`,
//! only in asyncio/snapshot.rs, which the sampler does not call).

mod sources;

use sources::{calls, profiler_sources, word_positions, SourceFile};

const READER: &str = "pyspy-core/src/python/locals.rs";
const PIPELINE: &str = "pyspy-core/src/python/stacks.rs";
const DUMP: &str = "pyspy-core/src/dump.rs";

/// Where each locals-reading name may appear besides the reader: declarations and definitions.
const LOCALS_NAMES: &[(&str, &[&str])] = &[
    ("read_locals", &[PIPELINE]),
    ("objects", &["pyspy-core/src/python/mod.rs", "pyspy-core/src/python/objects.rs"]),
    ("slot_references", &[ASYNC_SNAPSHOT]),
];

/// `dump --async`'s snapshot: the one caller of `slot_references`.
const ASYNC_SNAPSHOT: &str = "pyspy-core/src/python/asyncio/snapshot.rs";

/// Fields that locate locals in the target; a read of one is `.field` not followed by `=`.
const LOCALS_FIELDS: &[&str] = &["frame_localsplus", "varnames_addr", "iframe_localsplus"];

/// Where a locals field may be read besides the reader: 3.11-3.13's value stack base, for the
/// awaited object at its top.
const FIELD_READERS: &[(&str, &str)] = &[("iframe_localsplus", "pyspy-core/src/python/asyncio/coroutines.rs")];

/// Where offsets are defined and derived (tables, `_Py_DebugOffsets`, AsyncioDebug), not used to read anything.
const LAYOUT_DEFINITIONS: &[&str] = &[
    "pyspy-core/src/python/layout",
    "pyspy-core/src/python/debug_offsets",
    "pyspy-core/src/python/asyncio_layout",
    "pyspy-core/src/python/asyncio/published.rs",
];

/// The record path: it must not even be able to carry a local.
const RECORD_PATH: &[&str] = &["pyspy-live/src/sampler/", "pyspy-core/src/profile/"];

fn violations(files: &[SourceFile]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let code = &file.code;
        let mut report = |at: usize, what: String| found.push(format!("{}:{}: {what}", file.path, file.line_of(at)));
        if file.path == READER {
            continue;
        }
        if file.path == PIPELINE {
            for (at, _) in calls(code, "read_locals") {
                let line_start = code[..at].rfind('\n').map_or(0, |i| i + 1);
                if !code[line_start..at].contains("options.locals") {
                    report(at, "read_locals() not behind options.locals".into());
                }
            }
        }
        // Asking the pipeline for locals: `locals: <anything but false>` in a ReadOptions.
        if file.path != DUMP && file.path != PIPELINE {
            let mut from = 0;
            while let Some(i) = code[from..].find("ReadOptions {") {
                let at = from + i;
                let end = code[at..].find('}').map_or(code.len(), |e| at + e);
                if code[at..end].contains("locals") && !code[at..end].contains("locals: false") {
                    report(at, "ReadOptions asking for locals outside dump.rs".into());
                }
                from = at + 1;
            }
        }
        for (name, allowed_in) in LOCALS_NAMES {
            if allowed_in.contains(&file.path.as_str()) {
                continue;
            }
            for at in word_positions(code, name) {
                report(at, format!("{name} (reads local variables; only dump --locals may)"));
            }
        }
        let defines_layouts = LAYOUT_DEFINITIONS.iter().any(|prefix| file.path.starts_with(prefix));
        let reads_field = |field: &str| FIELD_READERS.contains(&(field, file.path.as_str()));
        for field in LOCALS_FIELDS.iter().filter(|f| !defines_layouts && !reads_field(f)) {
            for at in word_positions(code, field) {
                let read = code[..at].ends_with('.') && !code[at + field.len()..].trim_start().starts_with('=');
                if read {
                    report(at, format!(".{field} (locates local variables; only dump --locals may)"));
                }
            }
        }
    }
    found
}

#[test]
fn only_dump_with_its_locals_option_reads_local_variables() {
    let files = profiler_sources();
    let found = violations(&files);
    assert!(found.is_empty(), "local variables read outside dump --locals:\n{}", found.join("\n"));
    // Not vacuous: the reader is where the scan expects it, called behind the option, and dump asks.
    let reader = files.iter().find(|f| f.path == READER).expect("python/locals.rs");
    assert_eq!(calls(&reader.code, "read_locals").len(), 1, "read_locals is no longer defined in locals.rs");
    let pipeline = files.iter().find(|f| f.path == PIPELINE).expect("python/stacks.rs");
    assert_eq!(calls(&pipeline.code, "read_locals").len(), 1, "read_locals is no longer called in stacks.rs");
    let dump = files.iter().find(|f| f.path == DUMP).expect("dump.rs");
    assert!(dump.code.contains("ReadOptions { locals: options.locals }"), "dump.rs no longer passes its option on");
}

#[test]
fn the_record_path_has_no_locals_at_all() {
    // Nothing in the record path could even carry a local: no option, no field, no use of dump.
    let files = profiler_sources();
    let record_files: Vec<_> = files.iter().filter(|f| RECORD_PATH.iter().any(|p| f.path.starts_with(p))).collect();
    assert!(record_files.len() >= 3, "the record path moved: {:?}", record_files.iter().map(|f| &f.path).collect::<Vec<_>>());
    for file in record_files {
        for word in ["locals", "LocalVariable", "dump", "DumpOptions"] {
            let at = word_positions(&file.code, word);
            assert!(at.is_empty(), "{}:{}: {word} in the record path", file.path, file.line_of(at[0]));
        }
    }
}

#[test]
fn reading_locals_elsewhere_is_caught() {
    let cases = [
        ("pyspy-live/src/sampler/run.rs", "let repr = pyspy_core::python::objects::short_repr(memory, layout, value)?;"),
        ("pyspy-live/src/sampler/run.rs", "use pyspy_core::python::objects;"),
        ("pyspy-live/src/sampler/run.rs", "reader.read(&memory, python, tids, ReadOptions { locals: true })"),
        ("pyspy-core/src/python/frames.rs", "let slots = at(frame.frame_addr, layout.frame_localsplus);"),
        ("pyspy-core/src/python/stacks.rs", "let names = tuple(memory, code.varnames_addr);"),
        ("pyspy-napi/src/lib.rs", "pyspy_core::python::objects::short_repr(&process, &layout, addr)"),
        ("pyspy-live/src/sampler/tasks.rs", "let held = locals::slot_references(memory, layout, &code, &raw);"),
        ("pyspy-core/src/python/asyncio/mod.rs", "let top = frame.wrapping_add(l.iframe_localsplus.unwrap_or(0));"),
        (PIPELINE, "let locals = locals::read_locals(memory, layout, &code, raw);"),
    ];
    for (path, case) in cases {
        assert!(!violations(&[SourceFile::new(path, case)]).is_empty(), "not caught in {path}: {case}");
    }
    let allowed = [
        (
            "pyspy-core/src/python/debug_offsets.rs",
            "l.frame_localsplus = get(\"interpreter_frame.localsplus\", positions.frame_localsplus);",
        ),
        ("pyspy-core/src/python/layouts/v3_14.rs", "frame_localsplus: 80,"),
        ("pyspy-core/src/python/code.rs", "varnames_addr: field_u64(header, layout.code_varnames),"),
        (PIPELINE, "let locals = if options.locals { locals::read_locals(memory, layout, &code, raw) } else { None };"),
        (DUMP, "StackReader::default().read(memory, python, tids, ReadOptions { locals: options.locals })?;"),
        ("pyspy-live/src/sampler/run.rs", "reader.read(&memory, python, tids, ReadOptions::default())"),
        (ASYNC_SNAPSHOT, "out.extend(locals::slot_references(self.memory, &self.python.layout, &frame.code, &frame.raw));"),
        ("pyspy-core/src/python/asyncio/coroutines.rs", "let base = frame.wrapping_add(l.iframe_localsplus.unwrap_or(0));"),
    ];
    for (path, case) in allowed {
        let found = violations(&[SourceFile::new(path, case)]);
        assert!(found.is_empty(), "wrongly flagged in {path}: {case}: {found:?}");
    }
}
