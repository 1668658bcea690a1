//! The dump as JSON, in the napi binding's shape (`@pyspy/napi`'s `ProcessDump`, which the
//! TypeScript API re-exports): the same fields in the same order, absent options left out, so
//! that the two backends print byte-identical JSON (tests/core.test.ts checks it). napi-rs sets an
//! object's `Option` fields after all the others, so they come last here too.

use pyspy_core::profile::FrameKind;
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
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
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
    free_threaded: bool,
    executable: String,
    command_line: Vec<String>,
    threads: Vec<ThreadDump>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loops: Option<Vec<LoopDump>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoopDump {
    address: u64,
    loop_type: String,
    tasks: Vec<TaskDump>,
    #[serde(skip_serializing_if = "Option::is_none")]
    native_thread_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    running_task: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDump {
    address: u64,
    name: String,
    default_name: bool,
    state: &'static str,
    coroutine_stack: Vec<FrameDump>,
    awaited_by: Vec<u64>,
}

fn frame_dump(f: pyspy_core::FrameDump) -> FrameDump {
    FrameDump {
        name: f.name,
        filename: f.filename,
        short_filename: f.short_filename,
        line: f.line,
        locals: f
            .locals
            .map(|ls| ls.into_iter().map(|l| LocalVariable { name: l.name, repr: l.repr, is_arg: l.is_arg }).collect()),
        kind: (f.kind != FrameKind::Python).then(|| f.kind.as_str().to_string()),
    }
}

impl From<pyspy_core::ProcessDump> for ProcessDump {
    fn from(d: pyspy_core::ProcessDump) -> Self {
        ProcessDump {
            pid: d.pid,
            python_version: d.python_version,
            free_threaded: d.free_threaded,
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
                    frames: t.frames.into_iter().map(frame_dump).collect(),
                })
                .collect(),
            loops: d.loops.map(|loops| {
                loops
                    .into_iter()
                    .map(|l| LoopDump {
                        address: l.address,
                        loop_type: l.loop_type,
                        native_thread_id: l.native_thread_id,
                        running_task: l.running_task,
                        tasks: l
                            .tasks
                            .into_iter()
                            .map(|t| TaskDump {
                                address: t.address,
                                name: t.name,
                                default_name: t.default_name,
                                state: t.state,
                                coroutine_stack: t.coroutine_stack.into_iter().map(frame_dump).collect(),
                                awaited_by: t.awaited_by,
                            })
                            .collect(),
                    })
                    .collect()
            }),
        }
    }
}
