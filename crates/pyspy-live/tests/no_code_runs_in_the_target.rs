//! "No code ever runs in the target": the profiler only reads the target's memory and stops and
//! resumes its threads; it never writes to it, never changes its registers, never makes it execute
//! anything, and never sends it a signal (a signal runs the target's handler).
//!
//! Why a scan of our own sources rather than a run under strace or seccomp: the property is a
//! "never", over every path, and the paths that would break it are the rare ones (an error
//! branch, a fallback for an old kernel) that no test run reaches. The ways one Linux process can
//! change another are few, closed and each spelled by one name in Rust source — a system call
//! (`process_vm_writev`), a ptrace request (`PTRACE_POKEDATA`, `PTRACE_SETREGS`, `PTRACE_CONT`
//! after changing registers, ...), a write to `/proc/PID/mem`, a signal — so a list of names and
//! of the arguments allowed with them covers every path at once, including code not yet written.
//! The rules below allow exactly what `process/pause.rs`, `process/native_thread.rs` and `process/linux.rs` need, and each
//! new use must be argued for here.
//!
//! What it does not see: code inside dependencies. Ours do not touch other processes (`object`
//! parses bytes we read, `thiserror` and `log` do not do I/O, `libc` and `nix` only wrap calls,
//! which are checked where we make them).

mod sources;

use sources::{calls, identifiers_starting_with, profiler_sources, word_positions, SourceFile};

/// Words that have no use but changing another process.
const FORBIDDEN_WORDS: &[(&str, &str)] = &[
    ("process_vm_writev", "writes another process's memory"),
    ("SYS_process_vm_writev", "writes another process's memory"),
    ("SYS_ptrace", "ptrace as a raw system call escapes the request check"),
    ("SYS_kill", "sends a signal"),
    ("SYS_tgkill", "sends a signal"),
    ("SYS_pidfd_send_signal", "sends a signal"),
    ("SYS_rt_sigqueueinfo", "sends a signal"),
    ("SYS_rt_tgsigqueueinfo", "sends a signal"),
];

/// Functions whose every call sends a signal to a process: the target would run its handler.
const SIGNAL_SENDERS: &[&str] = &["kill", "killpg", "tgkill", "pidfd_send_signal", "sigqueue"];

/// The ptrace requests a pause needs: SEIZE (attach without a signal), INTERRUPT (stop),
/// DETACH (resume); and GETREGS, which reads (never writes) a held thread's registers, where a
/// native stack starts (`process/native_thread.rs`). Nothing that writes registers or memory, or
/// resumes into anything.
const ALLOWED_PTRACE_REQUESTS: &[&str] = &["PTRACE_SEIZE", "PTRACE_INTERRUPT", "PTRACE_DETACH", "PTRACE_GETREGS"];

/// `PTRACE_*` names that are not requests and may appear: the kind of stop a wait status reports.
const ALLOWED_PTRACE_CONSTANTS: &[&str] = &["PTRACE_EVENT_STOP"];

/// nix's ptrace functions that are the allowed requests.
const ALLOWED_NIX_PTRACE: &[&str] = &["seize", "interrupt", "detach"];

/// What makes a file opened by name writable: together with a `/proc/PID/mem` path, a write into the target.
const WRITE_OPENERS: &[&str] =
    &[".write(true)", ".append(true)", "O_RDWR", "O_WRONLY", "File::create", "fs::write", "write_at", "pwrite"];

fn without_libc(arg: &str) -> &str {
    arg.trim_start_matches("libc::").trim()
}

fn is_zero(arg: &str) -> bool {
    matches!(arg, "0" | "0usize" | "0u64" | "0i64" | "0isize" | "0 as usize" | "0 as libc::c_ulong")
}

/// Every way `files` could change the process they look at, as "path:line: what (why)".
fn violations(files: &[SourceFile]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let code = &file.code;
        let mut report = |at: usize, what: String| found.push(format!("{}:{}: {what}", file.path, file.line_of(at)));

        for (word, why) in FORBIDDEN_WORDS {
            for at in word_positions(code, word) {
                report(at, format!("{word} ({why})"));
            }
        }
        for macro_name in ["asm", "global_asm", "naked_asm"] {
            for at in word_positions(code, macro_name) {
                if code[at + macro_name.len()..].starts_with('!') {
                    report(at, format!("{macro_name}! (inline assembly can make any system call)"));
                }
            }
        }
        for name in SIGNAL_SENDERS {
            for (at, _) in calls(code, name) {
                report(at, format!("{name}() (sends a signal: the target runs its handler)"));
            }
        }

        for (at, name) in identifiers_starting_with(code, "PTRACE_") {
            if !ALLOWED_PTRACE_REQUESTS.contains(&name) && !ALLOWED_PTRACE_CONSTANTS.contains(&name) {
                report(at, format!("{name} (not one of the ptrace requests a pause needs: {ALLOWED_PTRACE_REQUESTS:?})"));
            }
        }
        for (at, args) in calls(code, "ptrace") {
            let request = args.first().map_or("", |a| without_libc(a));
            if !ALLOWED_PTRACE_REQUESTS.contains(&request) {
                report(at, format!("ptrace({request}, ...) (the request must be named, and one of {ALLOWED_PTRACE_REQUESTS:?})"));
            } else if request == "PTRACE_SEIZE" && !args.get(3).is_some_and(|a| is_zero(a)) {
                // Options could ask for PTRACE_O_EXITKILL (the target dies with us) or for stops
                // at every exec, clone or system call: a seize for a pause takes none.
                report(at, format!("ptrace(PTRACE_SEIZE, ...) with options {:?} (a pause seizes with none)", args.get(3)));
            }
        }
        for (at, args) in calls(code, "syscall") {
            let number = args.first().map_or("", |a| without_libc(a));
            let allowed = match number {
                // A descriptor that becomes readable when the target exits; it grants nothing more.
                "SYS_pidfd_open" => true,
                // Signal 0 only asks whether a thread exists; anything else is delivered.
                "SYS_tkill" => args.get(2).is_some_and(|a| is_zero(a)),
                // Thread 0 is the calling thread: the sampler sets its own scheduling, no other.
                "SYS_sched_setattr" => args.get(1).is_some_and(|a| is_zero(a)),
                _ => false,
            };
            if !allowed {
                report(
                    at,
                    format!(
                        "syscall({}) (raw system calls are limited to pidfd_open, tkill with signal 0 and sched_setattr of the calling thread)",
                        args.join(", ")
                    ),
                );
            }
        }
        for (at, _) in code.match_indices("ptrace::") {
            let rest = &code[at + "ptrace::".len()..];
            let names: Vec<&str> = if let Some(list) = rest.strip_prefix('{') {
                list[..list.find('}').unwrap_or(list.len())].split(',').map(str::trim).filter(|n| !n.is_empty()).collect()
            } else {
                vec![rest.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '*')).next().unwrap_or("")]
            };
            for name in names {
                let name = name.split_whitespace().next().unwrap_or(name); // `detach as release`
                if !ALLOWED_NIX_PTRACE.contains(&name) {
                    report(at, format!("ptrace::{name} (of nix's ptrace API only {ALLOWED_NIX_PTRACE:?} are pause requests)"));
                }
            }
        }

        let names_mem_file = code.contains("/mem\"") || code.contains("\"mem\"");
        if names_mem_file {
            for opener in WRITE_OPENERS {
                for (at, _) in code.match_indices(opener) {
                    report(at, format!("{opener} in a file that names /proc/PID/mem (the target's memory, writable through it)"));
                }
            }
        }
    }
    found
}

#[test]
fn the_profiler_never_writes_to_the_target_nor_makes_it_run_anything() {
    let found = violations(&profiler_sources());
    assert!(found.is_empty(), "ways to change the target found in the sources:\n{}", found.join("\n"));
}

#[test]
fn the_scan_sees_the_ptrace_requests_pause_rs_and_native_thread_rs_make() {
    // Guards against a scan that passes because it reads nothing (a moved directory, a lexer that
    // swallows code as a comment).
    let files = profiler_sources();
    let pause = files.iter().find(|f| f.path.ends_with("process/pause.rs")).expect("process/pause.rs");
    let native = files.iter().find(|f| f.path.ends_with("process/native_thread.rs")).expect("process/native_thread.rs");
    let requests: Vec<String> = [pause, native]
        .iter()
        .flat_map(|f| calls(&f.code, "ptrace"))
        .map(|(_, args)| without_libc(args[0]).to_string())
        .collect();
    for expected in ALLOWED_PTRACE_REQUESTS {
        assert!(
            requests.iter().any(|r| r == expected),
            "no ptrace({expected}) call seen in pause.rs or native_thread.rs; seen {requests:?}"
        );
    }
    let linux = files.iter().find(|f| f.path.ends_with("process/linux.rs")).expect("process/linux.rs");
    assert!(!word_positions(&linux.code, "process_vm_readv").is_empty(), "the memory reader is not where the scan looks");
}

#[test]
fn each_way_of_changing_a_process_is_caught() {
    let cases = [
        "unsafe { libc::process_vm_writev(pid, &local, 1, &remote, 1, 0) };",
        "nix::sys::uio::process_vm_writev(pid, &local, &remote)?;",
        "libc::ptrace(libc::PTRACE_POKEDATA, tid, addr, word);",
        "libc::ptrace(libc::PTRACE_POKETEXT, tid, addr, word);",
        "libc::ptrace(libc::PTRACE_POKEUSER, tid, offset, word);",
        "libc::ptrace(libc::PTRACE_SETREGS, tid, 0, &regs);",
        "libc::ptrace(libc::PTRACE_SETREGSET, tid, NT_PRSTATUS, &iov);",
        "libc::ptrace(libc::PTRACE_SYSCALL, tid, 0, 0);",
        "libc::ptrace(libc::PTRACE_CONT, tid, 0, 0);",
        "libc::ptrace(libc::PTRACE_SINGLESTEP, tid, 0, 0);",
        "libc::ptrace(libc::PTRACE_ATTACH, tid, 0, 0);",
        "libc::ptrace(request, tid, 0, 0);",
        "libc::ptrace(5, tid, addr, word);",
        "libc::ptrace(libc::PTRACE_SEIZE, tid, 0usize, libc::PTRACE_O_EXITKILL as usize);",
        "libc::ptrace(libc::PTRACE_SEIZE, tid, 0usize, 0x100000usize);",
        "libc::syscall(libc::SYS_ptrace, 5, tid, addr, word);",
        "libc::syscall(libc::SYS_tkill, tid, libc::SIGUSR1);",
        "libc::syscall(libc::SYS_process_vm_writev, pid, l, 1, r, 1, 0);",
        "libc::syscall(libc::SYS_sched_setattr, tid, &attr as *const SchedAttr, 0u32);",
        "libc::kill(pid, libc::SIGUSR1);",
        "nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGINT)?;",
        "use nix::sys::ptrace; ptrace::write(pid, addr, word)?;",
        "nix::sys::ptrace::setregs(pid, regs)?;",
        "nix::sys::ptrace::cont(pid, None)?;",
        "use nix::sys::ptrace::{seize, write};",
        "use nix::sys::ptrace::*;",
        "unsafe { std::arch::asm!(\"syscall\") };",
        "let f = OpenOptions::new().write(true).open(format!(\"/proc/{pid}/mem\"))?;",
        "let f = OpenOptions::new().read(true).write(true).open(self.proc_path(\"mem\"))?; f.write_at(&word, addr)?;",
    ];
    for case in cases {
        let found = violations(&[SourceFile::new("case.rs", case)]);
        assert!(!found.is_empty(), "not caught: {case}");
    }
}

#[test]
fn what_a_pause_needs_is_allowed() {
    let allowed = [
        "unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0usize, 0usize) }",
        "unsafe { libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0usize, 0usize) }",
        "unsafe { libc::ptrace(libc::PTRACE_DETACH, tid as libc::pid_t, 0usize, signal as usize) == 0 }",
        "if event == libc::PTRACE_EVENT_STOP { 0 }",
        "libc::syscall(libc::SYS_tkill, tid as i32, 0) == 0",
        "libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0)",
        "libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0u32) == 0",
        "libc::process_vm_readv(pid, local.as_ptr(), n, remote.as_ptr(), n, 0)",
        "// we never call process_vm_writev or PTRACE_POKEDATA",
        "/* libc::kill(pid, SIGSTOP) would show in the target's job control */",
        "let msg = \"grant CAP_SYS_PTRACE\";",
        "std::fs::read_to_string(format!(\"/proc/{pid}/task/{tid}/stat\"))",
        "let file = File::open(self.proc_path(\"mem\"))?; file.read_at(&mut buf, addr)?;",
    ];
    for case in allowed {
        let found = violations(&[SourceFile::new("case.rs", case)]);
        assert!(found.is_empty(), "wrongly flagged: {case}: {found:?}");
    }
}

#[test]
fn the_source_reader_blanks_comments_and_keeps_strings() {
    let code = sources::strip_comments(
        "let a = \"// not a comment\"; // process_vm_writev\n/* outer /* PTRACE_POKEDATA */ still */ let b = '\"';\nlet c = r#\"/* kept */\"#; fn f<'a>(x: &'a str) {}\nlet d = '\\''; let e = '\\\\'; let f = b'\"'; let g = '\\u{1F40D}'; let h = \"after\"; // gone",
    );
    assert!(code.contains("\"// not a comment\""));
    assert!(!code.contains("process_vm_writev"));
    assert!(!code.contains("PTRACE_POKEDATA"));
    assert!(!code.contains("still"));
    assert!(code.contains("let b = '\"';"));
    assert!(code.contains("r#\"/* kept */\"#"));
    assert!(code.contains("fn f<'a>(x: &'a str) {}"));
    assert!(code.contains("let d = '\\''; let e = '\\\\'; let f = b'\"'; let g = '\\u{1F40D}'; let h = \"after\";"));
    assert!(!code.contains("gone"));
    assert_eq!(code.matches('\n').count(), 3);
}

#[test]
fn the_source_reader_splits_calls_at_top_level_commas() {
    let code = "unsafe { libc::ptrace(libc::PTRACE_DETACH, tid as libc::pid_t, f(0, 1), [a, b]) }; use libc::ptrace;";
    let found = calls(code, "ptrace");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, vec!["libc::PTRACE_DETACH", "tid as libc::pid_t", "f(0, 1)", "[a, b]"]);
}
