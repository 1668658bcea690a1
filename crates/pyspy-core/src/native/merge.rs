//! Merging a thread's native stack with its Python stack: each CPython eval-loop frame on the
//! native stack is replaced by the Python frames it is running, and the interpreter's own
//! plumbing (vectorcall, call dispatch, `main`) is hidden unless asked for.
//!
//! How many Python frames one C eval frame runs, per minor (innermost first, in the walker's
//! order of the frame chain):
//! - 3.8-3.10: exactly one. Every Python call goes through its own `_PyEval_EvalFrameDefault`,
//!   so every Python frame is an entry frame.
//! - 3.11: calls from Python to Python stay in the same C frame. The first frame an eval call
//!   runs has `_PyInterpreterFrame.is_entry` set; one C frame runs the frames from the innermost
//!   (or the one after the previous entry frame) up to and including the next entry frame.
//! - 3.12-3.13: `is_entry` is gone. Each eval call pushes a shim `_PyInterpreterFrame` (owner
//!   FRAME_OWNED_BY_CSTACK = 3, code `<shim>`) right outside the first frame it runs; so a Python
//!   frame is an entry frame when the next frame out (its `previous`) is such a shim.
//! - 3.14+: the same shim, now with owner FRAME_OWNED_BY_INTERPRETER = 3 (FRAME_OWNED_BY_CSTACK
//!   became 4 and is set nowhere); CPython's own `_PyFrame_IsIncomplete` tests `owner >= 3`.
//!   So for 3.12+ the rule is one: the entry frame is the one whose `previous` has owner >= 3.
//!
//! Finding the C eval frame that runs a group: by name (`_PyEval_EvalFrameDefault`), or, better,
//! by address. The 3.12+ shim is a local variable of the eval call that pushed it (3.12-3.13
//! `entry_frame`, 3.14+ `entry`), so it lies on the C stack inside that call's native frame. This
//! needs no symbols at all, which matters: Debian's 3.14 and 3.15 are stripped to .dynsym, and
//! GCC splits their eval loop into partitions of which only one is `_PyEval_EvalFrameDefault`;
//! most samples land in the others, which have no name. (3.10-3.11 have a C-stack anchor too,
//! the eval call's `_PyCFrame`/`CFrame` local, reachable through `tstate->cframe->previous`.)
//!
//! py-spy applies the 3.11 rule everywhere but marks only the shim itself as the entry on 3.12+,
//! then skips the shim by its `<shim>` file name: no Python frame is an entry there, so its first
//! eval frame takes the whole Python stack. That is one source of its merge failures.

/// What a native frame is to the merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeRole {
    /// `_PyEval_EvalFrameDefault` (and its `.cold` part): replaced by the Python frames it runs.
    EvalLoop,
    /// Interpreter plumbing or process start-up: left out by default.
    Hidden,
    Shown,
}

/// Functions of the interpreter that stay visible: builtins whose time is the user's business
/// (`time.sleep`, `os.read`, regular expressions, garbage collection, lock waits). The same
/// prefixes as py-spy, matched against the first `_`-separated word of the name.
const SHOWN_INTERPRETER_PREFIXES: &[&str] =
    &["time", "sys", "gc", "os", "unicode", "thread", "stringio", "sre", "PyGilState", "PyThread", "lock"];

/// Where every thread starts; never interesting. (`thread_run` is the interpreter's thread
/// bootstrap, which the `thread` prefix above would otherwise show at the root of every thread.)
const PROCESS_START: &[&str] = &["_start", "__clone", "__clone3", "clone3", "start_thread", "thread_run"];

pub fn is_eval_loop(function: &str) -> bool {
    // GCC splits the loop's rarely taken paths into `_PyEval_EvalFrameDefault.cold`, and may
    // clone it (`.constprop.0`); all are the same C frame.
    function.strip_prefix("_PyEval_EvalFrameDefault").is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// `in_interpreter`: the frame is in libpython or in the python executable itself.
pub fn classify(function: Option<&str>, in_interpreter: bool, show_interpreter_frames: bool) -> NativeRole {
    // glibc's DWARF names its internal aliases `__GI_name`.
    let Some(name) = function.map(|n| n.strip_prefix("__GI_").unwrap_or(n)) else {
        return if in_interpreter && !show_interpreter_frames { NativeRole::Hidden } else { NativeRole::Shown };
    };
    if in_interpreter && is_eval_loop(name) {
        return NativeRole::EvalLoop;
    }
    if show_interpreter_frames {
        return NativeRole::Shown;
    }
    if PROCESS_START.contains(&name) {
        return NativeRole::Hidden;
    }
    if in_interpreter {
        let first_word = name.split(['_', '.']).find(|w| !w.is_empty()).unwrap_or("");
        return if SHOWN_INTERPRETER_PREFIXES.contains(&first_word) { NativeRole::Shown } else { NativeRole::Hidden };
    }
    // `__libc_start_main`, its `_impl` and `_alias` names, `__libc_start_call_main`.
    if name.starts_with("__libc_start_") {
        return NativeRole::Hidden;
    }
    NativeRole::Shown
}

/// One Python frame as the merge sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PythonFrameEntry {
    /// The first frame its C eval call ran (see the module docs for each minor).
    pub is_entry: bool,
    /// On an entry frame: an address on the C stack inside the eval call that runs it (3.12+:
    /// the shim frame's address). When entry frames carry it, eval frames are found by it.
    pub c_stack_anchor: Option<u64>,
    /// 3.11: the frame has run no instruction yet (see `RawFrame::fresh`).
    pub fresh: bool,
}

/// One native frame as the merge sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeMergeFrame {
    pub role: NativeRole,
    /// In libpython or the executable holding the interpreter: only such a frame can be an eval
    /// call (named or not), whatever its role.
    pub in_interpreter: bool,
    /// `NativeFrame::sp`: the frame's locals lie from here up to the next (outer) frame's `sp`.
    pub sp: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergedRef {
    Native(usize),
    Python(usize),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeOutcome {
    /// Innermost first.
    pub frames: Vec<MergedRef>,
    /// Eval-loop frames with no Python frame left to run, outside others that had one: the
    /// stacks disagree (a misread).
    pub eval_frames_without_python: usize,
    /// The innermost eval-loop frame had no Python frame: it is entering or leaving one (its
    /// frame not linked yet, or unlinked already). A real state, not an error.
    pub eval_frame_in_transition: bool,
    /// Python frames no eval-loop frame claimed, put at the outer end so that none is lost:
    /// the native unwind stopped early, or the stacks disagree.
    pub python_frames_unclaimed: usize,
}

impl MergeOutcome {
    /// Every Python frame sat under an eval-loop frame and every eval-loop frame had one.
    pub fn is_exact(&self) -> bool {
        self.eval_frames_without_python == 0 && self.python_frames_unclaimed == 0
    }
}

/// Both stacks innermost first. `native_complete`: the unwind reached the end of the stack (else
/// the outermost native frame is not taken to reach to the top of the stack). `keep_eval_frames`
/// leaves each eval-loop frame in, outside the Python frames it ran (for
/// `--show-interpreter-frames`-style output).
pub fn merge_stacks(
    native: &[NativeMergeFrame],
    python: &[PythonFrameEntry],
    native_complete: bool,
    keep_eval_frames: bool,
) -> MergeOutcome {
    let mut out = MergeOutcome { frames: Vec::with_capacity(native.len() + python.len()), ..Default::default() };
    let by_anchor = python.iter().any(|p| p.is_entry && p.c_stack_anchor.is_some());
    let eval_frames = native.iter().filter(|f| f.role == NativeRole::EvalLoop).count();
    let mut groups = entry_groups(python, false);
    // 3.11: one eval frame more than there are groups, and an innermost frame that has run
    // nothing: the eval call has linked that frame but not yet flagged it as its entry. (A frame
    // pushed by a Python-to-Python call gets no eval frame of its own, so the count would match;
    // and a frame that called C into that eval call has run its CALL.)
    if !by_anchor && eval_frames == groups.len() + 1 && python.first().is_some_and(|p| p.fresh && !p.is_entry) {
        groups = entry_groups(python, true);
    }
    // By name, an eval frame that is entering or leaving its Python frame cannot be told from
    // the others; one eval frame more than there are groups says it is the innermost one.
    let mut skip_innermost_eval = !by_anchor && eval_frames == groups.len() + 1;
    let mut next_group = 0;
    for (i, frame) in native.iter().enumerate() {
        if skip_innermost_eval && frame.role == NativeRole::EvalLoop {
            skip_innermost_eval = false;
            out.eval_frame_in_transition = true;
            if keep_eval_frames {
                out.frames.push(MergedRef::Native(i));
            }
            continue;
        }
        let claimed_before = next_group;
        // Only the interpreter's frames can be an eval call: a frame of other code (an extension,
        // libc) whose stack range seems to hold an anchor was unwound wrong.
        if by_anchor && (frame.in_interpreter || frame.role == NativeRole::EvalLoop) {
            let upper = match native.get(i + 1) {
                Some(outer) => outer.sp,
                None if native_complete => u64::MAX,
                None => frame.sp,
            };
            while let Some(group) = groups.get(next_group).filter(|g| g.anchor.is_some_and(|a| a < upper)) {
                out.frames.extend(group.frames.clone().map(MergedRef::Python));
                next_group += 1;
            }
        } else if frame.role == NativeRole::EvalLoop {
            if let Some(group) = groups.get(next_group) {
                out.frames.extend(group.frames.clone().map(MergedRef::Python));
                next_group += 1;
            }
        }
        let is_eval = next_group > claimed_before;
        match frame.role {
            _ if is_eval && keep_eval_frames => out.frames.push(MergedRef::Native(i)),
            _ if is_eval => {}
            NativeRole::EvalLoop => {
                if next_group == 0 && !out.eval_frame_in_transition {
                    out.eval_frame_in_transition = true;
                } else {
                    out.eval_frames_without_python += 1;
                }
                if keep_eval_frames {
                    out.frames.push(MergedRef::Native(i));
                }
            }
            NativeRole::Shown => out.frames.push(MergedRef::Native(i)),
            NativeRole::Hidden => {}
        }
    }
    for group in &groups[next_group..] {
        out.python_frames_unclaimed += group.frames.len();
        out.frames.extend(group.frames.clone().map(MergedRef::Python));
    }
    out
}

/// The Python frames one C eval call runs: up to and including an entry frame.
struct EntryGroup {
    frames: std::ops::Range<usize>,
    anchor: Option<u64>,
}

fn entry_groups(python: &[PythonFrameEntry], innermost_is_entry: bool) -> Vec<EntryGroup> {
    let mut groups = Vec::new();
    let mut start = 0;
    for (i, frame) in python.iter().enumerate() {
        if frame.is_entry || i + 1 == python.len() || (i == 0 && innermost_is_entry) {
            groups.push(EntryGroup { frames: start..i + 1, anchor: frame.c_stack_anchor.filter(|_| frame.is_entry) });
            start = i + 1;
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use MergedRef::{Native as N, Python as P};
    use NativeRole::{EvalLoop as E, Hidden as H, Shown as S};

    fn py(entries: &[bool]) -> Vec<PythonFrameEntry> {
        entries.iter().map(|&is_entry| PythonFrameEntry { is_entry, c_stack_anchor: None, fresh: false }).collect()
    }

    /// Native frames whose stack pointers are 0x100 apart, innermost at 0x1000.
    fn native(roles: &[NativeRole]) -> Vec<NativeMergeFrame> {
        roles
            .iter()
            .enumerate()
            .map(|(i, &role)| NativeMergeFrame { role, in_interpreter: role != S, sp: 0x1000 + 0x100 * i as u64 })
            .collect()
    }

    #[test]
    fn c_frames_sit_between_the_python_frames_that_called_them_on_3_11_and_later() {
        // <module> -> c_side run by one eval call; c_side calls burn -> c_outer -> c_middle -> c_inner.
        let roles = [S, S, S, S, H, H, E, H, H, H];
        let python = py(&[false, true]); // c_side, <module>
        let merged = merge_stacks(&native(&roles), &python, true, false);
        assert_eq!(merged.frames, [N(0), N(1), N(2), N(3), P(0), P(1)]);
        assert!(merged.is_exact());
    }

    #[test]
    fn a_callback_frame_linked_but_not_yet_flagged_as_entry_still_gets_its_eval_frame() {
        // 3.11, the eval call for py_spin between linking the frame and setting is_entry.
        let roles = [E, H, H, S, S, H, E, H];
        let mut python = py(&[false, false, true]); // py_spin, python_side, <module>
        python[0].fresh = true;
        let merged = merge_stacks(&native(&roles), &python, true, false);
        assert_eq!(merged.frames, [P(0), N(3), N(4), P(1), P(2)]);
        assert!(merged.is_exact());
        // Not fresh: the innermost eval frame is entering a frame not linked yet.
        python[0].fresh = false;
        let merged = merge_stacks(&native(&roles), &python, true, false);
        assert!(merged.eval_frame_in_transition);
    }

    #[test]
    fn a_callback_into_python_gets_its_own_eval_frame() {
        // <module> -> python_side -> call_back (C) -> c_callback_inner (C) -> py_spin.
        let roles = [E, H, H, S, S, H, E, H];
        let python = py(&[true, false, true]); // py_spin, python_side, <module>
        let merged = merge_stacks(&native(&roles), &python, true, false);
        assert_eq!(merged.frames, [P(0), N(3), N(4), P(1), P(2)]);
        assert!(merged.is_exact());
    }

    #[test]
    fn before_3_11_each_eval_frame_runs_one_python_frame() {
        let roles = [S, H, E, H, E, H, E];
        let python = py(&[true, true, true]);
        assert_eq!(merge_stacks(&native(&roles), &python, true, false).frames, [N(0), P(0), P(1), P(2)]);
    }

    #[test]
    fn python_frames_left_over_after_a_truncated_native_stack_go_outermost() {
        let roles = [S, S, E];
        let python = py(&[true, false, true]);
        let merged = merge_stacks(&native(&roles), &python, true, false);
        assert_eq!(merged.frames, [N(0), N(1), P(0), P(1), P(2)]);
        assert_eq!(merged.python_frames_unclaimed, 2);
        assert!(!merged.is_exact());
    }

    #[test]
    fn an_eval_frame_with_no_python_frame_left_is_counted() {
        let merged = merge_stacks(&native(&[E, E, E]), &py(&[true]), true, false);
        assert_eq!(merged.frames, [P(0)]);
        assert_eq!(merged.eval_frames_without_python, 2);
        assert!(!merged.is_exact());
    }

    #[test]
    fn by_name_one_eval_frame_too_many_is_the_innermost_entering_its_frame() {
        // 3.11: py_spin's eval call has started, its frame is not linked yet.
        let roles = [E, H, S, S, H, E];
        let merged = merge_stacks(&native(&roles), &py(&[false, false, true]), true, false);
        assert_eq!(merged.frames, [N(2), N(3), P(0), P(1), P(2)]);
        assert!(merged.eval_frame_in_transition);
        assert!(merged.is_exact());
    }

    #[test]
    fn an_innermost_eval_frame_entering_its_python_frame_is_no_error() {
        // 3.12: the eval call that will run py_spin has not linked its shim yet.
        let roles = [E, H, S, S, H, E];
        let python = [
            PythonFrameEntry { is_entry: false, c_stack_anchor: None, fresh: false },
            PythonFrameEntry { is_entry: true, c_stack_anchor: Some(0x1000 + 0x500 + 0x10), fresh: false },
        ];
        let merged = merge_stacks(&native(&roles), &python, true, false);
        assert_eq!(merged.frames, [N(2), N(3), P(0), P(1)]);
        assert!(merged.eval_frame_in_transition);
        assert!(merged.is_exact());
    }

    #[test]
    fn eval_frames_can_be_kept_outside_their_python_frames() {
        let merged = merge_stacks(&native(&[S, E]), &py(&[false, true]), true, true);
        assert_eq!(merged.frames, [N(0), P(0), P(1), N(1)]);
    }

    #[test]
    fn eval_frames_are_found_by_the_shim_on_their_c_stack_without_names() {
        // Stripped 3.14: the eval loop's frames have no name (Hidden); the shims of the two eval
        // calls lie in native frames 2 and 6.
        let roles = [S, S, H, H, S, H, H, H];
        let python = [
            PythonFrameEntry { is_entry: true, c_stack_anchor: Some(0x1000 + 0x200 + 0x40), fresh: false }, // py_spin
            PythonFrameEntry { is_entry: false, c_stack_anchor: None, fresh: false },                       // python_side
            PythonFrameEntry { is_entry: true, c_stack_anchor: Some(0x1000 + 0x600 + 0x8), fresh: false },  // <module>
        ];
        let merged = merge_stacks(&native(&roles), &python, true, false);
        assert_eq!(merged.frames, [N(0), N(1), P(0), N(4), P(1), P(2)]);
        assert!(merged.is_exact());
        let kept = merge_stacks(&native(&roles), &python, true, true);
        assert_eq!(kept.frames, [N(0), N(1), P(0), N(2), N(4), P(1), P(2), N(6)]);
    }

    #[test]
    fn an_anchor_beyond_a_truncated_native_stack_leaves_its_frames_outermost() {
        let python = [
            PythonFrameEntry { is_entry: true, c_stack_anchor: Some(0x1010), fresh: false },
            PythonFrameEntry { is_entry: true, c_stack_anchor: Some(0x9000), fresh: false },
        ];
        // Native frame 0 holds the first anchor; the unwind stopped at frame 1.
        let truncated = merge_stacks(&native(&[H, H]), &python, false, false);
        assert_eq!(truncated.frames, [P(0), P(1)]);
        assert_eq!(truncated.python_frames_unclaimed, 1);
        // Had it reached the end of the stack, frame 1 would reach to the top and claim the second.
        let complete = merge_stacks(&native(&[H, H]), &python, true, false);
        assert_eq!(complete.frames, [P(0), P(1)]);
        assert!(complete.is_exact());
    }

    #[test]
    fn a_frame_outside_the_interpreter_never_runs_python_frames_whatever_its_stack_range() {
        // An unwind through code without unwind tables gave one frame whose range reaches far.
        let python = [PythonFrameEntry { is_entry: true, c_stack_anchor: Some(0x1000 + 0x40), fresh: false }];
        let merged = merge_stacks(&native(&[S]), &python, true, false);
        assert_eq!(merged.frames, [N(0), P(0)]);
        assert_eq!(merged.python_frames_unclaimed, 1);
        assert!(!merged.is_exact());
    }

    #[test]
    fn interpreter_plumbing_is_hidden_but_builtins_a_user_calls_are_not() {
        assert_eq!(classify(Some("_PyEval_EvalFrameDefault"), true, false), E);
        assert_eq!(classify(Some("_PyEval_EvalFrameDefault.cold"), true, false), E);
        assert_eq!(classify(Some("_PyEval_EvalFrame"), true, false), H);
        assert_eq!(classify(Some("_PyObject_MakeTpCall"), true, false), H);
        assert_eq!(classify(Some("cfunction_vectorcall_O"), true, false), H);
        assert_eq!(classify(Some("time_sleep"), true, false), S);
        assert_eq!(classify(Some("PyThread_acquire_lock_timed"), true, false), S);
        assert_eq!(classify(Some("_sre_SRE_Pattern_match"), true, false), S);
        assert_eq!(classify(None, true, false), H);
        assert_eq!(classify(Some("_PyObject_MakeTpCall"), true, true), S);
        assert_eq!(classify(Some("c_inner"), false, false), S);
        assert_eq!(classify(Some("start_thread"), false, false), H);
        assert_eq!(classify(Some("__libc_start_main_impl"), false, false), H);
        assert_eq!(classify(Some("__GI___clone3"), false, false), H);
        assert_eq!(classify(Some("thread_run"), true, false), H);
        assert_eq!(classify(None, false, false), S);
    }
}
