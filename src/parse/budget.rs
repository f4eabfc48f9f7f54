//! The per-page work budget: a page whose parse would cost more than
//! `parse.max_work_units` stops early and is dead-lettered
//! (`parse_budget_exceeded`) instead of stalling its partition.
//!
//! Work is counted in units of about one markup token, text line or repeat
//! comparison, at the loops whose length the page controls. Counting work
//! instead of time keeps the verdict the same on every machine and on a replay
//! of the same input. The count lives in a thread-local, so the parsing
//! functions keep their signatures; the budget is per thread, and one thread
//! parses one page at a time.

use std::cell::Cell;

thread_local! {
    static LEFT: Cell<u64> = const { Cell::new(u64::MAX) };
    static EXCEEDED: Cell<bool> = const { Cell::new(false) };
}

/// Starts a page's budget on this thread.
pub fn start(units: u64) {
    LEFT.with(|l| l.set(units));
    EXCEEDED.with(|e| e.set(false));
}

/// Spends `units`; false once the budget is gone, and from then on, so the
/// caller stops its loop.
pub fn spend(units: u64) -> bool {
    LEFT.with(|l| match l.get().checked_sub(units) {
        Some(rest) => {
            l.set(rest);
            true
        }
        None => {
            l.set(0);
            EXCEEDED.with(|e| e.set(true));
            false
        }
    })
}

/// Whether the page ran out of budget since [`start`].
pub fn exceeded() -> bool {
    EXCEEDED.with(Cell::get)
}

/// Ends the page's budget: later parses on this thread (tests, tools) are
/// unbounded until the next [`start`].
pub fn finish() {
    start(u64::MAX);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_past_the_budget_is_remembered() {
        start(10);
        assert!(spend(6));
        assert!(!exceeded());
        assert!(!spend(6));
        assert!(exceeded());
        assert!(!spend(1));
        finish();
        assert!(!exceeded());
        assert!(spend(1 << 40));
    }
}
