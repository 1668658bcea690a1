//! What an image plants (for the fuzz target: what its input's header picks): threads, their frames, the code objects those run (with
//! names of every string width and line tables that decode to known lines) and the values in each
//! frame's local slots. Derived from four header bytes, so that libFuzzer can move between
//! programs by flipping a bit, and every program is a valid CPython for the walkers to read.

use pyspy_core::python::layout::{Build, FrameModel, Layout, ManagedDict};

use crate::line_tables::{self, Lines};
use crate::rng::Rng;
pub use crate::values::{Value, VALUES};

/// Instructions per code object: every position a frame is planted at is one of these.
pub const INSTRUCTIONS: u32 = 64;

pub const MAX_THREADS: usize = 4;
pub const MAX_FRAMES_PER_THREAD: usize = 32;

/// Kernel TID of the first thread; the next ones count up.
pub const FIRST_TID: u32 = 4242;

/// glibc keeps the kernel TID at this offset of `struct pthread`: where CPython before 3.11 lets
/// us find a thread's TID (see pyspy-core's python/threads.rs). Some programs plant it elsewhere.
pub const GLIBC_PTHREAD_TID_OFFSET: u64 = 0x2d0;

#[derive(Debug, Clone)]
pub struct CodeSpec {
    pub name: &'static str,
    pub qualname: &'static str,
    pub filename: &'static str,
    pub first_line: u32,
    /// Line of each instruction (`None`: no line, where the minor's table can say so).
    pub lines: Lines,
    pub line_table: Vec<u8>,
    pub varnames: Vec<&'static str>,
    pub argcount: u32,
}

#[derive(Debug, Clone)]
pub struct FrameSpec {
    pub code: usize,
    /// Instruction index; `None` is a frame that has not started (f_lasti == -1, 3.8-3.10).
    pub instruction: Option<u32>,
    /// Index into `VALUES` of each local slot's value (one slot per varname).
    pub locals: Vec<usize>,
}

/// Where a `threading.Thread` keeps its attributes (`_name` among them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Attributes {
    /// A dict at `tp_dictoffset` (every minor; the only way before 3.11).
    DictAtOffset,
    /// 3.11+ managed dict: a dict pointer before the object.
    ManagedDict,
    /// 3.11+ managed values: no dict yet, values indexed by the type's cached keys (3.11: behind a
    /// pointer before the object; 3.12: that pointer tagged; 3.13+: inline after the object).
    ManagedValues,
}

#[derive(Debug, Clone)]
pub struct ThreadSpec {
    /// Innermost first.
    pub frames: Vec<FrameSpec>,
    /// 3.8-3.10: where in glibc's `struct pthread` the TID is planted; anything but glibc's own
    /// offset makes the walker scan the struct for it.
    pub pthread_tid_offset: u64,
    /// `threading.Thread.name`; `None`: a thread the threading module does not know (started from C).
    pub name: Option<&'static str>,
    pub attributes: Attributes,
}

#[derive(Debug, Clone)]
pub struct Program {
    pub build: Build,
    pub codes: Vec<CodeSpec>,
    pub threads: Vec<ThreadSpec>,
    /// asyncio tasks, in a loop the first thread runs.
    pub tasks: Option<crate::tasks::TasksSpec>,
    /// Free-threaded builds: whether the GIL was turned on (`PYTHON_GIL=1`, or an extension
    /// module without `Py_mod_gil`); only then does the first thread hold it.
    pub gil_enabled: bool,
}

const NAMES: &[&str] = &[
    "main",
    "<module>",
    // Latin-1, UCS-2 and UCS-4: each of CPython's compact string kinds.
    "función_ñ",
    "関数_処理",
    "𝔣𝔲𝔫𝔠",
    "",
    // Past the first read that covers most strings, so the data is read separately.
    "a_rather_long_function_name_that_goes_on_and_on_well_past_one_hundred_and_sixty_bytes_of_header_and_text_so_that_the_string_reader_must_issue_a_second_read",
];

const FILENAMES: &[&str] =
    &["/usr/lib/python3/dist-packages/app/server.py", "/home/üser/prøject/main.py", "<string>", "/srv/関数/𝔣.py"];

const VARNAMES: &[&str] = &["self", "x", "ñ", "関", "𝔣", "a_very_long_local_variable_name_for_good_measure"];

const THREAD_NAMES: &[Option<&str>] =
    &[Some("worker-1"), Some("ThreadPoolExecutor-0_0"), Some("ñandú"), Some("スレッド"), Some("𝔱𝔥𝔯𝔢𝔞𝔡"), None];

const FIRST_LINES: &[u32] = &[0, 1, 17, 1000, 99_999];

/// The header's last three bytes: `threads_and_depth` low 2 bits are the thread count - 1, the rest
/// the innermost thread's depth; `seed` drives everything else.
pub fn generate(build: Build, threads_and_depth: u8, seed: u16) -> Program {
    let layout = build.layout().expect("a build in layouts::BUILDS");
    // 3.x default builds keep the programs they always had; 2.7 and free-threaded ones differ.
    let other = u64::from(build.major != 3) << 60 | u64::from(build.free_threaded) << 61;
    let mut rng = Rng::new((u64::from(seed) << 8 | u64::from(build.minor)) ^ other);
    let codes: Vec<CodeSpec> = (0..1 + rng.below(5)).map(|_| code(&mut rng, layout)).collect();
    let thread_count = 1 + usize::from(threads_and_depth & 3);
    let first_depth = usize::from(threads_and_depth >> 2) % (MAX_FRAMES_PER_THREAD + 1);
    let threads = (0..thread_count)
        .map(|i| {
            let depth = if i == 0 { first_depth } else { rng.below(MAX_FRAMES_PER_THREAD / 2) };
            let frames = (0..depth)
                .map(|_| {
                    let code = rng.below(codes.len());
                    // Frame objects exist before they run (f_lasti -1); interpreter frames do not.
                    let not_started = layout.frame_model == FrameModel::FrameObject && rng.below(8) == 0;
                    let instruction = (!not_started).then(|| rng.below(INSTRUCTIONS as usize) as u32);
                    let locals = codes[code].varnames.iter().map(|_| rng.below(VALUES.len())).collect();
                    FrameSpec { code, instruction, locals }
                })
                .collect();
            let attributes = match layout.managed_dict {
                ManagedDict::Absent => Attributes::DictAtOffset,
                _ => rng.pick(&[Attributes::DictAtOffset, Attributes::ManagedDict, Attributes::ManagedValues]),
            };
            ThreadSpec {
                frames,
                pthread_tid_offset: rng.pick(&[GLIBC_PTHREAD_TID_OFFSET, GLIBC_PTHREAD_TID_OFFSET, 0x100]),
                name: if i == 0 { Some("MainThread") } else { rng.pick(THREAD_NAMES) },
                attributes,
            }
        })
        .collect();
    let gil_enabled = build.free_threaded && rng.below(4) == 0;
    // What --async reads: 3.8+, not free-threaded.
    let asyncio = build.major == 3 && build.minor >= 8 && !build.free_threaded;
    let tasks = asyncio.then(|| crate::tasks::generate(&mut rng, build.minor, codes.len())).flatten();
    Program { build, codes, threads, gil_enabled, tasks }
}

fn code(rng: &mut Rng, layout: &Layout) -> CodeSpec {
    let first_line = rng.pick(FIRST_LINES);
    let lines = line_tables::random_lines(rng, layout, first_line, INSTRUCTIONS);
    let line_table = line_tables::encode(layout, &lines, first_line, rng);
    let varnames: Vec<&'static str> = (0..rng.below(VARNAMES.len() + 1)).map(|i| VARNAMES[i]).collect();
    CodeSpec {
        name: rng.pick(NAMES),
        qualname: rng.pick(NAMES),
        filename: rng.pick(FILENAMES),
        first_line,
        lines,
        line_table,
        argcount: rng.below(varnames.len() + 1) as u32,
        varnames,
    }
}
