//! Bounds on the requests a server handles at once and on how long each
//! may take. The issuer and the wallet run every request through
//! [`RequestBounds::run`] and turn a [`Rejection`] into their own error
//! response: problem details for the issuer's API, a page for the wallet.

use std::future::Future;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Requests handled at once by default. More wait for a slot.
pub const MAX_CONCURRENT: usize = 64;

/// Default wait for a slot before a request is rejected.
pub const SLOT_WAIT: Duration = Duration::from_secs(5);

/// Default time a request may take before it is stopped.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// The reason a request was not run to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Every slot stayed busy for the whole wait; the request never ran.
    Busy,
    /// The request ran past this deadline and was stopped. Its future was
    /// dropped, so a database transaction it held was rolled back.
    Deadline(Duration),
}

/// A number of slots, a wait for one, and a deadline per request.
#[derive(Debug)]
pub struct RequestBounds {
    slots: Semaphore,
    slot_wait: Duration,
    deadline: Duration,
}

impl Default for RequestBounds {
    /// [`MAX_CONCURRENT`] slots, [`SLOT_WAIT`] and [`REQUEST_DEADLINE`].
    fn default() -> Self {
        Self::new(MAX_CONCURRENT, SLOT_WAIT, REQUEST_DEADLINE)
    }
}

impl RequestBounds {
    pub fn new(concurrent: usize, slot_wait: Duration, deadline: Duration) -> Self {
        Self {
            slots: Semaphore::new(concurrent),
            slot_wait,
            deadline,
        }
    }

    /// Runs `work` once a slot is free, within the deadline. The slot is
    /// freed when `work` ends or is stopped.
    pub async fn run<F: Future>(&self, work: F) -> Result<F::Output, Rejection> {
        let Ok(Ok(_permit)) = tokio::time::timeout(self.slot_wait, self.slots.acquire()).await
        else {
            return Err(Rejection::Busy);
        };
        tokio::time::timeout(self.deadline, work)
            .await
            .map_err(|_| Rejection::Deadline(self.deadline))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::sync::Notify;

    #[tokio::test]
    async fn busy_slots_and_deadline_reject() {
        let bounds = Arc::new(RequestBounds::new(
            2,
            Duration::from_millis(50),
            Duration::from_millis(300),
        ));
        let release = Arc::new(Notify::new());
        let holders: Vec<_> = (0..2)
            .map(|_| {
                let (bounds, release) = (bounds.clone(), release.clone());
                tokio::spawn(async move { bounds.run(release.notified()).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;

        // Both slots are held: a third request waits 50 ms and never runs.
        let ran = std::sync::atomic::AtomicBool::new(false);
        let rejected = bounds
            .run(async { ran.store(true, std::sync::atomic::Ordering::SeqCst) })
            .await;
        assert_eq!(rejected, Err(Rejection::Busy));
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));

        release.notify_waiters();
        for holder in holders {
            assert_eq!(holder.await.expect("holder"), Ok(()));
        }
        // The slots are free again.
        assert_eq!(bounds.run(async { 7 }).await, Ok(7));

        // Work that outlives the deadline is stopped, and frees its slot.
        let slow = bounds.run(tokio::time::sleep(Duration::from_secs(5))).await;
        assert_eq!(slow, Err(Rejection::Deadline(Duration::from_millis(300))));
        let both = tokio::join!(bounds.run(async { 1 }), bounds.run(async { 2 }));
        assert_eq!(both, (Ok(1), Ok(2)));
    }
}
