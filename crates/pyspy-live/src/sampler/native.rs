//! The native stage of a sample (`--native`), after the pause and the read pipeline: while the
//! threads are held, each kept thread's registers and stack are copied; once they run again,
//! the copies are unwound and merged with the Python frames read, and the merged frames are
//! interned like Python ones (kind `native`).

use std::sync::Arc;

use pyspy_core::native::{Incomplete, MergedFrame, NativeFrameDisplay, SymbolInfo};
use pyspy_core::profile::{Aggregator, Frame, FrameKind};
use pyspy_core::python::code::CodeInfo;
use pyspy_core::python::StackFrame;
use rustc_hash::FxHashMap;

use crate::native::LiveNative;

/// One frame of a sample, innermost first.
#[derive(Clone)]
pub(super) enum SampleFrame {
    Python(Arc<CodeInfo>, u32),
    Native(Arc<SymbolInfo>, usize),
    Incomplete(Incomplete),
}

/// The sample's frames: its Python frames, merged into its native stack when there is one.
/// Returns them and whether the native stack was incomplete (an error of this tick).
pub(super) fn sample_frames(
    native: Option<&mut LiveNative>,
    capture: Option<usize>,
    frames: Vec<StackFrame>,
) -> (Vec<SampleFrame>, bool) {
    let Some(native) = native else {
        return (frames.into_iter().map(|f| SampleFrame::Python(f.code, f.line)).collect(), false);
    };
    let raw: Vec<_> = frames.iter().map(|f| f.raw).collect();
    let merged = native.merge(capture, &raw);
    let mut python: Vec<Option<StackFrame>> = frames.into_iter().map(Some).collect();
    let out = merged
        .frames
        .into_iter()
        .filter_map(|f| match f {
            MergedFrame::Python(i) => python.get_mut(i).and_then(Option::take).map(|f| SampleFrame::Python(f.code, f.line)),
            MergedFrame::Native { symbol, inline } => Some(SampleFrame::Native(symbol, inline)),
            MergedFrame::Incomplete(reason) => Some(SampleFrame::Incomplete(reason)),
        })
        .collect();
    (out, merged.incomplete.is_some())
}

/// Native frames already interned: by symbol (the symbolizer hands out one `Arc` per address)
/// and inlined frame. Entries hold their symbol so that its address is not reused meanwhile.
#[derive(Default)]
pub(super) struct NativeMemo {
    frames: FxHashMap<(usize, usize), (Arc<SymbolInfo>, u32)>,
    markers: FxHashMap<Incomplete, u32>,
}

/// Past this many, start again: a target with endless distinct code addresses must not grow this.
const MAX_REMEMBERED: usize = 1 << 16;

impl NativeMemo {
    pub fn intern(
        &mut self,
        agg: &mut Aggregator,
        symbol: &Arc<SymbolInfo>,
        inline: usize,
        nolineno: bool,
        full_filenames: bool,
    ) -> u32 {
        let key = (Arc::as_ptr(symbol) as usize, inline);
        if let Some((_, id)) = self.frames.get(&key) {
            return *id;
        }
        let shown = NativeFrameDisplay::of(symbol, inline);
        let file = if full_filenames { shown.file } else { shown.file.rsplit('/').next().unwrap_or(&shown.file).to_string() };
        let line = if nolineno { 0 } else { shown.line };
        let id = agg.intern_frame(Frame { name: shown.name, file, line, kind: FrameKind::Native });
        if self.frames.len() >= MAX_REMEMBERED {
            self.frames.clear();
        }
        self.frames.insert(key, (symbol.clone(), id));
        id
    }

    pub fn marker(&mut self, agg: &mut Aggregator, reason: Incomplete) -> u32 {
        *self.markers.entry(reason).or_insert_with(|| {
            agg.intern_frame(Frame {
                name: Incomplete::MARKER.into(),
                file: reason.reason().into(),
                line: 0,
                kind: FrameKind::Native,
            })
        })
    }
}
