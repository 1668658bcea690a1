//! `cargo run -p pyspy-live --example dump -- PID [--locals] [--async] [--native] [--native-all]`: the core's
//! dump without Node, for debugging the walkers and the native stage.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pid: u32 =
        args.first().and_then(|a| a.parse().ok()).expect("usage: dump PID [--locals] [--async] [--native] [--native-all]");
    let flag = |name: &str| args.iter().any(|a| a == name);
    let (locals, native_all) = (flag("--locals"), flag("--native-all"));
    let options = pyspy_core::DumpOptions { locals, asyncio: flag("--async") };
    match pyspy_live::dump(pid, options, true, flag("--native") || native_all, native_all) {
        Ok(dump) => {
            println!("Python {} ({})", dump.python_version, dump.executable);
            for t in dump.threads {
                println!(
                    "Thread {} ({:#x}) {:?} active={} gil={}",
                    t.native_thread_id, t.python_thread_id, t.name, t.active, t.owns_gil
                );
                for f in t.frames {
                    println!("    {} ({}:{})", f.name, f.filename, f.line);
                    for l in f.locals.unwrap_or_default() {
                        println!("        {} = {}{}", l.name, l.repr, if l.is_arg { " (arg)" } else { "" });
                    }
                }
            }
            for l in dump.loops.unwrap_or_default() {
                println!(
                    "Loop {:#x} {} on thread {:?}, running {:?}",
                    l.address, l.loop_type, l.native_thread_id, l.running_task
                );
                for t in l.tasks {
                    println!("  Task {:#x} {:?} {} awaited by {:x?}", t.address, t.name, t.state, t.awaited_by);
                    for f in t.coroutine_stack {
                        println!("      {} ({}:{})", f.name, f.short_filename, f.line);
                    }
                }
            }
        }
        Err(e) => {
            eprintln!("error [{}]: {}", e.kind.code(), e);
            std::process::exit(1);
        }
    }
}
