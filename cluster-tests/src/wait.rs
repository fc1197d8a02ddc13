//! Waiting on conditions instead of sleeping.

use std::time::{Duration, Instant};

/// First pause between two polls; it grows to [`POLL_INTERVAL_MAX`] so a slow condition does not
/// cost a busy loop, while a fast one is noticed within milliseconds.
const POLL_INTERVAL_MIN: Duration = Duration::from_millis(10);
/// Longest pause between two polls.
const POLL_INTERVAL_MAX: Duration = Duration::from_millis(200);

/// Polls `f` until it returns `Some`, and returns that value.
///
/// `deadline` is the total time allowed; `what` describes the condition for the panic message,
/// e.g. "node 2 applies index 17".
///
/// # Panics
/// When `deadline` passes without `f` returning `Some`.
#[track_caller]
pub fn eventually<T>(deadline: Duration, what: &str, f: impl FnMut() -> Option<T>) -> T {
    match poll_until(deadline, f) {
        Ok(value) => value,
        Err(elapsed) => panic!("timed out after {elapsed:?} waiting for: {what}"),
    }
}

/// Polls `f` until it returns `Some` or `deadline` passes; the error is the time spent. For
/// callers whose timeout message needs what `f` saw last.
///
/// # Errors
/// The elapsed time, when `deadline` passes without `f` returning `Some`.
pub fn poll_until<T>(deadline: Duration, mut f: impl FnMut() -> Option<T>) -> Result<T, Duration> {
    let start = Instant::now();
    let mut pause = POLL_INTERVAL_MIN;
    loop {
        if let Some(value) = f() {
            return Ok(value);
        }
        let elapsed = start.elapsed();
        if elapsed >= deadline {
            return Err(elapsed);
        }
        std::thread::sleep(pause.min(deadline - elapsed));
        pause = (pause * 3 / 2).min(POLL_INTERVAL_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eventually_returns_the_first_some() {
        let mut calls = 0;
        let value = eventually(Duration::from_secs(5), "third call", || {
            calls += 1;
            (calls == 3).then_some(calls)
        });
        assert_eq!(value, 3);
    }

    #[test]
    #[should_panic(expected = "timed out after")]
    fn eventually_panics_with_the_description() {
        eventually(Duration::from_millis(30), "never", || None::<()>);
    }
}
