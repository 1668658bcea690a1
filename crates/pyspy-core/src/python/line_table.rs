//! Instruction offset -> line number, in each of CPython's three line table formats.
//! All functions take the offset in bytes from the start of the code's instructions.

use crate::python::layout::{Layout, LineTable};

/// The line at `byte_offset` in a code object of `layout`'s build.
pub fn line_in(layout: &Layout, table: &[u8], first_line: u32, byte_offset: i64) -> u32 {
    let unsigned_deltas = layout.lnotab_unsigned_line_delta == Some(true);
    line_with(layout.line_table, unsigned_deltas, table, first_line, byte_offset)
}

/// As `line_in`, for a format whose lnotab line deltas (if any) are signed (3.6+).
pub fn line_for_offset(format: LineTable, table: &[u8], first_line: u32, byte_offset: i64) -> u32 {
    line_with(format, false, table, first_line, byte_offset)
}

fn line_with(format: LineTable, unsigned_deltas: bool, table: &[u8], first_line: u32, byte_offset: i64) -> u32 {
    // A frame that has not started yet (lasti == -1) reports its first line, as CPython does.
    if byte_offset < 0 {
        return first_line;
    }
    let line = match format {
        LineTable::Lnotab => lnotab_line(table, first_line as i64, byte_offset, unsigned_deltas),
        LineTable::Linetable310 => linetable310_line(table, first_line as i64, byte_offset),
        LineTable::Locations311 => locations_line(table, first_line as i64, byte_offset / 2),
    };
    line.max(0) as u32
}

/// <= 3.9 `co_lnotab`: (offset delta, line delta) pairs; stop before the pair that passes the
/// offset. Line deltas are signed from 3.6 on; 2.7 adds them as unsigned bytes (a jump of more
/// than 255 lines is several pairs).
fn lnotab_line(table: &[u8], first_line: i64, offset: i64, unsigned_deltas: bool) -> i64 {
    let mut line = first_line;
    let mut addr = 0i64;
    for pair in table.chunks_exact(2) {
        addr += i64::from(pair[0]);
        if addr > offset {
            break;
        }
        line += if unsigned_deltas { i64::from(pair[1]) } else { i64::from(pair[1] as i8) };
    }
    line
}

/// 3.10 `co_linetable` (PEP 626): (offset delta, line delta) pairs each describing a range;
/// a line delta of -128 marks a range with no line.
fn linetable310_line(table: &[u8], first_line: i64, offset: i64) -> i64 {
    let mut line = first_line;
    let mut end = 0i64;
    for pair in table.chunks_exact(2) {
        let start = end;
        end += i64::from(pair[0]);
        let delta = pair[1] as i8;
        if delta != -128 {
            line += i64::from(delta);
        }
        if start <= offset && offset < end {
            return if delta == -128 { -1 } else { line };
        }
    }
    -1
}

/// 3.11+ location table: entries of `1 code:4 length-1:3`, then varints depending on the code.
fn locations_line(table: &[u8], first_line: i64, unit: i64) -> i64 {
    let mut reader = Reader { data: table, pos: 0 };
    let mut line = first_line;
    let mut addr = 0i64;
    while let Some(first) = reader.byte() {
        if first & 0x80 == 0 {
            return -1; // lost sync: garbage table
        }
        let code = (first >> 3) & 0x0f;
        let length = i64::from(first & 0x07) + 1;
        let entry_line = match code {
            15 => None,
            14 => {
                line += reader.svarint();
                reader.varint(); // end line delta
                reader.varint(); // column
                reader.varint(); // end column
                Some(line)
            }
            13 => {
                line += reader.svarint();
                Some(line)
            }
            10..=12 => {
                line += i64::from(code - 10);
                reader.byte();
                reader.byte();
                Some(line)
            }
            _ => {
                reader.byte();
                Some(line)
            }
        };
        if addr <= unit && unit < addr + length {
            return entry_line.unwrap_or(-1);
        }
        addr += length;
    }
    -1
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = self.data.get(self.pos).copied();
        self.pos += 1;
        b
    }
    fn varint(&mut self) -> i64 {
        let mut value = 0i64;
        let mut shift = 0;
        while let Some(b) = self.byte() {
            value |= i64::from(b & 63) << shift;
            shift += 6;
            if b & 64 == 0 || shift > 56 {
                break;
            }
        }
        value
    }
    fn svarint(&mut self) -> i64 {
        let v = self.varint();
        if v & 1 == 1 {
            -(v >> 1)
        } else {
            v >> 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lnotab_stops_before_the_pair_that_passes_the_offset() {
        // offsets 0..6 line 10, 6..10 line 11, 10.. line 13
        let table = [6, 1, 4, 2];
        assert_eq!(line_for_offset(LineTable::Lnotab, &table, 10, 0), 10);
        assert_eq!(line_for_offset(LineTable::Lnotab, &table, 10, 6), 11);
        assert_eq!(line_for_offset(LineTable::Lnotab, &table, 10, 12), 13);
        assert_eq!(line_for_offset(LineTable::Lnotab, &table, 10, -1), 10);
        // 2.7: a delta of 200 is 200 lines on, not 56 back.
        let table = [6, 200, 4, 255, 0, 45];
        assert_eq!(line_with(LineTable::Lnotab, true, &table, 10, 6), 210);
        assert_eq!(line_with(LineTable::Lnotab, true, &table, 10, 10), 510);
        assert_eq!(line_with(LineTable::Lnotab, false, &table, 300, 6), 300 - 56);
    }

    #[test]
    fn linetable310_ranges_and_no_line_marker() {
        // [0,4) line 5+1=6, [4,8) no line, [8,12) line 6+2=8
        let table = [4, 1, 4, 0x80, 4, 2];
        assert_eq!(line_for_offset(LineTable::Linetable310, &table, 5, 2), 6);
        assert_eq!(line_for_offset(LineTable::Linetable310, &table, 5, 5), 0);
        assert_eq!(line_for_offset(LineTable::Linetable310, &table, 5, 9), 8);
    }

    #[test]
    fn locations_table_forms() {
        let table = [
            0x80 | (13 << 3),
            2, // no-column form, 1 unit, line +1 -> 11
            0x80 | (11 << 3) | 1,
            0,
            4, // one-line form code 11 (+1), 2 units -> 12
            0x80 | (14 << 3),
            5,
            0,
            0,
            0,                    // long form, svarint 5 = -2 -> 10
            0x80 | (15 << 3) | 2, // no location, 3 units
            0x80 | (3 << 3),
            7, // short form: same line (10)
        ];
        let at = |unit: i64| line_for_offset(LineTable::Locations311, &table, 10, unit * 2);
        assert_eq!(at(0), 11);
        assert_eq!(at(1), 12);
        assert_eq!(at(2), 12);
        assert_eq!(at(3), 10);
        assert_eq!(at(5), 0);
        assert_eq!(at(7), 10);
    }
}
