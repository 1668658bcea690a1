//! `--locals` is only what the user asked for: local variables are read by `dump` when its
//! `locals` option is set, and by nothing else — never by a record, whatever its options.
//!
//! Checked on the sources (see `no_code_runs_in_the_target.rs` for why a scan suits a "never"):
//! the code that finds and decodes locals is one function, `read_locals` in python/dump.rs, over
//! the `python::objects` module; what locates them in a frame is the layout's `frame_localsplus`
//! and the code object's `varnames_addr`. None of these may be named outside dump.rs, and there
//! only behind `options.locals`. The sampler shares the stack walk with dump (python/stack.rs);
//! that walk copies frame memory in whole blocks, so the raw slots of locals can be among the
//! bytes copied, but nothing outside dump.rs follows or decodes them.

mod sources;

use sources::{calls, profiler_sources, word_positions, SourceFile};

const DUMP: &str = "pyspy-core/src/python/dump.rs";

/// Where each locals-reading name may appear besides dump.rs: its own definition or declaration.
const LOCALS_NAMES: &[(&str, &[&str])] =
    &[("read_locals", &[]), ("objects", &["pyspy-core/src/python/mod.rs", "pyspy-core/src/python/objects.rs"])];

/// Fields that locate locals in the target; a read of one is `.field` not followed by `=`.
const LOCALS_FIELDS: &[&str] = &["frame_localsplus", "varnames_addr"];

/// Where offsets are defined and derived (tables, `_Py_DebugOffsets`), not used to read anything.
const LAYOUT_DEFINITIONS: &[&str] = &["pyspy-core/src/python/layout", "pyspy-core/src/python/debug_offsets"];

fn violations(files: &[SourceFile]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let code = &file.code;
        let mut report = |at: usize, what: String| found.push(format!("{}:{}: {what}", file.path, file.line_of(at)));
        if file.path == DUMP {
            for (at, _) in calls(code, "read_locals") {
                let line_start = code[..at].rfind('\n').map_or(0, |i| i + 1);
                let is_definition = code[line_start..at].contains("fn ");
                if !is_definition && !code[line_start..at].contains("options.locals") {
                    report(at, "read_locals() not behind options.locals".into());
                }
            }
            continue;
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
        for field in LOCALS_FIELDS.iter().filter(|_| !defines_layouts) {
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
    // Not vacuous: the reader is where the scan expects it, and behind the option.
    let dump = files.iter().find(|f| f.path == DUMP).expect("python/dump.rs");
    assert!(calls(&dump.code, "read_locals").len() >= 2, "read_locals is no longer defined and called in dump.rs");
}

#[test]
fn the_sampler_has_no_locals_at_all() {
    // Nothing in the record path could even carry a local: no option, no field, no use of dump.
    for file in profiler_sources()
        .iter()
        .filter(|f| f.path.starts_with("pyspy-core/src/sampler/") || f.path.starts_with("pyspy-core/src/profile/"))
    {
        for word in ["locals", "LocalVariable", "dump", "DumpOptions"] {
            let at = word_positions(&file.code, word);
            assert!(at.is_empty(), "{}:{}: {word} in the record path", file.path, file.line_of(at[0]));
        }
    }
}

#[test]
fn reading_locals_elsewhere_is_caught() {
    let cases = [
        ("pyspy-core/src/sampler/mod.rs", "let repr = crate::python::objects::short_repr(memory, layout, value)?;"),
        ("pyspy-core/src/sampler/mod.rs", "use crate::python::objects;"),
        ("pyspy-core/src/python/stack.rs", "let slots = at(frame.frame_addr, layout.frame_localsplus);"),
        ("pyspy-core/src/python/stack.rs", "let names = tuple(memory, code.varnames_addr);"),
        ("pyspy-napi/src/lib.rs", "pyspy_core::python::objects::short_repr(&process, &layout, addr)"),
        (DUMP, "locals: Some(read_locals(memory, &python.layout, &f.code, &f.raw)),"),
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
        (DUMP, "locals: options.locals.then(|| read_locals(memory, &python.layout, &f.code, &f.raw)),"),
        (DUMP, "fn read_locals(memory: &dyn Memory) -> Vec<LocalVariable> {"),
    ];
    for (path, case) in allowed {
        let found = violations(&[SourceFile::new(path, case)]);
        assert!(found.is_empty(), "wrongly flagged in {path}: {case}: {found:?}");
    }
}
