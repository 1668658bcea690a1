//! `--thread-name REGEX` and `--tid`: which threads a record, `top` or `dump` reads at all. A
//! thread left out is not paused and its frames are not walked, so a sample of a process with
//! hundreds of threads costs what the threads kept cost.

use regex_lite::Regex;

use crate::{Error, ErrorKind, Result};

#[derive(Debug, Clone, Default)]
pub struct ThreadFilter {
    /// Kernel thread ids (as /proc shows them); empty: any.
    tids: Vec<u32>,
    /// Matched against the thread's name (Python's where it has one, else the kernel's); None: any.
    name: Option<Regex>,
}

impl ThreadFilter {
    /// None when there is nothing to filter by. A pattern that does not compile is an invalid argument.
    pub fn new(name_pattern: Option<&str>, tids: &[u32]) -> Result<Option<ThreadFilter>> {
        if let Some(&bad) = tids.iter().find(|&&t| t == 0 || t > i32::MAX as u32) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("--tid must be a thread id (a positive integer), got {bad}"),
            ));
        }
        let name = match name_pattern {
            None => None,
            Some(pattern) => Some(Regex::new(pattern).map_err(|e| {
                let reason = e.to_string().lines().last().unwrap_or("").trim().to_string();
                Error::new(ErrorKind::InvalidArgument, format!("--thread-name {pattern:?} is not a regular expression: {reason}"))
            })?),
        };
        if name.is_none() && tids.is_empty() {
            return Ok(None);
        }
        let mut tids = tids.to_vec();
        tids.sort_unstable();
        Ok(Some(ThreadFilter { tids, name }))
    }

    /// Whether the name is asked for at all: without `--thread-name` no name needs reading.
    pub fn needs_names(&self) -> bool {
        self.name.is_some()
    }

    /// A thread is kept when it passes every filter given. A thread without a name does not match
    /// a name pattern.
    pub fn keeps(&self, tid: u32, name: Option<&str>) -> bool {
        let tid_ok = self.tids.is_empty() || self.tids.binary_search(&tid).is_ok();
        let name_ok = match &self.name {
            None => true,
            Some(pattern) => name.is_some_and(|n| pattern.is_match(n)),
        };
        tid_ok && name_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_threads_that_pass_every_filter_given() {
        let filter = ThreadFilter::new(Some("^worker-[0-9]+$"), &[]).unwrap().unwrap();
        assert!(filter.keeps(5, Some("worker-12")));
        assert!(!filter.keeps(5, Some("MainThread")) && !filter.keeps(5, None));
        let both = ThreadFilter::new(Some("worker"), &[7, 5]).unwrap().unwrap();
        assert!(both.keeps(5, Some("worker-1")) && !both.keeps(6, Some("worker-1")) && !both.keeps(7, Some("main")));
        let unicode = ThreadFilter::new(Some("^スレッド"), &[]).unwrap().unwrap();
        assert!(unicode.keeps(1, Some("スレッド・関数を待つ")));
    }

    #[test]
    fn nothing_to_filter_by_is_no_filter_and_bad_input_says_what_is_wrong() {
        assert!(ThreadFilter::new(None, &[]).unwrap().is_none());
        let bad = ThreadFilter::new(Some("worker-("), &[]).unwrap_err();
        assert_eq!(bad.kind, ErrorKind::InvalidArgument);
        assert!(bad.message.starts_with("--thread-name \"worker-(\" is not a regular expression"), "{}", bad.message);
        assert_eq!(ThreadFilter::new(None, &[0]).unwrap_err().kind, ErrorKind::InvalidArgument);
    }
}
