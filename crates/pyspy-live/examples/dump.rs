//! `cargo run -p pyspy-live --example dump -- PID [--locals]`: the core's dump without Node, for debugging the walkers.

fn main() {
    let mut args = std::env::args().skip(1);
    let pid: u32 = args.next().and_then(|a| a.parse().ok()).expect("usage: dump PID [--locals]");
    let locals = args.any(|a| a == "--locals");
    match pyspy_live::dump(pid, pyspy_core::DumpOptions { locals }, true) {
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
        }
        Err(e) => {
            eprintln!("error [{}]: {}", e.kind.code(), e);
            std::process::exit(1);
        }
    }
}
