//! A task's coroutine stack: its coroutine's frame, then the frame of what that awaits, and so on,
//! as `python -m asyncio pstree` shows it (3.14/3.15): through coroutines and async generators,
//! also through the `__anext__()` object of `async for`, stopping at anything else (a Future: the
//! task boundary; the plain generator behind `asyncio.sleep(0)`).
//!
//! What a suspended coroutine awaits (`cr_await`) is no field: CPython computes it (`_PyGen_yf`)
//! from the top of the suspended frame's value stack, which each minor keeps differently
//! (`Awaited`). Only that one slot is read.

use crate::memory::{field_i32, field_u64, MemoryExt};
use crate::python::asyncio::kinds::Kind;
use crate::python::asyncio::Pass;
use crate::python::asyncio_layout::Awaited;
use crate::Result;

/// Deeper await chains than this are a cycle in memory that changed under us.
pub(crate) const MAX_CHAIN: usize = 256;
/// A value stack this deep is garbage (CPython's deepest frames hold a few hundred slots).
const MAX_STACK_SLOT: i64 = 1 << 20;

impl Pass<'_> {
    /// Where the frame of coroutine `coro` is: embedded in it (3.11+) or a frame object it points
    /// at (before). 0 once the coroutine has finished (before 3.11; after, see `coroutine_frames`).
    pub(crate) fn coroutine_frame(&mut self, coro: u64) -> Result<u64> {
        let l = self.layout;
        match (l.gen_iframe, l.gen_frame) {
            (Some(iframe), _) => Ok(coro.wrapping_add(iframe)),
            (None, Some(frame)) => self.memory.read_u64(coro.wrapping_add(frame)),
            (None, None) => Ok(0),
        }
    }

    /// The frames of the coroutine stack that starts at `coro` (a task's coroutine), outermost
    /// first, as frame addresses for `StackReader::read_frame_at`.
    pub(crate) fn coroutine_frames(&mut self, coro: u64) -> Result<Vec<u64>> {
        let mut frames = Vec::new();
        let mut current = coro;
        while frames.len() < MAX_CHAIN {
            let mut kind = self.kind(current);
            if kind == Kind::AsyncGenAsend {
                current = self.memory.read_u64(current.wrapping_add(self.layout.asend_gen))?;
                kind = self.kind(current);
            }
            if !matches!(kind, Kind::Coroutine | Kind::AsyncGenerator) || frames.contains(&self.coroutine_frame(current)?) {
                break;
            }
            let Some((frame, awaited)) = self.suspended_at(current)? else { break };
            frames.push(frame);
            match awaited {
                Some(next) => current = next,
                None => break,
            }
        }
        Ok(frames)
    }

    /// A coroutine's frame (None once it has finished) and what it awaits (None unless it is
    /// suspended in an await).
    fn suspended_at(&mut self, coro: u64) -> Result<Option<(u64, Option<u64>)>> {
        let l = self.layout;
        let frame = self.coroutine_frame(coro)?;
        if frame == 0 {
            return Ok(None);
        }
        let slot = match l.awaited {
            Awaited::FrameStacktop => {
                // 3.8-3.9: f_stacktop is set only while the frame is suspended.
                let stacktop = self.memory.read_u64(frame.wrapping_add(l.frame_stacktop.unwrap_or(0)))?;
                (stacktop != 0).then(|| stacktop.wrapping_sub(8))
            }
            Awaited::FrameStackdepth => {
                let state = self.frame_byte(frame, l.frame_state)?;
                let depth = i64::from(self.memory.read_i32(frame.wrapping_add(l.frame_stackdepth.unwrap_or(0)))?);
                let valuestack = self.memory.read_u64(frame.wrapping_add(l.frame_valuestack.unwrap_or(0)))?;
                (Some(state) == l.frame_state_suspended && (1..MAX_STACK_SLOT).contains(&depth))
                    .then(|| valuestack.wrapping_add((depth as u64 - 1) * 8))
            }
            Awaited::InterpreterFrameStacktop | Awaited::InterpreterFrameStackpointer => {
                let state = self.frame_byte(coro, l.gen_frame_state)?;
                // The states from CREATED to EXECUTING have a frame (3.15 numbers them upwards,
                // earlier minors downwards from EXECUTING 0); COMPLETED and CLEARED do not.
                let (created, executing) = (l.frame_state_created.unwrap_or(0), l.frame_state_executing.unwrap_or(0));
                if !(created..=executing).contains(&state) {
                    return Ok(None);
                }
                let in_await = l.frame_state_suspended_yield_from.or(l.frame_state_suspended);
                if Some(state) != in_await {
                    None
                } else if let Some(stackpointer) = l.iframe_stackpointer {
                    let sp = self.memory.read_u64(frame.wrapping_add(stackpointer))?;
                    Some(sp.wrapping_sub(8 * l.awaited_depth))
                } else {
                    let mut head = [0u8; 8];
                    self.memory.read(frame.wrapping_add(l.iframe_stacktop.unwrap_or(0)), &mut head[..4])?;
                    let top = i64::from(field_i32(&head, 0)) - l.awaited_depth as i64;
                    (0..MAX_STACK_SLOT)
                        .contains(&top)
                        .then(|| frame.wrapping_add(l.iframe_localsplus.unwrap_or(0)).wrapping_add(top as u64 * 8))
                }
            }
        };
        let awaited = match slot {
            Some(slot) => {
                let mut word = [0u8; 8];
                self.memory.read(slot, &mut word)?;
                Some(field_u64(&word, 0) & !self.layout.stackref_tag_bits).filter(|&a| a != 0)
            }
            None => None,
        };
        Ok(Some((frame, awaited)))
    }

    fn frame_byte(&mut self, base: u64, offset: Option<u64>) -> Result<i64> {
        let mut b = [0u8; 1];
        self.memory.read(base.wrapping_add(offset.unwrap_or(0)), &mut b)?;
        Ok(i64::from(b[0] as i8))
    }
}
