//! Line tables in each of CPython's three formats, written from a known line per instruction, so
//! that an intact image also checks the decoders: the line read back must be the one planted.

use pyspy_core::python::layout::{Layout, LineTable};

use crate::rng::Rng;

/// Line of each instruction (2-byte code unit); `None` where the code has no line (3.10+).
pub type Lines = Vec<Option<u32>>;

/// Runs of 1-8 instructions on one line, the line moving by small steps: every delta fits
/// the one-byte fields of lnotab and the 3.10 table, and a run fits one 3.11+ entry. 2.7's
/// unsigned lnotab deltas only move forward (its compiler emits lines in order).
pub fn random_lines(rng: &mut Rng, layout: &Layout, first_line: u32, instructions: u32) -> Lines {
    let format = layout.line_table;
    let backward = if layout.lnotab_unsigned_line_delta == Some(true) { 0 } else { 20 };
    let mut lines = Vec::with_capacity(instructions as usize);
    let mut line = i64::from(first_line);
    while lines.len() < instructions as usize {
        let run = (1 + rng.below(8)).min(instructions as usize - lines.len());
        // lnotab has no way to say "no line".
        let value = if format != LineTable::Lnotab && rng.below(8) == 0 {
            None
        } else {
            line = (line + rng.below(21 + backward) as i64 - backward as i64).max(1);
            Some(line as u32)
        };
        lines.extend(std::iter::repeat_n(value, run));
    }
    lines
}

/// Runs of equal lines: (first instruction, length, line).
fn runs(lines: &Lines) -> Vec<(usize, usize, Option<u32>)> {
    let mut runs: Vec<(usize, usize, Option<u32>)> = Vec::new();
    for (i, &line) in lines.iter().enumerate() {
        match runs.last_mut() {
            // Split at 8: the longest a 3.11+ entry can cover.
            Some((_, length, last)) if *last == line && *length < 8 => *length += 1,
            _ => runs.push((i, 1, line)),
        }
    }
    runs
}

pub fn encode(layout: &Layout, lines: &Lines, first_line: u32, rng: &mut Rng) -> Vec<u8> {
    let format = layout.line_table;
    let mut table = Vec::new();
    let mut previous_line = i64::from(first_line);
    let mut previous_start = 0;
    for (start, length, line) in runs(lines) {
        let delta = line.map(|l| i64::from(l) - previous_line);
        match format {
            // (byte offset delta from the previous entry, line delta), at each line change; as a
            // byte, a delta of 2.7 (never negative) reads the same signed or not.
            LineTable::Lnotab => {
                let delta = delta.expect("lnotab lines are all known");
                table.extend([(2 * (start - previous_start)) as u8, delta as i8 as u8]);
                previous_start = start;
            }
            // (length in bytes, line delta or -128 for "no line"), one entry per run.
            LineTable::Linetable310 => table.extend([(2 * length) as u8, delta.map_or(0x80, |d| d as i8 as u8)]),
            LineTable::Locations311 => locations_entry(&mut table, length, delta, rng),
        }
        if let Some(line) = line {
            previous_line = i64::from(line);
        }
    }
    table
}

/// One 3.11+ location entry, in a form chosen at random among those that can carry `delta`.
fn locations_entry(table: &mut Vec<u8>, length: usize, delta: Option<i64>, rng: &mut Rng) {
    let head = |code: u8| 0x80 | code << 3 | (length - 1) as u8;
    match delta {
        None => table.push(head(15)),
        // Short form: same line, one byte of columns.
        Some(0) if rng.below(2) == 0 => table.extend([head(rng.below(10) as u8), 0x25]),
        // One-line forms: the code says the line delta (0-2), two bytes of columns.
        Some(d @ 0..=2) if rng.below(2) == 0 => table.extend([head(10 + d as u8), 4, 9]),
        Some(d) if rng.below(2) == 0 => {
            table.push(head(13));
            signed_varint(table, d);
        }
        Some(d) => {
            table.push(head(14));
            signed_varint(table, d);
            varint(table, rng.below(3) as u64); // end line delta
            varint(table, 1 + rng.below(100) as u64); // column + 1
            varint(table, 1 + rng.below(100) as u64); // end column + 1
        }
    }
}

/// 6 bits a byte, 0x40 while more follow; the top bit stays clear (it marks an entry's start).
fn varint(table: &mut Vec<u8>, mut value: u64) {
    loop {
        let chunk = (value & 63) as u8;
        value >>= 6;
        if value == 0 {
            table.push(chunk);
            return;
        }
        table.push(chunk | 64);
    }
}

fn signed_varint(table: &mut Vec<u8>, value: i64) {
    let zigzag = if value < 0 { (value.unsigned_abs() << 1) | 1 } else { (value as u64) << 1 };
    varint(table, zigzag);
}

/// The line the walker must report for a frame at `instruction` (`None`: not started).
pub fn expected_line(lines: &Lines, first_line: u32, instruction: Option<u32>) -> u32 {
    match instruction {
        None => first_line,
        Some(i) => lines[i as usize].unwrap_or(0),
    }
}
