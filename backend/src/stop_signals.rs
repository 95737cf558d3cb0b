//! The signals that ask nslab to stop: SIGINT (a person's Ctrl+C) and SIGTERM (a service
//! manager). The CLI's runs and the server both listen for them through this.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// SIGINT and SIGTERM, caught from `install` on (their default action, ending the process,
/// no longer applies to this process).
pub struct StopSignals {
    interrupt: Option<Signal>,
    terminate: Option<Signal>,
}

impl StopSignals {
    /// Catches both signals from now on. Must be called inside a tokio runtime.
    pub fn install() -> StopSignals {
        StopSignals { interrupt: signal(SignalKind::interrupt()).ok(), terminate: signal(SignalKind::terminate()).ok() }
    }

    /// The next of them to arrive, by name (`SIGINT`, `SIGTERM`); never, for one that could
    /// not be caught.
    pub async fn next(&mut self) -> &'static str {
        async fn receive(signal: &mut Option<Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = receive(&mut self.interrupt) => "SIGINT",
            () = receive(&mut self.terminate) => "SIGTERM",
        }
    }
}
