//! The run's lanes (cases side by side, `--lanes`): what each keeps from one
//! wave to the next, and what they did, for the report. The waves
//! themselves are run by `waves`.

use super::transport::Transport;
use crate::strategies::Identities;

/// What a lane keeps from one wave to the next: its identities (fresh ones
/// go on where they stopped) and its connections.
pub(super) struct Lane<'a> {
    pub(super) ids: Identities,
    pub(super) net: Transport<'a>,
}

/// The run's lanes: what each keeps between waves, and what they did.
#[derive(Default)]
pub(super) struct Lanes<'a> {
    pub(super) keeps: Vec<Lane<'a>>,
    /// One case at a time from now on: a wave's count failed (or this is a
    /// lane's own harness).
    pub(super) off: bool,
    /// Waves run, and the cases in them.
    pub(super) waves: u32,
    pub(super) cases: u32,
}

impl Lanes<'_> {
    /// The report's line on them, once a wave ran.
    pub(super) fn summary(&self) -> Option<String> {
        (self.waves > 0).then(|| {
            let mut line = format!(
                "lanes: {} case(s) ran side by side in {} wave(s), the list count judged over \
                 each wave",
                self.cases, self.waves
            );
            if self.off {
                line.push_str(
                    "; a wave's count was off, so the run kept to one case at a time after it",
                );
            }
            line
        })
    }
}
