//! The stateful local sandbox of the leads API (in progress).
