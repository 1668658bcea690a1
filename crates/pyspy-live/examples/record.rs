//! `cargo run -p pyspy-live --example record -- PID SECONDS [RATE] [--nonblocking] [--idle] [--async] [--native]
//! [--native-all]`: collapsed stacks on stdout, stats on stderr.

use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pid: u32 = args.first().and_then(|a| a.parse().ok()).expect("usage: record PID SECONDS [RATE]");
    let seconds: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2.0);
    let rate_hz: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100.0);
    let options = pyspy_live::RecordOptions {
        rate_hz,
        duration: Some(Duration::from_secs_f64(seconds)),
        nonblocking: args.iter().any(|a| a == "--nonblocking"),
        idle: args.iter().any(|a| a == "--idle"),
        asyncio: args.iter().any(|a| a == "--async"),
        native: args.iter().any(|a| a == "--native" || a == "--native-all"),
        native_all: args.iter().any(|a| a == "--native-all"),
        ..Default::default()
    };
    let sampler = pyspy_live::Sampler::start(pid, options).unwrap_or_else(|e| {
        eprintln!("error [{}]: {e}", e.kind.code());
        std::process::exit(1)
    });
    let profile = sampler.wait().expect("the first wait");
    for stack in &profile.stacks {
        let names: Vec<String> = stack
            .frames
            .iter()
            .map(|&f| {
                let f = &profile.frames[f as usize];
                if f.file.is_empty() {
                    f.name.clone()
                } else {
                    format!("{} ({}:{})", f.name, f.file, f.line)
                }
            })
            .collect();
        println!("{} {}", names.join(";"), stack.count);
    }
    let s = &profile.stats;
    eprintln!(
        "samples {} ticks {} achieved {:.1}/{} Hz errors {} missed {} cpu {:.3}s over {:.2}s",
        s.samples,
        s.ticks,
        s.achieved_rate_hz(),
        s.requested_rate_hz,
        s.errors,
        s.missed,
        s.profiler_cpu_s,
        s.duration_s
    );
}
