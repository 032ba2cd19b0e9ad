//! `--max-created`: the leads the run may create, shared out between the
//! properties (each gets an equal share of what is left); a case that could
//! exceed the current share is skipped, and the report says so. Lanes (cases
//! side by side) reserve from one pool: what is left of the share.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The reservations of a wave's lanes, together.
pub(super) type Pool = Arc<AtomicUsize>;

/// The creation budget and what the run created.
#[derive(Debug)]
pub(super) struct Quota {
    /// `--max-created`.
    max: usize,
    /// Leads created, as answered.
    pub(super) created: usize,
    /// Creations reserved (possible ones; refunded when they did not happen).
    used: usize,
    /// What the current property may reserve up to.
    share_limit: usize,
    /// Properties that have not had their share yet.
    properties_left: usize,
    /// The current property's share is used up.
    out_of_room: bool,
    /// Why cases were skipped, for the report.
    pub(super) note: Option<String>,
    /// In a lane: the reservations of every lane of the wave (`used` is
    /// this lane's own), checked against `share_limit`.
    pool: Option<Pool>,
}

impl Quota {
    /// `max` leads, shared by `properties` properties.
    pub(super) fn new(max: usize, properties: usize) -> Self {
        Quota {
            max,
            created: 0,
            used: 0,
            share_limit: max,
            properties_left: properties,
            out_of_room: false,
            note: None,
            pool: None,
        }
    }

    /// A property starts: it gets an equal share of what is left of the cap.
    pub(super) fn begin_property(&mut self) {
        let left = self.properties_left.max(1);
        self.properties_left = left - 1;
        let room = self.max.saturating_sub(self.used);
        self.share_limit = self.used + room / left;
        self.out_of_room = false;
    }

    /// A property that will not run gives its share to the others.
    pub(super) fn skip_property(&mut self) {
        self.properties_left = self.properties_left.saturating_sub(1);
    }

    /// True once the current property's share is used up.
    pub(super) fn out_of_room(&self) -> bool {
        self.out_of_room
    }

    /// Reserves room for `n` possible creations; false once the current
    /// property's share is used up. `stopped`: the run already stopped
    /// sending for another reason (then no note).
    pub(super) fn reserve(&mut self, n: usize, stopped: bool) -> bool {
        let taken = match &self.pool {
            Some(pool) => pool
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                    (u + n <= self.share_limit).then_some(u + n)
                })
                .is_ok(),
            None => self.used + n <= self.share_limit,
        };
        if !taken {
            if !self.out_of_room && !stopped {
                self.out_of_room = true;
                self.note = Some(format!(
                    "--max-created {} reached (each property gets its share): cases were skipped",
                    self.max
                ));
            }
            return false;
        }
        self.used += n;
        true
    }

    /// Whether `n` more creations fit the current share (marks nothing).
    pub(super) fn fits(&self, n: usize) -> bool {
        let used = self
            .pool
            .as_ref()
            .map_or(self.used, |p| p.load(Ordering::SeqCst));
        used + n <= self.share_limit
    }

    /// A lane's quota, reserving from its wave's `pool` (one for all the
    /// wave's lanes: what is left of the current share).
    pub(super) fn lane(&self, pool: &Pool) -> Quota {
        Quota {
            max: self.max,
            created: 0,
            used: 0,
            share_limit: self.share_limit.saturating_sub(self.used),
            properties_left: 0,
            out_of_room: false,
            note: None,
            pool: Some(Arc::clone(pool)),
        }
    }

    /// Takes in what a lane reserved and created.
    pub(super) fn absorb(&mut self, lane: Quota) {
        self.used += lane.used;
        self.created += lane.created;
        if lane.out_of_room {
            self.out_of_room = true;
            self.note = self.note.take().or(lane.note);
        }
    }

    /// Gives back room reserved for creations that did not happen.
    pub(super) fn refund(&mut self, n: usize) {
        let n = n.min(self.used);
        self.used -= n;
        if let Some(pool) = &self.pool {
            pool.fetch_sub(n, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waves_lanes_reserve_from_one_pool_what_is_left_of_the_share() {
        let mut run = Quota::new(100, 2);
        run.begin_property();
        assert!(run.reserve(10, false));
        // 40 left of the share of 50: two lanes draw from it together.
        let pool = Pool::default();
        let (mut a, mut b) = (run.lane(&pool), run.lane(&pool));
        assert!(a.reserve(30, false));
        assert!(!b.reserve(20, false), "only 10 left in the pool");
        assert!(b.out_of_room());
        a.refund(15);
        assert!(b.fits(20) && b.reserve(20, false));
        run.absorb(a);
        run.absorb(b);
        assert!(run.fits(5) && !run.fits(6), "10 + 15 + 20 of 50 used");
    }
}
