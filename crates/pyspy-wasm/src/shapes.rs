//! The dump as JSON, in the napi binding's shape (`@pyspy/napi`'s `ProcessDump`, which the
//! TypeScript API re-exports): the same fields in the same order, absent options left out, so
//! that the two backends print byte-identical JSON (tests/core.test.ts checks it). napi-rs sets an
//! object's `Option` fields after all the others, so they come last here too.

use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalVariable {
    name: String,
    repr: String,
    is_arg: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameDump {
    name: String,
    filename: String,
    short_filename: String,
    line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    locals: Option<Vec<LocalVariable>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadDump {
    native_thread_id: u64,
    python_thread_id: u64,
    active: bool,
    owns_gil: bool,
    frames: Vec<FrameDump>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessDump {
    pid: u32,
    python_version: String,
    executable: String,
    command_line: Vec<String>,
    threads: Vec<ThreadDump>,
}

impl From<pyspy_core::ProcessDump> for ProcessDump {
    fn from(d: pyspy_core::ProcessDump) -> Self {
        ProcessDump {
            pid: d.pid,
            python_version: d.python_version,
            executable: d.executable,
            command_line: d.command_line,
            threads: d
                .threads
                .into_iter()
                .map(|t| ThreadDump {
                    native_thread_id: t.native_thread_id,
                    python_thread_id: t.python_thread_id,
                    name: t.name,
                    active: t.active,
                    owns_gil: t.owns_gil,
                    frames: t
                        .frames
                        .into_iter()
                        .map(|f| FrameDump {
                            name: f.name,
                            filename: f.filename,
                            short_filename: f.short_filename,
                            line: f.line,
                            locals: f.locals.map(|ls| {
                                ls.into_iter().map(|l| LocalVariable { name: l.name, repr: l.repr, is_arg: l.is_arg }).collect()
                            }),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
