//! The command line of a core's process. `NT_PRPSINFO` keeps only its first 80 bytes, joined by
//! spaces; the whole of it is still where the kernel put it at exec, on the main thread's stack:
//! `argc, argv[], NULL, envp[], NULL, auxv[]`, with the strings above. The auxiliary vector is also
//! in the notes, so finding its copy on the stack finds `argv`, by walking back over `envp`.

use crate::maps::MapEntry;
use crate::memory::Memory;

use super::notes::AT_EXECFN;

/// The initial stack frame and its strings sit in the top of the stack; the environment is
/// limited to a quarter of the stack limit, 2 MiB by default.
const SEARCH_BYTES: u64 = 4 << 20;
const MAX_ARGS: usize = 1 << 16;

/// The arguments as `/proc/PID/cmdline` gave them (empty ones left out, as there), or None when
/// the stack does not hold them as the kernel laid them out.
pub fn command_line(memory: &dyn Memory, maps: &[MapEntry], auxv: &[(u64, u64)]) -> Option<Vec<String>> {
    let execfn = auxv.iter().find(|(k, _)| *k == AT_EXECFN)?.1;
    let stack = maps.iter().find(|m| m.contains(execfn))?;
    let start = stack.start.max(stack.end.saturating_sub(SEARCH_BYTES)) & !7;
    let mut bytes = vec![0u8; (stack.end - start) as usize];
    memory.read(start, &mut bytes).ok()?;
    let words: Vec<u64> = bytes.chunks_exact(8).map(|w| u64::from_le_bytes(w.try_into().unwrap())).collect();

    let pattern: Vec<u64> = auxv.iter().take(2).flat_map(|&(k, v)| [k, v]).collect();
    let auxv_at = (1..words.len().saturating_sub(pattern.len())).find(|&i| words[i..i + pattern.len()] == pattern[..])?;
    // envp's NULL, then its pointers back to argv's NULL.
    let mut i = auxv_at.checked_sub(1).filter(|&i| words[i] == 0)?;
    loop {
        i = i.checked_sub(1)?;
        if words[i] == 0 {
            break;
        }
    }
    let argv_end = i;
    // argv's pointers back to argc, the one word whose value is how many pointers follow it.
    let mut count = 0usize;
    let argc_at = loop {
        i = i.checked_sub(1)?;
        count += 1;
        if words[i] == count as u64 - 1 && count > 1 {
            break i;
        }
        if count > MAX_ARGS || !stack.contains(words[i]) {
            return None;
        }
    };
    let in_bytes = |addr: u64| (addr >= start && addr < stack.end).then(|| (addr - start) as usize);
    let args = words[argc_at + 1..argv_end]
        .iter()
        .map(|&p| {
            let from = in_bytes(p)?;
            let len = bytes[from..].iter().position(|&b| b == 0)?;
            Some(String::from_utf8_lossy(&bytes[from..from + len]).into_owned())
        })
        .collect::<Option<Vec<String>>>()?;
    Some(args.into_iter().filter(|a| !a.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, Result};

    struct Stack {
        start: u64,
        bytes: Vec<u8>,
    }

    impl Memory for Stack {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
            let o = addr.checked_sub(self.start).ok_or_else(|| Error::read_failed("below"))? as usize;
            buf.copy_from_slice(self.bytes.get(o..o + buf.len()).ok_or_else(|| Error::read_failed("above"))?);
            Ok(())
        }
    }

    /// Lays out a stack as the kernel does at exec and returns it with its auxv.
    fn exec_stack(args: &[&str], env: &[&str]) -> (Stack, MapEntry, Vec<(u64, u64)>) {
        let (start, size) = (0x7ffd_0000_0000u64, 0x4000usize);
        let mut bytes = vec![0xAAu8; size];
        // Strings at the top, then execfn last.
        let mut top = size;
        let mut put = |s: &str, bytes: &mut Vec<u8>| {
            top -= s.len() + 1;
            bytes[top..top + s.len()].copy_from_slice(s.as_bytes());
            bytes[top + s.len()] = 0;
            start + top as u64
        };
        let execfn = put("/usr/bin/python3", &mut bytes);
        let env_ptrs: Vec<u64> = env.iter().rev().map(|e| put(e, &mut bytes)).collect();
        let arg_ptrs: Vec<u64> = args.iter().rev().map(|a| put(a, &mut bytes)).collect();
        let auxv = vec![(33u64, 0x7ffd_0000_1000u64), (16, 0xbfebfbff), (AT_EXECFN, execfn), (6, 4096)];
        let mut words = vec![args.len() as u64];
        words.extend(arg_ptrs.iter().rev());
        words.push(0);
        words.extend(env_ptrs.iter().rev());
        words.push(0);
        words.extend(auxv.iter().flat_map(|&(k, v)| [k, v]));
        words.extend([0, 0]);
        let frame = 0x1000;
        for (i, w) in words.iter().enumerate() {
            bytes[frame + 8 * i..frame + 8 * i + 8].copy_from_slice(&w.to_le_bytes());
        }
        let map = MapEntry {
            start,
            end: start + size as u64,
            readable: true,
            writable: true,
            executable: false,
            offset: 0,
            inode: 0,
            path: None,
        };
        (Stack { start, bytes }, map, auxv)
    }

    #[test]
    fn argv_is_found_through_the_auxv_copy_on_the_stack() {
        let (stack, map, auxv) = exec_stack(&["python3", "app.py", "--flag", "x y"], &["HOME=/root", "PATH=/bin"]);
        assert_eq!(command_line(&stack, &[map], &auxv).unwrap(), ["python3", "app.py", "--flag", "x y"]);
    }

    #[test]
    fn an_empty_environment_and_empty_arguments() {
        let (stack, map, auxv) = exec_stack(&["python3", "", "-c"], &[]);
        assert_eq!(command_line(&stack, &[map], &auxv).unwrap(), ["python3", "-c"]);
    }

    #[test]
    fn a_stack_without_the_auxv_gives_none() {
        let (mut stack, map, auxv) = exec_stack(&["python3"], &["A=1"]);
        stack.bytes[0x1000..0x1100].fill(0x55);
        assert_eq!(command_line(&stack, &[map], &auxv), None);
    }
}
