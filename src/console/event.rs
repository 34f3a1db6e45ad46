//! What flows through the console's one channel ([`Event`]) and what `App::update` asks the
//! runtime to do ([`Effect`]).

use std::time::SystemTime;

use crossterm::event::KeyEvent;

use crate::zk::ZkEvent;

#[derive(Debug, Clone)]
pub enum Event {
    /// A key press (releases are dropped before they get here).
    Key(KeyEvent),
    /// The terminal's new size in columns and rows.
    Resize(u16, u16),
    /// The clock moved on; carries the time so that `update` stays a pure function.
    Tick(SystemTime),
    /// A ZooKeeper result.
    Zk(ZkEvent),
    /// SIGTERM, SIGINT or SIGHUP: leave cleanly.
    Signal,
}

/// I/O requested by `update`; the runtime runs it and feeds the result back as an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    LoadChildren(String),
    FetchNode(String),
    FetchAcl(String),
    /// Which znodes' changes the watch should read (everything else is skipped).
    Interest(std::sync::Arc<crate::zk::watch::Interest>),
}
