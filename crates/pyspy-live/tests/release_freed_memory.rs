//! A process of its own: the test measures this process's resident memory, which tests running
//! beside it on other threads would change.

/// Resident bytes of this process, from /proc/self/statm.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
#[cfg(target_env = "gnu")]
fn memory_a_finished_thread_freed_goes_back_to_the_system() {
    const MB: u64 = 1 << 20;
    // As a record's sampling thread does: many small allocations in the thread's own arena, all
    // freed but the newest (the arena cannot shrink past a live block at its top).
    let kept = std::thread::spawn(|| {
        let mut blocks: Vec<Box<[u8; 1024]>> = (0..64 * 1024).map(|i| Box::new([i as u8; 1024])).collect();
        let newest = blocks.pop().unwrap();
        drop(blocks);
        newest
    })
    .join()
    .unwrap();
    let before = resident();
    pyspy_live::release_freed_memory();
    let after = resident();
    assert!(before > after + 32 * MB, "resident {} MB before, {} MB after", before / MB, after / MB);
    drop(kept);
}
