//! Each thread's last sample, frame by frame with the ids the aggregator gave its frames. The
//! outer frames of a sample are mostly the last sample's: those take their ids from here, a
//! comparison each, instead of a lookup by code object and line (4% of a 200-deep sample).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::native::SampleFrame;

#[derive(Default)]
pub(crate) struct LastIds {
    /// By thread (our id): its last sample's frames, outermost first, and when it was taken.
    threads: FxHashMap<u32, (Vec<(SampleFrame, u32)>, u64)>,
    samples: u64,
}

/// A thread not sampled for this many samples of its process is forgotten: it ended, or idles.
/// Its entry holds code objects and symbols alive, so this also bounds what ended threads keep.
const KEPT_FOR_SAMPLES: u64 = 4096;

impl LastIds {
    /// Pushes the ids of `frames` (innermost first) onto `ids`, outermost first: the outer
    /// frames that are the thread's last sample's take its ids, `intern` gives the others.
    pub fn push_ids(
        &mut self,
        tid: u32,
        frames: &[SampleFrame],
        ids: &mut Vec<u32>,
        mut intern: impl FnMut(&SampleFrame) -> u32,
    ) {
        self.samples += 1;
        if self.samples.is_multiple_of(KEPT_FOR_SAMPLES) {
            let samples = self.samples;
            self.threads.retain(|_, (_, at)| samples - *at < KEPT_FOR_SAMPLES);
        }
        let (last, at) = self.threads.entry(tid).or_default();
        *at = self.samples;
        let same = last.iter().zip(frames.iter().rev()).take_while(|((known, _), frame)| same_frame(known, frame)).count();
        ids.extend(last[..same].iter().map(|(_, id)| *id));
        last.truncate(same);
        for frame in frames[..frames.len() - same].iter().rev() {
            let id = intern(frame);
            ids.push(id);
            last.push((frame.clone(), id));
        }
    }
}

/// The same frame as interned: by the identity of its code object or symbol, which the entry
/// holds alive so that no other can take its address.
fn same_frame(a: &SampleFrame, b: &SampleFrame) -> bool {
    match (a, b) {
        (SampleFrame::Python(a, line_a), SampleFrame::Python(b, line_b)) => Arc::ptr_eq(a, b) && line_a == line_b,
        (SampleFrame::Native(a, inline_a), SampleFrame::Native(b, inline_b)) => Arc::ptr_eq(a, b) && inline_a == inline_b,
        (SampleFrame::Incomplete(a), SampleFrame::Incomplete(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use pyspy_core::native::{Incomplete, SymbolInfo};

    use super::*;

    fn symbol(address: u64) -> Arc<SymbolInfo> {
        Arc::new(SymbolInfo {
            address,
            module: None,
            module_name: None,
            module_offset: None,
            frames: Vec::new(),
            signal_trampoline: false,
        })
    }

    /// The ids pushed for `frames` (innermost first), and the frames `intern` was asked for.
    fn ids_of(last: &mut LastIds, tid: u32, frames: &[SampleFrame]) -> (Vec<u32>, usize) {
        let (mut ids, mut interned) = (Vec::new(), 0);
        last.push_ids(tid, frames, &mut ids, |frame| {
            interned += 1;
            match frame {
                SampleFrame::Native(symbol, inline) => symbol.address as u32 * 10 + *inline as u32,
                SampleFrame::Incomplete(_) => 999,
                SampleFrame::Python(..) => unreachable!(),
            }
        });
        (ids, interned)
    }

    #[test]
    fn the_outer_frames_a_thread_had_last_time_take_their_ids_without_being_interned() {
        let (main, run, work, other) = (symbol(1), symbol(2), symbol(3), symbol(4));
        let native = |s: &Arc<SymbolInfo>, inline| SampleFrame::Native(s.clone(), inline);
        let mut last = LastIds::default();
        let first = [native(&work, 0), native(&run, 0), native(&main, 0)];
        assert_eq!(ids_of(&mut last, 7, &first), (vec![10, 20, 30], 3));
        // Same outer two, another innermost: only that one is interned.
        let second = [native(&other, 0), native(&run, 0), native(&main, 0)];
        assert_eq!(ids_of(&mut last, 7, &second), (vec![10, 20, 40], 1));
        // Another thread has its own last sample.
        assert_eq!(ids_of(&mut last, 8, &second), (vec![10, 20, 40], 3));
        // An inlined frame of the same symbol is another frame; so is whatever is inside it.
        let third = [native(&other, 0), native(&run, 1), native(&main, 0)];
        assert_eq!(ids_of(&mut last, 7, &third), (vec![10, 21, 40], 2));
        // A marker at the top, then the same stack again: nothing to intern.
        let fourth = [native(&other, 0), native(&run, 1), SampleFrame::Incomplete(Incomplete::UnknownCode)];
        assert_eq!(ids_of(&mut last, 7, &fourth), (vec![999, 21, 40], 3));
        assert_eq!(ids_of(&mut last, 7, &fourth), (vec![999, 21, 40], 0));
        // Fewer frames, then more.
        assert_eq!(ids_of(&mut last, 7, &fourth[1..]), (vec![999, 21], 0));
        assert_eq!(ids_of(&mut last, 7, &fourth), (vec![999, 21, 40], 1));
    }
}
