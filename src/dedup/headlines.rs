//! Headline dedup: each (site, normalized title), i.e. each headline id, is
//! published once within a TTL. Re-sightings are counted, not republished; a
//! sighting whose time differs from the published one is an update.
//!
//! State is a hash map from headline id to what was published, plus a FIFO of
//! publications for expiry by event time and for the capacity cap. A sidebar
//! repeated on every page of a site costs one map lookup per item and page.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::changelog::HeadlineState;

/// What happens to one headline sighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadlineVerdict {
    /// First sighting within the TTL: publish.
    New,
    /// Seen before with a different time: publish again as an update.
    Updated,
    /// Seen before with the same time: count, do not publish.
    Seen,
}

impl HeadlineVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            HeadlineVerdict::New => "new",
            HeadlineVerdict::Updated => "updated",
            HeadlineVerdict::Seen => "seen",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Event time of the publication that started this entry's TTL.
    published_event_time: u32,
    /// The item's own time (unix seconds), if it had one.
    item_time: Option<i64>,
}

/// Bounded headline state. Changes are staged until [`HeadlineIndex::commit`], so
/// an aborted batch leaves no trace (see `verdict::Staged` for why).
#[derive(Debug)]
pub struct HeadlineIndex {
    entries: FxHashMap<u64, Entry>,
    /// This batch's publications, not yet committed.
    pending: FxHashMap<u64, Entry>,
    pending_order: Vec<(u64, u32)>,
    /// (id, published_event_time) in publication order. An id re-published later
    /// leaves a stale pair behind, recognised by its time not matching the entry.
    order: VecDeque<(u64, u32)>,
    capacity: usize,
    ttl_secs: u32,
    expired_total: u64,
    evicted_total: u64,
    /// Ids that left `entries` since the last [`HeadlineIndex::drain_removed`],
    /// kept only while tracking is on.
    removed: Option<Vec<u64>>,
}

impl HeadlineIndex {
    pub fn new(capacity: usize, ttl_secs: u32) -> Self {
        HeadlineIndex {
            entries: FxHashMap::default(),
            pending: FxHashMap::default(),
            pending_order: Vec::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            ttl_secs,
            expired_total: 0,
            evicted_total: 0,
            removed: None,
        }
    }

    /// Starts or stops remembering which ids leave the index, for
    /// [`Self::drain_removed`] (the changelog's tombstones).
    pub fn track_removals(&mut self, on: bool) {
        self.removed = on.then(Vec::new);
    }

    /// Appends the ids that left the index (expired or evicted) since the last
    /// call and are not back in it.
    pub fn drain_removed(&mut self, out: &mut Vec<u64>) {
        if let Some(removed) = &mut self.removed {
            removed.sort_unstable();
            removed.dedup();
            let entries = &self.entries;
            out.extend(removed.drain(..).filter(|id| !entries.contains_key(id)));
        }
    }

    /// The batch's publications and updates, as changelog entries.
    pub fn pending_states(&self) -> impl Iterator<Item = HeadlineState> + '_ {
        self.pending.iter().map(|(&id, e)| HeadlineState {
            id,
            published_event_time: e.published_event_time,
            item_time: e.item_time,
        })
    }

    /// Records an entry read back from the changelog. Call in publication
    /// order (oldest first), so expiry and the cap take the oldest first.
    pub fn restore(&mut self, h: &HeadlineState) {
        if !self.entries.contains_key(&h.id) {
            while self.entries.len() >= self.capacity
                && pop_oldest(&mut self.entries, &mut self.order, &mut self.removed)
            {
                self.evicted_total += 1;
            }
        }
        self.entries.insert(
            h.id,
            Entry {
                published_event_time: h.published_event_time,
                item_time: h.item_time,
            },
        );
        self.order.push_back((h.id, h.published_event_time));
    }

    /// Records a sighting of headline `id` with its time, at event time `now`.
    pub fn observe(&mut self, id: u64, item_time: Option<i64>, now: u32) -> HeadlineVerdict {
        let current = self
            .pending
            .get(&id)
            .or_else(|| self.entries.get(&id))
            .copied();
        if let Some(e) = current {
            if e.published_event_time.saturating_add(self.ttl_secs) >= now {
                if e.item_time == item_time {
                    return HeadlineVerdict::Seen;
                }
                self.pending.insert(id, Entry { item_time, ..e });
                return HeadlineVerdict::Updated;
            }
        }
        self.pending.insert(
            id,
            Entry {
                published_event_time: now,
                item_time,
            },
        );
        self.pending_order.push((id, now));
        HeadlineVerdict::New
    }

    /// Applies the batch's changes, evicting the oldest entries beyond capacity.
    pub fn commit(&mut self) {
        self.order.extend(self.pending_order.drain(..));
        for (id, e) in self.pending.drain() {
            if !self.entries.contains_key(&id) {
                while self.entries.len() >= self.capacity
                    && pop_oldest(&mut self.entries, &mut self.order, &mut self.removed)
                {
                    self.evicted_total += 1;
                }
            }
            self.entries.insert(id, e);
        }
    }

    /// Forgets the batch's changes.
    pub fn rollback(&mut self) {
        self.pending.clear();
        self.pending_order.clear();
    }

    /// Drops entries published more than the TTL before `now`.
    pub fn expire(&mut self, now: u32) -> usize {
        let mut n = 0;
        while let Some(&(id, t)) = self.order.front() {
            if t.saturating_add(self.ttl_secs) >= now {
                break;
            }
            self.order.pop_front();
            if self
                .entries
                .get(&id)
                .is_some_and(|e| e.published_event_time == t)
            {
                self.entries.remove(&id);
                if let Some(r) = &mut self.removed {
                    r.push(id);
                }
                n += 1;
            }
        }
        self.expired_total += n as u64;
        n
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries expired and evicted since creation.
    pub fn removed_totals(&self) -> (u64, u64) {
        (self.expired_total, self.evicted_total)
    }

    /// Approximate bytes held: map buckets plus the FIFO.
    pub fn memory_bytes(&self) -> usize {
        (self.entries.capacity() + self.pending.capacity())
            * (std::mem::size_of::<(u64, Entry)>() + 1)
            + self.order.capacity() * std::mem::size_of::<(u64, u32)>()
    }
}

/// Removes the oldest live entry; false when there is none. A FIFO pair whose
/// time no longer matches its entry was superseded by a later publication.
fn pop_oldest(
    entries: &mut FxHashMap<u64, Entry>,
    order: &mut VecDeque<(u64, u32)>,
    removed: &mut Option<Vec<u64>>,
) -> bool {
    while let Some((id, t)) = order.pop_front() {
        if entries
            .get(&id)
            .is_some_and(|e| e.published_event_time == t)
        {
            entries.remove(&id);
            if let Some(r) = removed {
                r.push(id);
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Observes and commits, as `warta process` does per page.
    fn see(h: &mut HeadlineIndex, id: u64, item: Option<i64>, now: u32) -> HeadlineVerdict {
        let v = h.observe(id, item, now);
        h.commit();
        v
    }

    #[test]
    fn published_once_then_counted() {
        let mut h = HeadlineIndex::new(100, 3600);
        assert_eq!(see(&mut h, 1, Some(10), 0), HeadlineVerdict::New);
        for t in 1..5 {
            assert_eq!(see(&mut h, 1, Some(10), t), HeadlineVerdict::Seen);
        }
        assert_eq!(see(&mut h, 1, Some(20), 6), HeadlineVerdict::Updated);
        assert_eq!(see(&mut h, 1, Some(20), 7), HeadlineVerdict::Seen);
    }

    #[test]
    fn rollback_forgets_the_batch() {
        let mut h = HeadlineIndex::new(100, 3600);
        assert_eq!(h.observe(1, None, 0), HeadlineVerdict::New);
        assert_eq!(
            h.observe(1, None, 0),
            HeadlineVerdict::Seen,
            "seen within the batch"
        );
        h.rollback();
        assert_eq!(
            see(&mut h, 1, None, 0),
            HeadlineVerdict::New,
            "replay decides the same"
        );
    }

    #[test]
    fn ttl_by_event_time_and_capacity() {
        let mut h = HeadlineIndex::new(2, 100);
        assert_eq!(see(&mut h, 1, None, 0), HeadlineVerdict::New);
        assert_eq!(see(&mut h, 1, None, 100), HeadlineVerdict::Seen);
        assert_eq!(
            see(&mut h, 1, None, 101),
            HeadlineVerdict::New,
            "TTL passed"
        );
        assert_eq!(see(&mut h, 2, None, 102), HeadlineVerdict::New);
        assert_eq!(see(&mut h, 3, None, 103), HeadlineVerdict::New);
        assert_eq!(h.len(), 2);
        assert_eq!(h.removed_totals().1, 1, "oldest evicted at the cap");
        assert_eq!(
            see(&mut h, 1, None, 104),
            HeadlineVerdict::New,
            "id 1 was evicted"
        );
        assert_eq!(h.expire(1000), 2);
        assert!(h.is_empty());
    }
}
