fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = std::time::Instant::now();
    let result = pyspy_live::dump_core_file(&args[0], None, &args[1..], pyspy_core::DumpOptions { locals: false });
    match result {
        Ok(d) => {
            println!("pid {} v{} exe {} cmd {:?}", d.pid, d.python_version, d.executable, d.command_line);
            for t in d.threads {
                println!("thread {} {:?} active={} gil={}", t.native_thread_id, t.name, t.active, t.owns_gil);
                for f in t.frames.iter().take(4) {
                    println!("   {} ({}:{})", f.name, f.short_filename, f.line);
                }
            }
        }
        Err(e) => println!("error {}: {}", e.kind.code(), e.message),
    }
    eprintln!("{:?}", started.elapsed());
}
