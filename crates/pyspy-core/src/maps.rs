//! `/proc/PID/maps` parsing.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    pub start: u64,
    pub end: u64,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
    /// Offset into the mapped file.
    pub offset: u64,
    pub inode: u64,
    /// The mapped file's path as the target sees it (inside its mount namespace), if any.
    pub path: Option<String>,
}

impl MapEntry {
    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }
}

pub fn parse_maps(text: &str) -> Vec<MapEntry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<MapEntry> {
    // address perms offset dev inode pathname; the path may contain spaces, so split at most 6 ways.
    let mut parts = line.splitn(6, ' ');
    let range = parts.next()?;
    let perms = parts.next()?;
    let offset = u64::from_str_radix(parts.next()?, 16).ok()?;
    let _dev = parts.next()?;
    let inode = parts.next()?.parse().ok()?;
    let path = parts.next().map(str::trim_start).filter(|p| !p.is_empty());
    let (start, end) = range.split_once('-')?;
    let perms = perms.as_bytes();
    Some(MapEntry {
        start: u64::from_str_radix(start, 16).ok()?,
        end: u64::from_str_radix(end, 16).ok()?,
        readable: perms.first() == Some(&b'r'),
        writable: perms.get(1) == Some(&b'w'),
        executable: perms.get(2) == Some(&b'x'),
        offset,
        inode,
        path: path.map(|p| p.strip_suffix(" (deleted)").unwrap_or(p).to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_file_mapping_and_an_anonymous_one() {
        let maps = parse_maps(
            "55d0c0a00000-55d0c0a2b000 r--p 00000000 fe:01 1234   /usr/bin/python3.11\n\
             7ffd1c5e0000-7ffd1c601000 rw-p 00000000 00:00 0                          [stack]\n\
             7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n",
        );
        assert_eq!(maps.len(), 3);
        assert_eq!(maps[0].path.as_deref(), Some("/usr/bin/python3.11"));
        assert!(maps[0].readable && !maps[0].writable);
        assert_eq!(maps[1].path.as_deref(), Some("[stack]"));
        assert_eq!(maps[2].path, None);
    }

    #[test]
    fn keeps_spaces_in_paths_and_drops_the_deleted_marker() {
        let maps = parse_maps("1000-2000 r-xp 00001000 08:01 42 /opt/my app/python3 (deleted)\n");
        assert_eq!(maps[0].path.as_deref(), Some("/opt/my app/python3"));
        assert_eq!(maps[0].offset, 0x1000);
        assert!(maps[0].executable);
    }
}
