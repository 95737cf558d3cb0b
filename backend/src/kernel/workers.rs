//! Namespace workers: a few dedicated threads that run jobs inside network namespaces.
//!
//! setns() and unshare() change the namespace of the calling thread only, so such calls
//! never happen on a tokio worker or blocking-pool thread. These threads exist for nothing
//! else: each job enters its namespace, runs, and the thread goes back to the host's
//! namespace before it takes the next job. A thread that cannot go back ends, so no job
//! ever runs in a namespace it did not ask for. Reusing threads matters: starting one per
//! job cost more than the job itself when observing hundreds of namespaces.

use std::fs::File;
use std::os::fd::AsFd;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use nix::sched::{setns, CloneFlags};

use super::error::KernelError;

/// Enough to overlap kernel work on two cores; jobs are short.
pub const WORKERS: usize = 4;

/// What a worker does: enter `target` (None: stay in the host namespace), then `work` with
/// the outcome of entering.
pub struct Job {
    pub target: Option<Arc<File>>,
    pub work: Box<dyn FnOnce(Result<(), KernelError>) + Send>,
}

/// The running workers, started by the first job after none were running.
struct Running {
    sender: Sender<Job>,
    threads: Vec<JoinHandle<()>>,
}

fn pool() -> &'static Mutex<Option<Running>> {
    static POOL: OnceLock<Mutex<Option<Running>>> = OnceLock::new();
    POOL.get_or_init(Mutex::default)
}

fn start() -> Running {
    let (sender, receiver) = channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    let threads = (0..WORKERS)
        .filter_map(|number| {
            let receiver = receiver.clone();
            std::thread::Builder::new().name(format!("nslab-netns-{number}")).spawn(move || work(&receiver)).ok()
        })
        .collect();
    Running { sender, threads }
}

/// Hands a job to a worker.
pub fn submit(job: Job) -> Result<(), KernelError> {
    let mut pool = pool().lock().expect("not poisoned");
    pool.get_or_insert_with(start).sender.send(job).map_err(|_| KernelError::Netlink {
        what: "namespace workers".into(),
        message: "all of them have stopped".into(),
    })
}

/// Ends the workers once the jobs handed to them are done; a later job starts new ones.
/// For a process that is about to unmount many namespaces and has no other threads (the
/// CLI): while a process has a second thread, even an idle one, each unmount is much more
/// likely to wait several ms for its RCU grace period once the kernel's teardown of the
/// first namespaces runs beside it (measured: unmounting a 1000-namespace chain returned
/// after 180-360 ms in 5 of 10 runs with one parked thread, after 20-29 ms in 10 of 10
/// without).
pub fn stop() {
    let Some(running) = pool().lock().expect("not poisoned").take() else { return };
    drop(running.sender);
    for thread in running.threads {
        let _ = thread.join();
    }
}

fn work(receiver: &Mutex<Receiver<Job>>) {
    // The namespace this thread started in: the host's (workers start from host threads).
    let Ok(home) = File::open("/proc/thread-self/ns/net") else { return };
    loop {
        let job = match receiver.lock().expect("not poisoned").recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        let entered = match &job.target {
            Some(target) => setns(target.as_fd(), CloneFlags::CLONE_NEWNET)
                .map_err(|errno| KernelError::system("cannot enter a network namespace", errno)),
            None => Ok(()),
        };
        (job.work)(entered);
        if setns(home.as_fd(), CloneFlags::CLONE_NEWNET).is_err() {
            return;
        }
    }
}
