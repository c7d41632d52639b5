//! Parallel file creation within one archive: the reader (the thread parsing the tar stream)
//! hands regular files of up to [`JOB_DATA_MAX`] bytes, with their data, and symlinks to a few
//! worker threads, which create, write and close them while the reader goes on. Creating inodes
//! is most of an unpack's time, and the kernel does it on several cores at once, even in one
//! directory (the directory lock is held only for the name's lookup and insertion).
//!
//! What stays exact, whatever order the workers finish in:
//! - a job only creates its own last component, inside a directory the reader has already made
//!   (and holds open for the job): it never walks a path;
//! - everything that depends on an earlier entry waits for the jobs in flight first (a barrier,
//!   [`Pool::settle`]): an entry whose path is, or is below, or is a directory above, a path a
//!   job in flight creates (a later entry for the same path, a directory listed again, a
//!   whiteout or replacement removing a directory whose files are still being written), and a
//!   hard link whose target is in flight. Paths are remembered by a hash of each prefix; a
//!   collision only adds a barrier;
//! - directories' times are set after the last job has finished (the caller settles first).
//!
//! The first error of a job fails the extraction; later jobs are skipped.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::hash::{Hash, Hasher};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::dirs::{Creator, Inherit};
use super::entry::{finish_file, new_file, new_symlink};
use super::meta::Meta;
use crate::engine::error::{EngineError, Result};

/// Files up to this size go to the workers with their data; larger ones the reader writes.
pub(super) const JOB_DATA_MAX: u64 = 4 << 20;
/// File data in flight at most (the reader waits beyond it).
const BUDGET: usize = 32 << 20;
/// Jobs in flight at most.
const MAX_JOBS: usize = 1024;

/// What a job creates.
pub(super) enum What {
    File(Vec<u8>),
    Symlink(OsString),
}

/// One entry for a worker: `last` inside the open directory `dir`.
pub(super) struct Job {
    pub(super) dir: Arc<OwnedFd>,
    pub(super) inherit: Inherit,
    pub(super) last: OsString,
    /// The entry's name in the archive, for errors.
    pub(super) name: String,
    pub(super) meta: Meta,
    pub(super) what: What,
}

impl Job {
    fn bytes(&self) -> usize {
        match &self.what {
            What::File(data) => data.len(),
            What::Symlink(_) => 0,
        }
    }

    fn run(&self, creator: &Creator) -> Result<()> {
        let dir = self.dir.as_raw_fd();
        match &self.what {
            What::File(data) => {
                let mut file = new_file(dir, &self.last, &self.meta, &self.name)?;
                std::io::Write::write_all(&mut file, data)
                    .map_err(|e| EngineError::io(format!("entry {:?}: writing", self.name), e))?;
                finish_file(&file, &self.meta, &self.inherit, creator, &self.name)
            }
            What::Symlink(target) => new_symlink(
                dir,
                &self.last,
                target,
                &self.meta,
                &self.inherit,
                creator,
                &self.name,
            ),
        }
    }
}

/// What is in flight, under one lock.
#[derive(Default)]
struct Flight {
    jobs: usize,
    bytes: usize,
    /// The reader sleeps on `Shared::changed` (workers only wake it then).
    waiting: bool,
    error: Option<EngineError>,
}

struct Shared {
    flight: Mutex<Flight>,
    changed: Condvar,
    failed: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Flight> {
        self.flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The reader's wait: sleeps (telling the workers to wake it) while `busy` holds.
    fn wait_while(&self, mut busy: impl FnMut(&Flight) -> bool) -> MutexGuard<'_, Flight> {
        let mut f = self.lock();
        f.waiting = true;
        let mut f = self
            .changed
            .wait_while(f, |f| busy(f))
            .unwrap_or_else(|p| p.into_inner());
        f.waiting = false;
        f
    }
}

/// The reader's side of the workers.
pub(super) struct Pool {
    tx: Option<Sender<Job>>,
    shared: Arc<Shared>,
    /// Hashes of the paths jobs since the last barrier create, and of their parent directories.
    files: HashSet<u64>,
    dirs: HashSet<u64>,
}

/// How many workers: one per core, at least 2, at most 4.
pub(super) fn workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 4)
}

impl Pool {
    /// Starts `n` workers in `scope`; they end when the pool is finished or dropped.
    pub(super) fn start<'s>(
        scope: &'s std::thread::Scope<'s, '_>,
        n: usize,
        creator: Creator,
    ) -> Result<Pool> {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let shared = Arc::new(Shared {
            flight: Mutex::new(Flight::default()),
            changed: Condvar::new(),
            failed: AtomicBool::new(false),
        });
        for i in 0..n {
            let (rx, shared) = (rx.clone(), shared.clone());
            std::thread::Builder::new()
                .name(format!("layer-write-{i}"))
                .spawn_scoped(scope, move || work(&rx, &shared, &creator))
                .map_err(|e| EngineError::io("starting a layer writer thread", e))?;
        }
        Ok(Pool {
            tx: Some(tx),
            shared,
            files: HashSet::new(),
            dirs: HashSet::new(),
        })
    }

    /// Whether an entry at `comps` (or a hard link to it) depends on a job in flight.
    pub(super) fn conflicts(&self, comps: &[OsString]) -> bool {
        if self.files.is_empty() {
            return false;
        }
        let mut h = root_hash();
        if self.dirs.contains(&h) && comps.is_empty() {
            return true;
        }
        for (i, c) in comps.iter().enumerate() {
            h = child_hash(h, c);
            if self.files.contains(&h) || (i + 1 == comps.len() && self.dirs.contains(&h)) {
                return true;
            }
        }
        false
    }

    /// Waits for every job in flight (a barrier); the first error of one fails the extraction.
    pub(super) fn settle(&mut self) -> Result<()> {
        let mut f = self.shared.wait_while(|f| f.jobs > 0);
        self.files.clear();
        self.dirs.clear();
        f.error.take().map_or(Ok(()), Err)
    }

    /// Hands `job`, the entry at `comps`, to a worker, waiting while too much is in flight.
    pub(super) fn submit(&mut self, job: Job, comps: &[OsString]) -> Result<()> {
        let bytes = job.bytes();
        {
            let mut f = self.shared.wait_while(|f| {
                f.error.is_none() && f.jobs > 0 && (f.jobs >= MAX_JOBS || f.bytes + bytes > BUDGET)
            });
            if let Some(e) = f.error.take() {
                return Err(e);
            }
            f.jobs += 1;
            f.bytes += bytes;
        }
        let mut h = root_hash();
        for c in comps {
            self.dirs.insert(h);
            h = child_hash(h, c);
        }
        self.files.insert(h);
        let Some(tx) = &self.tx else {
            return Err(EngineError::Layer("the layer writers stopped".into()));
        };
        tx.send(job)
            .map_err(|_| EngineError::Layer("the layer writers stopped".into()))
    }

    /// Waits for the last jobs and stops the workers.
    pub(super) fn finish(mut self) -> Result<()> {
        let settled = self.settle();
        self.tx = None;
        settled
    }
}

impl Drop for Pool {
    /// A pool dropped on an error: the workers skip what is queued and end.
    fn drop(&mut self) {
        self.shared.failed.store(true, Ordering::Relaxed);
        self.tx = None;
    }
}

fn work(rx: &Mutex<Receiver<Job>>, shared: &Shared, creator: &Creator) {
    loop {
        let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(job) = next else { return };
        let bytes = job.bytes();
        let result = if shared.failed.load(Ordering::Relaxed) {
            Ok(())
        } else {
            job.run(creator)
        };
        // The directory is closed and the data freed before the job counts as done.
        drop(job);
        let mut f = shared.lock();
        f.jobs -= 1;
        f.bytes -= bytes;
        if let Err(e) = result {
            shared.failed.store(true, Ordering::Relaxed);
            f.error.get_or_insert(e);
        }
        if f.waiting {
            shared.changed.notify_all();
        }
    }
}

fn root_hash() -> u64 {
    DefaultHasher::new().finish()
}

fn child_hash(parent: u64, name: &OsStr) -> u64 {
    let mut h = DefaultHasher::new();
    parent.hash(&mut h);
    name.hash(&mut h);
    h.finish()
}
