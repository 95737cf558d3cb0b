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

struct Pool {
    sender: Mutex<Sender<Job>>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for number in 0..WORKERS {
            let receiver = receiver.clone();
            let _ = std::thread::Builder::new().name(format!("nslab-netns-{number}")).spawn(move || work(&receiver));
        }
        Pool { sender: Mutex::new(sender) }
    })
}

/// Hands a job to a worker.
pub fn submit(job: Job) -> Result<(), KernelError> {
    pool().sender.lock().expect("not poisoned").send(job).map_err(|_| KernelError::Netlink {
        what: "namespace workers".into(),
        message: "all of them have stopped".into(),
    })
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
