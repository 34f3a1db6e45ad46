//! ZooKeeper access: sessions that replace themselves, tree loading, watches, znode data formatting.
//! Nothing here knows about the terminal.
